"""
The permission catalogue: what a role can be made of, grouped like Defender's unified RBAC.

Each entry is a Django permission ("app_label.codename") with a label and a description for the role editor.
Security operations permissions are *scoped*: they are defined on DeviceGroup, so that an assignment limited to
some device groups is stored as django-guardian object permissions on those groups. The others hold for the whole
tenant. A later section adds its permissions with `register` from its AppConfig.ready().
"""

from dataclasses import dataclass

__all__ = (
    "CATEGORIES",
    "CatalogueEntry",
    "catalogue",
    "catalogue_by_category",
    "catalogue_entry",
    "register",
    "scoped_permissions",
)

SECURITY_OPERATIONS = "Security operations"
SECURITY_POSTURE = "Security posture"
AUTHORIZATION_AND_SETTINGS = "Authorization and settings"
CATEGORIES = (SECURITY_OPERATIONS, SECURITY_POSTURE, AUTHORIZATION_AND_SETTINGS)

READ = "read"
MANAGE = "manage"


@dataclass(frozen=True)
class CatalogueEntry:
    permission: str  # "app_label.codename"
    category: str
    label: str
    description: str
    level: str = READ
    # True when an assignment's device groups limit it (security data); False when it holds tenant-wide.
    scoped: bool = False

    @property
    def app_label(self) -> str:
        return self.permission.split(".", 1)[0]

    @property
    def codename(self) -> str:
        return self.permission.split(".", 1)[1]


_entries: dict[str, CatalogueEntry] = {}


def register(*entries: CatalogueEntry) -> None:
    for entry in entries:
        if entry.category not in CATEGORIES:
            raise ValueError(f"{entry.permission}: unknown category {entry.category!r}")
        _entries[entry.permission] = entry


def catalogue() -> list[CatalogueEntry]:
    return list(_entries.values())


def catalogue_entry(permission: str) -> CatalogueEntry | None:
    return _entries.get(permission)


def catalogue_by_category() -> list[tuple[str, list[CatalogueEntry]]]:
    return [(category, [e for e in _entries.values() if e.category == category]) for category in CATEGORIES]


def scoped_permissions() -> frozenset[str]:
    return frozenset(permission for permission, entry in _entries.items() if entry.scoped)


VIEW_SECURITY_DATA = "incidents.view_security_data"
MANAGE_INCIDENTS = "incidents.manage_incidents"
TAKE_RESPONSE_ACTIONS = "incidents.take_response_actions"
APPROVE_RESPONSE_ACTIONS = "incidents.approve_response_actions"
INGEST_ALERTS = "incidents.ingest_alert"
VIEW_SECURE_SCORE = "permissions.view_secure_score"
MANAGE_SECURE_SCORE = "permissions.manage_secure_score"
VIEW_THREAT_ANALYTICS = "permissions.view_threat_analytics"
MANAGE_THREAT_ANALYTICS = "permissions.manage_threat_analytics"
MANAGE_ROLES = "permissions.manage_roles"
MANAGE_RULES = "permissions.manage_rules"
MANAGE_SETTINGS = "permissions.manage_settings"
MANAGE_RESOURCES = "resources.change_resourcelink"

register(
    CatalogueEntry(
        VIEW_SECURITY_DATA,
        SECURITY_OPERATIONS,
        "View security data",
        "Incidents, alerts, entities, evidence and their comments and activity.",
        scoped=True,
    ),
    CatalogueEntry(
        MANAGE_INCIDENTS,
        SECURITY_OPERATIONS,
        "Manage alerts and incidents",
        "Assign, classify, resolve, tag, comment, merge and move alerts and incidents.",
        level=MANAGE,
        scoped=True,
    ),
    CatalogueEntry(
        TAKE_RESPONSE_ACTIONS,
        SECURITY_OPERATIONS,
        "Take response actions",
        "Request remediation on devices, files and accounts (isolate, quarantine, disable, ...).",
        level=MANAGE,
        scoped=True,
    ),
    CatalogueEntry(
        APPROVE_RESPONSE_ACTIONS,
        SECURITY_OPERATIONS,
        "Approve response actions",
        "Approve or reject pending remediation in the Action center.",
        level=MANAGE,
        scoped=True,
    ),
    CatalogueEntry(
        INGEST_ALERTS,
        SECURITY_OPERATIONS,
        "Push alerts in",
        "Send alerts through the ingest API (for SIEM forwarders and connectors).",
        level=MANAGE,
    ),
    CatalogueEntry(
        VIEW_SECURE_SCORE, SECURITY_POSTURE, "View secure score", "The secure score, its controls and history."
    ),
    CatalogueEntry(
        MANAGE_SECURE_SCORE,
        SECURITY_POSTURE,
        "Manage secure score",
        "Change the state of secure score controls and their plans.",
        level=MANAGE,
    ),
    CatalogueEntry(
        VIEW_THREAT_ANALYTICS,
        SECURITY_POSTURE,
        "View threat analytics",
        "Threat reports and their links to incidents and assets.",
    ),
    CatalogueEntry(
        MANAGE_THREAT_ANALYTICS,
        SECURITY_POSTURE,
        "Manage threat analytics",
        "Write and publish threat reports and their indicators.",
        level=MANAGE,
    ),
    CatalogueEntry(
        MANAGE_ROLES,
        AUTHORIZATION_AND_SETTINGS,
        "Manage roles and assignments",
        "Roles, assignments, device groups, Home cards and everyone's API tokens.",
        level=MANAGE,
    ),
    CatalogueEntry(
        MANAGE_RULES,
        AUTHORIZATION_AND_SETTINGS,
        "Manage rules and detection tuning",
        "Detection, tuning, automation and notification rules.",
        level=MANAGE,
    ),
    CatalogueEntry(
        MANAGE_SETTINGS,
        AUTHORIZATION_AND_SETTINGS,
        "Manage system settings",
        "Correlation settings and other portal-wide settings.",
        level=MANAGE,
    ),
    CatalogueEntry(
        MANAGE_RESOURCES,
        AUTHORIZATION_AND_SETTINGS,
        "Manage resources",
        "The More resources directory of related portals.",
        level=MANAGE,
    ),
)
