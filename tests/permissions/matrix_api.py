"""
The permission matrix of the native REST API (/api/): see test_permission_matrix.py for how it is read.
"""

from incidents.services.incidents import incident_version
from tests.permissions.matrix_support import (
    ADMINS,
    MANAGERS,
    PUSHED_ALERT,
    ROLES,
    VIEWERS,
    Check,
    at,
    everyone,
    form,
    scoped,
    tenant_wide,
)

# A merge names its incidents in the body: one out of scope is a wrong value in it (400), as on the queue page.
MERGE = {role: (200, 400) if role in MANAGERS else (403, 403) for role in ROLES}

API_MATRIX: dict[str, tuple[Check, ...]] = {
    "incidents-api:ingest-alerts": (
        Check("get", at("incidents-api:ingest-alerts"), tenant_wide(ADMINS, 405)),
        Check("post", at("incidents-api:ingest-alerts"), tenant_wide(ADMINS, 202), PUSHED_ALERT, json=True),
    ),
    # Security data: reading needs the right to view it, changing the right to manage incidents, each in scope.
    "incidents-api:incident-list": (Check("get", at("incidents-api:incident-list"), tenant_wide(VIEWERS, 200)),),
    "incidents-api:incident-detail": (
        Check("get", at("incidents-api:incident-detail", "incident"), scoped(VIEWERS, 200)),
        Check(
            "patch",
            at("incidents-api:incident-detail", "incident"),
            scoped(MANAGERS, 200),
            form(assigned_to="someone"),
            json=True,
            headers=lambda side: {"If-Match": incident_version(side.incident)},
        ),
    ),
    "incidents-api:incident-comments": (
        Check("get", at("incidents-api:incident-comments", "incident"), scoped(VIEWERS, 200)),
        Check(
            "post",
            at("incidents-api:incident-comments", "incident"),
            scoped(MANAGERS, 201),
            form(text="Hi."),
            json=True,
        ),
    ),
    "incidents-api:incident-alerts": (
        Check("get", at("incidents-api:incident-alerts", "incident"), scoped(VIEWERS, 200)),
    ),
    "incidents-api:incident-activity": (
        Check("get", at("incidents-api:incident-activity", "incident"), scoped(VIEWERS, 200)),
    ),
    "incidents-api:incident-merge": (
        Check(
            "post",
            at("incidents-api:incident-merge"),
            MERGE,
            form(incidents=lambda s: [s.incident.pk, s.sibling.pk], reason="Same attacker."),
            json=True,
        ),
    ),
    "incidents-api:alert-list": (Check("get", at("incidents-api:alert-list"), tenant_wide(VIEWERS, 200)),),
    "incidents-api:alert-detail": (
        Check("get", at("incidents-api:alert-detail", "alert"), scoped(VIEWERS, 200)),
        Check(
            "patch",
            at("incidents-api:alert-detail", "alert"),
            scoped(MANAGERS, 200),
            form(status="inProgress"),
            json=True,
        ),
    ),
    "incidents-api:alert-comments": (
        Check("get", at("incidents-api:alert-comments", "alert"), scoped(VIEWERS, 200)),
        Check("post", at("incidents-api:alert-comments", "alert"), scoped(MANAGERS, 201), form(text="Hi."), json=True),
    ),
    "incidents-api:alert-evidence": (Check("get", at("incidents-api:alert-evidence", "alert"), scoped(VIEWERS, 200)),),
    "incidents-api:alert-move": (
        Check(
            "post",
            at("incidents-api:alert-move", "alert"),
            scoped(MANAGERS, 200),
            form(incident=None, reason="Its own story."),
            json=True,
        ),
    ),
    # Entities: a device by its group, a user account through the alerts it appears in
    "incidents-api:entity-list": (Check("get", at("incidents-api:entity-list"), tenant_wide(VIEWERS, 200)),),
    "incidents-api:entity-detail": (
        Check("get", at("incidents-api:entity-detail", "device"), scoped(VIEWERS, 200)),
        Check("get", at("incidents-api:entity-detail", "account"), scoped(VIEWERS, 200)),
    ),
    "resources-api:resourcelink-list": (Check("get", at("resources-api:resourcelink-list"), everyone(200)),),
    "resources-api:resourcelink-detail": (
        Check("get", at("resources-api:resourcelink-detail", "resource"), everyone(200)),
    ),
    "api-schema": (Check("get", at("api-schema"), everyone(200)),),
    "api-docs": (Check("get", at("api-docs"), everyone(200)),),
}
