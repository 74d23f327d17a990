"""The incident queue page: default view, filters in the URL, sort, pages, columns, bulk actions and merges."""

from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.models import Alert, Incident
from incidents.views import queue as queue_views
from portal.models import ActivityLogEntry, UserPreference
from tests.incidents.alert_builders import T0, device, graph_alert, ingest_and_correlate, user

pytestmark = pytest.mark.django_db

QUEUE = reverse("incidents:queue")


def incident_on(name, **alert_fields) -> Incident:
    (alert,) = ingest_and_correlate(graph_alert(device(f"{name}.corp.example"), **alert_fields))
    return Incident.objects.get(pk=alert.incident_id)


def shown_ids(response) -> list[int]:
    return [incident.pk for incident in response.context["page"].object_list]


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def test_it_shows_open_incidents_of_high_medium_and_low_severity_newest_update_first_by_default(signed_in):
    older = incident_on("ws1", severity="high")
    informational = incident_on("ws2", severity="informational")
    resolved = incident_on("ws3", severity="high", status="resolved")
    newer = incident_on("ws4", severity="low")

    response = signed_in.get(QUEUE)

    assert response.status_code == 200
    assert shown_ids(response) == [newer.pk, older.pk]
    assert informational.pk not in shown_ids(response)
    assert resolved.pk not in shown_ids(response)
    assert b"2 incidents" in response.content


def test_it_shows_every_incident_when_the_person_clears_every_filter(signed_in):
    incidents = [incident_on("ws1", severity="informational"), incident_on("ws2", status="resolved")]

    response = signed_in.get(QUEUE, {"f": "1"})

    assert sorted(shown_ids(response)) == sorted(i.pk for i in incidents)


def test_it_filters_by_severity_and_finds_incidents_by_an_impacted_device(signed_in):
    high = incident_on("ws-fin-1", severity="high")
    incident_on("ws-fin-2", severity="medium")
    incident_on("ws-hr-1", severity="high")

    response = signed_in.get(QUEUE, {"f": "1", "severity": "high", "q": "ws-fin-1.corp.example"})

    assert shown_ids(response) == [high.pk]


def test_it_finds_an_incident_by_its_id_and_by_a_user_in_it(signed_in):
    (alert,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), user("alice@corp.example")))
    incident_on("ws2")

    by_id = signed_in.get(QUEUE, {"f": "1", "q": f"#{alert.incident_id}"})
    by_user = signed_in.get(QUEUE, {"f": "1", "q": "alice@corp.example"})

    assert shown_ids(by_id) == [alert.incident_id]
    assert shown_ids(by_user) == [alert.incident_id]


def test_it_filters_by_assignee_me_and_unassigned(signed_in, analyst):
    mine = incident_on("ws1")
    theirs = incident_on("ws2")
    nobodys = incident_on("ws3")
    Incident.objects.filter(pk=mine.pk).update(assigned_to=analyst.username)
    Incident.objects.filter(pk=theirs.pk).update(assigned_to="someone")

    assert shown_ids(signed_in.get(QUEUE, {"f": "1", "assigned": "me"})) == [mine.pk]
    assert shown_ids(signed_in.get(QUEUE, {"f": "1", "assigned": "unassigned"})) == [nobodys.pk]


def test_it_sorts_by_first_activity_both_ways(signed_in):
    early = incident_on("ws1", at=T0)
    late = incident_on("ws2", at=T0 + timedelta(days=2))

    assert shown_ids(signed_in.get(QUEUE, {"f": "1", "sort": "first_activity"})) == [early.pk, late.pk]
    assert shown_ids(signed_in.get(QUEUE, {"f": "1", "sort": "-first_activity"})) == [late.pk, early.pk]


def test_it_answers_bad_filters_sort_and_page_with_the_default_order_and_a_message_never_a_500(signed_in):
    incident_on("ws1")

    response = signed_in.get(QUEUE, {"f": "1", "severity": "catastrophic", "sort": "drop table", "page": "x9"})

    assert response.status_code == 200
    assert b"Some filters could not be applied" in response.content


def test_it_pages_through_the_queue_fifty_at_a_time(signed_in):
    for n in range(52):
        Incident.objects.create(display_name=f"Incident {n}", severity="high")

    first = signed_in.get(QUEUE)
    second = signed_in.get(QUEUE, {"page": 2})

    assert len(shown_ids(first)) == 50
    assert len(shown_ids(second)) == 2
    assert not set(shown_ids(first)) & set(shown_ids(second))


