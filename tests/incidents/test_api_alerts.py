"""
/api/alerts/: the list (the alert queue's filters without its default view, cursor paging), one alert, changes
through the same service as the alert page, comments, evidence, and moving an alert to another incident.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Alert, Comment, Evidence, Incident
from portal.models import ActivityLogEntry
from portal.selectors import activity_for
from tests.api_clients import api_for, listed_ids
from tests.factories import AlertFactory, DeviceGroupFactory, EntityFactory, EvidenceFactory, IncidentFactory
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate, user

pytestmark = pytest.mark.django_db

LIST = "/api/alerts/"


def detail(alert) -> str:
    return f"/api/alerts/{alert.pk}/"


@pytest.fixture
def api(analyst) -> APIClient:
    return api_for(analyst)


def fresh(alert) -> Alert:
    return Alert.objects.get(pk=alert.pk)


def log_of(target) -> list[ActivityLogEntry]:
    return list(activity_for(target).order_by("id"))


# --- The list ---------------------------------------------------------------------------------------------------


def test_it_lists_every_alert_in_scope_without_the_queue_default_view(api):
    recent = AlertFactory(status="new")
    resolved = AlertFactory(status="resolved")
    old = AlertFactory(status="new", created_at=timezone.now() - timedelta(days=90))

    assert sorted(listed_ids(api.get(LIST))) == sorted([recent.pk, resolved.pk, old.pk])


def test_it_shows_an_alert_in_snake_case_with_its_incident_and_page(api):
    group = DeviceGroupFactory()
    incident = IncidentFactory()
    alert = AlertFactory(
        incident=incident,
        title="Suspicious PowerShell",
        severity="high",
        category="Execution",
        mitre_techniques=["T1059.001"],
        device_group_ids=[group.pk],
        payload={"huge": "x" * 1000},
    )

    [row] = api.get(LIST).json()["results"]

    assert row["id"] == alert.pk
    assert row["incident"] == incident.pk
    assert (row["title"], row["severity"], row["status"], row["category"]) == (
        "Suspicious PowerShell",
        "high",
        "new",
        "Execution",
    )
    assert row["service_source"] == "microsoftDefenderForEndpoint"
    assert row["mitre_techniques"] == ["T1059.001"]
    assert row["device_groups"] == [group.pk]
    assert row["url"] == f"http://testserver/alerts/{alert.pk}/"
    assert "payload" not in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=resolved", {"resolved"}),
        ("severity=high&severity=low", {"new", "in_progress"}),
        ("assigned=me", {"in_progress"}),
        ("q=PowerShell", {"new"}),
        ("service_source=microsoftDefenderForIdentity", {"resolved"}),
        ("classification=truePositive", {"resolved"}),
    ],
)
def test_it_filters_like_the_alert_queue(api, query, expected):
    alerts = {
        "new": AlertFactory(status="new", severity="high", title="Encoded PowerShell command"),
        "in_progress": AlertFactory(status="inProgress", severity="low", assigned_to="analyst"),
        "resolved": AlertFactory(
            status="resolved",
            service_source="microsoftDefenderForIdentity",
            classification="truePositive",
            determination="malware",
        ),
    }

    assert sorted(listed_ids(api.get(f"{LIST}?{query}"))) == sorted(alerts[name].pk for name in expected)


def test_it_filters_by_device_group_and_creation_time(api):
    now = timezone.now()
    group = DeviceGroupFactory()
    inside = AlertFactory(device_group_ids=[group.pk], created_at=now - timedelta(days=3))
    AlertFactory(device_group_ids=[], created_at=now - timedelta(days=3))
    AlertFactory(device_group_ids=[group.pk], created_at=now - timedelta(days=20))

    response = api.get(LIST, {"device_group": group.pk, "since": (now - timedelta(days=7)).isoformat()})

    assert listed_ids(response) == [inside.pk]


@pytest.mark.parametrize("query", ["status=closed", "until=tomorrow", "device_group=-1", "classification=1"])
def test_an_invalid_filter_value_answers_400_with_the_error_body(api, query):
    response = api.get(f"{LIST}?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [query.split("=")[0]]


def test_cursor_paging_meets_every_alert_once_newest_first(api):
    created = timezone.now() - timedelta(hours=1)
    # Three at a time share a creation time: the id orders them, across page boundaries.
    alerts = [AlertFactory(created_at=created - timedelta(minutes=n // 3)) for n in range(7)]
    expected = [a.pk for a in sorted(alerts, key=lambda a: (a.created_at, a.pk), reverse=True)]

    seen, url = [], f"{LIST}?page_size=2"
    while url:
        body = api.get(url).json()
        seen.append([row["id"] for row in body["results"]])
        url = body["next"]

    assert [len(page) for page in seen] == [2, 2, 2, 1]
    assert [pk for page in seen for pk in page] == expected


@pytest.mark.parametrize("page_size", [3, 30])
def test_the_list_costs_the_same_queries_whatever_the_page_size(analyst, django_assert_num_queries, page_size):
    for _ in range(30):
        EvidenceFactory(alert=AlertFactory(incident=IncidentFactory()))
    client = api_for(analyst)

    # What the analyst holds, then the page itself.
    with django_assert_num_queries(2):
        response = client.get(f"{LIST}?page_size={page_size}")

    assert len(response.json()["results"]) == page_size


# --- One alert and changing it ------------------------------------------------------------------------------------


def test_it_reads_one_alert_and_404s_a_missing_one(api):
    alert = AlertFactory(title="Mimikatz")

    assert api.get(detail(alert)).json()["title"] == "Mimikatz"
    assert api.get("/api/alerts/987654321/").status_code == 404
    assert api.get("/api/alerts/abc/").status_code == 404


def test_a_change_applies_through_the_service_and_is_logged(api, analyst):
    incident = IncidentFactory(alerts_total=1, alerts_active=1)
    alert = AlertFactory(incident=incident, status="new")

    response = api.patch(
        detail(alert),
        {"status": "resolved", "classification": "falsePositive", "determination": "notMalicious"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["determination"]) == ("resolved", "clean")
    stored = fresh(alert)
    assert (stored.status, stored.classification, stored.determination) == ("resolved", "falsePositive", "clean")
    assert stored.resolved_at is not None
    [entry] = log_of(alert)
    assert (entry.action, entry.actor_id) == ("incidents.alert.updated", analyst.pk)
    assert entry.changes["status"] == {"before": "new", "after": "resolved"}
    assert Incident.objects.get(pk=incident.pk).alerts_active == 0


def test_a_change_based_on_an_old_etag_is_refused_and_changes_nothing(api):
    alert = AlertFactory(status="new")
    etag = api.get(detail(alert))["ETag"]

    first = api.patch(detail(alert), {"status": "inProgress"}, format="json", headers={"If-Match": etag})
    stale = api.patch(detail(alert), {"assigned_to": "late"}, format="json", headers={"If-Match": etag})

    assert first.status_code == 200 and first["ETag"] != etag
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    stored = fresh(alert)
    assert (stored.status, stored.assigned_to) == ("inProgress", "")
    assert first["ETag"] == api.get(detail(alert))["ETag"]


def test_assigning_an_alert_and_unassigning_it(api):
    alert = AlertFactory()

    assert api.patch(detail(alert), {"assigned_to": "analyst"}, format="json").json()["assigned_to"] == "analyst"
    assert api.patch(detail(alert), {"assigned_to": ""}, format="json").json()["assigned_to"] == ""
    assert [e.changes["assigned_to"]["after"] for e in log_of(alert)] == ["analyst", ""]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "unknown"}, "status"),
        ({"status": "closed"}, "status"),
        ({"status": 1}, "status"),
        ({"classification": "falsePositive", "determination": "malware"}, "determination"),
        ({"assigned_to": None}, "assigned_to"),
        ({"title": "Renamed"}, "title"),
        ("resolved", "non_field_errors"),
    ],
)
def test_bad_changes_answer_400_and_change_nothing(api, body, field):
    alert = AlertFactory(status="new", title="Original")

    response = api.patch(detail(alert), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    stored = fresh(alert)
    assert (stored.status, stored.title, stored.classification) == ("new", "Original", "unknown")
    assert log_of(alert) == []


# --- Comments and evidence ----------------------------------------------------------------------------------------


def test_alert_comments_are_added_and_listed(api, analyst):
    alert = AlertFactory()
    url = f"{detail(alert)}comments/"

    response = api.post(url, {"text": "False alarm: backup job."}, format="json")

    assert response.status_code == 201
    assert response.json()["alert"] == alert.pk
    assert response.json()["incident"] is None
    assert Comment.objects.get().alert_id == alert.pk
    assert [e.action for e in log_of(alert)] == ["incidents.comment.added"]
    assert [c["text"] for c in api.get(url).json()["results"]] == ["False alarm: backup job."]
    assert api.post(url, {"text": {"rich": True}}, format="json").status_code == 400


def test_evidence_lists_each_entity_with_its_roles_verdict_and_original_object(api):
    [alert] = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), user("alice@corp.example"), title="Sign-in then execution")
    )
    row = Evidence.objects.filter(alert=alert, entity__kind="user").get()
    Evidence.objects.filter(pk=row.pk).update(roles=["compromised"], verdict="malicious", remediation_status="active")

    response = api.get(f"{detail(alert)}evidence/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_kind = {item["entity"]["kind"]: item for item in body["results"]}
    assert by_kind["device"]["entity"]["key"] == "ws1.corp.example"
    assert by_kind["device"]["odata_type"] == "#microsoft.graph.security.deviceEvidence"
    assert by_kind["device"]["original"]["deviceDnsName"] == "ws1.corp.example"
    account = by_kind["user"]
    assert account["entity"]["key"] == "alice@corp.example"
    assert (account["roles"], account["verdict"], account["remediation_status"]) == (
        ["compromised"],
        "malicious",
        "active",
    )


def test_evidence_that_names_nothing_has_a_null_entity(api):
    alert = AlertFactory()
    Evidence.objects.create(alert=alert, odata_type="#microsoft.graph.security.blobEvidence", payload={"x": 1})

    [item] = api.get(f"{detail(alert)}evidence/").json()["results"]

    assert item["entity"] is None
    assert item["odata_type"] == "#microsoft.graph.security.blobEvidence"


@pytest.mark.parametrize("page_size", [3, 30])
def test_evidence_and_comments_cost_the_same_queries_whatever_the_page_size(
    analyst, django_assert_num_queries, page_size
):
    alert = AlertFactory()
    for n in range(30):
        EvidenceFactory(alert=alert, entity=EntityFactory(kind="ip", key=f"10.0.0.{n}"))
    Comment.objects.bulk_create([Comment(alert=alert, author_name="analyst", text=f"Note {n}") for n in range(30)])

    first, second = api_for(analyst), api_for(analyst)

    # Each: what the analyst holds, the alert, the count and the page.
    with django_assert_num_queries(4):
        evidence = first.get(f"{detail(alert)}evidence/?limit={page_size}")
    with django_assert_num_queries(4):
        comments = second.get(f"{detail(alert)}comments/?limit={page_size}")

    assert len(evidence.json()["results"]) == len(comments.json()["results"]) == page_size


# --- Moving an alert ----------------------------------------------------------------------------------------------


def test_moving_an_alert_to_another_incident_logs_both_sides(api, analyst):
    source, target = IncidentFactory(), IncidentFactory()
    alert, _stays = AlertFactory(incident=source), AlertFactory(incident=source)

    response = api.post(f"{detail(alert)}move/", {"incident": target.pk, "reason": "Same attacker."}, format="json")

    assert response.status_code == 200
    assert response.json()["incident"] == target.pk
    assert fresh(alert).incident_id == target.pk
    assert [e.action for e in log_of(source)] == ["incidents.alert.moved_out"]
    assert [e.action for e in log_of(target)] == ["incidents.alert.moved_in"]
    assert log_of(target)[0].actor_id == analyst.pk
    assert "Same attacker." in log_of(target)[0].message


def test_moving_an_alert_to_a_new_incident(api):
    source = IncidentFactory()
    alert = AlertFactory(incident=source, title="Odd one out")

    response = api.post(f"{detail(alert)}move/", {"incident": None, "reason": "Unrelated."}, format="json")

    assert response.status_code == 200
    created = Incident.objects.get(pk=response.json()["incident"])
    assert created.pk != source.pk
    assert created.display_name == "Odd one out"
    assert [e.action for e in log_of(created)] == ["incidents.incident.created", "incidents.alert.moved_in"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "Elsewhere."}, "incident"),
        ({"incident": "forty-two", "reason": "Elsewhere."}, "incident"),
        ({"incident": [1], "reason": "Elsewhere."}, "incident"),
        ({"incident": 0, "reason": "Elsewhere."}, "incident"),
        ({"incident": 2**70, "reason": "Elsewhere."}, "incident"),
        ({"incident": None}, "reason"),
        ({"incident": None, "reason": ""}, "reason"),
    ],
)
def test_a_malformed_move_answers_400_and_moves_nothing(api, body, field):
    source = IncidentFactory()
    alert = AlertFactory(incident=source)

    response = api.post(f"{detail(alert)}move/", body, format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    assert fresh(alert).incident_id == source.pk
    assert Incident.objects.count() == 1


def test_moving_to_a_missing_or_redirected_incident_or_its_own_answers_400(api):
    source, target = IncidentFactory(), IncidentFactory()
    redirected = IncidentFactory(status="redirected", redirect_incident=target)
    alert = AlertFactory(incident=source)
    url = f"{detail(alert)}move/"

    missing = api.post(url, {"incident": 987654321, "reason": "x"}, format="json")
    merged = api.post(url, {"incident": redirected.pk, "reason": "x"}, format="json")
    same = api.post(url, {"incident": source.pk, "reason": "x"}, format="json")

    assert missing.status_code == merged.status_code == same.status_code == 400
    assert missing.json()["errors"] == {"incident": ["There is no incident 987654321 that you may change."]}
    assert f"merged into {target.pk}" in merged.json()["detail"]
    assert "already in that incident" in same.json()["detail"]
    assert fresh(alert).incident_id == source.pk
