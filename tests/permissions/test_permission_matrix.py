"""
The permission matrix: every URL of the project, for every built-in role, on an object in scope and on one out of
scope, with the exact status each must answer.

Each subject holds one built-in role over device group A only; the in-scope objects live in group A, the
out-of-scope ones in group B. A missing permission answers 403 before any lookup; an object out of scope answers
404, as if it did not exist; collection URLs (queues, bulk actions) answer the same either way, and what they do
with an object out of scope is tested in test_scoping.py. Tenant-wide permissions (roles, resources, the ingest
API) hold whatever the device groups, so both sides answer alike.

Every URL the resolver knows needs an entry in MATRIX (or, for the Django admin, falls under ADMIN_SAMPLE's stated
reason): adding a URL without adding it here fails `test_every_url_of_the_project_is_in_the_matrix`.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from hashlib import sha256

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from incidents.models import Alert, DeviceGroup, Entity, Incident, IncidentEntity
from permissions.models import ApiToken, Role, RoleAssignment
from resources.models import ResourceLink
from tests.conftest import assign_role
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    ResourceLinkFactory,
    UserFactory,
)
from tests.urlwalk import walk_project

pytestmark = pytest.mark.django_db

ADMIN = "Security administrator"
OPERATOR = "Security operator"
READER = "Security reader"
TI_ANALYST = "Threat intelligence analyst"
POSTURE = "Posture manager"
ROLES = (ADMIN, OPERATOR, READER, TI_ANALYST, POSTURE)

# Who holds what (permissions.roles): viewing security data, managing incidents and alerts, and the tenant-wide
# permissions only the administrator has (manage roles, manage resources, push alerts in).
VIEWERS = {ADMIN, OPERATOR, READER, TI_ANALYST}
MANAGERS = {ADMIN, OPERATOR}
ADMINS = {ADMIN}

# --- The world: one side per device group ---------------------------------------------------------------------


@dataclass
class Side:
    """Everything a URL may point at, all in one device group (or, for tenant-wide objects, one per side)."""

    name: str
    group: DeviceGroup
    device: Entity
    account: Entity  # a user entity seen only in this side's alert
    alert: Alert
    incident: Incident
    sibling: Incident  # a second incident to merge with `incident`
    resource: ResourceLink
    role: Role  # a custom role, held by `member` over all data
    assignment: RoleAssignment
    newcomer: object  # a user who holds nothing yet
    # The Home card of this side: one every role but the posture manager sees (A), one only admins and operators
    # see (B), by the default matrix of portal/migrations/0006_home_cards.py.
    card: str
    # An API token: the subject's own (A) or someone else's (B); set once the subject exists (`_tokens`).
    token: ApiToken | None = None


def _side(name: str) -> Side:
    group = DeviceGroupFactory(name=f"Group {name}")
    device = EntityFactory(kind="device", key=f"ws-{name.lower()}.corp.example", device_group=group)
    account = EntityFactory(kind="user", key=f"{name.lower()}@corp.example")
    incident, sibling = (
        IncidentFactory(display_name=f"Incident {name}{n}", device_group_ids=[group.pk]) for n in (1, 2)
    )
    alert = AlertFactory(incident=incident, title=f"Alert {name}", device_group_ids=[group.pk])
    AlertFactory(incident=sibling, title=f"Alert {name}2", device_group_ids=[group.pk])
    for entity in (device, account):
        EvidenceFactory(alert=alert, entity=entity)
        IncidentEntity.objects.create(incident=incident, entity=entity)
    role = Role.objects.create(group=Group.objects.create(name=f"Custom role {name}"))
    member = UserFactory(username=f"member-{name.lower()}")
    return Side(
        name=name,
        group=group,
        device=device,
        account=account,
        alert=alert,
        incident=incident,
        sibling=sibling,
        resource=ResourceLinkFactory(name=f"Portal {name}"),
        role=role,
        assignment=RoleAssignment.objects.create(role=role, user=member, all_data=True),
        newcomer=UserFactory(username=f"newcomer-{name.lower()}"),
        card="active-incidents" if name == "A" else "recent-activity",
    )


def _token(owner, name: str) -> ApiToken:
    return ApiToken.objects.create(
        user=owner,
        name=name,
        prefix=name[:8],
        digest=sha256(name.encode()).hexdigest(),
        expires_at=timezone.now() + timedelta(days=30),
    )


def _tokens(sides: tuple["Side", "Side"], subject) -> None:
    """The subject's own token in scope, someone else's out of it."""
    sides[0].token = _token(subject, "own-token")
    sides[1].token = _token(UserFactory(username="someone-else"), "someone-elses-token")


# --- The table ------------------------------------------------------------------------------------------------

Expect = dict[str, tuple[int, int]]  # role → (status in scope, status out of scope)


def scoped(holders: set[str], ok: int) -> Expect:
    """A URL about one object of security data: `ok` in scope and 404 out of it for holders, 403 for the others."""
    return {role: (ok, 404) if role in holders else (403, 403) for role in ROLES}


def tenant_wide(holders: set[str], ok: int, refused: int = 403) -> Expect:
    """A URL the device groups do not limit: `ok` for holders on both sides, `refused` for the others."""
    return {role: (ok, ok) if role in holders else (refused, refused) for role in ROLES}


def everyone(status: int) -> Expect:
    return tenant_wide(set(ROLES), status)


def at(url_name: str, attribute: str | None = None, query: str = "") -> Callable[[Side], str]:
    """
    The URL of `url_name` for the side's `attribute` (an object, whose pk is the argument, or a string that is the
    argument itself), plus a query string.
    """

    def build(side: Side) -> str:
        value = getattr(side, attribute) if attribute else None
        args = [] if value is None else [value if isinstance(value, str) else value.pk]
        return reverse(url_name, args=args) + query.format(side=side)

    return build


@dataclass(frozen=True)
class Check:
    method: str
    path: Callable[[Side], str]
    expect: Expect
    data: Callable[[Side], dict] = field(default=lambda side: {})
    # Send `data` as a JSON body (the API) rather than a form.
    json: bool = False


def form(**values) -> Callable[[Side], dict]:
    """POST data; a callable value is given the side (for ids)."""
    return lambda side: {key: value(side) if callable(value) else value for key, value in values.items()}


ALERT_MANAGE = form(status="inProgress", assigned_to="", classification="unknown", determination="unknown")
PUSHED_ALERT = form(
    id=lambda s: f"da-matrix-{s.name}",
    title="Pushed through the API",
    serviceSource="microsoftDefenderForEndpoint",
    createdDateTime="2026-11-20T08:05:54Z",
)

MATRIX: dict[str, tuple[Check, ...]] = {
    # The shell, Home, signing in and out, and one's own account
    "healthz": (Check("get", at("healthz"), everyone(200)),),
    "portal:home": (Check("get", at("portal:home"), everyone(200)),),
    # A card the role's matrix row does not tick does not exist for it; nor does a card whose data it may not see.
    "portal:home_card": (
        Check(
            "get",
            at("portal:home_card", "card"),
            {ADMIN: (200, 200), OPERATOR: (200, 200), READER: (200, 404), TI_ANALYST: (200, 404), POSTURE: (404, 404)},
        ),
    ),
    "login": (Check("get", at("login"), everyone(302)),),
    "logout": (Check("get", at("logout"), everyone(405)), Check("post", at("logout"), everyone(302))),
    "password_change": (Check("get", at("password_change"), everyone(200)),),
    "two_factor": (Check("get", at("two_factor"), everyone(200)),),
    # Nobody here has an authenticator, and no built-in role requires one: the second step sends them on.
    "two_factor_verify": (Check("get", at("two_factor_verify"), everyone(302)),),
    # Incidents: the queue and what it posts
    "incidents:queue": (Check("get", at("incidents:queue", query="?q={side.incident.pk}"), tenant_wide(VIEWERS, 200)),),
    "incidents:columns": (Check("post", at("incidents:columns"), tenant_wide(VIEWERS, 302), form(column="name")),),
    "incidents:timeline": (Check("get", at("incidents:timeline"), tenant_wide(VIEWERS, 200)),),
    "incidents:tags": (Check("get", at("incidents:tags"), tenant_wide(VIEWERS, 200)),),
    # Out-of-scope ids in bulk actions and merges are refused in the answer's messages (test_scoping.py).
    "incidents:bulk": (
        Check(
            "post",
            at("incidents:bulk"),
            tenant_wide(MANAGERS, 302),
            form(action="assign_me", incident=lambda s: s.incident.pk),
        ),
    ),
    "incidents:merge": (
        Check(
            "post",
            at("incidents:merge"),
            tenant_wide(MANAGERS, 302),
            form(incident=lambda s: [s.incident.pk, s.sibling.pk], reason="Same attacker."),
        ),
    ),
    # Incidents: one incident
    "incidents:detail": (Check("get", at("incidents:detail", "incident"), scoped(VIEWERS, 200)),),
    "incidents:graph": (Check("get", at("incidents:graph", "incident"), scoped(VIEWERS, 200)),),
    "incidents:manage": (
        Check("post", at("incidents:manage", "incident"), scoped(MANAGERS, 302), form(assigned_to="someone")),
    ),
    "incidents:comment": (Check("post", at("incidents:comment", "incident"), scoped(MANAGERS, 302), form(text="Hi.")),),
    # Alerts
    "incidents:alert_queue": (
        Check("get", at("incidents:alert_queue", query="?q={side.alert.pk}"), tenant_wide(VIEWERS, 200)),
    ),
    "incidents:alert_bulk": (
        Check(
            "post",
            at("incidents:alert_bulk"),
            tenant_wide(MANAGERS, 302),
            form(action="assign_me", alert=lambda s: s.alert.pk),
        ),
    ),
    "incidents:alert_detail": (Check("get", at("incidents:alert_detail", "alert"), scoped(VIEWERS, 200)),),
    "incidents:alert_manage": (
        Check("post", at("incidents:alert_manage", "alert"), scoped(MANAGERS, 302), ALERT_MANAGE),
    ),
    "incidents:alert_comment": (
        Check("post", at("incidents:alert_comment", "alert"), scoped(MANAGERS, 302), form(text="Hi.")),
    ),
    "incidents:alert_move": (
        Check(
            "post",
            at("incidents:alert_move", "alert"),
            scoped(MANAGERS, 302),
            form(destination="new", reason="Its own story."),
        ),
    ),
    # Entities: a device by its group, a user account through the alerts it appears in
    "incidents:entity": (
        Check("get", at("incidents:entity", "device"), scoped(VIEWERS, 200)),
        Check("get", at("incidents:entity", "account"), scoped(VIEWERS, 200)),
    ),
    # Permissions & roles: tenant-wide (permissions.manage_roles), so the device groups change nothing
    "permissions:roles": (Check("get", at("permissions:roles"), tenant_wide(ADMINS, 200)),),
    "permissions:role_create": (Check("get", at("permissions:role_create"), tenant_wide(ADMINS, 200)),),
    "permissions:role": (Check("get", at("permissions:role", "role"), tenant_wide(ADMINS, 200)),),
    "permissions:role_edit": (Check("get", at("permissions:role_edit", "role"), tenant_wide(ADMINS, 200)),),
    "permissions:role_delete": (Check("get", at("permissions:role_delete", "role"), tenant_wide(ADMINS, 200)),),
    "permissions:assignment_create": (
        Check(
            "post",
            at("permissions:assignment_create", "role"),
            tenant_wide(ADMINS, 302),
            form(principal="user", user=lambda s: s.newcomer.username, scope="all"),
        ),
    ),
    "permissions:assignment_edit": (
        Check("get", at("permissions:assignment_edit", "assignment"), tenant_wide(ADMINS, 200)),
    ),
    "permissions:assignment_delete": (
        Check("post", at("permissions:assignment_delete", "assignment"), tenant_wide(ADMINS, 302)),
    ),
    "permissions:device_groups": (Check("get", at("permissions:device_groups"), tenant_wide(ADMINS, 200)),),
    "permissions:device_group_create": (Check("get", at("permissions:device_group_create"), tenant_wide(ADMINS, 200)),),
    "permissions:device_group": (Check("get", at("permissions:device_group", "group"), tenant_wide(ADMINS, 200)),),
    "permissions:device_group_edit": (
        Check("get", at("permissions:device_group_edit", "group"), tenant_wide(ADMINS, 200)),
    ),
    "permissions:device_group_apply": (
        Check("post", at("permissions:device_group_apply", "group"), tenant_wide(ADMINS, 302)),
    ),
    "permissions:device_group_add": (
        Check(
            "post",
            at("permissions:device_group_add", "group"),
            tenant_wide(ADMINS, 302),
            form(devices=lambda s: [s.device.pk]),
        ),
    ),
    "permissions:device_group_remove": (
        Check(
            "post",
            at("permissions:device_group_remove", "group"),
            tenant_wide(ADMINS, 302),
            form(devices=lambda s: [s.device.pk]),
        ),
    ),
    "permissions:device_group_delete": (
        Check("get", at("permissions:device_group_delete", "group"), tenant_wide(ADMINS, 200)),
    ),
    "permissions:home_cards": (Check("get", at("permissions:home_cards"), tenant_wide(ADMINS, 200)),),
    # API tokens: everyone manages their own; someone else's exists only for a role manager.
    "permissions:tokens": (Check("get", at("permissions:tokens"), everyone(200)),),
    "permissions:token_create": (
        Check(
            "post",
            at("permissions:token_create"),
            everyone(201),
            form(name=lambda s: f"New {s.name}", expires_in_days=30),
        ),
    ),
    "permissions:token_revoke": (
        Check(
            "post",
            at("permissions:token_revoke", "token"),
            {role: (302, 302) if role in ADMINS else (302, 404) for role in ROLES},
        ),
    ),
    # More resources: everyone reads, the administrator (resources.change_resourcelink) changes
    "resources:list": (Check("get", at("resources:list"), everyone(200)),),
    "resources:add": (
        Check(
            "post",
            at("resources:add"),
            tenant_wide(ADMINS, 302),
            form(name=lambda s: f"New {s.name}", url=lambda s: f"https://new-{s.name.lower()}.example/"),
        ),
    ),
    "resources:edit": (Check("get", at("resources:edit", "resource"), tenant_wide(ADMINS, 200)),),
    "resources:move": (
        Check("post", at("resources:move", "resource"), tenant_wide(ADMINS, 302), form(direction="up")),
    ),
    "resources:visibility": (
        Check("post", at("resources:visibility", "resource"), tenant_wide(ADMINS, 302), form(hidden="true")),
    ),
    "resources:delete": (Check("post", at("resources:delete", "resource"), tenant_wide(ADMINS, 302)),),
    # The REST API
    "incidents-api:ingest-alerts": (
        Check("get", at("incidents-api:ingest-alerts"), tenant_wide(ADMINS, 405)),
        Check("post", at("incidents-api:ingest-alerts"), tenant_wide(ADMINS, 202), PUSHED_ALERT, json=True),
    ),
    "resources-api:resourcelink-list": (Check("get", at("resources-api:resourcelink-list"), everyone(200)),),
    "resources-api:resourcelink-detail": (
        Check("get", at("resources-api:resourcelink-detail", "resource"), everyone(200)),
    ),
    "api-schema": (Check("get", at("api-schema"), everyone(200)),),
    "api-docs": (Check("get", at("api-docs"), everyone(200)),),
}

# The Django admin has a URL per model and action (and its own login, staff check and model permissions), so it is
# covered by a sample rather than URL by URL: its index, and the incident list and change page in and out of scope.
# Its other scoped models (alerts, entities, comments) are tested in test_scoping.py. Subjects are staff here.
SAMPLED_NAMESPACES = {"admin": "sampled in ADMIN_SAMPLE (staff subjects); the rest is Django's own checks"}
ADMIN_SAMPLE: dict[str, tuple[Check, ...]] = {
    "admin:index": (Check("get", at("admin:index"), everyone(200)),),
    "admin:incidents_incident_changelist": (
        Check("get", at("admin:incidents_incident_changelist"), tenant_wide(ADMINS, 200)),
    ),
    # The admin looks the object up in the subject's scope before checking model permissions: outside it there is
    # nothing to refuse (404); inside it, a reader without the admin's model permissions is refused (403).
    "admin:incidents_incident_change": (
        Check(
            "get",
            at("admin:incidents_incident_change", "incident"),
            {ADMIN: (200, 404), OPERATOR: (403, 404), READER: (403, 404), TI_ANALYST: (403, 404), POSTURE: (404, 404)},
        ),
    ),
}


# --- The tests ------------------------------------------------------------------------------------------------


def test_every_url_of_the_project_is_in_the_matrix():
    walked = walk_project(include_admin=True)
    missing = sorted(
        f"{url.key} ({url.path})"
        for url in walked
        if url.key not in MATRIX and not set(url.namespaces) & set(SAMPLED_NAMESPACES)
    )
    assert not missing, "URLs without an entry in the permission matrix: " + ", ".join(missing)
    known = {url.key for url in walked}
    stale = sorted(set(MATRIX) - known) + sorted(set(ADMIN_SAMPLE) - known)
    assert not stale, "Entries for URLs that no longer exist: " + ", ".join(stale)
    assert all(set(checks[0].expect) == set(ROLES) for checks in (*MATRIX.values(), *ADMIN_SAMPLE.values()))


@pytest.fixture
def sides():
    return _side("A"), _side("B")


def _subject(role: str, group: DeviceGroup, *, staff: bool = False):
    user = UserFactory(username="subject", is_staff=staff)
    assign_role(user, role, device_groups=[group])
    return user


def _answers(client, user, checks: tuple[Check, ...], sides: tuple[Side, Side], role: str) -> list[str]:
    """Each check on both sides; the differences from the table, as readable lines."""
    wrong = []
    for check in checks:
        for side, expected in zip(sides, check.expect[role], strict=True):
            client.force_login(user)  # afresh: a check may sign out
            path, data = check.path(side), check.data(side)
            if check.json:
                response = client.post(path, json.dumps(data), content_type="application/json")
            else:
                response = getattr(client, check.method)(path, data)
            scope = "in scope" if side is sides[0] else "out of scope"
            if response.status_code != expected:
                wrong.append(f"{check.method.upper()} {path} ({scope}): {response.status_code}, expected {expected}")
    return wrong


class _Undo(Exception):
    pass


def _as_every_role(client, sides, checks: tuple[Check, ...], *, staff: bool = False) -> list[str]:
    """
    The checks for each role in turn, each in a savepoint rolled back afterwards, so that one role's writes (a
    deletion, a merge) never change what the next one meets; the world is built once per URL.
    """
    wrong = []
    for role in ROLES:
        try:
            with transaction.atomic():
                user = _subject(role, sides[0].group, staff=staff)
                _tokens(sides, user)
                wrong += [f"{role}: {line}" for line in _answers(client, user, checks, sides, role)]
                raise _Undo
        except _Undo:
            pass
    return wrong


@pytest.mark.parametrize("url_name", sorted(MATRIX))
def test_each_role_gets_the_status_the_matrix_says(client, sides, url_name):
    wrong = _as_every_role(client, sides, MATRIX[url_name])

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("url_name", sorted(ADMIN_SAMPLE))
def test_each_staff_role_gets_the_status_the_admin_sample_says(client, sides, url_name):
    wrong = _as_every_role(client, sides, ADMIN_SAMPLE[url_name], staff=True)

    assert not wrong, "\n".join(wrong)
