"""/v1.0/security/alerts_v2: alerts as Graph's security.alert, with typed evidence, their changes and comments."""

import pytest

from incidents.models import Alert, Comment, Evidence
from portal.models import ActivityLogEntry
from tests.factories import AlertFactory, IncidentFactory
from tests.incidents import graph_samples as g
from tests.incidents.alert_builders import store

pytestmark = pytest.mark.django_db

LIST = "/v1.0/security/alerts_v2"
NS = "#microsoft.graph.security."


def one(pk) -> str:
    return f"{LIST}/{pk}"


# --- Reading ------------------------------------------------------------------------------------------------------


def test_it_lists_alerts_newest_first_with_the_id_breaking_ties(admin_api):
    same_time = "2026-11-20T08:00:00Z"
    first, second = AlertFactory(created_at=same_time), AlertFactory(created_at=same_time)
    newest = AlertFactory(created_at="2026-11-20T09:00:00Z")

    body = admin_api.get(LIST).json()

    assert body["@odata.context"] == "http://testserver/v1.0/$metadata#security/alerts_v2"
    assert [item["id"] for item in body["value"]] == [str(newest.pk), str(second.pk), str(first.pk)]


def test_it_maps_an_ingested_graph_alert_back_to_graph(admin_api, estate):
    alert = estate.finance_alert
    sent = alert.payload

    body = admin_api.get(one(alert.pk)).json()

    assert body["@odata.context"] == "http://testserver/v1.0/$metadata#security/alerts_v2/$entity"
    assert body["@odata.type"] == NS + "alert"
    assert body["id"] == str(alert.pk)
    assert body["incidentId"] == str(estate.finance_incident.pk)
    for graph_name in (
        "providerAlertId",
        "status",
        "severity",
        "classification",
        "determination",
        "serviceSource",
        "detectionSource",
        "productName",
        "detectorId",
        "tenantId",
        "title",
        "description",
        "recommendedActions",
        "category",
        "assignedTo",
        "actorDisplayName",
        "threatDisplayName",
        "threatFamilyName",
        "mitreTechniques",
        "systemTags",
    ):
        assert body[graph_name] == sent[graph_name], graph_name
    for graph_name in ("createdDateTime", "lastUpdateDateTime", "firstActivityDateTime", "lastActivityDateTime"):
        assert body[graph_name] == sent[graph_name], graph_name  # Graph's 7-digit format, back as it came
    assert body["resolvedDateTime"] is None
    assert body["alertWebUrl"] == f"http://testserver/alerts/{alert.pk}/"
    assert body["incidentWebUrl"] == f"http://testserver/incidents/{estate.finance_incident.pk}/"
    assert body["comments"] == []
    assert body["additionalData"] == {}
    # Graph's properties that Vigil does not keep answer null, as Graph answers a property without a value.
    assert (body["alertPolicyId"], body["customDetails"], body["investigationState"]) == (None, None, None)


def test_it_gives_every_evidence_item_its_odata_type_and_the_fields_the_source_sent(admin_api, estate):
    sent = {item["@odata.type"]: item for item in estate.finance_alert.payload["evidence"]}

    evidence = admin_api.get(one(estate.finance_alert.pk)).json()["evidence"]

    assert sorted(item["@odata.type"] for item in evidence) == sorted(sent)
    assert {NS + "deviceEvidence", NS + "processEvidence", NS + "kubernetesPodEvidence"} <= set(sent)
    for item in evidence:
        original = sent[item["@odata.type"]]
        assert item == {**original, "createdDateTime": item["createdDateTime"]}
        assert item["createdDateTime"] == original["createdDateTime"]


def test_it_overlays_the_evidence_fields_vigil_knows_now_on_what_the_source_sent(admin_api, estate):
    device = Evidence.objects.get(alert=estate.finance_alert, odata_type=NS + "deviceEvidence")
    Evidence.objects.filter(pk=device.pk).update(
        verdict="malicious", remediation_status="remediated", roles=["compromised"], tags=["Isolated"]
    )

    evidence = admin_api.get(one(estate.finance_alert.pk)).json()["evidence"]

    (item,) = [e for e in evidence if e["@odata.type"] == NS + "deviceEvidence"]
    assert (item["verdict"], item["remediationStatus"], item["roles"], item["tags"]) == (
        "malicious",
        "remediated",
        ["compromised"],
        ["Isolated"],
    )
    assert item["deviceDnsName"] == "ws-fin-042.corp.example"


