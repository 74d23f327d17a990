"""
The built-in roles and what they may do.

The rows (a Django Group plus a Role) are created by a data migration; their permission sets are kept equal to
this table after every migrate (`permissions.signals`), because permissions themselves only exist once all apps
have migrated. Later sections add their permissions here.
"""

from dataclasses import dataclass

__all__ = ("BUILTIN_ROLES", "BuiltinRole")


@dataclass(frozen=True)
class BuiltinRole:
    name: str
    description: str
    # "app_label.codename"; "app_label.*" means every permission of that app.
    permissions: tuple[str, ...]


SECURITY_ADMINISTRATOR = BuiltinRole(
    name="Security administrator",
    description="Everything: security operations, posture, roles and assignments, rules and settings.",
    permissions=(
        "incidents.*",
        "resources.*",
        "permissions.*",
        "portal.view_activitylogentry",
        "auth.view_group",
        "auth.view_user",
    ),
)
SECURITY_OPERATOR = BuiltinRole(
    name="Security operator",
    description="Views security data, manages alerts and incidents, and takes response actions.",
    permissions=(
        "incidents.view_devicegroup",
        "incidents.view_entity",
        "incidents.view_incident",
        "incidents.change_incident",
        "incidents.view_alert",
        "incidents.change_alert",
        "incidents.view_evidence",
        "incidents.view_comment",
        "incidents.add_comment",
        "resources.view_resourcelink",
    ),
)
SECURITY_READER = BuiltinRole(
    name="Security reader",
    description="Views security data and reports; changes nothing.",
    permissions=(
        "incidents.view_devicegroup",
        "incidents.view_entity",
        "incidents.view_incident",
        "incidents.view_alert",
        "incidents.view_evidence",
        "incidents.view_comment",
        "resources.view_resourcelink",
    ),
)

BUILTIN_ROLES = (SECURITY_ADMINISTRATOR, SECURITY_OPERATOR, SECURITY_READER)
