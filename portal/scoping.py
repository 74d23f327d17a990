"""
The one choke point for data scope: every queryset that serves a page, an API list, a count, an export or a
search of security data goes through `restrict`.

A user's data scope is all data or a set of device groups. Alerts and incidents carry the device groups of their
devices (`device_group_ids`, GIN-indexed); a scoped user sees those that share a group, and nothing without a
device. Until Permissions & roles brings scoped role assignments, every role assignment covers all data.
"""

from dataclasses import dataclass

from django.db.models import QuerySet

__all__ = ("DataScope", "data_scope", "restrict")


@dataclass(frozen=True)
class DataScope:
    all_data: bool
    device_group_ids: frozenset[int] = frozenset()


ALL_DATA = DataScope(all_data=True)
NO_DATA = DataScope(all_data=False)


def data_scope(user) -> DataScope:
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_DATA
    return ALL_DATA


def restrict(queryset: QuerySet, user, *, permission: str, device_groups_field: str = "device_group_ids") -> QuerySet:
    """`queryset` cut down to what `user` may see with `permission` ("app_label.codename")."""
    if user is None or not user.has_perm(permission):
        return queryset.none()
    scope = data_scope(user)
    if scope.all_data:
        return queryset
    if not scope.device_group_ids:
        return queryset.none()
    lookup = "overlap" if device_groups_field.endswith("_ids") else "in"
    return queryset.filter(**{f"{device_groups_field}__{lookup}": sorted(scope.device_group_ids)})
