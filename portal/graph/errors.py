"""
Graph's error body for every error the Graph-compatible API answers, whatever raised it:

    {"error": {"code": "BadRequest", "message": "What went wrong.", "details": [...], "innerError": {...}}}

`code` is Graph's (BadRequest, Unauthenticated, Forbidden, NotFound, MethodNotAllowed, PreconditionFailed, ...);
`details` names the property of each invalid value (camelCase, as the client sent it); `innerError` carries the date
and request ids Graph clients log. The views set this handler for themselves (`get_exception_handler`), so the
native API keeps its own body (portal.api.errors).
"""

import uuid

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from portal.concurrency import StaleVersion

__all__ = ("BadRequest", "graph_exception_handler", "graph_name")

CODES = {
    status.HTTP_400_BAD_REQUEST: "BadRequest",
    status.HTTP_401_UNAUTHORIZED: "Unauthenticated",
    status.HTTP_403_FORBIDDEN: "Forbidden",
    status.HTTP_404_NOT_FOUND: "NotFound",
    status.HTTP_405_METHOD_NOT_ALLOWED: "MethodNotAllowed",
    status.HTTP_406_NOT_ACCEPTABLE: "NotAcceptable",
    status.HTTP_412_PRECONDITION_FAILED: "PreconditionFailed",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "RequestEntityTooLarge",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "UnsupportedMediaType",
    status.HTTP_429_TOO_MANY_REQUESTS: "TooManyRequests",
}
NON_FIELD = ("__all__", "non_field_errors")


class BadRequest(Exception):
    """
    A request the API cannot apply (a query option, a header, a body): Graph's 400 BadRequest, whose message says
    what is wrong, for the client.
    """


def graph_name(field: str, renamed: dict[str, str]) -> str:
    """
    The Graph property a service's model field is to the client: camelCase (assigned_to → assignedTo), unless the
    resource names it otherwise (`renamed`: a view's `property_names`, e.g. redirect_incident → redirectIncidentId).
    """
    if field in renamed:
        return renamed[field]
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def graph_exception_handler(exc, context):
    renamed = getattr(context.get("view"), "property_names", {})
    response = _graph_error(exc, context.get("request"), renamed)
    if response is not None:
        set_rollback()  # as DRF's own handler: a request-wide transaction must not commit a refused request
    return response


def _graph_error(exc, request, renamed: dict[str, str]) -> Response | None:
    if isinstance(exc, BadRequest):
        return _error(request, 400, str(exc))
    if isinstance(exc, DjangoValidationError):
        return _validation_error(request, exc, renamed)
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return _error(request, 404, str(exc) or "The object does not exist.")
    if isinstance(exc, PermissionDenied):
        return _error(request, 403, str(exc) or "You may not do this.")
    if isinstance(exc, StaleVersion):
        response = _error(request, 412, str(exc))
        response["ETag"] = exc.current
        return response
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling and logging take over
    code = CODES.get(exc.status_code, "BadRequest" if exc.status_code < 500 else "InternalServerError")
    if isinstance(exc, exceptions.AuthenticationFailed) and exc.status_code == 401:
        code = "InvalidAuthenticationToken"
    response = _error(request, exc.status_code, _message(exc.detail), code=code)
    # DRF's view put these on the exception (the bearer challenge, when to retry); its own handler would send them.
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


def _message(detail) -> str:
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_message(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_message(item) for item in detail)
    return str(detail)


def _validation_error(request, error: DjangoValidationError, renamed: dict[str, str]) -> Response:
    if hasattr(error, "error_dict"):
        fields = {
            name if name in NON_FIELD else graph_name(name, renamed): messages
            for name, messages in error.message_dict.items()
        }
    else:
        fields = {"": list(error.messages)}
    details = [
        {"code": "InvalidValue", "message": message, "target": "" if name in NON_FIELD else name}
        for name, messages in fields.items()
        for message in messages
    ]
    message = " ".join(
        detail["message"] if not detail["target"] else f"{detail['target']}: {detail['message']}" for detail in details
    )
    return _error(request, 400, message, details=details)


def _error(request, status_code: int, message: str, *, code: str | None = None, details=None) -> Response:
    body = {"code": code or CODES.get(status_code, "BadRequest"), "message": message}
    if details:
        body["details"] = details
    body["innerError"] = {
        "date": timezone.now().strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": _client_request_id(request),
    }
    return Response({"error": body}, status=status_code)


def _client_request_id(request) -> str | None:
    value = request.headers.get("client-request-id") if request is not None else None
    # Echoed back to the client: only a plausible id, never arbitrary text.
    if value and len(value) <= 100 and value.replace("-", "").isalnum():
        return value
    return None
