"""The native API's error body (portal.api.errors) in the OpenAPI description, for operations that name a refusal."""

from drf_spectacular.utils import OpenApiResponse

__all__ = ("error_response",)

# The component portal.openapi adds to every description.
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR_SCHEMA, description=description)
