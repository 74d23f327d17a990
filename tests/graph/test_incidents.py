"""/v1.0/security/incidents: incidents as Graph's security.incident, their changes and comments."""

import pytest

from incidents.models import Comment, Incident
from incidents.services.incidents import incident_version
from portal.models import ActivityLogEntry
from tests.factories import AlertFactory, IncidentFactory

pytestmark = pytest.mark.django_db

LIST = "/v1.0/security/incidents"


def one(pk) -> str:
    return f"{LIST}/{pk}"


def comments_of(pk) -> str:
    return f"{LIST}/{pk}/comments"


def updates_of(incident) -> list[ActivityLogEntry]:
    return list(ActivityLogEntry.objects.filter(action="incidents.incident.updated", target_id=str(incident.pk)))


# --- Reading ------------------------------------------------------------------------------------------------------


def test_it_lists_incidents_newest_update_first_in_a_graph_collection(admin_api):
    older, newer = IncidentFactory(display_name="Older"), IncidentFactory(display_name="Newer")
    Incident.objects.filter(pk=older.pk).update(last_update="2026-11-20T08:00:00Z")
    Incident.objects.filter(pk=newer.pk).update(last_update="2026-11-20T09:00:00Z")

    response = admin_api.get(LIST)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["@odata.context"] == "http://testserver/v1.0/$metadata#security/incidents"
    assert [item["id"] for item in body["value"]] == [str(newer.pk), str(older.pk)]
    assert "@odata.nextLink" not in body
    assert "@odata.count" not in body


def test_it_maps_every_incident_field_to_its_graph_property(admin_api, admin_user):
    target = IncidentFactory(display_name="Merged into")
    incident = IncidentFactory(
        display_name="Multi-stage incident on one endpoint",
        description="Initial access, then execution.",
        summary="An invoice lure ran PowerShell.",
        severity="high",
        status="redirected",
        redirect_incident=target,
        classification="truePositive",
        determination="multiStagedAttack",
        assigned_to="alice@corp.example",
        custom_tags=["Finance", "VIP"],
        system_tags=["Defender Experts"],
        resolving_comment="",
        last_modified_by="alice",
    )
    Incident.objects.filter(pk=incident.pk).update(
        created_at="2026-11-20T08:05:54.990666Z", last_update="2026-11-20T09:10:00Z"
    )
    comment = Comment.objects.create(incident=incident, author=admin_user, author_name="admin", text="Looking.")
    Comment.objects.filter(pk=comment.pk).update(created_at="2026-11-20T08:30:00.5Z")

    body = admin_api.get(one(incident.pk)).json()

    assert body == {
        "@odata.context": "http://testserver/v1.0/$metadata#security/incidents/$entity",
        "@odata.type": "#microsoft.graph.security.incident",
        "id": str(incident.pk),
        "tenantId": None,
        "status": "redirected",
        "incidentWebUrl": f"http://testserver/incidents/{incident.pk}/",
        "redirectIncidentId": str(target.pk),
        "displayName": "Multi-stage incident on one endpoint",
        "description": "Initial access, then execution.",
        "summary": "An invoice lure ran PowerShell.",
        "severity": "high",
        "classification": "truePositive",
        "determination": "multiStagedAttack",
        "assignedTo": "alice@corp.example",
        "createdDateTime": "2026-11-20T08:05:54.9906660Z",
        "lastUpdateDateTime": "2026-11-20T09:10:00.0000000Z",
        "lastModifiedBy": "alice",
        "resolvingComment": None,
        "customTags": ["Finance", "VIP"],
        "systemTags": ["Defender Experts"],
        "comments": [
            {
                "@odata.type": "#microsoft.graph.security.alertComment",
                "comment": "Looking.",
                "createdByDisplayName": "admin",
                "createdDateTime": "2026-11-20T08:30:00.5000000Z",
            }
        ],
        "priorityScore": None,
    }


def test_it_answers_null_for_an_unassigned_incident_and_empty_texts(admin_api):
    incident = IncidentFactory(assigned_to="", description="", summary="", last_modified_by="")

    body = admin_api.get(one(incident.pk)).json()

    assert (body["assignedTo"], body["description"], body["summary"], body["lastModifiedBy"]) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("stored", "graph"),
    [
        ("compromisedUser", "compromisedAccount"),
        ("clean", "notMalicious"),
        ("insufficientData", "notEnoughDataToValidate"),
        ("confirmedUserActivity", "confirmedActivity"),
        ("malware", "malware"),
    ],
)
def test_it_answers_determinations_in_the_spelling_of_graphs_metadata(admin_api, stored, graph):
    classification = {"clean": "falsePositive", "insufficientData": "falsePositive"}.get(stored, "truePositive")
    if stored == "confirmedUserActivity":
        classification = "informationalExpectedActivity"
    incident = IncidentFactory(classification=classification, determination=stored)

    assert admin_api.get(one(incident.pk)).json()["determination"] == graph


