from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PermissionsConfig(AppConfig):
    name = "permissions"
    verbose_name = "Permissions & roles"

    def ready(self):
        from incidents.services.device_groups import device_group_deleting
        from permissions import schema  # noqa: F401 - registers the OpenAPI description of bearer tokens
        from permissions.access import data_scope
        from permissions.services import device_group_release
        from permissions.signals import sync_builtin_role_permissions
        from portal.catalogue import MANAGE_ROLES
        from portal.navigation import Section, register_section
        from portal.scoping import register_scope_reader

        register_scope_reader(data_scope)
        device_group_deleting.connect(device_group_release, dispatch_uid="permissions.device_group_release")
        # Connected without a sender: permissions of every app exist only after the last app has migrated.
        post_migrate.connect(sync_builtin_role_permissions, dispatch_uid="permissions.sync_builtin_roles")
        register_section(
            Section(label="Permissions & roles", url_name="permissions:roles", order=80, permission=MANAGE_ROLES)
        )
