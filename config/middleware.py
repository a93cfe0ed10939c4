import logging

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

from config.client_ip import client_address

security_log = logging.getLogger("orderbridge.security")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Deny every page to anonymous users, except the API.

    API requests authenticate per request (token or session) inside DRF, after this middleware has
    run, so DRF's default IsAuthenticated permission guards them instead of a login redirect.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RefusalLogMiddleware:
    """Log every refused request (403) with who and what, whichever door refused it (UI, API, admin)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            security_log.warning(
                "refused method=%s path=%s user=%s ip=%s",
                request.method,
                request.path,
                user.get_username() if user is not None and user.is_authenticated else "-",
                client_address(request) or "-",
            )
        return response
