"""
The native API in the OpenAPI description, beyond what drf-spectacular reads from each view: its error body
(portal.api.errors) as the response of an operation that names a refusal, examples of refusals as clients receive
them, and the rules across a body's fields that a serializer states for its description (RulesInSchema).
"""

from typing import ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.settings import api_settings

__all__ = ("RulesInSchema", "error_example", "error_response", "refusal_example")

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


class RulesInSchema:
    """
    A serializer mixin: `schema_rules` are JSON Schema keywords (anyOf, oneOf, additionalProperties, ...) added to
    the serializer's component, for the rules across its fields that the serializer or its service enforces.
    """

    schema_rules: ClassVar[dict] = {}


class RulesInSchemaExtension(OpenApiSerializerExtension):
    target_class = RulesInSchema
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, **self.target.schema_rules}
