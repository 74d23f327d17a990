"""Reads of roles, assignments and data scopes."""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, QuerySet, Value
from guardian.models import GroupObjectPermission, UserObjectPermission

from incidents.models import DeviceGroup
from permissions.catalogue import scoped_permissions
from permissions.models import RoleAssignment

__all__ = ("ALL_DATA", "NO_DATA", "DataScope", "assignments_of", "data_scope", "device_groups_for")


@dataclass(frozen=True)
class DataScope:
    all_data: bool
    device_group_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.all_data and not self.device_group_ids


ALL_DATA = DataScope(all_data=True)
NO_DATA = DataScope(all_data=False)

# Scopes are read once per request: they are cached on the user object, which lives as long as the request.
_CACHE = "_vigil_data_scopes"


def assignments_of(user) -> QuerySet[RoleAssignment]:
    """The role assignments that reach `user`: their own and their groups'."""
    return RoleAssignment.objects.filter(Q(user=user) | Q(group__in=Group.objects.filter(user=user)))


def data_scope(user, permission: str) -> DataScope:
    """How far `permission` ("app_label.codename") reaches for `user`: nothing, all data, or some device groups."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_DATA
    scopes = getattr(user, _CACHE, None)
    if scopes is None:
        scopes = _scopes(user)
        setattr(user, _CACHE, scopes)
    if not user.has_perm(permission):
        return NO_DATA
    return scopes.get(permission, ALL_DATA if permission not in scoped_permissions() else NO_DATA)


def _scopes(user) -> dict[str, DataScope]:
    """Every scoped permission's reach for `user`, in one query."""
    if user.is_superuser:
        return dict.fromkeys(scoped_permissions(), ALL_DATA)
    content_type = ContentType.objects.get_for_model(DeviceGroup)
    user_groups = Group.objects.filter(user=user)
    # All data (no object): an all-data assignment, or a permission given to the user directly (the Django
    # admin's way). Some device groups: the django-guardian object permissions on DeviceGroup, the user's own and
    # their groups'.
    everywhere = (
        Permission.objects.filter(content_type=content_type)
        .filter(Q(group__role__assignments__in=assignments_of(user).filter(all_data=True)) | Q(user=user))
        .annotate(object_pk=Value(None, output_field=CharField()))
        .values_list("codename", "object_pk")
    )
    user_grants = UserObjectPermission.objects.filter(user=user, content_type=content_type)
    group_grants = GroupObjectPermission.objects.filter(group__in=user_groups, content_type=content_type)
    rows = everywhere.union(
        user_grants.values_list("permission__codename", "object_pk"),
        group_grants.values_list("permission__codename", "object_pk"),
        all=True,
    )
    all_data: set[str] = set()
    groups: dict[str, set[int]] = {}
    for codename, object_pk in rows:
        permission = f"{content_type.app_label}.{codename}"
        if object_pk is None:
            all_data.add(permission)
        else:
            groups.setdefault(permission, set()).add(int(object_pk))
    return {
        permission: ALL_DATA
        if permission in all_data
        else DataScope(all_data=False, device_group_ids=frozenset(groups.get(permission, ())))
        for permission in scoped_permissions()
    }


def device_groups_for(user, permission: str = "incidents.view_security_data") -> QuerySet[DeviceGroup]:
    """The device groups `user` may see data of (for filters and pickers)."""
    scope = data_scope(user, permission)
    if scope.all_data:
        return DeviceGroup.objects.all()
    return DeviceGroup.objects.filter(pk__in=sorted(scope.device_group_ids))