def test_it_answers_awaiting_action_as_unknown_future_value_unless_the_client_prefers_unknown_members(admin_api):
    incident = IncidentFactory(status="awaitingAction")

    plain = admin_api.get(one(incident.pk))
    preferring = admin_api.get(one(incident.pk), headers={"Prefer": "include-unknown-enum-members"})

    assert plain.json()["status"] == "unknownFutureValue"
    assert "Preference-Applied" not in plain
    assert preferring.json()["status"] == "awaitingAction"
    assert preferring["Preference-Applied"] == "include-unknown-enum-members"


def test_it_expands_the_alerts_of_each_incident_on_request(admin_api):
    incident = IncidentFactory()
    first = AlertFactory(incident=incident, title="First", created_at="2026-11-20T08:00:00Z")
    second = AlertFactory(incident=incident, title="Second", created_at="2026-11-20T08:10:00Z")
    IncidentFactory()  # without alerts

    listed = admin_api.get(LIST, {"$expand": "alerts"}).json()
    single = admin_api.get(one(incident.pk), {"$expand": "alerts"}).json()
    plain = admin_api.get(one(incident.pk)).json()

    assert listed["@odata.context"].endswith("$metadata#security/incidents(alerts())")
    alerts_by_incident = {item["id"]: [a["id"] for a in item["alerts"]] for item in listed["value"]}
    assert alerts_by_incident[str(incident.pk)] == [str(first.pk), str(second.pk)]
    assert [a["title"] for a in single["alerts"]] == ["First", "Second"]
    assert single["alerts"][0]["@odata.type"] == "#microsoft.graph.security.alert"
    assert "alerts" not in plain


def test_it_gives_one_incident_its_version_as_etag(admin_api):
    incident = IncidentFactory()

    response = admin_api.get(one(incident.pk))

    incident.refresh_from_db()
    assert response["ETag"] == incident_version(incident)


# --- Changing -----------------------------------------------------------------------------------------------------


def test_it_changes_an_incident_through_the_service_and_answers_the_changed_incident(analyst_api, analyst):
    incident = IncidentFactory(display_name="Old name")

    response = analyst_api.patch(
        one(incident.pk),
        {
            "status": "inProgress",
            "classification": "truePositive",
            "determination": "compromisedAccount",
            "assignedTo": "analyst@corp.example",
            "customTags": ["Finance", " VIP ", "Finance"],
            "summary": "Phishing led to a compromised account.",
            "displayName": "Compromised account in Finance",
            "severity": "high",
        },
        format="json",
    )

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "inProgress"
    assert incident.classification == "truePositive"
    assert incident.determination == "compromisedUser"
    assert incident.assigned_to == "analyst@corp.example"
    assert incident.custom_tags == ["Finance", "VIP"]
    assert incident.summary == "Phishing led to a compromised account."
    assert (incident.display_name, incident.display_name_is_custom) == ("Compromised account in Finance", True)
    assert (incident.severity, incident.severity_is_custom) == ("high", True)
    assert incident.last_modified_by == "analyst"
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#security/incidents/$entity")
    assert (body["status"], body["determination"], body["assignedTo"]) == (
        "inProgress",
        "compromisedAccount",
        "analyst@corp.example",
    )
    assert body["lastModifiedBy"] == "analyst"
    (entry,) = updates_of(incident)
    assert entry.actor == analyst
    assert entry.changes["status"] == {"before": "active", "after": "inProgress"}
    assert entry.changes["determination"] == {"before": "unknown", "after": "compromisedUser"}


