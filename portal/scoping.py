"""
The one choke point for data scope: every queryset that serves a page, an API list, a count, an export or a
search of security data goes through `restrict`.

A user's reach for a permission is nothing, all data, or a set of device groups (permissions.selectors.data_scope,
from their role assignments). Alerts and incidents carry the device groups of their devices (`device_group_ids`,
GIN-indexed); a scoped user sees those that share a group, and nothing without a device.
"""

from collections.abc import Callable

from django.db.models import QuerySet

from permissions.access import data_scope

__all__ = ("data_scope", "register_activity_rule", "restrict", "restrict_activity")

# Each section that logs changes to scoped objects says which entries a person may read (AppConfig.ready).
ActivityRule = Callable[[QuerySet, object], QuerySet]
_ACTIVITY_RULES: list[ActivityRule] = []


def register_activity_rule(rule: ActivityRule) -> None:
    """`rule(entries, user)`: the activity-log entries `user` may read among `entries`."""
    if rule not in _ACTIVITY_RULES:
        _ACTIVITY_RULES.append(rule)


def restrict_activity(entries: QuerySet, user) -> QuerySet:
    """The activity-log entries `user` may read: every section's rule applied, as `restrict` is for its data."""
    for rule in _ACTIVITY_RULES:
        entries = rule(entries, user)
    return entries


def restrict(queryset: QuerySet, user, *, permission: str, device_groups_field: str = "device_group_ids") -> QuerySet:
    """`queryset` cut down to what `user` may reach with `permission` ("app_label.codename")."""
    scope = data_scope(user, permission)
    if scope.all_data:
        return queryset
    if not scope.device_group_ids:
        return queryset.none()
    lookup = "overlap" if device_groups_field.endswith("_ids") else "in"
    return queryset.filter(**{f"{device_groups_field}__{lookup}": sorted(scope.device_group_ids)})