def test_it_answers_enum_members_added_after_unknown_future_value_only_to_clients_that_prefer_them(admin_api):
    alert = AlertFactory(service_source="microsoftSentinel", detection_source="microsoftDefenderForServers")
    Evidence.objects.create(alert=alert, odata_type=NS + "ipEvidence", remediation_status="running")

    plain = admin_api.get(one(alert.pk)).json()
    preferring = admin_api.get(one(alert.pk), headers={"Prefer": "odata.maxpagesize=10, include-unknown-enum-members"})

    assert (plain["serviceSource"], plain["detectionSource"]) == ("unknownFutureValue", "unknownFutureValue")
    assert plain["evidence"][0]["remediationStatus"] == "unknownFutureValue"
    assert (preferring.json()["serviceSource"], preferring.json()["detectionSource"]) == (
        "microsoftSentinel",
        "microsoftDefenderForServers",
    )
    assert preferring.json()["evidence"][0]["remediationStatus"] == "running"


def test_it_lists_an_alerts_comments_oldest_first(admin_api, admin_user):
    alert = AlertFactory()
    for text in ("One.", "Two."):
        Comment.objects.create(alert=alert, author=admin_user, author_name="admin", text=text)

    comments = admin_api.get(one(alert.pk)).json()["comments"]

    assert [c["comment"] for c in comments] == ["One.", "Two."]
    assert all(c["@odata.type"] == NS + "alertComment" for c in comments)


def test_it_answers_null_for_the_incident_of_an_alert_not_yet_correlated(admin_api):
    alert = AlertFactory(incident=None)

    body = admin_api.get(one(alert.pk)).json()

    assert (body["incidentId"], body["incidentWebUrl"]) == (None, None)


# --- Changing -----------------------------------------------------------------------------------------------------


def test_it_changes_an_alert_through_the_service_and_answers_the_changed_alert(analyst_api, analyst):
    incident = IncidentFactory()
    alert = AlertFactory(incident=incident, status="new")

    response = analyst_api.patch(
        one(alert.pk),
        {
            "status": "resolved",
            "classification": "falsePositive",
            "determination": "notMalicious",
            "assignedTo": "analyst@corp.example",
        },
        format="json",
    )

    assert response.status_code == 200
    alert.refresh_from_db()
    assert (alert.status, alert.classification, alert.determination, alert.assigned_to) == (
        "resolved",
        "falsePositive",
        "clean",
        "analyst@corp.example",
    )
    assert alert.resolved_at is not None
    body = response.json()
    assert (body["status"], body["determination"], body["assignedTo"]) == (
        "resolved",
        "notMalicious",
        "analyst@corp.example",
    )
    assert body["resolvedDateTime"] is not None
    (entry,) = ActivityLogEntry.objects.filter(action="incidents.alert.updated", target_id=str(alert.pk))
    assert entry.actor == analyst
    assert entry.changes["determination"] == {"before": "unknown", "after": "clean"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "Renamed"}, "title is read-only on an alert."),
        ({"severity": "high"}, "severity is read-only on an alert."),
        ({"customTags": ["x"]}, "customTags is not a property you can change on an alert;"),
        ({"status": "unknown"}, "status: 'unknown' is not a status to set on an alert."),
        ({"classification": "truePositive", "determination": "notMalicious"}, "determination: Not malicious is not"),
    ],
)
def test_it_refuses_an_alert_change_it_cannot_apply(analyst_api, body, message):
    alert = AlertFactory(status="new")

    response = analyst_api.patch(one(alert.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)
    alert.refresh_from_db()
    assert (alert.status, alert.classification) == ("new", "unknown")


# --- Comments -----------------------------------------------------------------------------------------------------


def test_it_comments_on_an_alert_and_answers_its_comments(analyst_api, analyst):
    alert = AlertFactory()

    response = analyst_api.post(f"{one(alert.pk)}/comments", [{"comment": "Benign admin script."}], format="json")

    assert response.status_code == 200
    assert [c["comment"] for c in response.json()["value"]] == ["Benign admin script."]
    assert Comment.objects.get(alert=alert).author == analyst
    assert ActivityLogEntry.objects.filter(action="incidents.comment.added", target_id=str(alert.pk)).exists()


def test_it_answers_source_values_in_graphs_camel_case_as_stored(admin_api):
    """A source's PascalCase values are stored normalised, and answered as Graph's camelCase."""
    (alert,) = store(g.alert(severity="High", status="InProgress", evidence=[g.ip("203.0.113.9", verdict="Malicious")]))

    body = admin_api.get(one(alert.pk)).json()

    assert (body["severity"], body["status"]) == ("high", "inProgress")
    assert body["evidence"][0]["verdict"] == "malicious"
    assert Alert.objects.get(pk=alert.pk).severity == "high"
