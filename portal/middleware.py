from django.contrib.auth.middleware import LoginRequiredMiddleware

__all__ = ("PortalLoginRequiredMiddleware",)

# The REST APIs answer 401/403 through DRF's own authentication (bearer tokens or the session) instead of
# redirecting an API client to an HTML login page.
API_PREFIXES = ("/api/", "/v1.0/")


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Every page requires a signed-in user unless its view is marked `login_not_required`."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(API_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
