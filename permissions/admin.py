from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group

from permissions.models import ApiToken, Role, RoleAssignment
from portal.admin import ReadOnlyAdmin

# Roles and assignments are changed in Permissions & roles, whose services keep the guardian grants and the activity
# log; the Django admin only shows them.


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "is_builtin", "require_two_factor", "description"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["role", "user", "group", "all_data", "created_at"]
    list_select_related = ["role__group", "user", "group"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `create_api_token` or in Permissions & roles; the admin can only look and revoke."""

    list_display = ["name", "user", "prefix", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "prefix", "digest", "created_at", "expires_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]

    def has_add_permission(self, request):
        return False


admin.site.unregister(Group)


@admin.register(Group)
class UserGroupAdmin(GroupAdmin):
    """
    Groups of people, to whom roles are assigned. A role's own group is edited in Permissions & roles: changing
    its permissions here would bypass the grants kept on device groups and the activity log. A people's group
    holds rights only through role assignments, so it has no permissions field here.
    """

    fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(role__isnull=True)
