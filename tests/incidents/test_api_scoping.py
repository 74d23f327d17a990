"""
Data scope and permissions over the native API: a person whose role covers device group A reads and changes only
A's incidents, alerts and entities, with a session or with a bearer token; anything else answers 404 as if it did
not exist, and changes nothing. A missing permission answers 403 before anything is looked up.
"""

import pytest
from rest_framework.test import APIClient

from incidents.models import Alert, Comment, Incident
from incidents.services.incidents import incident_version
from portal.models import ActivityLogEntry
from portal.selectors import activity_for
from tests.api_clients import api_for, bearer, bearer_for, listed_ids
from tests.conftest import assign_role
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    IncidentFactory,
    UserFactory,
)
from tests.stories import story

pytestmark = pytest.mark.django_db


@pytest.fixture
def a():
    return story("ws-a", DeviceGroupFactory(name="Group a"))


@pytest.fixture
def b():
    return story("ws-b", DeviceGroupFactory(name="Group b"))


@pytest.fixture
def operator_of_a(a):
    person = UserFactory(username="operator-a")
    assign_role(person, "Security operator", device_groups=[a.group])
    return person


CLIENTS = {"session": api_for, "bearer token": bearer_for}


def activity_on(target) -> list[ActivityLogEntry]:
    return list(activity_for(target))


# --- Reading ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connect", CLIENTS.values(), ids=CLIENTS.keys())
def test_a_scoped_operator_lists_only_their_groups_data(connect, operator_of_a, a, b):
    IncidentFactory(display_name="No device")  # all-data scope only
    api = connect(operator_of_a)

    assert listed_ids(api.get("/api/incidents/")) == [a.incident.pk]
    assert listed_ids(api.get("/api/alerts/")) == [a.alert.pk]
    assert sorted(listed_ids(api.get("/api/entities/"))) == sorted([a.device.pk, a.account.pk])
    assert listed_ids(api.get("/api/incidents/", {"q": b.account.key})) == []


@pytest.mark.parametrize("connect", CLIENTS.values(), ids=CLIENTS.keys())
@pytest.mark.parametrize(
    "path",
    [
        "/api/incidents/{b.incident.pk}/",
        "/api/incidents/{b.incident.pk}/comments/",
        "/api/incidents/{b.incident.pk}/alerts/",
        "/api/incidents/{b.incident.pk}/activity/",
        "/api/alerts/{b.alert.pk}/",
        "/api/alerts/{b.alert.pk}/comments/",
        "/api/alerts/{b.alert.pk}/evidence/",
        "/api/entities/{b.device.pk}/",
        "/api/entities/{b.account.pk}/",
    ],
)
def test_another_groups_objects_answer_404_like_missing_ones(connect, operator_of_a, a, b, path):
    api = connect(operator_of_a)

    response = api.get(path.format(b=b))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_incident_in_scope_lists_only_its_alerts_in_scope(operator_of_a, a, b):
    # A device of group B was in the story too: the incident is A's, that alert is not.
    elsewhere = AlertFactory(incident=a.incident, device_group_ids=[b.group.pk])
    api = api_for(operator_of_a)

    assert listed_ids(api.get(f"/api/incidents/{a.incident.pk}/alerts/")) == [a.alert.pk]
    assert api.get(f"/api/alerts/{elsewhere.pk}/").status_code == 404


def test_a_device_group_out_of_scope_is_an_invalid_filter_value(operator_of_a, a, b):
    api = api_for(operator_of_a)

    response = api.get("/api/alerts/", {"device_group": b.group.pk})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["device_group"]
    assert listed_ids(api.get("/api/alerts/", {"device_group": a.group.pk})) == [a.alert.pk]


# --- Writing ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connect", CLIENTS.values(), ids=CLIENTS.keys())
def test_a_scoped_operator_changes_their_groups_incident_but_not_anothers(connect, operator_of_a, a, b):
    api = connect(operator_of_a)

    mine = api.patch(
        f"/api/incidents/{a.incident.pk}/",
        {"assigned_to": "operator-a"},
        format="json",
        HTTP_IF_MATCH=incident_version(a.incident),
    )
    theirs = api.patch(
        f"/api/incidents/{b.incident.pk}/",
        {"assigned_to": "operator-a"},
        format="json",
        HTTP_IF_MATCH=incident_version(b.incident),
    )

    assert (mine.status_code, theirs.status_code) == (200, 404)
    assert Incident.objects.get(pk=a.incident.pk).assigned_to == "operator-a"
    assert Incident.objects.get(pk=b.incident.pk).assigned_to == ""
    assert not activity_on(b.incident)


