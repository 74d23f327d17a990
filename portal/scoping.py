"""
The one choke point for data scope: every queryset that serves a page, an API list, a count, an export or a
search of security data goes through `restrict`.

A user's reach for a permission is nothing, all data, or a set of device groups (permissions.selectors.data_scope,
from their role assignments). Alerts and incidents carry the device groups of their devices (`device_group_ids`,
GIN-indexed); a scoped user sees those that share a group, and nothing without a device.
"""

from django.db.models import QuerySet

from permissions.access import data_scope

__all__ = ("data_scope", "restrict")


def restrict(queryset: QuerySet, user, *, permission: str, device_groups_field: str = "device_group_ids") -> QuerySet:
    """`queryset` cut down to what `user` may reach with `permission` ("app_label.codename")."""
    scope = data_scope(user, permission)
    if scope.all_data:
        return queryset
    if not scope.device_group_ids:
        return queryset.none()
    lookup = "overlap" if device_groups_field.endswith("_ids") else "in"
    return queryset.filter(**{f"{device_groups_field}__{lookup}": sorted(scope.device_group_ids)})
