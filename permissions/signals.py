from permissions.roles import BUILTIN_ROLES

__all__ = ("sync_builtin_role_permissions",)


def sync_builtin_role_permissions(sender=None, **kwargs):
    """post_migrate: give each built-in role exactly the permissions its definition lists."""
    from permissions.grants import grants_sync_for_role
    from permissions.models import Role
    from permissions.selectors import permissions_named

    roles = {role.group.name: role for role in Role.objects.filter(is_builtin=True).select_related("group")}
    for definition in BUILTIN_ROLES:
        role = roles.get(definition.name)
        if role is None:
            continue
        role.group.permissions.set(permissions_named(definition.permissions))
        grants_sync_for_role(role)