def test_it_answers_an_htmx_filter_change_with_the_results_only(signed_in):
    incident_on("ws1", severity="high")

    response = signed_in.get(QUEUE, {"f": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="incident-results")

    assert response.status_code == 200
    assert b"incident-table" in response.content
    assert b"<html" not in response.content


def test_it_shows_an_empty_state_with_a_way_back(signed_in):
    response = signed_in.get(QUEUE)

    assert b"No incidents match these filters" in response.content


@pytest.mark.parametrize(("rows", "queries"), [(3, 6), (30, 6), (60, 7)])
def test_it_runs_a_fixed_number_of_queries_whatever_the_number_of_rows(
    signed_in, django_assert_num_queries, rows, queries
):
    for n in range(rows):
        Incident.objects.create(display_name=f"Incident {n}", severity="high", custom_tags=["vip"])
    signed_in.get(QUEUE)  # warm the session and content types

    # session, user, permissions (user and groups), page, preference, device groups (the timeline loads apart),
    # and a count only when the first page is full
    with django_assert_num_queries(queries):
        response = signed_in.get(QUEUE)
    assert len(shown_ids(response)) == min(rows, 50)


def test_it_remembers_the_columns_a_person_chose_and_their_order(signed_in, analyst):
    signed_in.post(reverse("incidents:columns"), {"column": ["name", "severity", "tags"], "next": QUEUE})
    signed_in.post(reverse("incidents:columns"), {"move": "tags:up", "next": QUEUE})

    response = signed_in.get(QUEUE)

    assert [column.key for column in response.context["columns"]] == ["name", "tags", "severity"]
    assert UserPreference.objects.get(user=analyst).value == ["name", "tags", "severity"]


def test_it_assigns_the_selected_incidents_to_me_in_bulk_and_logs_each(signed_in, analyst):
    first, second, untouched = incident_on("ws1"), incident_on("ws2"), incident_on("ws3")

    response = signed_in.post(
        reverse("incidents:bulk"), {"action": "assign_me", "incident": [first.pk, second.pk], "next": QUEUE}
    )

    assert response.status_code == 302
    assert set(Incident.objects.filter(assigned_to=analyst.username).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    assert Incident.objects.get(pk=untouched.pk).assigned_to == ""
    assert Alert.objects.filter(incident=first, assigned_to=analyst.username).exists()
    assert ActivityLogEntry.objects.filter(action="incidents.incident.updated", actor=analyst).count() == 2


def test_it_classifies_in_bulk_and_reports_incidents_it_could_not_change(signed_in):
    incident = incident_on("ws1")

    signed_in.post(
        reverse("incidents:bulk"),
        {
            "action": "classify",
            "classification": "truePositive",
            "determination": "malware",
            "incident": [incident.pk, 999_999],
        },
    )
    page = signed_in.get(QUEUE)

    incident.refresh_from_db()
    assert (incident.classification, incident.determination) == ("truePositive", "malware")
    assert b"Not updated: #999999: not found" in page.content


def test_it_refuses_to_resolve_in_bulk_without_a_resolving_comment(signed_in):
    incident = incident_on("ws1")

    signed_in.post(reverse("incidents:bulk"), {"action": "status", "status": "resolved", "incident": [incident.pk]})

    assert Incident.objects.get(pk=incident.pk).status == "active"


def test_it_adds_and_removes_a_tag_in_bulk(signed_in):
    incident = incident_on("ws1")
    bulk = reverse("incidents:bulk")

    signed_in.post(bulk, {"action": "tag_add", "tag": "ransomware", "incident": [incident.pk]})
    assert Incident.objects.get(pk=incident.pk).custom_tags == ["ransomware"]
    signed_in.post(bulk, {"action": "tag_remove", "tag": "ransomware", "incident": [incident.pk]})
    assert Incident.objects.get(pk=incident.pk).custom_tags == []


def test_it_merges_the_selected_incidents_into_the_oldest_and_goes_there(signed_in):
    older, younger = incident_on("ws1"), incident_on("ws2")

    response = signed_in.post(
        reverse("incidents:merge"), {"incident": [younger.pk, older.pk], "reason": "Same phishing campaign"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[older.pk])
    assert Incident.objects.get(pk=younger.pk).redirect_incident_id == older.pk
    assert Alert.objects.filter(incident=older).count() == 2


def test_it_does_not_merge_without_a_reason(signed_in):
    older, younger = incident_on("ws1"), incident_on("ws2")

    signed_in.post(reverse("incidents:merge"), {"incident": [older.pk, younger.pk], "reason": ""})

    assert Incident.objects.get(pk=younger.pk).status == "active"


def test_it_lets_a_reader_see_the_queue_but_not_change_anything(client, reader):
    incident = incident_on("ws1")
    client.force_login(reader)

    assert client.get(QUEUE).status_code == 200
    response = client.post(reverse("incidents:bulk"), {"action": "assign_me", "incident": [incident.pk]})
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).assigned_to == ""


def test_it_sends_a_signed_out_person_to_the_login_page(client):
    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_assets_categories_and_sources_in_words(signed_in):
    ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), device("ws2.corp.example"), category="LateralMovement", severity="high")
    )

    body = signed_in.get(QUEUE).content.decode()

    assert "2 devices" in body
    assert "Lateral movement" in body
    assert '<td class="small">Defender for Endpoint</td>' in body  # the service, not the detection ("EDR")


