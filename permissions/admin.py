from django.contrib import admin

from permissions.models import ApiToken, Role


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_builtin", "description"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `create_api_token` or in Permissions & roles; the admin can only look and revoke."""

    list_display = ["name", "user", "prefix", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "digest", "created_at", "expires_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]

    def has_add_permission(self, request):
        return False
