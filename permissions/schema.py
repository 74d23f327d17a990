from drf_spectacular.extensions import OpenApiAuthenticationExtension

__all__ = ("BearerTokenScheme",)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes Vigil API tokens in the OpenAPI schema (Swagger UI's Authorize button)."""

    target_class = "permissions.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A Vigil API token (`manage.py create_api_token` or Permissions & roles).",
        }
