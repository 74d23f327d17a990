"""
One error body for the whole native API, whatever raised the error:

    {"detail": "What went wrong, in one sentence.", "code": "invalid", "errors": {"field": ["message", ...]}}

`detail` is always there and readable as is; `code` is DRF's machine code (not_found, permission_denied,
not_authenticated, invalid, parse_error, precondition_failed, ...); `errors` only accompanies invalid input, per
field (`non_field_errors` for the request as a whole).

Services' exceptions are translated here, so views call services without translating them: a Django
ValidationError answers 400; an object that does not exist or is out of the caller's scope (ObjectDoesNotExist,
incidents.selectors.OutOfScope) answers 404; a write the caller may see but not make (PermissionDenied, such as
incidents.selectors.BeyondScope) answers 403 with its reason; a write based on an old version
(portal.concurrency.StaleVersion) answers 412.
"""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from portal.concurrency import StaleVersion

__all__ = ("PreconditionFailed", "native_exception_handler", "validation_error_from_django")

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it; read it again and re-apply your change."
    default_code = "precondition_failed"


def validation_error_from_django(error: DjangoValidationError) -> exceptions.ValidationError:
    """A service's ValidationError as DRF's, field by field (or under non_field_errors when it names no field)."""
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(error.message_dict)
    return exceptions.ValidationError({NON_FIELD: list(error.messages)})


def _flatten(errors, prefix="") -> dict[str, list[str]]:
    """DRF's nested error structure as {"field" or "field.sub" or "items.2.field": [messages]}."""
    if isinstance(errors, dict):
        flat = {}
        for key, value in errors.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(item, (dict, list)) for item in errors):
        flat = {}
        for index, value in enumerate(errors):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {prefix or NON_FIELD: [str(message) for message in messages]}


def _summary(errors: dict[str, list[str]]) -> str:
    parts = [
        " ".join(messages) if field == NON_FIELD else f"{field}: {' '.join(messages)}"
        for field, messages in errors.items()
    ]
    return "Invalid input. " + " ".join(parts) if parts else "Invalid input."


def native_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = validation_error_from_django(exc)
    elif isinstance(exc, (ObjectDoesNotExist, Http404)):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # A service's refusal says why (an incident holding alerts outside the caller's scope); a bare one does not.
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, StaleVersion):
        exc = PreconditionFailed(str(exc))
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django's 500 handling and logging take over
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        response.data = {"detail": _summary(errors), "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"detail": str(exc.detail), "code": codes if isinstance(codes, str) else exc.default_code}
    return response
