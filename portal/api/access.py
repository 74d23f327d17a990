"""DRF permission classes made from the portal's Django permissions, with a message naming the one missing."""

from rest_framework.permissions import BasePermission

__all__ = ("permission_required",)


def permission_required(permission: str, *, doing: str) -> type[BasePermission]:
    """
    A permission class that lets holders of `permission` ("app_label.codename") through and answers the others 403
    with "<doing> requires the <permission> permission.". DRF checks it before looking any object up, so a caller
    without the permission learns nothing about which objects exist.
    """

    class PermissionRequired(BasePermission):
        message = f"{doing} requires the {permission} permission."

        def has_permission(self, request, view):
            return request.user.has_perm(permission)

    return PermissionRequired
