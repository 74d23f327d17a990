"""
The Content-Security-Policy header, built from the SECURE_CSP setting.

The policy is the same for every answer and needs no nonces (templates carry no inline script or style), so a
few lines do what django-csp would. SECURE_CSP has the shape of Django 6's setting of that name, whose own
middleware can replace this one on upgrade.
"""

from django.conf import settings

__all__ = ("ContentSecurityPolicyMiddleware", "policy_header")

HEADER = "Content-Security-Policy"


def policy_header(directives: dict[str, list[str]]) -> str:
    """{"img-src": ["'self'", "data:"], ...} as "img-src 'self' data:; ..."."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every answer that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = policy_header(settings.SECURE_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault(HEADER, self.header)
        return response
