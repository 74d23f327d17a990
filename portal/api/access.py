"""
DRF permission classes made from the portal's Django permissions, and the refusal that names the one missing, so
that every API answers "<doing> requires the <permission> permission." in the same words.
"""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

__all__ = ("missing_permission", "permission_required", "require_permission")


def missing_permission(permission: str, *, doing: str) -> str:
    return f"{doing} requires the {permission} permission."


def permission_required(permission: str, *, doing: str, writes_only: bool = False) -> type[BasePermission]:
    """
    A permission class that lets holders of `permission` ("app_label.codename") through and answers the others 403
    with `missing_permission`. With `writes_only`, reads (GET, HEAD, OPTIONS) pass without it. DRF checks it before
    looking any object up, so a caller without the permission learns nothing about which objects exist.
    """

    class PermissionRequired(BasePermission):
        message = missing_permission(permission, doing=doing)

        def has_permission(self, request, view):
            if writes_only and request.method in SAFE_METHODS:
                return True
            return request.user.has_perm(permission)

    return PermissionRequired


def require_permission(user, permission: str, *, doing: str) -> None:
    """PermissionDenied (403) unless `user` holds `permission`: for refusals that depend on what a request asks."""
    if not user.has_perm(permission):
        raise PermissionDenied(missing_permission(permission, doing=doing))
