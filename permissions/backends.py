from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from permissions.access import access_of
from permissions.selectors import assignments_of

__all__ = ("RoleAssignmentBackend",)


class RoleAssignmentBackend(ModelBackend):
    """
    Django's ModelBackend, except that a user's group permissions are those of the roles assigned to them or to
    their groups (`RoleAssignment`), whatever the scope, rather than those of the groups they belong to.

    `has_perm(p)` therefore means "holds p somewhere"; how far it reaches is `permissions.selectors.data_scope`.
    """

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(group__role__assignments__in=assignments_of(user_obj)).distinct()

    def get_all_permissions(self, user_obj, obj=None):
        # The same one-query read that data scoping uses (permissions.access), rather than ModelBackend's two.
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj)
        return set(access_of(user_obj).permissions)
