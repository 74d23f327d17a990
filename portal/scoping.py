"""
The one choke point for data scope: every queryset that serves a page, an API list, a count, an export or a
search of security data goes through `restrict`.

A user's reach for a permission is nothing, all data, or a set of device groups (permissions.selectors.data_scope,
from their role assignments). Alerts and incidents carry the device groups of their devices (`device_group_ids`,
GIN-indexed); a scoped user sees those that share a group, and nothing without a device.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet

__all__ = (
    "ALL_DATA",
    "NO_DATA",
    "DataScope",
    "ScopedQuerySet",
    "data_scope",
    "register_activity_rule",
    "register_scope_reader",
    "restrict",
    "restrict_activity",
)


@dataclass(frozen=True)
class DataScope:
    """How far one permission reaches for one person: nothing, all data, or some device groups."""

    all_data: bool
    device_group_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.all_data and not self.device_group_ids


ALL_DATA = DataScope(all_data=True)
NO_DATA = DataScope(all_data=False)

# Who holds what, and how far, is Permissions & roles' business (permissions.access): it says so at start-up, so
# that the sections below it read scopes through this interface without depending on it.
ScopeReader = Callable[[object, str], DataScope]
_scope_reader: list[ScopeReader] = []


def register_scope_reader(reader: ScopeReader) -> None:
    """`reader(user, "app_label.codename")`: the DataScope of that permission for that user."""
    _scope_reader[:] = [reader]


def data_scope(user, permission: str) -> DataScope:
    """How far `permission` ("app_label.codename") reaches for `user`: nothing, all data, or some device groups."""
    if not _scope_reader:
        raise ImproperlyConfigured("No data scope reader is registered: is the permissions app installed?")
    return _scope_reader[0](user, permission)


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


class ScopedQuerySet(models.QuerySet):
    """
    The queryset of a scoped model. `restrict(user, action)` is the one way a page, an API, a card or an export reads
    such a model for a person; selectors call it, and a read of the model's manager anywhere else is refused by
    tests/test_scoped_reads.py. By default the rows are those whose device groups (`device_groups_field`) overlap
    the reach of the action's permission (`action_permissions`); a model with another rule overrides `restrict`.
    """

    action_permissions: dict[str, str] = {}
    device_groups_field = "device_group_ids"

    def restrict(self, user, action: str = "view"):
        return restrict(
            self, user, permission=self.action_permissions[action], device_groups_field=self.device_groups_field
        )
