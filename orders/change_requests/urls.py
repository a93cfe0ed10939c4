from django.urls import path

from orders.change_requests import views

app_name = "change_requests"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("new/<str:number>/", views.create, name="create"),
    path("new/<str:number>/row/", views.row, name="row"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/edit/", views.edit, name="edit"),
    path("<str:number>/<slug:action>/", views.act, name="act"),
]
