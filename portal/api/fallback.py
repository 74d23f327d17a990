"""
The answers Django itself gives (a path no URL pattern matches, an unhandled error) in the API's own error bodies
under /api/ and /v1.0/, so that an API client never has to parse an HTML page; pages keep the HTML templates.
"""

from django.http import JsonResponse
from django.views import defaults

__all__ = ("page_not_found", "server_error")

NATIVE_PREFIX = "/api/"
GRAPH_PREFIX = "/v1.0/"


def _api_error(request, status: int, *, code: str, graph_code: str, message: str) -> JsonResponse | None:
    if request.path.startswith(NATIVE_PREFIX):
        return JsonResponse({"detail": message, "code": code}, status=status)
    if request.path.startswith(GRAPH_PREFIX):
        return JsonResponse({"error": {"code": graph_code, "message": message}}, status=status)
    return None


def page_not_found(request, exception):
    message = f"There is no resource at {request.path}."
    answer = _api_error(request, 404, code="not_found", graph_code="NotFound", message=message)
    return answer or defaults.page_not_found(request, exception)


def server_error(request):
    message = "Something went wrong on Vigil's side; it has been logged. Try again, or tell your administrator."
    answer = _api_error(request, 500, code="server_error", graph_code="InternalServerError", message=message)
    return answer or defaults.server_error(request)
