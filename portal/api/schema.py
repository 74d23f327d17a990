"""
The native API's error body (portal.api.errors) in the OpenAPI description: the response of an operation that names
a refusal, and examples of refusals as clients receive them.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.settings import api_settings

__all__ = ("error_example", "error_response", "refusal_example")

# The component portal.openapi adds to every description.
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR_SCHEMA, description=description)


def error_example(name: str, *, detail: str, code: str, status: int) -> OpenApiExample:
    """A refusal that is not about the input (404, 412, ...), as portal.api.errors answers it."""
    return OpenApiExample(name, value={"detail": detail, "code": code}, response_only=True, status_codes=[str(status)])


def refusal_example(name: str, message: str) -> OpenApiExample:
    """A 400 for a request a service refuses as a whole (a rule, not a field), as portal.api.errors answers it."""
    return OpenApiExample(
        name,
        value={
            "detail": f"Invalid input. {message}",
            "code": "invalid",
            "errors": {api_settings.NON_FIELD_ERRORS_KEY: [message]},
        },
        response_only=True,
        status_codes=["400"],
    )