def test_it_counts_the_alerts_received_and_incidents_created_in_the_last_hour_on_the_timeline(signed_in):
    ingest_and_correlate(graph_alert(device("ws1.corp.example")), graph_alert(device("ws2.corp.example")))

    timeline = signed_in.get(reverse("incidents:timeline")).context["timeline"]

    assert len(timeline) == 24
    assert (timeline[-1]["alerts"], timeline[-1]["incidents"]) == (2, 2)
    assert timeline[-1]["alerts_height"] == 100
    assert sum(slot["alerts"] for slot in timeline[:-1]) == 0


def test_it_loads_the_timeline_after_the_table(signed_in):
    body = signed_in.get(QUEUE).content.decode()

    assert f'hx-get="{reverse("incidents:timeline")}"' in body
    assert 'hx-trigger="load"' in body


def test_it_says_there_are_more_than_it_counts_when_the_count_is_capped(signed_in, monkeypatch):
    monkeypatch.setattr(queue_views, "COUNT_CAP", 3)
    for n in range(5):
        Incident.objects.create(display_name=f"Incident {n}", severity="high")

    response = signed_in.get(QUEUE)

    assert "3+ incidents" in response.content.decode()
    assert "narrow the filters" in response.content.decode()
    assert len(shown_ids(response)) == 5  # the first page still shows every row it holds


def test_it_finds_the_incidents_of_an_entity_a_search_term_names_and_otherwise_searches_names(signed_in):
    on_device = incident_on("ws7")
    named = incident_on("ws8")
    Incident.objects.filter(pk=named.pk).update(display_name="Follow-up of ws7 cleanup")

    by_device_name = signed_in.get(QUEUE, {"f": "1", "q": "WS7"})
    by_words = signed_in.get(QUEUE, {"f": "1", "q": "cleanup"})

    assert shown_ids(by_device_name) == [on_device.pk]
    assert shown_ids(by_words) == [named.pk]


def test_it_refuses_an_unknown_classification_in_bulk_with_a_message_not_an_error(signed_in):
    incident = incident_on("ws1")

    response = signed_in.post(
        reverse("incidents:bulk"), {"action": "classify", "classification": "bogus", "incident": [incident.pk]}
    )
    page = signed_in.get(QUEUE)

    assert response.status_code == 302
    assert "&#x27;bogus&#x27; is not a classification." in page.content.decode()
    assert Incident.objects.get(pk=incident.pk).classification == "unknown"


def test_it_refuses_a_bulk_assign_without_a_name_rather_than_unassigning(signed_in):
    incident = incident_on("ws1")
    Incident.objects.filter(pk=incident.pk).update(assigned_to="tier2")

    signed_in.post(reverse("incidents:bulk"), {"action": "assign", "assigned_to": "  ", "incident": [incident.pk]})
    page = signed_in.get(QUEUE)

    assert Incident.objects.get(pk=incident.pk).assigned_to == "tier2"
    assert "Type the name to assign the incidents to, or choose Assign to me." in page.content.decode()
