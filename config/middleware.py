from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Deny every page to anonymous users, except the API.

    API requests authenticate per request (token or session) inside DRF, after this middleware has
    run, so DRF's default IsAuthenticated permission guards them instead of a login redirect.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
