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

import pytest
from django.db import transaction

from incidents.models import DeviceGroup
from tests.conftest import assign_role
from tests.factories import UserFactory
from tests.permissions.matrix_api import API_MATRIX
from tests.permissions.matrix_graph import GRAPH_MATRIX
from tests.permissions.matrix_settings_api import SETTINGS_API_MATRIX
from tests.permissions.matrix_support import (
    ADMIN,
    ADMINS,
    ALERT_MANAGE,
    MANAGERS,
    OPERATOR,
    POSTURE,
    READER,
    ROLES,
    TI_ANALYST,
    VIEWERS,
    Check,
    Side,
    _side,
    _tokens,
    at,
    everyone,
    form,
    scoped,
    tenant_wide,
)
from tests.urlwalk import walk_project

pytestmark = pytest.mark.django_db

PAGES: dict[str, tuple[Check, ...]] = {
    # The shell, Home, signing in and out, and one's own account
    "healthz": (Check("get", at("healthz"), everyone(200)),),
    "home:home": (Check("get", at("home:home"), everyone(200)),),
    # A card the role's matrix row does not tick does not exist for it; nor does a card whose data it may not see.
    "home:card": (
        Check(
            "get",
            at("home:card", "card"),
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
}

TABLES = (PAGES, API_MATRIX, SETTINGS_API_MATRIX, GRAPH_MATRIX)
MATRIX: dict[str, tuple[Check, ...]] = {name: checks for table in TABLES for name, checks in table.items()}
assert len(MATRIX) == sum(len(table) for table in TABLES), "a URL is in two tables"

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
            send = getattr(client, check.method)
            if check.json:
                response = send(path, json.dumps(data), content_type="application/json", headers=check.headers(side))
            else:
                response = send(path, data, headers=check.headers(side))
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
