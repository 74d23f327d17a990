"""
The built-in roles and what they may do.

The rows (a Django Group plus a Role) are created by data migrations; their permission sets are kept equal to
this table after every migrate (`permissions.signals`), because permissions themselves only exist once all apps
have migrated. Later sections add their permissions here.
"""

from dataclasses import dataclass

from portal import catalogue as c

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
    # Every catalogue permission, plus the model permissions the Django admin asks for.
    permissions=(
        "incidents.*",
        "resources.*",
        "permissions.*",
        "portal.view_activitylogentry",
        "portal.view_homecard",
        "auth.view_group",
        "auth.view_user",
    ),
)
SECURITY_OPERATOR = BuiltinRole(
    name="Security operator",
    description="Views security data, manages alerts and incidents, and takes response actions.",
    permissions=(
        c.VIEW_SECURITY_DATA,
        c.MANAGE_INCIDENTS,
        c.TAKE_RESPONSE_ACTIONS,
        c.VIEW_SECURE_SCORE,
        c.VIEW_THREAT_ANALYTICS,
    ),
)
SECURITY_READER = BuiltinRole(
    name="Security reader",
    description="Views security data and reports; changes nothing.",
    permissions=(c.VIEW_SECURITY_DATA, c.VIEW_SECURE_SCORE, c.VIEW_THREAT_ANALYTICS),
)
THREAT_INTELLIGENCE_ANALYST = BuiltinRole(
    name="Threat intelligence analyst",
    description="Views security data and threat analytics; writes threat reports.",
    permissions=(c.VIEW_SECURITY_DATA, c.VIEW_THREAT_ANALYTICS, c.MANAGE_THREAT_ANALYTICS),
)
POSTURE_MANAGER = BuiltinRole(
    name="Posture manager",
    description="Views and improves the secure score; reads threat analytics.",
    permissions=(c.VIEW_SECURE_SCORE, c.MANAGE_SECURE_SCORE, c.VIEW_THREAT_ANALYTICS),
)

BUILTIN_ROLES = (
    SECURITY_ADMINISTRATOR,
    SECURITY_OPERATOR,
    SECURITY_READER,
    THREAT_INTELLIGENCE_ANALYST,
    POSTURE_MANAGER,
)
