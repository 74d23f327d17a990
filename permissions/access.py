"""
What a person holds and how far each permission reaches, read once per request in one query.

A person holds the permissions of every role assigned to them or to one of their groups, whatever the scope, plus
any given to them directly (the Django admin's way). A scoped permission (portal.catalogue) reaches all data
when an all-data assignment or a direct grant gives it, and otherwise the device groups on which they hold it as a
django-guardian object permission (permissions.grants keeps those rows). Permission checks (the auth backend) and
data scoping (portal.scoping) both read this, so a page pays for it once.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from incidents.models import DeviceGroup
from portal.catalogue import scoped_permissions
from portal.scoping import ALL_DATA, NO_DATA, DataScope

__all__ = ("ALL_DATA", "NO_DATA", "Access", "DataScope", "access_of", "data_scope")


@dataclass(frozen=True)
class Access:
    # "app_label.codename" of every permission held, in any scope.
    permissions: frozenset[str] = frozenset()
    # The reach of each scoped permission held.
    scopes: dict[str, DataScope] = field(default_factory=dict)
    is_superuser: bool = False


NO_ACCESS = Access()
# The user object lives as long as the request: caching on it means once per request, and the next request sees
# any change at once.
_CACHE = "_vigil_access"

# Rows of (app_label, codename, everywhere, object_pk): a role's permission (everywhere when its assignment covers
# all data), a direct grant (everywhere), or a guardian grant on one device group (object_pk).
ACCESS_SQL = """
    WITH membership AS (SELECT group_id FROM auth_user_groups WHERE user_id = %(user)s)
    SELECT ct.app_label, p.codename, a.all_data, NULL
    FROM permissions_roleassignment a
    JOIN permissions_role r ON r.id = a.role_id
    JOIN auth_group_permissions gp ON gp.group_id = r.group_id
    JOIN auth_permission p ON p.id = gp.permission_id
    JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE a.user_id = %(user)s OR a.group_id IN (SELECT group_id FROM membership)
    UNION ALL
    SELECT ct.app_label, p.codename, true, NULL
    FROM auth_user_user_permissions up
    JOIN auth_permission p ON p.id = up.permission_id
    JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE up.user_id = %(user)s
    UNION ALL
    SELECT ct.app_label, p.codename, false, g.object_pk
    FROM guardian_userobjectpermission g
    JOIN auth_permission p ON p.id = g.permission_id
    JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE g.user_id = %(user)s AND g.content_type_id = %(device_groups)s
    UNION ALL
    SELECT ct.app_label, p.codename, false, g.object_pk
    FROM guardian_groupobjectpermission g
    JOIN auth_permission p ON p.id = g.permission_id
    JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE g.group_id IN (SELECT group_id FROM membership) AND g.content_type_id = %(device_groups)s
"""


def access_of(user) -> Access:
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    access = getattr(user, _CACHE, None)
    if access is None:
        access = Access(is_superuser=True) if user.is_superuser else _read(user)
        setattr(user, _CACHE, access)
    return access


def data_scope(user, permission: str) -> DataScope:
    """How far `permission` ("app_label.codename") reaches for `user`: nothing, all data, or some device groups."""
    access = access_of(user)
    if access.is_superuser:
        return ALL_DATA
    if permission not in access.permissions:
        return NO_DATA
    return access.scopes.get(permission, ALL_DATA)


def _read(user) -> Access:
    device_groups = ContentType.objects.get_for_model(DeviceGroup).pk
    with connection.cursor() as cursor:
        cursor.execute(ACCESS_SQL, {"user": user.pk, "device_groups": device_groups})
        rows = cursor.fetchall()
    held, everywhere, groups = set(), set(), {}
    for app_label, codename, all_data, object_pk in rows:
        permission = f"{app_label}.{codename}"
        if object_pk is None:
            held.add(permission)
            if all_data:
                everywhere.add(permission)
        else:
            groups.setdefault(permission, set()).add(int(object_pk))
    scopes = {
        permission: ALL_DATA if permission in everywhere else DataScope(False, frozenset(groups.get(permission, ())))
        for permission in scoped_permissions() & held
    }
    return Access(permissions=frozenset(held), scopes=scopes)
