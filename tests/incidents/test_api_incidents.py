"""
/api/incidents/: the list (the queue's filters without its default view, cursor paging), one incident with its
ETag, changes under If-Match through the same service as the page, comments, alerts, activity and merging.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Alert, Comment, Incident, IncidentEntity
from incidents.services.incidents import incident_version
from portal.models import ActivityLogEntry
from portal.selectors import activity_for
from tests.api_clients import api_for, listed_ids
from tests.factories import AlertFactory, DeviceGroupFactory, EntityFactory, IncidentFactory

pytestmark = pytest.mark.django_db

LIST = "/api/incidents/"
MERGE = "/api/incidents/merge/"


def detail(incident) -> str:
    return f"/api/incidents/{incident.pk}/"


@pytest.fixture
def api(analyst) -> APIClient:
    return api_for(analyst)


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def log_of(incident) -> list[ActivityLogEntry]:
    return list(activity_for(incident).order_by("id"))


def touched(incident, when) -> Incident:
    """The incident with its last update set to `when` (auto_now sets it on every save)."""
    Incident.objects.filter(pk=incident.pk).update(last_update=when)
    return fresh(incident)


def patch(api, incident, body, *, etag=None):
    etag = incident_version(fresh(incident)) if etag is None else etag
    return api.patch(detail(incident), body, format="json", HTTP_IF_MATCH=etag)


# --- The list ---------------------------------------------------------------------------------------------------


def test_it_lists_every_incident_in_scope_without_the_queue_default_view(api):
    now = timezone.now()
    open_recent = IncidentFactory(status="active", severity="high")
    resolved = IncidentFactory(status="resolved", resolving_comment="Done.")
    informational = IncidentFactory(severity="informational")
    old = touched(IncidentFactory(), now - timedelta(days=400))
    redirected = IncidentFactory(status="redirected", redirect_incident=open_recent)

    listed = listed_ids(api.get(LIST))

    assert sorted(listed) == sorted(i.pk for i in (open_recent, resolved, informational, old, redirected))


def test_it_shows_an_incident_in_snake_case_with_graph_values_and_its_page(api):
    group = DeviceGroupFactory()
    incident = IncidentFactory(
        display_name="Ransomware on ws1",
        severity="high",
        status="inProgress",
        classification="truePositive",
        determination="malware",
        assigned_to="alice",
        custom_tags=["vip"],
        device_group_ids=[group.pk],
        alerts_total=3,
        alerts_active=2,
        impacted_assets={"device": 1},
        categories=["Execution"],
    )

    [row] = api.get(LIST).json()["results"]

    assert row["id"] == incident.pk
    assert row["display_name"] == "Ransomware on ws1"
    assert (row["severity"], row["status"], row["classification"], row["determination"]) == (
        "high",
        "inProgress",
        "truePositive",
        "malware",
    )
    assert row["assigned_to"] == "alice"
    assert row["custom_tags"] == ["vip"]
    assert row["device_groups"] == [group.pk]
    assert (row["alerts_total"], row["alerts_active"]) == (3, 2)
    assert row["impacted_assets"] == {"device": 1}
    assert row["categories"] == ["Execution"]
    assert row["redirect_incident"] is None
    assert row["url"] == f"http://testserver/incidents/{incident.pk}/"
    assert row["etag"] == incident_version(incident)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=resolved", {"resolved"}),
        ("status=active&status=inProgress", {"active", "in_progress"}),
        ("severity=high", {"active"}),
        ("assigned=me", {"in_progress"}),
        ("assigned=unassigned", {"active", "resolved"}),
        ("q=printer", {"resolved"}),
        ("tag=vip", {"active"}),
    ],
)
def test_it_filters_like_the_queue(api, query, expected):
    incidents = {
        "active": IncidentFactory(status="active", severity="high", custom_tags=["vip"]),
        "in_progress": IncidentFactory(status="inProgress", severity="low", assigned_to="analyst"),
        "resolved": IncidentFactory(
            status="resolved", resolving_comment="Fixed.", severity="medium", display_name="Printer spooler exploit"
        ),
    }

    listed = listed_ids(api.get(f"{LIST}?{query}"))

    assert sorted(listed) == sorted(incidents[name].pk for name in expected)


def test_it_filters_by_device_group(api):
    group, other = DeviceGroupFactory(), DeviceGroupFactory()
    inside = IncidentFactory(device_group_ids=[group.pk])
    IncidentFactory(device_group_ids=[other.pk])
    IncidentFactory(device_group_ids=[])

    assert listed_ids(api.get(f"{LIST}?device_group={group.pk}")) == [inside.pk]


def test_it_finds_the_incidents_of_an_entity_by_its_key(api):
    entity = EntityFactory(kind="user", key="alice@corp.example", display_name="Alice Ward")
    linked = IncidentFactory(display_name="Sign-in from a new country")
    IncidentEntity.objects.create(incident=linked, entity=entity)
    IncidentFactory(display_name="Something else")

    assert listed_ids(api.get(f"{LIST}?q=alice@corp.example")) == [linked.pk]


def test_it_filters_by_last_update_since_and_until(api):
    now = timezone.now()
    old = touched(IncidentFactory(), now - timedelta(days=10))
    middle = touched(IncidentFactory(), now - timedelta(days=5))
    touched(IncidentFactory(), now - timedelta(hours=1))
    since, until = (now - timedelta(days=7)).isoformat(), (now - timedelta(days=2)).isoformat()

    assert listed_ids(api.get(LIST, {"since": since, "until": until})) == [middle.pk]
    assert listed_ids(api.get(LIST, {"until": (now - timedelta(days=8)).isoformat()})) == [old.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=closed", "status"),
        ("severity=extreme", "severity"),
        ("since=yesterday", "since"),
        ("device_group=abc", "device_group"),
        ("device_group=999999", "device_group"),
        ("range=2y", "range"),
        ("page_size=0", "page_size"),
        ("page_size=ten", "page_size"),
        ("page_size=%C2%B2", "page_size"),  # "²", a digit to str.isdigit() but not to int()
        ("ordering=display_name", "ordering"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=eyJvIjoiLWxhc3RfdXBkYXRlIiwidiI6WyJub3QgYSB0aW1lIiwxXSwiYiI6ZmFsc2V9", "cursor"),
    ],
)
def test_it_answers_400_with_the_error_body_for_a_bad_filter_or_paging_value(api, query, field):
    IncidentFactory()

    response = api.get(f"{LIST}?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]
    assert body["detail"].startswith("Invalid input.")


# --- Paging -----------------------------------------------------------------------------------------------------


def _follow(api, url, direction="next") -> list[list[int]]:
    pages = []
    while url:
        response = api.get(url)
        pages.append(listed_ids(response))
        url = response.json()[direction]
    return pages


def test_cursor_paging_meets_every_incident_once_in_order_even_with_equal_update_times(api):
    now = timezone.now()
    incidents = [IncidentFactory() for _ in range(8)]
    # Three share one update time: only the id tells them apart.
    for index, incident in enumerate(incidents):
        touched(incident, now - timedelta(minutes=min(index, 3)))
    expected = [i.pk for i in sorted(map(fresh, incidents), key=lambda i: (i.last_update, i.pk), reverse=True)]

    pages = _follow(api, f"{LIST}?page_size=3")

    assert [len(page) for page in pages] == [3, 3, 2]
    assert [pk for page in pages for pk in page] == expected


def test_previous_links_walk_back_over_the_same_pages(api):
    for _ in range(7):
        IncidentFactory()
    forward = []
    url, last = f"{LIST}?page_size=3", None
    while url:
        last = api.get(url).json()
        forward.append([row["id"] for row in last["results"]])
        url = last["next"]

    backward = _follow(api, last["previous"], direction="previous")

    assert backward == forward[-2::-1]
    assert api.get(f"{LIST}?page_size=3").json()["previous"] is None


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("-severity", lambda i: (-i.severity_rank, -i.last_update.timestamp(), -i.pk)),
        ("severity", lambda i: (i.severity_rank, -i.last_update.timestamp(), -i.pk)),
        ("created_at", lambda i: (i.created_at, i.pk)),
        ("last_update", lambda i: (i.last_update, i.pk)),
    ],
)
def test_each_ordering_pages_to_the_end_in_its_order(api, ordering, key):
    for severity in ["low", "high", "medium", "high", "low", "informational", "high"]:
        IncidentFactory(severity=severity)
    expected = [i.pk for i in sorted(Incident.objects.all(), key=key)]

    pages = _follow(api, f"{LIST}?page_size=2&ordering={ordering}")

    assert [pk for page in pages for pk in page] == expected


def test_it_caps_the_page_size(api):
    Incident.objects.bulk_create([Incident(display_name=f"Incident {n}") for n in range(201)])

    body = api.get(f"{LIST}?page_size=5000").json()

    assert len(body["results"]) == 200
    assert body["next"] is not None


def test_a_cursor_only_pages_the_ordering_it_was_made_for(api):
    for _ in range(3):
        IncidentFactory()
    following = api.get(f"{LIST}?page_size=1").json()["next"]
    cursor = parse_qs(urlparse(following).query)["cursor"][0]

    response = api.get(LIST, {"cursor": cursor, "ordering": "-severity"})

    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]["cursor"][0]


@pytest.mark.parametrize("page_size", [3, 30])
def test_the_list_costs_the_same_queries_whatever_the_page_size(analyst, django_assert_num_queries, page_size):
    group = DeviceGroupFactory()
    for n in range(30):
        incident = IncidentFactory(device_group_ids=[group.pk], custom_tags=[f"t{n}"])
        AlertFactory(incident=incident)
    client = api_for(analyst)

    # What the analyst holds, then the page itself.
    with django_assert_num_queries(2):
        response = client.get(f"{LIST}?page_size={page_size}")

    assert len(response.json()["results"]) == page_size


# --- One incident -----------------------------------------------------------------------------------------------


def test_it_reads_one_incident_with_its_etag(api):
    incident = IncidentFactory(display_name="Credential theft")

    response = api.get(detail(incident))

    assert response.status_code == 200
    assert response.json()["display_name"] == "Credential theft"
    assert response["ETag"] == incident_version(incident) == response.json()["etag"]


def test_a_missing_incident_answers_404_with_the_error_body(api):
    response = api.get("/api/incidents/987654321/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_an_id_beyond_bigint_answers_404(api):
    assert api.get("/api/incidents/99999999999999999999999/").status_code == 404


# --- Changing an incident ---------------------------------------------------------------------------------------


def test_a_change_applies_through_the_service_and_answers_the_new_version(api, analyst):
    incident = IncidentFactory(severity="low")
    before = incident_version(incident)

    response = patch(
        api,
        incident,
        {"severity": "high", "status": "inProgress", "assigned_to": "analyst", "custom_tags": ["vip", " vip ", ""]},
        etag=before,
    )

    assert response.status_code == 200
    stored = fresh(incident)
    assert (stored.severity, stored.status, stored.assigned_to, stored.custom_tags) == (
        "high",
        "inProgress",
        "analyst",
        ["vip"],
    )
    assert stored.severity_is_custom
    assert response.json()["severity"] == "high"
    assert response["ETag"] == incident_version(stored) == response.json()["etag"] != before
    [entry] = log_of(incident)
    assert (entry.action, entry.actor_id, entry.actor_name) == ("incidents.incident.updated", analyst.pk, "analyst")
    assert entry.changes["severity"] == {"before": "low", "after": "high"}
    assert entry.changes["assigned_to"] == {"before": "", "after": "analyst"}


def test_resolving_resolves_the_active_alerts_like_the_page(api):
    incident = IncidentFactory()
    alerts = [AlertFactory(incident=incident, status=status) for status in ("new", "inProgress", "resolved")]

    response = patch(api, incident, {"status": "resolved", "resolving_comment": "Reimaged the device."})

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert set(Alert.objects.filter(pk__in=[a.pk for a in alerts]).values_list("status", flat=True)) == {"resolved"}
    assert fresh(incident).resolving_comment == "Reimaged the device."


def test_a_change_without_if_match_answers_428_and_changes_nothing(api):
    incident = IncidentFactory(assigned_to="")

    response = api.patch(detail(incident), {"assigned_to": "analyst"}, format="json")

    assert response.status_code == 428
    body = response.json()
    assert body["code"] == "precondition_required"
    assert "If-Match" in body["detail"]
    assert fresh(incident).assigned_to == ""
    assert log_of(incident) == []


def test_a_change_based_on_an_old_version_answers_412_and_changes_nothing(api):
    incident = IncidentFactory(severity="low")
    stale = incident_version(incident)
    touched(incident, timezone.now() + timedelta(seconds=1))  # someone else's change meanwhile
    current = fresh(incident)

    response = patch(api, incident, {"severity": "high", "assigned_to": "analyst"}, etag=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    stored = fresh(incident)
    assert (stored.severity, stored.assigned_to, stored.last_update) == ("low", "", current.last_update)
    assert log_of(incident) == []


def test_if_match_star_and_a_list_of_etags_are_accepted(api):
    incident = IncidentFactory()

    assert patch(api, incident, {"summary": "First."}, etag="*").status_code == 200
    current = incident_version(fresh(incident))
    assert patch(api, incident, {"summary": "Second."}, etag=f'"1-1", {current}').status_code == 200
    assert fresh(incident).summary == "Second."


def test_a_determination_of_another_classification_answers_400(api):
    incident = IncidentFactory()

    response = patch(api, incident, {"classification": "falsePositive", "determination": "malware"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["determination"]
    assert fresh(incident).classification == "unknown"


def test_graph_determination_aliases_are_accepted_and_stored_as_the_v1_values(api):
    incident = IncidentFactory()

    response = patch(api, incident, {"classification": "truePositive", "determination": "compromisedAccount"})

    assert response.status_code == 200
    assert response.json()["determination"] == "compromisedUser"
    assert fresh(incident).determination == "compromisedUser"


def test_resolving_without_a_resolving_comment_answers_400(api):
    incident = IncidentFactory(status="active")

    response = patch(api, incident, {"status": "resolved"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["resolving_comment"]
    assert fresh(incident).status == "active"


def test_a_redirected_incident_cannot_be_changed(api):
    target = IncidentFactory()
    redirected = IncidentFactory(status="redirected", redirect_incident=target)

    response = patch(api, redirected, {"assigned_to": "analyst"})

    assert response.status_code == 400
    assert f"merged into incident {target.pk}" in response.json()["errors"]["non_field_errors"][0]
    assert fresh(redirected).assigned_to == ""


def test_a_status_only_the_system_sets_answers_400(api):
    incident = IncidentFactory()

    response = patch(api, incident, {"status": "redirected"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"severity": "extreme"}, "severity"),
        ({"severity": 3}, "severity"),
        ({"status": None}, "status"),
        ({"custom_tags": "vip"}, "custom_tags"),
        ({"custom_tags": [["nested"]]}, "custom_tags.0"),
        ({"display_name": ["a list"]}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"assigned_to": "x" * 255}, "assigned_to"),
        ({"determination": "notADetermination"}, "determination"),
        ({"alerts_total": 0}, "alerts_total"),
        ({"id": 5, "severity": "high"}, "id"),
        ([{"severity": "high"}], "non_field_errors"),
    ],
)
def test_bad_input_answers_400_and_changes_nothing(api, body, field):
    incident = IncidentFactory(severity="low")

    response = patch(api, incident, body)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert fresh(incident).severity == "low"
    assert log_of(incident) == []


def test_a_body_that_is_not_json_answers_400(api):
    incident = IncidentFactory()

    response = api.generic(
        "PATCH",
        detail(incident),
        b"{not json",
        content_type="application/json",
        HTTP_IF_MATCH=incident_version(incident),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_put_is_not_offered(api):
    incident = IncidentFactory()

    assert api.put(detail(incident), {}, format="json").status_code == 405


# --- Comments, alerts and activity ------------------------------------------------------------------------------


def test_comments_are_added_through_the_service_and_listed_newest_first(api, analyst):
    incident = IncidentFactory()
    url = f"{detail(incident)}comments/"

    first = api.post(url, {"text": "  Isolated ws1.  "}, format="json")
    second = api.post(url, {"text": "Collected the package."}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["text"] == "Isolated ws1."
    assert first.json()["author"] == "analyst"
    assert first.json()["incident"] == incident.pk
    stored = Comment.objects.get(pk=first.json()["id"])
    assert (stored.incident_id, stored.author_id, stored.text) == (incident.pk, analyst.pk, "Isolated ws1.")
    assert [e.action for e in log_of(incident)] == ["incidents.comment.added"] * 2
    listed = api.get(url).json()
    assert listed["count"] == 2
    assert [c["text"] for c in listed["results"]] == ["Collected the package.", "Isolated ws1."]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"text": ""}, "text"), ({"text": "   "}, "text"), ({}, "text"), ({"text": "x" * 30_001}, "text")],
)
def test_an_empty_or_too_long_comment_answers_400(api, body, field):
    incident = IncidentFactory()

    response = api.post(f"{detail(incident)}comments/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Comment.objects.exists()


@pytest.mark.parametrize("page_size", [3, 30])
def test_the_comment_list_costs_the_same_queries_whatever_the_page_size(analyst, django_assert_num_queries, page_size):
    incident = IncidentFactory()
    Comment.objects.bulk_create(
        [Comment(incident=incident, author=analyst, author_name="analyst", text=f"Note {n}") for n in range(30)]
    )
    client = api_for(analyst)

    # What the analyst holds, the incident, the count and the page.
    with django_assert_num_queries(4):
        response = client.get(f"{detail(incident)}comments/?limit={page_size}")

    assert len(response.json()["results"]) == page_size


def test_it_lists_the_incidents_alerts_with_the_alert_filters(api):
    incident = IncidentFactory()
    new, resolved = AlertFactory(incident=incident, status="new"), AlertFactory(incident=incident, status="resolved")
    AlertFactory(incident=IncidentFactory())
    url = f"{detail(incident)}alerts/"

    assert sorted(listed_ids(api.get(url))) == sorted([new.pk, resolved.pk])
    assert listed_ids(api.get(f"{url}?status=resolved")) == [resolved.pk]
    assert api.get(f"{url}?status=closed").status_code == 400
    assert api.get("/api/incidents/987654321/alerts/").status_code == 404


def test_the_activity_log_shows_api_writes_newest_first(api, analyst):
    incident = IncidentFactory()
    patch(api, incident, {"assigned_to": "analyst"})
    api.post(f"{detail(incident)}comments/", {"text": "On it."}, format="json")

    response = api.get(f"{detail(incident)}activity/")

    assert response.status_code == 200
    entries = response.json()["results"]
    assert [e["action"] for e in entries] == ["incidents.comment.added", "incidents.incident.updated"]
    # As in the whole log (/api/activity/): the actor by id and by name, and the target.
    assert (entries[1]["actor"], entries[1]["actor_name"]) == (analyst.pk, "analyst")
    assert (entries[1]["target_type"], entries[1]["target_id"]) == ("incidents.incident", str(incident.pk))
    assert entries[1]["changes"] == {"assigned_to": {"before": "", "after": "analyst"}}
    assert entries[0]["message"] == "On it."


# --- Merging ----------------------------------------------------------------------------------------------------


def test_a_merge_goes_into_the_oldest_incident_and_redirects_the_others(api, analyst):
    first, second, third = IncidentFactory(), IncidentFactory(), IncidentFactory()
    moved = AlertFactory(incident=third)

    response = api.post(MERGE, {"incidents": [third.pk, first.pk, second.pk], "reason": "One campaign."}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == first.pk
    assert response["ETag"] == incident_version(fresh(first))
    for source in (second, third):
        stored = fresh(source)
        assert (stored.status, stored.redirect_incident_id) == ("redirected", first.pk)
        assert [e.action for e in log_of(source)] == ["incidents.incident.merged_into"]
    assert Alert.objects.get(pk=moved.pk).incident_id == first.pk
    [entry] = log_of(first)
    assert (entry.action, entry.actor_id) == ("incidents.incident.merged", analyst.pk)
    assert "One campaign." in entry.message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"incidents": ["one", "two"], "reason": "x"}, "incidents.0"),
        ({"incidents": "1,2", "reason": "x"}, "incidents"),
        ({"incidents": [1], "reason": "x"}, "incidents"),
        ({"incidents": [1, 2, 3, 4, 5, 6], "reason": "x"}, "incidents"),
        ({"incidents": [1, 2**64], "reason": "x"}, "incidents.1"),
        ({"incidents": [1, 2]}, "reason"),
        ({"incidents": [1, 2], "reason": " "}, "reason"),
    ],
)
def test_a_malformed_merge_answers_400(api, body, field):
    response = api.post(MERGE, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_merge_naming_a_missing_incident_answers_400_and_merges_nothing(api):
    incident = IncidentFactory()

    response = api.post(MERGE, {"incidents": [incident.pk, 987654321], "reason": "Same."}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["incidents"]
    assert fresh(incident).status == "active"


def test_a_merge_of_one_incident_named_twice_answers_400(api):
    incident = IncidentFactory()

    response = api.post(MERGE, {"incidents": [incident.pk, incident.pk], "reason": "Same."}, format="json")

    assert response.status_code == 400
    assert fresh(incident).status == "active"


def test_incidents_assigned_to_different_people_are_not_merged(api):
    first, second = IncidentFactory(assigned_to="alice"), IncidentFactory(assigned_to="bob")

    response = api.post(MERGE, {"incidents": [first.pk, second.pk], "reason": "Same."}, format="json")

    assert response.status_code == 400
    assert "assigned to different people" in response.json()["detail"]
    assert fresh(second).status == "active"
