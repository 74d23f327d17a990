"""
What the permission matrix is made of: the two sides of the world (one per device group), the checks and the
expectations per role. The tables live in the test module (pages) and in matrix_api.py / matrix_graph.py (the
native and the Graph-compatible API), one table per area so that each is read and changed on its own.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from hashlib import sha256

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from incidents.models import Alert, DeviceGroup, Entity, Incident, IncidentEntity
from permissions.models import ApiToken, Role, RoleAssignment
from resources.models import ResourceLink
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    ResourceLinkFactory,
    UserFactory,
)

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
    # Send `data` as a JSON body (the API) rather than a form or a query string.
    json: bool = False
    # Request headers (If-Match, ...); a callable value is given the side.
    headers: Callable[[Side], dict] = field(default=lambda side: {})


def form(**values) -> Callable[[Side], dict]:
    """Request data; a callable value is given the side (for ids)."""
    return lambda side: {key: value(side) if callable(value) else value for key, value in values.items()}


ALERT_MANAGE = form(status="inProgress", assigned_to="", classification="unknown", determination="unknown")
PUSHED_ALERT = form(
    id=lambda s: f"da-matrix-{s.name}",
    title="Pushed through the API",
    serviceSource="microsoftDefenderForEndpoint",
    createdDateTime="2026-11-20T08:05:54Z",
)
