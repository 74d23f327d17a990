from django.contrib.auth.models import Permission
from django.db.models import Q

from permissions.roles import BUILTIN_ROLES

__all__ = ("sync_builtin_role_permissions",)


def sync_builtin_role_permissions(sender=None, **kwargs):
    """post_migrate: give each built-in role exactly the permissions its definition lists."""
    from permissions.grants import grants_sync_for_role
    from permissions.models import Role

    roles = {role.group.name: role for role in Role.objects.filter(is_builtin=True).select_related("group")}
    for definition in BUILTIN_ROLES:
        role = roles.get(definition.name)
        if role is None:
            continue
        wanted = Q(pk__in=[])
        for spec in definition.permissions:
            app_label, codename = spec.split(".", 1)
            wanted |= (
                Q(content_type__app_label=app_label)
                if codename == "*"
                else Q(content_type__app_label=app_label, codename=codename)
            )
        role.group.permissions.set(Permission.objects.filter(wanted))
        grants_sync_for_role(role)