def test_it_resolves_an_incident_with_its_resolving_comment_and_resolves_its_alerts(analyst_api):
    incident = IncidentFactory()
    alert = AlertFactory(incident=incident, status="new")

    response = analyst_api.patch(
        one(incident.pk),
        {"status": "resolved", "classification": "falsePositive", "resolvingComment": "A penetration test."},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["resolvingComment"] == "A penetration test."
    incident.refresh_from_db()
    alert.refresh_from_db()
    assert (incident.status, incident.resolving_comment) == ("resolved", "A penetration test.")
    assert alert.status == "resolved"


def test_it_unassigns_an_incident_patched_with_a_null_assignee(analyst_api):
    incident = IncidentFactory(assigned_to="someone@corp.example")

    response = analyst_api.patch(one(incident.pk), {"assignedTo": None}, format="json")

    assert response.status_code == 200
    assert response.json()["assignedTo"] is None
    incident.refresh_from_db()
    assert incident.assigned_to == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "resolved"}, "resolvingComment: Say how the incident was resolved."),
        ({"classification": "falsePositive", "determination": "malware"}, "determination: Malware is not a"),
        ({"status": "redirected"}, "status: Set the status to active, inProgress or resolved."),
        ({"displayName": "  "}, "displayName: An incident needs a name."),
        ({"classification": "maybe"}, "classification: 'maybe' is not a classification."),
    ],
)
def test_it_refuses_a_change_the_incident_rules_forbid_with_a_graph_error_naming_the_property(
    analyst_api, body, message
):
    incident = IncidentFactory()

    response = analyst_api.patch(one(incident.pk), body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    assert error["message"].startswith(message)
    assert error["details"][0]["target"] == message.split(":")[0]
    assert updates_of(incident) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"id": "9"}, "id is read-only on an incident."),
        ({"createdDateTime": "2026-01-01T00:00:00Z"}, "createdDateTime is read-only on an incident."),
        ({"owner": "x"}, "owner is not a property you can change on an incident; you can change assignedTo,"),
        ({"status": 3}, "status must be a string."),
        ({"customTags": "Finance"}, "customTags must be a list of strings."),
        ({"assignedTo": ["a"]}, "assignedTo must be a string or null."),
        ({"summary": "a\u0000b"}, "summary contains a NUL character."),
        ({"@odata.type": "#microsoft.graph.security.alert", "status": "active"}, "@odata.type must be"),
        ({}, "Send at least one property to change on the incident."),
        (["status"], "Send the properties to change on the incident as a JSON object."),
    ],
)
def test_it_refuses_a_body_it_cannot_apply_rather_than_ignoring_part_of_it(analyst_api, body, message):
    incident = IncidentFactory()

    response = analyst_api.patch(one(incident.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)
    assert updates_of(incident) == []


def test_it_refuses_a_change_to_a_merged_incident(analyst_api):
    target = IncidentFactory()
    merged = IncidentFactory(status="redirected", redirect_incident=target)

    response = analyst_api.patch(one(merged.pk), {"assignedTo": "me"}, format="json")

    assert response.status_code == 400
    assert f"merged into incident {target.pk}" in response.json()["error"]["message"]


def test_it_refuses_a_body_that_is_not_json_it_can_read(analyst_api):
    incident = IncidentFactory()
    nested = '{"status": ' * 5000 + '"inProgress"' + "}" * 5000

    broken = analyst_api.generic("PATCH", one(incident.pk), "{status:", content_type="application/json")
    too_deep = analyst_api.generic("PATCH", one(incident.pk), nested, content_type="application/json")
    as_form = analyst_api.generic("PATCH", one(incident.pk), "status=active", content_type="text/plain")

    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "BadRequest"
    assert too_deep.status_code == 400
    assert too_deep.json()["error"]["message"] == "JSON parse error - the body is nested too deeply."
    assert as_form.status_code == 415
    assert as_form.json()["error"]["code"] == "UnsupportedMediaType"
    assert updates_of(incident) == []


# --- Comments -----------------------------------------------------------------------------------------------------


def test_it_adds_a_comment_and_answers_every_comment_of_the_incident_oldest_first(analyst_api, analyst):
    incident = IncidentFactory()
    Comment.objects.create(incident=incident, author=analyst, author_name="analyst", text="First.")

    response = analyst_api.post(
        comments_of(incident.pk),
        {"@odata.type": "microsoft.graph.security.alertComment", "comment": "Second."},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == (
        "http://testserver/v1.0/$metadata#Collection(microsoft.graph.security.alertComment)"
    )
    assert [(c["comment"], c["createdByDisplayName"]) for c in body["value"]] == [
        ("First.", "analyst"),
        ("Second.", "analyst"),
    ]
    added = Comment.objects.get(incident=incident, text="Second.")
    assert added.author == analyst
    assert ActivityLogEntry.objects.filter(
        action="incidents.comment.added", target_id=str(incident.pk), actor=analyst
    ).exists()


def test_it_takes_a_comment_sent_as_a_list_of_one_as_msgraph_sdk_sends_it(analyst_api):
    incident = IncidentFactory()

    response = analyst_api.post(comments_of(incident.pk), [{"comment": "From the SDK."}], format="json")

    assert response.status_code == 200
    assert Comment.objects.get(incident=incident).text == "From the SDK."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"comment": "   "}, "comment: Write something first."),
        ({"comment": "x" * 30_001}, "comment: A comment is at most 30,000 characters."),
        ({}, "comment is required."),
        (
            {"comment": "Hi.", "createdByDisplayName": "Someone else"},
            "createdByDisplayName: only comment can be sent; the rest is set by the service.",
        ),
        ([{"comment": "a"}, {"comment": "b"}], "Send one comment at a time."),
        ("Hi.", 'Send the comment as a JSON object: {"comment": "..."}.'),
    ],
)
def test_it_refuses_a_comment_it_cannot_add(analyst_api, body, message):
    incident = IncidentFactory()

    response = analyst_api.post(comments_of(incident.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert not Comment.objects.filter(incident=incident).exists()
