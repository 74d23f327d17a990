"""
Data scope on the Graph-compatible API: a token whose user holds a role over some device groups sees and changes
only those groups' incidents and alerts; everything else answers 404, as if it did not exist.
"""

import pytest

from incidents.models import Comment
from portal.models import ActivityLogEntry
from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db

INCIDENTS = "/v1.0/security/incidents"
ALERTS = "/v1.0/security/alerts_v2"


@pytest.fixture
def api(finance_operator, graph_as):
    return graph_as(finance_operator)


def ids(response) -> set[str]:
    assert response.status_code == 200
    return {item["id"] for item in response.json()["value"]}


def test_lists_hold_only_the_incidents_and_alerts_of_the_tokens_device_groups(api, estate):
    incidents = api.get(INCIDENTS, {"$count": "true"})
    alerts = api.get(ALERTS, {"$count": "true"})

    assert ids(incidents) == {str(estate.finance_incident.pk)}
    assert incidents.json()["@odata.count"] == 1
    assert ids(alerts) == {str(estate.finance_alert.pk)}
    assert alerts.json()["@odata.count"] == 1
    assert ids(api.get(INCIDENTS, {"$filter": f"id eq '{estate.server_incident.pk}'"})) == set()


def test_an_expanded_incident_holds_only_the_alerts_in_scope(api, estate):
    # An alert of another device group attached to the Finance incident (a merge across groups, say).
    foreign = AlertFactory(incident=estate.finance_incident, title="Server side", device_group_ids=[estate.servers.pk])

    listed = api.get(INCIDENTS, {"$expand": "alerts"}).json()["value"]
    single = api.get(f"{INCIDENTS}/{estate.finance_incident.pk}", {"$expand": "alerts"}).json()

    assert [a["id"] for a in listed[0]["alerts"]] == [str(estate.finance_alert.pk)]
    assert [a["id"] for a in single["alerts"]] == [str(estate.finance_alert.pk)]
    assert api.get(f"{ALERTS}/{foreign.pk}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "{incidents}/{incident}", None),
        ("get", "{alerts}/{alert}", None),
        ("patch", "{incidents}/{incident}", {"status": "inProgress", "assignedTo": "finance-operator"}),
        ("patch", "{alerts}/{alert}", {"status": "inProgress"}),
        ("post", "{incidents}/{incident}/comments", {"comment": "Not mine."}),
        ("post", "{alerts}/{alert}/comments", {"comment": "Not mine."}),
    ],
)
def test_an_incident_or_alert_out_of_scope_answers_404_and_is_left_alone(
    api, estate, finance_operator, method, path, body
):
    url = path.format(
        incidents=INCIDENTS, alerts=ALERTS, incident=estate.server_incident.pk, alert=estate.server_alert.pk
    )

    response = getattr(api, method)(url, body, format="json") if body else api.get(url)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"
    estate.server_incident.refresh_from_db()
    estate.server_alert.refresh_from_db()
    assert (estate.server_incident.status, estate.server_incident.assigned_to) == ("active", "")
    assert estate.server_alert.status == "new"
    assert not Comment.objects.exists()
    assert not ActivityLogEntry.objects.filter(actor=finance_operator, action__startswith="incidents.").exists()


def test_the_same_token_changes_an_incident_in_its_scope(api, estate, finance_operator):
    response = api.patch(f"{INCIDENTS}/{estate.finance_incident.pk}", {"status": "inProgress"}, format="json")

    assert response.status_code == 200
    estate.finance_incident.refresh_from_db()
    assert estate.finance_incident.status == "inProgress"
    assert estate.finance_incident.last_modified_by == finance_operator.username


def test_reading_needs_the_right_to_view_security_data(posture_manager, graph_as, estate):
    response = graph_as(posture_manager).get(INCIDENTS)

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "Forbidden",
        "message": "Reading incidents and alerts requires the incidents.view_security_data permission.",
        "innerError": response.json()["error"]["innerError"],
    }


def test_changing_needs_the_right_to_manage_incidents_even_in_scope(reader, graph_as, estate):
    api = graph_as(reader)

    patch = api.patch(f"{INCIDENTS}/{estate.finance_incident.pk}", {"status": "inProgress"}, format="json")
    comment = api.post(f"{ALERTS}/{estate.finance_alert.pk}/comments", {"comment": "Hi."}, format="json")

    assert (patch.status_code, comment.status_code) == (403, 403)
    assert patch.json()["error"]["message"] == (
        "Changing incidents and alerts requires the incidents.manage_incidents permission."
    )
    estate.finance_incident.refresh_from_db()
    assert estate.finance_incident.status == "active"
    assert not Comment.objects.exists()
