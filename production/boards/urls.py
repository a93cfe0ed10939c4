from django.urls import path

from production.boards import views

app_name = "boards"

urlpatterns = [
    path("", views.board_index, name="index"),
    path("<str:code>/", views.board, name="board"),
    path("<str:code>/live/", views.board_live, name="board_live"),
]
