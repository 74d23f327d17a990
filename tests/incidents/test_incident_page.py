"""The incident page: tabs, the manage pane and its domain rules, comments, the graph, merged incidents, scoping."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from incidents.models import Alert, Incident
from incidents.services.merge import incidents_merge
from portal.models import ActivityLogEntry
from tests.incidents.alert_builders import T0, device, graph_alert, ingest_and_correlate, ip, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    """Three alerts of one story: mail to alice, a process on her workstation, a sign-in from the attacker's IP."""
    alerts = ingest_and_correlate(
        graph_alert(user("alice@corp.example"), title="Phishing mail delivered", category="InitialAccess", at=T0),
        graph_alert(
            user("alice@corp.example"),
            device("ws1.corp.example"),
            title="Suspicious PowerShell",
            category="Execution",
            severity="high",
            at=T0 + timedelta(minutes=10),
        ),
        graph_alert(
            device("ws1.corp.example"),
            ip("203.0.113.9"),
            title="Connection to a known C2 address",
            category="CommandAndControl",
            at=T0 + timedelta(minutes=20),
        ),
    )
    return Incident.objects.get(pk=alerts[0].incident_id)


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def page(client, incident, tab=None, **headers):
    return client.get(reverse("incidents:detail", args=[incident.pk]), {"tab": tab} if tab else {}, **headers)


def test_it_tells_the_attack_story_with_the_alerts_in_time_order_and_a_graph(signed_in, story):
    response = page(signed_in, story)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Phishing mail delivered") < body.index("Suspicious PowerShell") < body.index("known C2")
    graph = response.context["graph"]
    assert len(graph["alerts"]) == 3
    assert {entity["kind"] for entity in graph["entities"]} == {"user", "device", "ip"}
    assert len(graph["edges"]) == 5
    assert 'data-testid="incident-graph"' in body


def test_it_serves_the_graph_as_json_with_links_to_alerts_and_entities(signed_in, story):
    data = signed_in.get(reverse("incidents:graph", args=[story.pk])).json()

    assert data["incident"] == story.pk
    assert len(data["alerts"]) == 3 and len(data["entities"]) == 3
    assert all(alert["url"].startswith("/alerts/") for alert in data["alerts"])
    assert all(entity["url"].startswith("/entities/") for entity in data["entities"])


def test_it_shows_why_each_alert_is_in_the_incident(signed_in, story):
    response = page(signed_in, story, "alerts")

    assert b"shares user alice@corp.example" in response.content
    assert b"New incident" in response.content


def test_it_lists_the_assets_with_how_many_alerts_name_each(signed_in, story):
    response = page(signed_in, story, "assets")

    groups = dict(response.context["entities_by_kind"])
    assert [(e.display_name, e.alert_count) for e in groups["Device"]] == [("ws1", 2)]
    assert [(e.key, e.alert_count) for e in groups["User"]] == [("alice@corp.example", 2)]


def test_it_lays_the_categories_out_along_the_attack_tactics(signed_in, story):
    response = page(signed_in, story, "summary")

    assert response.context["tactics"] == ["Initial access", "Execution", "Command and control"]


def test_it_finds_similar_incidents_that_share_an_entity(signed_in, story):
    (later,) = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), title="Another thing on ws1", at=T0 + timedelta(days=5))
    )

    response = page(signed_in, story, "summary")

    assert [other.pk for other in response.context["similar"]] == [later.incident_id]
    assert response.context["similar"][0].shared_entities == 1


def test_it_loads_a_tab_alone_for_htmx(signed_in, story):
    response = page(signed_in, story, "evidence", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="incident-tab")

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"203.0.113.9" in response.content


def test_it_assigns_the_incident_and_its_alerts_to_me(signed_in, story, analyst):
    response = signed_in.post(reverse("incidents:manage", args=[story.pk]), {"assign_to_me": "1"})

    assert response.status_code == 302
    story.refresh_from_db()
    assert story.assigned_to == analyst.username
    assert set(Alert.objects.filter(incident=story).values_list("assigned_to", flat=True)) == {analyst.username}


def test_it_classifies_the_incident_true_positive_with_a_determination(signed_in, story):
    signed_in.post(
        reverse("incidents:manage", args=[story.pk]),
        {"classification": "truePositive", "determination": "multiStagedAttack"},
    )

    story.refresh_from_db()
    assert (story.classification, story.determination) == ("truePositive", "multiStagedAttack")


