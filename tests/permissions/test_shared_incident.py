"""
The permission matrix's shared-incident case: an incident whose alerts lie in two device groups (and one with no
device), seen by `branch`, an operator scoped to Branch offices only.

Writes: every change to the incident (assign, status, classification, severity, tags, name, merge, moving an alert
into it), through the pages, the native API and the Graph API, is refused with the reason, and nothing changes — not
the incident, not its alerts, not the activity log. Their own alert may still leave for a new incident.
Reads: whatever they see of the incident is derived from the alert they may see; its activity entries about the
other alerts are left out; the count says how many alerts they see of how many.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from home.selectors import open_incidents_by_severity
from incidents.models import Alert, Incident
from incidents.services.rollups import incidents_refresh
from portal.selectors import activity_for
from portal.services import activity_record
from tests.api_clients import api_for, bearer_for
from tests.conftest import assign_role
from tests.factories import AlertFactory, EntityFactory, EvidenceFactory, IncidentFactory, UserFactory
from tests.stories import shared_story

pytestmark = pytest.mark.django_db

BEYOND = "also holds alerts outside your device groups"


@pytest.fixture
def world():
    return shared_story()


@pytest.fixture
def branch(world):
    user = UserFactory(username="branch")
    assign_role(user, "Security operator", device_groups=[world.branch])
    return user


@pytest.fixture
def own_incident(world):
    """An incident wholly in Branch offices, to merge the shared one with."""
    incident = IncidentFactory(display_name="Branch only", device_group_ids=[world.branch.pk])
    alert = AlertFactory(incident=incident, title="Branch only alert", device_group_ids=[world.branch.pk])
    EvidenceFactory(alert=alert, entity=EntityFactory(kind="device", device_group=world.branch))
    return incident


def _state(world):
    """What a refused write must leave as it was: the incident, its alerts and their activity log."""
    incident = Incident.objects.get(pk=world.incident.pk)
    ids = [world.branch_alert.pk, world.servers_alert.pk, world.deviceless_alert.pk]
    alerts = list(
        Alert.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "incident_id", "assigned_to", "status", "classification")
    )
    log = (
        activity_for(Incident).filter(target_id=str(incident.pk)).count()
        + activity_for(Alert).filter(target_id__in=[str(pk) for pk in ids]).count()
    )
    fields = ("display_name", "severity", "status", "classification", "assigned_to", "custom_tags")
    return {name: getattr(incident, name) for name in fields}, alerts, log


INCIDENT_CHANGES = {
    "assign": {"assigned_to": "branch"},
    "resolve": {"status": "resolved", "resolving_comment": "Handled."},
    "status": {"status": "inProgress"},
    "classify": {"classification": "truePositive", "determination": "malware"},
    "severity": {"severity": "low"},
    "tags": {"custom_tags": ["mine"]},
    "name": {"display_name": "Renamed by branch"},
}
GRAPH_CHANGES = {
    "assign": {"assignedTo": "branch"},
    "resolve": {"status": "resolved", "resolvingComment": "Handled."},
    "status": {"status": "inProgress"},
    "classify": {"classification": "truePositive", "determination": "malware"},
    "tags": {"customTags": ["mine"]},
}


@pytest.mark.parametrize("change", INCIDENT_CHANGES.values(), ids=INCIDENT_CHANGES)
def test_the_native_api_refuses_every_change_to_a_shared_incident_and_changes_nothing(world, branch, change):
    api = api_for(branch)
    etag = api.get(f"/api/incidents/{world.incident.pk}/").headers["ETag"]
    before = _state(world)

    response = api.patch(f"/api/incidents/{world.incident.pk}/", change, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 403
    assert BEYOND in response.json()["detail"]
    assert _state(world) == before


@pytest.mark.parametrize("change", GRAPH_CHANGES.values(), ids=GRAPH_CHANGES)
def test_the_graph_api_refuses_every_change_to_a_shared_incident_and_changes_nothing(world, branch, change):
    before = _state(world)

    response = bearer_for(branch).patch(f"/v1.0/security/incidents/{world.incident.pk}", change, format="json")

    assert response.status_code == 403
    assert BEYOND in response.json()["error"]["message"]
    assert _state(world) == before


def test_the_native_api_refuses_to_merge_a_shared_incident(world, branch, own_incident):
    before = _state(world)

    merge = {"incidents": [world.incident.pk, own_incident.pk], "reason": "Same story"}

    response = api_for(branch).post("/api/incidents/merge/", merge, format="json")

    assert response.status_code == 403
    assert BEYOND in response.json()["detail"]
    assert _state(world) == before
    assert Incident.objects.get(pk=own_incident.pk).status == "active"


@pytest.mark.parametrize("change", INCIDENT_CHANGES.values(), ids=INCIDENT_CHANGES)
def test_the_manage_pane_refuses_every_change_and_says_why(client, world, branch, change):
    client.force_login(branch)
    before = _state(world)
    form = {key: ",".join(value) if isinstance(value, list) else value for key, value in change.items()}

    response = client.post(reverse("incidents:manage", args=[world.incident.pk]), form, follow=True)

    assert BEYOND in response.content.decode()
    assert _state(world) == before


@pytest.mark.parametrize(
    "form",
    [
        {"action": "assign_me"},
        {"action": "status", "status": "inProgress"},
        {"action": "classify", "classification": "falsePositive"},
        {"action": "tag_add", "tag": "mine"},
    ],
    ids=["assign", "status", "classify", "tag"],
)
def test_the_queue_bulk_bar_refuses_a_shared_incident_and_names_why(client, world, branch, own_incident, form):
    client.force_login(branch)
    before = _state(world)

    response = client.post(
        reverse("incidents:bulk"), {**form, "incident": [world.incident.pk, own_incident.pk]}, follow=True
    )

    page = response.content.decode()
    assert f"#{world.incident.pk}: Incident {world.incident.pk} {BEYOND}" in page
    assert "Updated 1 incident." in page  # their own incident changed as asked
    assert _state(world) == before


def test_the_queue_refuses_to_merge_a_shared_incident(client, world, branch, own_incident):
    client.force_login(branch)
    before = _state(world)

    response = client.post(
        reverse("incidents:merge"), {"incident": [world.incident.pk, own_incident.pk], "reason": "Same"}, follow=True
    )

    assert BEYOND in response.content.decode()
    assert _state(world) == before


def test_an_alert_cannot_be_moved_into_a_shared_incident(client, world, branch, own_incident):
    alert = own_incident.alerts.get()
    before = _state(world)

    over_api = api_for(branch).post(
        f"/api/alerts/{alert.pk}/move/", {"incident": world.incident.pk, "reason": "Belongs there"}, format="json"
    )
    client.force_login(branch)
    on_page = client.post(
        reverse("incidents:alert_move", args=[alert.pk]),
        {"destination": "existing", "incident": str(world.incident.pk), "reason": "Belongs there"},
    )

    assert over_api.status_code == 403
    assert BEYOND in over_api.json()["detail"]
    assert BEYOND in on_page.content.decode()
    assert Alert.objects.get(pk=alert.pk).incident_id == own_incident.pk
    assert _state(world) == before


def test_their_own_alert_may_leave_the_shared_incident_for_a_new_one(world, branch):
    response = api_for(branch).post(
        f"/api/alerts/{world.branch_alert.pk}/move/", {"incident": None, "reason": "Separate story"}, format="json"
    )

    assert response.status_code == 200, response.content
    moved = Alert.objects.get(pk=world.branch_alert.pk)
    assert moved.incident_id != world.incident.pk
    # The new incident holds their alert only: they may change it as a whole.
    etag = api_for(branch).get(f"/api/incidents/{moved.incident_id}/").headers["ETag"]
    change = api_for(branch).patch(
        f"/api/incidents/{moved.incident_id}/", {"assigned_to": "branch"}, format="json", HTTP_IF_MATCH=etag
    )
    assert change.status_code == 200
    assert set(Alert.objects.filter(incident=world.incident).values_list("pk", flat=True)) == {
        world.servers_alert.pk,
        world.deviceless_alert.pk,
    }


def test_they_may_still_comment_on_the_shared_incident(world, branch):
    response = api_for(branch).post(
        f"/api/incidents/{world.incident.pk}/comments/", {"text": "Our workstation is contained."}, format="json"
    )

    assert response.status_code == 201
    assert world.incident.comments.get().text == "Our workstation is contained."


def test_someone_over_all_data_changes_the_shared_incident_and_its_alerts_follow(world, admin_user):
    api = api_for(admin_user)
    etag = api.get(f"/api/incidents/{world.incident.pk}/").headers["ETag"]

    response = api.patch(
        f"/api/incidents/{world.incident.pk}/", {"assigned_to": "admin"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    assert set(Alert.objects.filter(incident=world.incident).values_list("assigned_to", flat=True)) == {"admin"}


# --- Reads --------------------------------------------------------------------------------------------------------


def _assert_only_the_branch_alert_shows(text: str, world) -> None:
    for hidden in (world.servers_alert.title, world.deviceless_alert.title, "SECRETSERVER", "secretserver-dc1"):
        assert hidden not in text


def test_the_native_api_derives_the_incident_from_the_alert_they_may_see(world, branch):
    body = api_for(branch).get(f"/api/incidents/{world.incident.pk}/").json()
    listed = next(row for row in api_for(branch).get("/api/incidents/").json()["results"] if row["id"] == body["id"])

    for incident in (body, listed):
        assert incident["alerts_total"] == 3
        assert incident["alerts_visible"] == 1
        assert incident["severity"] == "medium"  # the hidden alerts are high
        assert incident["categories"] == ["Execution"]
        assert incident["mitre_techniques"] == ["T1059.001"]
        assert incident["service_sources"] == ["microsoftDefenderForEndpoint"]
        assert incident["impacted_assets"] == {"device": 1, "user": 1}
        assert incident["device_groups"] == [world.branch.pk]
        assert incident["display_name"].startswith(world.branch_alert.title)
        _assert_only_the_branch_alert_shows(str(incident), world)


def test_someone_over_all_data_sees_the_incident_as_stored(world, admin_user):
    body = api_for(admin_user).get(f"/api/incidents/{world.incident.pk}/").json()

    assert body["alerts_visible"] == body["alerts_total"] == 3
    assert body["severity"] == "high"
    assert set(body["device_groups"]) == {world.branch.pk, world.servers.pk}


def test_the_graph_api_derives_the_incident_from_the_alert_they_may_see(world, branch):
    api = bearer_for(branch)
    one = api.get(f"/v1.0/security/incidents/{world.incident.pk}", {"$expand": "alerts"}).json()
    listed = api.get("/v1.0/security/incidents").json()["value"]

    for incident in (one, *listed):
        assert incident["severity"] == "medium"
        assert incident["displayName"].startswith(world.branch_alert.title)
        _assert_only_the_branch_alert_shows(str(incident), world)
    assert [alert["id"] for alert in one["alerts"]] == [str(world.branch_alert.pk)]


def test_the_incident_page_says_how_many_alerts_they_see_and_shows_nothing_of_the_others(client, world, branch):
    client.force_login(branch)
    pages = [
        client.get(reverse("incidents:detail", args=[world.incident.pk]), {"tab": tab}).content.decode()
        for tab in ("story", "alerts", "assets", "evidence", "summary", "activity")
    ]

    assert "1 of 3 alerts visible to you" in pages[0]
    assert BEYOND in pages[0]  # the manage pane says why it offers no changes
    assert 'data-testid="manage-form"' not in pages[0]
    for page in pages:
        _assert_only_the_branch_alert_shows(page, world)
    queue = client.get(reverse("incidents:queue")).content.decode()
    assert world.branch_alert.title in queue
    _assert_only_the_branch_alert_shows(queue, world)
    # The pages that name an alert's incident name it as they see it too.
    for page in (
        client.get(reverse("incidents:alert_detail", args=[world.branch_alert.pk])),
        client.get(reverse("incidents:entity", args=[world.account.pk])),
        client.get(reverse("incidents:entity", args=[world.workstation.pk])),
    ):
        text = page.content.decode()
        assert f"{world.incident.pk}" in text
        assert "Multi-stage" not in text  # the stored name, made from every alert
        _assert_only_the_branch_alert_shows(text, world)


def test_activity_about_alerts_they_cannot_see_is_left_out(world, branch):

    for alert in (world.branch_alert, world.servers_alert, world.deviceless_alert):
        activity_record(
            actor=None,
            system_name="correlation",
            action="incidents.alert.linked",
            target=world.incident,
            changes={"alerts": {"before": None, "after": alert.pk}},
            message=f"Alert {alert.pk} ({alert.title}) linked: shares user shared-admin@corp.example",
            about_alert_id=alert.pk,
        )
    admin_of_branch = UserFactory(username="branch-admin")
    assign_role(admin_of_branch, "Security administrator", device_groups=[world.branch])

    incident_log = api_for(branch).get(f"/api/incidents/{world.incident.pk}/activity/").json()["results"]
    whole_log = api_for(admin_of_branch).get("/api/activity/").json()["results"]

    for entries in (incident_log, whole_log):
        assert [entry["message"].split(" (")[0] for entry in entries] == [f"Alert {world.branch_alert.pk}"]
    everyone = api_for(UserFactory(username="all-admin", is_superuser=True))
    assert len(everyone.get("/api/activity/").json()["results"]) == 3


def test_a_page_of_partly_visible_incidents_costs_the_same_queries_whatever_its_size(world, branch):

    extra = []
    for n in range(6):
        incident = IncidentFactory()
        for group in (world.branch, world.servers):
            alert = AlertFactory(incident=incident, title=f"Alert {n} in {group.name}", device_group_ids=[group.pk])
            EvidenceFactory(alert=alert, entity=EntityFactory(kind="device", device_group=group))
        extra.append(incident.pk)
    incidents_refresh(incident_ids=extra)
    api = api_for(branch)
    api.get("/api/incidents/")  # reads what the person holds, once for this client's user
    counts = []
    for size in (2, 7):
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/incidents/", {"page_size": size})
        assert len(response.json()["results"]) == size
        assert all(row["alerts_visible"] < row["alerts_total"] for row in response.json()["results"])
        counts.append(len(queries))
    # The page, which alerts are visible, the visible alerts' rollups and assets.
    assert counts == [4, 4]


def test_evidence_of_devices_in_other_device_groups_is_left_out_everywhere(client, world, branch):
    """One rule (incidents.selectors.evidence_visible_to) for the alert page, the incident page and both APIs."""
    alert = world.branch_alert
    EvidenceFactory(alert=alert, entity=world.controller)  # the alert also names the Servers controller
    EvidenceFactory(
        alert=alert,
        entity=EntityFactory(kind="process", key="secretserver-dc1/4242", display_name="lsass-dumper.exe (4242)"),
        odata_type="#microsoft.graph.security.processEvidence",
        device=world.controller,
    )
    client.force_login(branch)

    native = api_for(branch).get(f"/api/alerts/{alert.pk}/evidence/").json()["results"]
    graph = bearer_for(branch).get(f"/v1.0/security/alerts_v2/{alert.pk}").json()["evidence"]
    alert_page = client.get(reverse("incidents:alert_detail", args=[alert.pk])).content.decode()
    evidence_tab = client.get(reverse("incidents:detail", args=[world.incident.pk]), {"tab": "evidence"})

    assert sorted(row["entity"]["key"] for row in native) == ["shared-admin@corp.example", "ws-branch1.corp.example"]
    assert len(graph) == 2
    for text in (str(graph), alert_page, evidence_tab.content.decode()):
        assert "secretserver-dc1" not in text
        assert "lsass-dumper" not in text
    everything = api_for(UserFactory(username="all", is_superuser=True)).get(f"/api/alerts/{alert.pk}/evidence/")
    assert len(everything.json()["results"]) == 4


@pytest.mark.parametrize(
    ("query", "they_find", "all_data_finds"),
    [
        ({"severity": "high"}, False, True),
        ({"severity": "medium"}, True, False),
        ({"category": "CredentialAccess"}, False, True),
        ({"category": "Execution"}, True, True),
        ({"service_source": "microsoftDefenderForIdentity"}, False, True),
        ({"service_source": "microsoftDefenderForEndpoint"}, True, True),
        ({"q": "Multi-stage"}, False, True),  # the stored name, made from every alert
        ({"q": "PowerShell"}, True, False),  # the title of the alert they see, which their name is made of
    ],
)
def test_filters_find_the_shared_incident_only_by_the_alerts_they_may_see(
    client, world, branch, admin_user, query, they_find, all_data_finds
):
    over_api = api_for(branch).get("/api/incidents/", query)
    client.force_login(branch)
    queue = client.get(reverse("incidents:queue"), {**query, "status": "active"}).content.decode()
    everything = api_for(admin_user).get("/api/incidents/", query)

    assert (world.incident.pk in [row["id"] for row in over_api.json()["results"]]) is they_find
    assert (reverse("incidents:detail", args=[world.incident.pk]) in queue) is they_find
    assert (world.incident.pk in [row["id"] for row in everything.json()["results"]]) is all_data_finds


def test_the_home_card_counts_the_shared_incident_by_the_severity_they_see(world, branch, admin_user):

    assert open_incidents_by_severity(branch) == {"medium": 1}
    assert open_incidents_by_severity(admin_user) == {"high": 1}


@pytest.mark.parametrize(
    ("odata_filter", "they_find", "all_data_finds"),
    [
        ("severity eq 'high'", False, True),
        ("severity eq 'medium'", True, False),
        ("startswith(displayName, 'Multi-stage')", False, True),
    ],
)
def test_graph_filters_read_the_shared_incident_as_they_see_it(
    world, branch, admin_user, odata_filter, they_find, all_data_finds
):
    def found(user):
        answer = bearer_for(user).get("/v1.0/security/incidents", {"$filter": odata_filter})
        assert answer.status_code == 200, answer.content
        return str(world.incident.pk) in [row["id"] for row in answer.json()["value"]]

    assert found(branch) is they_find
    assert found(admin_user) is all_data_finds


def test_graph_sorts_the_shared_incident_by_the_severity_they_see(world, branch, own_incident):
    # Stored, the shared incident is high (its hidden alerts) and sorts first; as branch sees it, it is low.
    Alert.objects.filter(pk=world.branch_alert.pk).update(severity="low")
    Incident.objects.filter(pk=own_incident.pk).update(severity="medium", severity_is_custom=True)

    rows = bearer_for(branch).get("/v1.0/security/incidents", {"$orderby": "severity desc"}).json()["value"]

    assert [(row["id"], row["severity"]) for row in rows] == [
        (str(own_incident.pk), "medium"),
        (str(world.incident.pk), "low"),
    ]


def test_the_queue_and_the_api_sort_the_shared_incident_by_the_severity_they_see(client, world, branch, own_incident):
    Alert.objects.filter(pk=world.branch_alert.pk).update(severity="low")
    Incident.objects.filter(pk=own_incident.pk).update(severity="medium", severity_is_custom=True)
    expected = [own_incident.pk, world.incident.pk]

    over_api = api_for(branch).get("/api/incidents/", {"ordering": "-severity"}).json()["results"]
    client.force_login(branch)
    queue = client.get(reverse("incidents:queue"), {"sort": "-severity", "status": "active"})

    assert [row["id"] for row in over_api] == expected
    assert [incident.pk for incident, _ in queue.context["rows"]] == expected
