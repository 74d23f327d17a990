"""
Who may call the security-data API at all, checked before any object is looked up (as the pages do): reading needs
the right to view security data, writing also the right to manage incidents and alerts. How far each reaches (the
device groups) is the selectors' and services' business: an object outside it answers 404.
"""

from rest_framework import permissions

from permissions.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA

__all__ = ("SecurityDataPermission",)


class SecurityDataPermission(permissions.BasePermission):
    def has_permission(self, request, view):
        if not request.user.has_perm(VIEW_SECURITY_DATA):
            self.message = f"Reading security data requires the {VIEW_SECURITY_DATA} permission."
            return False
        if request.method not in permissions.SAFE_METHODS and not request.user.has_perm(MANAGE_INCIDENTS):
            self.message = f"Changing incidents and alerts requires the {MANAGE_INCIDENTS} permission."
            return False
        return True
