from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views
from crm_sync.urls import hook_urlpatterns, page_urlpatterns
from orders.change_requests.api import router as change_requests_router
from orders.sales.api import router as orders_router
from orders.tracking.api import OrderTrackingLinksView, TrackingLinkRevokeView
from production.api import PromiseView
from production.api import router as production_router

api_v1 = [
    *orders_router.urls,
    *change_requests_router.urls,
    *production_router.urls,
    path("promise/", PromiseView.as_view(), name="promise"),
    path(
        "orders/<str:number>/tracking-links/",
        OrderTrackingLinksView.as_view(),
        name="order-tracking-links",
    ),
    path(
        "orders/<str:number>/tracking-links/<int:link_id>/revoke/",
        TrackingLinkRevokeView.as_view(),
        name="tracking-link-revoke",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language switch also works on the login page, before anyone is logged in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("orders/", include("orders.sales.urls")),
    path("change-requests/", include("orders.change_requests.urls")),
    path("production/", include("production.urls")),
    path("boards/", include("production.boards.urls")),
    # The operators' phone pages (badge sign-in; the traveller's QR codes open /floor/operations/<pk>/).
    path("floor/", include("production.floor.urls")),
    path("service/", include("orders.service_desk.urls")),
    path("notifications/", include("orders.notifications.urls")),
    path("account/api-tokens/", include("orders.api_tokens.urls")),
    # Public: the customer's tracking page (its views are login_not_required).
    path("track/", include("orders.tracking.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/integration/", include("crm_sync.urls")),
    path("hooks/", include(hook_urlpatterns)),
    path("sync/", include(page_urlpatterns)),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start script as a file (no inline script). Swagger UI sets style attributes
    # and ships an inline <style>: this page alone allows inline styles (never scripts).
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]

# Errors outside a view's own handling (DEBUG off): the API's error format under /api/, pages otherwise.
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