def test_it_answers_a_determination_that_does_not_fit_with_422_and_the_reason(signed_in, story):
    response = signed_in.post(
        reverse("incidents:manage", args=[story.pk]),
        {"classification": "falsePositive", "determination": "malware"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert b"is not a determination for False positive" in response.content
    assert Incident.objects.get(pk=story.pk).classification == "unknown"


def test_it_asks_for_a_resolving_comment_and_then_resolves_the_incident_and_its_alerts(signed_in, story):
    manage = reverse("incidents:manage", args=[story.pk])

    refused = signed_in.post(manage, {"status": "resolved"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422
    assert b"Say how the incident was resolved" in refused.content

    signed_in.post(manage, {"status": "resolved", "resolving_comment": "Mailbox cleaned, password reset."})
    story.refresh_from_db()
    assert story.status == "resolved"
    assert story.resolving_comment == "Mailbox cleaned, password reset."
    assert set(Alert.objects.filter(incident=story).values_list("status", flat=True)) == {"resolved"}


def test_it_renames_the_incident_and_changes_its_severity_and_tags(signed_in, story, analyst):
    signed_in.post(
        reverse("incidents:manage", args=[story.pk]),
        {"display_name": "Alice phished", "severity": "high", "custom_tags": "vip, phishing, vip"},
    )

    story.refresh_from_db()
    assert story.display_name == "Alice phished"
    assert story.display_name_is_custom
    assert story.custom_tags == ["vip", "phishing"]
    entry = ActivityLogEntry.objects.filter(action="incidents.incident.updated", actor=analyst).latest("id")
    assert entry.changes["display_name"]["after"] == "Alice phished"


def test_it_adds_a_comment_and_shows_it_with_the_activity_log(signed_in, story):
    signed_in.post(reverse("incidents:comment", args=[story.pk]), {"text": "Called Alice; she clicked the link."})

    response = page(signed_in, story, "activity")

    assert [c.text for c in response.context["comments"]] == ["Called Alice; she clicked the link."]
    actions = [entry.action for entry in response.context["entries"].object_list]
    assert actions[0] == "incidents.comment.added"
    assert "incidents.alert.linked" in actions


def test_it_points_a_merged_incidents_page_to_its_target(signed_in, story, analyst):
    (other,) = ingest_and_correlate(graph_alert(device("srv9.corp.example")))
    incidents_merge(target_id=story.pk, source_ids=[other.incident_id], actor=analyst, reason="Same attacker")

    response = signed_in.get(reverse("incidents:detail", args=[other.incident_id]))

    assert response.status_code == 200
    assert reverse("incidents:detail", args=[story.pk]).encode() in response.content
    assert b"was merged" in response.content


def test_it_answers_404_for_an_incident_that_does_not_exist(signed_in):
    assert signed_in.get(reverse("incidents:detail", args=[987_654])).status_code == 404


def test_it_lets_a_reader_look_but_not_change(client, reader, story):
    client.force_login(reader)

    assert page(client, story).status_code == 200
    response = client.post(reverse("incidents:manage", args=[story.pk]), {"assign_to_me": "1"})
    assert response.status_code == 403
    assert Incident.objects.get(pk=story.pk).assigned_to == ""


@pytest.mark.parametrize("tab", ["story", "alerts", "assets", "evidence", "summary", "activity"])
def test_it_runs_a_fixed_number_of_queries_per_tab_whatever_the_number_of_alerts(signed_in, tab):
    counts = []
    for size in (2, 12):
        alerts = ingest_and_correlate(
            *(graph_alert(device(f"ws{size}.corp.example"), ip(f"198.51.100.{n}"), at=T0) for n in range(size))
        )
        incident = Incident.objects.get(pk=alerts[0].incident_id)
        page(signed_in, incident, tab)
        with CaptureQueriesContext(connection) as queries:
            assert page(signed_in, incident, tab).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_offers_the_tags_in_use_for_type_ahead(signed_in, story):
    Incident.objects.filter(pk=story.pk).update(custom_tags=["vip", "phishing"])

    response = signed_in.get(reverse("incidents:tags"))

    assert response.context["known_tags"] == ["phishing", "vip"]
    assert b'<option value="vip">' in response.content


def test_it_pages_through_the_whole_activity_log_newest_first(signed_in, story, analyst):
    for n in range(105):
        signed_in.post(reverse("incidents:comment", args=[story.pk]), {"text": f"note {n}"})

    first = page(signed_in, story, "activity")
    older = signed_in.get(reverse("incidents:detail", args=[story.pk]), {"tab": "activity", "page": 2})

    newest = first.context["entries"].object_list
    assert len(newest) == 100 and newest[0].message == "note 104"
    assert b'data-testid="activity-older"' in first.content
    oldest = list(older.context["entries"].object_list)
    assert oldest[-1].action == "incidents.incident.created"
    assert first.context["entries"].paginator.count == len(newest) + len(oldest)
