"""
A page of the Graph lists costs the same queries whatever its size ($top), with or without $expand=alerts: the
related rows (alerts, evidence, comments) are read once per page, never once per row.

Each request costs, before the page: the bearer token (1) and the caller's permissions and scope (1).
"""

import pytest

from incidents.models import Comment, DeviceGroup, Incident
from tests.api_clients import bearer_for
from tests.conftest import assign_role
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INCIDENTS = "/v1.0/security/incidents"
ALERTS = "/v1.0/security/alerts_v2"
AUTHENTICATION = 2  # the token, the caller's permissions and scope
# For a caller scoped to device groups, which of an incident page's alerts they may see (incidents_as_seen); none
# here is only partly visible, so no rollup is recomputed (tests/permissions/test_shared_incident.py pins that case).
SEEN = {"admin": 0, "scoped": 1}


@pytest.fixture
def busy_estate(admin_user):
    """Twelve incidents of two alerts each; every alert with two evidence rows and a comment."""
    group = DeviceGroupFactory()
    for n in range(12):
        incident = IncidentFactory(device_group_ids=[group.pk])
        Comment.objects.create(incident=incident, author=admin_user, author_name="admin", text=f"Incident {n}.")
        for _ in range(2):
            alert = AlertFactory(incident=incident, device_group_ids=[group.pk])
            EvidenceFactory(alert=alert, entity=EntityFactory(device_group=group))
            EvidenceFactory(
                alert=alert, entity=EntityFactory(kind="user"), odata_type="#microsoft.graph.security.userEvidence"
            )
            Comment.objects.create(alert=alert, author=admin_user, author_name="admin", text="Seen.")


@pytest.fixture(params=["admin", "scoped"])
def api(request, admin_user, busy_estate):
    """
    An all-data token and a token scoped to a device group (whose scope adds conditions, and for incidents the read of
    which alerts it sees); `seen` is that read's count.
    """
    if request.param == "admin":
        client = bearer_for(admin_user)
    else:
        user = UserFactory(username="scoped")
        assign_role(user, "Security reader", device_groups=list(DeviceGroup.objects.all()))
        client = bearer_for(user)
    client.get(INCIDENTS)  # the token's first use records it; later calls within a minute do not
    client.seen = SEEN[request.param]
    return client


def _page(api, django_assert_num_queries, path, queries, **params):
    for top in (2, 10):
        with django_assert_num_queries(AUTHENTICATION + queries):
            response = api.get(path, {**params, "$top": str(top)})
        assert response.status_code == 200
        assert len(response.json()["value"]) == top


def test_an_incident_page_costs_the_same_queries_whatever_its_size(api, django_assert_num_queries):
    # The incidents, their comments.
    _page(api, django_assert_num_queries, INCIDENTS, 2 + api.seen)


def test_an_incident_page_with_alerts_costs_the_same_queries_whatever_its_size(api, django_assert_num_queries):
    # The incidents, their comments, their alerts, the alerts' evidence and comments; and the count.
    _page(api, django_assert_num_queries, INCIDENTS, 6 + api.seen, **{"$expand": "alerts", "$count": "true"})


def test_an_alert_page_costs_the_same_queries_whatever_its_size(api, django_assert_num_queries):
    # The alerts, their evidence, their comments.
    _page(api, django_assert_num_queries, ALERTS, 3, **{"$filter": "severity eq 'medium'"})


def test_one_expanded_incident_costs_a_fixed_number_of_queries(api, django_assert_num_queries):
    incident = Incident.objects.order_by("pk").first()

    with django_assert_num_queries(AUTHENTICATION + 5 + api.seen):
        response = api.get(f"{INCIDENTS}/{incident.pk}", {"$expand": "alerts"})

    assert len(response.json()["alerts"]) == 2