@pytest.mark.parametrize("connect", CLIENTS.values(), ids=CLIENTS.keys())
def test_writes_on_another_groups_alert_answer_404_and_change_nothing(connect, operator_of_a, a, b):
    api = connect(operator_of_a)
    url = f"/api/alerts/{b.alert.pk}/"

    answers = [
        api.patch(url, {"status": "resolved"}, format="json"),
        api.post(f"{url}comments/", {"text": "Mine now."}, format="json"),
        api.post(f"{url}move/", {"incident": a.incident.pk, "reason": "Mine now."}, format="json"),
        api.post(f"/api/incidents/{b.incident.pk}/comments/", {"text": "Mine now."}, format="json"),
    ]

    assert [response.status_code for response in answers] == [404, 404, 404, 404]
    stored = Alert.objects.get(pk=b.alert.pk)
    assert (stored.status, stored.incident_id) == ("new", b.incident.pk)
    assert not Comment.objects.exists()


def test_an_alert_cannot_be_moved_into_another_groups_incident(operator_of_a, a, b):
    api = api_for(operator_of_a)

    response = api.post(
        f"/api/alerts/{a.alert.pk}/move/", {"incident": b.incident.pk, "reason": "Same story."}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"incident": [f"There is no incident {b.incident.pk} that you may change."]}
    assert Alert.objects.get(pk=a.alert.pk).incident_id == a.incident.pk


def test_a_merge_with_another_groups_incident_answers_400_like_a_missing_one(operator_of_a, a, b):
    api = api_for(operator_of_a)

    theirs = api.post(
        "/api/incidents/merge/", {"incidents": [a.incident.pk, b.incident.pk], "reason": "x"}, format="json"
    )
    missing = api.post("/api/incidents/merge/", {"incidents": [a.incident.pk, 987654321], "reason": "x"}, format="json")

    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()
    assert set(Incident.objects.values_list("status", flat=True)) == {"active"}


def test_viewing_everything_but_managing_one_group_changes_only_that_group(a, b):
    # As on the incident page: an incident the person sees but may not change is not found for the change.
    person = UserFactory(username="split")
    assign_role(person, "Security reader")
    assign_role(person, "Security operator", device_groups=[a.group])
    api = api_for(person)

    assert api.get(f"/api/incidents/{b.incident.pk}/").status_code == 200
    response = api.patch(
        f"/api/incidents/{b.incident.pk}/",
        {"severity": "high"},
        format="json",
        HTTP_IF_MATCH=incident_version(b.incident),
    )

    assert response.status_code == 404
    assert Incident.objects.get(pk=b.incident.pk).severity == "medium"


# --- Permissions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connect", CLIENTS.values(), ids=CLIENTS.keys())
def test_a_reader_reads_but_any_change_answers_403(connect, reader, a):
    api = connect(reader)
    incident_url, alert_url = f"/api/incidents/{a.incident.pk}/", f"/api/alerts/{a.alert.pk}/"

    assert api.get(incident_url).status_code == 200
    answers = [
        api.patch(incident_url, {"severity": "high"}, format="json", HTTP_IF_MATCH=incident_version(a.incident)),
        api.post(f"{incident_url}comments/", {"text": "Hi."}, format="json"),
        api.patch(alert_url, {"status": "resolved"}, format="json"),
        api.post(f"{alert_url}move/", {"incident": None, "reason": "x"}, format="json"),
        api.post("/api/incidents/merge/", {"incidents": [a.incident.pk, a.incident.pk], "reason": "x"}, format="json"),
    ]

    assert [response.status_code for response in answers] == [403] * 5
    assert all(response.json()["code"] == "permission_denied" for response in answers)
    assert "incidents.manage_incidents" in answers[0].json()["detail"]
    assert Incident.objects.get(pk=a.incident.pk).severity == "medium"
    assert not activity_on(a.incident)
    assert not activity_on(a.alert)


@pytest.mark.parametrize("role", ["posture_manager", "outsider"])
def test_without_the_right_to_view_security_data_everything_answers_403(request, role, a):
    api = api_for(request.getfixturevalue(role))

    for path in ("/api/incidents/", f"/api/incidents/{a.incident.pk}/", "/api/alerts/", "/api/entities/"):
        response = api.get(path)
        assert response.status_code == 403, path
        assert "incidents.view_security_data" in response.json()["detail"]


def test_an_anonymous_or_badly_authenticated_call_answers_401(a):
    anonymous = APIClient()
    forged = bearer("not-a-token")

    assert anonymous.get("/api/incidents/").status_code == 401
    assert forged.get(f"/api/incidents/{a.incident.pk}/").status_code == 401
