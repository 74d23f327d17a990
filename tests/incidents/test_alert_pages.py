"""The alert queue and the alert page, through the Django test client."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.alert_rows import alert_rows
from incidents.models import Alert, Comment, Incident
from portal.models import ActivityLogEntry
from tests.factories import AlertFactory, DeviceGroupFactory, EntityFactory, EvidenceFactory, IncidentFactory
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate, user

pytestmark = pytest.mark.django_db

QUEUE = reverse("incidents:alert_queue")
BULK = reverse("incidents:alert_bulk")
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "alert-results"}
NS = "#microsoft.graph.security."


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def row_ids(response) -> list[int]:
    """The alert ids of the queue's rows, in the order shown."""
    return [int(pk) for pk in re.findall(r'data-testid="alert-row" data-alert-id="(\d+)"', response.content.decode())]


def total(response) -> int:
    match = re.search(r'data-testid="alert-total">(\d+)<', response.content.decode())
    assert match, "the total count is not on the page"
    return int(match.group(1))


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def queue_alerts():
    """Alerts on both sides of every default filter: status and the 7-day window."""
    return {
        "new": AlertFactory(title="Fresh new alert", status="new", created_at=ago(hours=1), severity="high"),
        "progress": AlertFactory(title="Being looked at", status="inProgress", created_at=ago(days=2), severity="low"),
        "older": AlertFactory(title="Three days old", status="new", created_at=ago(days=3), severity="medium"),
        "resolved": AlertFactory(title="Already resolved", status="resolved", created_at=ago(hours=2)),
        "stale": AlertFactory(title="Eight days old", status="new", created_at=ago(days=8)),
    }


# --- The queue ------------------------------------------------------------------------------------------------


def test_the_default_queue_shows_new_and_in_progress_alerts_of_the_last_7_days_newest_first(signed_in, queue_alerts):
    response = signed_in.get(QUEUE)
    assert response.status_code == 200
    a = queue_alerts
    assert row_ids(response) == [a["new"].pk, a["progress"].pk, a["older"].pk]
    assert total(response) == 3
    assert "Default view: new and in progress" in response.content.decode()
    # The filter form shows the defaults it applied, so the person sees why the rest is missing.
    assert re.search(r'name="status" value="new"\s+id="[^"]+" checked', response.content.decode())
    assert re.search(r'<option value="7d" selected>', response.content.decode())


def test_the_total_counts_every_matching_alert_not_only_the_page(signed_in):
    AlertFactory.create_batch(53, status="new", created_at=ago(hours=3))
    response = signed_in.get(QUEUE)
    assert total(response) == 53
    assert len(row_ids(response)) == 50


def test_submitting_the_form_with_every_box_unticked_means_any_status_any_time(signed_in, queue_alerts):
    response = signed_in.get(QUEUE, {"f": "1", "range": ""})
    assert set(row_ids(response)) == {alert.pk for alert in queue_alerts.values()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "resolved"}, {"resolved"}),
        ({"status": ["new", "inProgress"]}, {"new", "progress", "older", "stale"}),
        ({"severity": "high"}, {"new"}),
        ({"severity": ["high", "low"]}, {"new", "progress"}),
        ({"range": "1d"}, {"new", "resolved"}),
        ({"range": "7d"}, {"new", "progress", "older", "resolved"}),
        ({"range": "30d"}, {"new", "progress", "older", "resolved", "stale"}),
        ({"q": "being LOOKED"}, {"progress"}),
    ],
)
def test_each_filter_narrows_the_rows(signed_in, queue_alerts, query, expected):
    response = signed_in.get(QUEUE, {"f": "1", **query})
    assert response.status_code == 200
    assert set(row_ids(response)) == {queue_alerts[name].pk for name in expected}


def test_it_filters_by_sources_category_classification_determination_and_device_group(signed_in):
    servers, branch = DeviceGroupFactory(name="Servers"), DeviceGroupFactory(name="Branch")
    identity = AlertFactory(
        service_source="microsoftDefenderForIdentity",
        detection_source="microsoftDefenderForIdentity",
        category="LateralMovement",
        device_group_ids=[servers.pk],
    )
    antivirus = AlertFactory(
        detection_source="antivirus",
        category="Malware",
        classification="truePositive",
        determination="malware",
        device_group_ids=[branch.pk],
    )
    benign = AlertFactory(classification="falsePositive", determination="clean", category="Execution")

    def shown(**query):
        return set(row_ids(signed_in.get(QUEUE, {"f": "1", **query})))

    assert shown(service_source="microsoftDefenderForIdentity") == {identity.pk}
    assert shown(detection_source="antivirus") == {antivirus.pk}
    assert shown(category="lateralmovement") == {identity.pk}
    assert shown(classification="falsePositive") == {benign.pk}
    assert shown(determination="malware") == {antivirus.pk}
    assert shown(device_group=str(servers.pk)) == {identity.pk}
    assert shown(device_group=[str(servers.pk), str(branch.pk)]) == {identity.pk, antivirus.pk}


def test_it_filters_by_assignee_me_unassigned_or_a_name(signed_in, analyst):
    mine = AlertFactory(assigned_to="analyst")
    theirs = AlertFactory(assigned_to="Tier2 Team")
    nobody = AlertFactory(assigned_to="")

    def shown(value):
        return set(row_ids(signed_in.get(QUEUE, {"f": "1", "assigned": value})))

    assert shown("me") == {mine.pk}
    assert shown("unassigned") == {nobody.pk}
    assert shown("tier2 team") == {theirs.pk}


def test_a_custom_range_uses_only_the_since_and_until_dates(signed_in, queue_alerts):
    since = (timezone.now() - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    until = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = signed_in.get(QUEUE, {"f": "1", "range": "custom", "since": since, "until": until})
    assert set(row_ids(response)) == {queue_alerts[name].pk for name in ("progress", "older", "stale")}
    assert '<option value="custom" selected>' in response.content.decode()


def test_the_search_matches_the_alert_id_and_the_source_id(signed_in, queue_alerts):
    target = queue_alerts["older"]
    assert row_ids(signed_in.get(QUEUE, {"f": "1", "q": str(target.pk)})) == [target.pk]
    assert row_ids(signed_in.get(QUEUE, {"f": "1", "q": target.provider_alert_id})) == [target.pk]


def test_it_sorts_by_severity_and_by_the_date_columns(signed_in):
    low = AlertFactory(severity="low", first_activity=ago(hours=5), last_activity=ago(hours=1), created_at=ago(hours=3))
    high = AlertFactory(
        severity="high", first_activity=ago(hours=9), last_activity=ago(hours=2), created_at=ago(hours=1)
    )
    medium = AlertFactory(
        severity="medium", first_activity=ago(hours=7), last_activity=ago(hours=3), created_at=ago(hours=2)
    )

    def order(sort):
        return row_ids(signed_in.get(QUEUE, {"sort": sort}))

    assert order("-severity") == [high.pk, medium.pk, low.pk]
    assert order("severity") == [low.pk, medium.pk, high.pk]
    assert order("-first_activity") == [low.pk, medium.pk, high.pk]
    assert order("first_activity") == [high.pk, medium.pk, low.pk]
    assert order("-last_activity") == [low.pk, high.pk, medium.pk]
    assert order("last_activity") == [medium.pk, high.pk, low.pk]
    assert order("created") == [low.pk, medium.pk, high.pk]
    # Anything else is the default order (newest first), not an error.
    assert order("title; DROP TABLE incidents_alert") == [high.pk, medium.pk, low.pk]


def test_sort_links_keep_the_filters_and_go_back_to_the_first_page(signed_in, queue_alerts):
    content = signed_in.get(QUEUE, {"f": "1", "severity": "high", "page": "1"}).content.decode()
    assert 'href="/alerts/?f=1&amp;severity=high&amp;sort=-severity"' in content


def test_it_pages_by_50_and_never_fails_on_a_bad_page(signed_in):
    alerts = [AlertFactory(created_at=ago(minutes=n)) for n in range(1, 56)]
    newest_first = [alert.pk for alert in alerts]
    assert row_ids(signed_in.get(QUEUE)) == newest_first[:50]
    assert row_ids(signed_in.get(QUEUE, {"page": "2"})) == newest_first[50:]
    # Past the end → the last page; not a number → the first.
    assert row_ids(signed_in.get(QUEUE, {"page": "999"})) == newest_first[50:]
    assert row_ids(signed_in.get(QUEUE, {"page": "abc"})) == newest_first[:50]
    content = signed_in.get(QUEUE, {"page": "2"}).content.decode()
    assert "page 2 of 2" in content


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"severity": "critical"}, "Severity (critical)"),
        ({"status": "open"}, "Status (open)"),
        ({"range": "forever"}, "Time range (forever)"),
        ({"since": "yesterday-ish"}, "From (yesterday-ish)"),
        ({"device_group": "abc"}, "Device group (abc)"),
        ({"device_group": "999999"}, "Device group (999999)"),
        ({"service_source": "splunk"}, "Service source (splunk)"),
    ],
)
def test_a_bad_filter_value_is_explained_not_a_server_error(signed_in, queue_alerts, query, message):
    response = signed_in.get(QUEUE, {"f": "1", **query})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Some filters in the address are not valid" in content
    assert message in content
    assert row_ids(response) == []


def test_odd_query_strings_never_fail(signed_in, queue_alerts):
    for query in ({"page": "-1"}, {"page": "1e9"}, {"sort": ""}, {"q": "x" * 5000}, {"assigned": " "}, {"f": ""}):
        assert signed_in.get(QUEUE, query).status_code == 200


def test_no_match_shows_an_empty_state_with_a_way_out(signed_in, queue_alerts):
    response = signed_in.get(QUEUE, {"f": "1", "q": "nothing is called this"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "No alerts match these filters" in content
    assert 'href="/alerts/?f=1">Clear filters</a>' in content


def test_htmx_gets_only_the_results_region(signed_in, queue_alerts):
    response = signed_in.get(QUEUE, {"f": "1", "severity": "high"}, **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content
    assert row_ids(response) == [queue_alerts["new"].pk]
    # The form's hidden sort field follows the results (out of band), so the next filter keeps the sort.
    assert 'id="alert-sort" hx-swap-oob="true"' in content


def test_a_full_page_render_has_the_htmx_form_and_loading_indicator(signed_in, queue_alerts):
    content = signed_in.get(QUEUE).content.decode()
    assert 'hx-get="/alerts/" hx-target="#alert-results" hx-push-url="true"' in content
    assert 'method="get" action="/alerts/"' in content
    assert 'id="alert-loading" class="htmx-indicator"' in content


def test_rows_link_the_alert_its_incident_and_its_first_device_and_user(signed_in):
    [alert] = ingest_and_correlate(
        graph_alert(device("ws-row.corp.example"), user("rita@corp.example"), at=ago(hours=2), title="Row links")
    )
    content = signed_in.get(QUEUE).content.decode()
    entities = {e.entity.kind: e.entity for e in alert.evidence.select_related("entity")}
    assert f'href="/alerts/{alert.pk}/">Row links</a>' in content
    assert f'href="/incidents/{alert.incident_id}/"' in content
    assert entities["device"].display_name == "ws-row"
    assert f'href="/entities/{entities["device"].pk}/">ws-row</a>' in content
    assert f'href="/entities/{entities["user"].pk}/">rita@corp.example</a>' in content


def _queue_rows(count):
    group = DeviceGroupFactory()
    for _ in range(count):
        incident = IncidentFactory()
        alert = AlertFactory(incident=incident, created_at=ago(hours=1), device_group_ids=[group.pk])
        EvidenceFactory(alert=alert, entity=EntityFactory(kind="device"))
        EvidenceFactory(alert=alert, entity=EntityFactory(kind="user", key=f"u{alert.pk}@corp.example"))


def test_the_queue_costs_the_same_queries_for_5_or_30_rows(signed_in, django_assert_num_queries):
    _queue_rows(5)
    signed_in.get(QUEUE)  # warm the session and content-type caches
    with django_assert_num_queries(6):
        assert len(row_ids(signed_in.get(QUEUE))) == 5
    _queue_rows(25)
    with django_assert_num_queries(6):
        assert len(row_ids(signed_in.get(QUEUE))) == 30
    _queue_rows(30)  # a full first page: one count more
    with django_assert_num_queries(7):
        assert len(row_ids(signed_in.get(QUEUE))) == 50


# --- Bulk actions ---------------------------------------------------------------------------------------------


def _updates(alert):
    return ActivityLogEntry.objects.filter(action="incidents.alert.updated", target_id=str(alert.pk))


def test_bulk_status_change_goes_through_the_service_and_the_activity_log(signed_in, queue_alerts):
    chosen = [queue_alerts["new"], queue_alerts["older"]]
    response = signed_in.post(
        BULK + "?f=1&severity=high", {"alert": [a.pk for a in chosen], "action": "status", "status": "inProgress"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/alerts/?f=1&severity=high"
    for alert in chosen:
        alert.refresh_from_db()
        assert alert.status == "inProgress"
        entry = _updates(alert).get()
        assert entry.actor_name == "analyst"
        assert entry.changes["status"] == {"before": "new", "after": "inProgress"}
    # Alerts left unselected stay as they were.
    assert Alert.objects.get(pk=queue_alerts["stale"].pk).status == "new"
    assert not _updates(queue_alerts["progress"]).exists()


def test_bulk_assign_to_me_to_a_name_and_unassign(signed_in, queue_alerts):
    ids = [queue_alerts["new"].pk, queue_alerts["progress"].pk]
    signed_in.post(BULK, {"alert": ids, "action": "assign_me"})
    assert set(Alert.objects.filter(pk__in=ids).values_list("assigned_to", flat=True)) == {"analyst"}
    signed_in.post(BULK, {"alert": ids, "action": "assign", "assigned_to": "  Tier 2  "})
    assert set(Alert.objects.filter(pk__in=ids).values_list("assigned_to", flat=True)) == {"Tier 2"}
    signed_in.post(BULK, {"alert": ids, "action": "unassign"})
    assert set(Alert.objects.filter(pk__in=ids).values_list("assigned_to", flat=True)) == {""}
    assert ActivityLogEntry.objects.filter(action="incidents.alert.updated").count() == 6


def test_bulk_classify_sets_classification_and_determination(signed_in, queue_alerts):
    ids = [queue_alerts["new"].pk, queue_alerts["older"].pk]
    signed_in.post(
        BULK, {"alert": ids, "action": "classify", "classification": "truePositive", "determination": "malware"}
    )
    assert set(Alert.objects.filter(pk__in=ids).values_list("classification", "determination")) == {
        ("truePositive", "malware")
    }


def test_bulk_with_htmx_answers_with_the_refreshed_results_and_lists_each_failure(signed_in, queue_alerts):
    # An alert stored with a pair the rules refuse (a source sent it so) cannot change until it is reclassified.
    odd = AlertFactory(status="new", created_at=ago(hours=4), classification="falsePositive", determination="malware")
    good = queue_alerts["new"]
    response = signed_in.post(
        BULK, {"alert": [good.pk, odd.pk, 987654], "action": "status", "status": "resolved"}, **HTMX
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Updated 1 alert." in content
    assert "2 alerts could not be changed" in content
    assert f"Alert {odd.pk} ({odd.title}): Malware is not a determination for False positive." in content
    assert "Alert 987654: No such alert, or not one you may change." in content
    assert Alert.objects.get(pk=good.pk).status == "resolved"
    assert Alert.objects.get(pk=odd.pk).status == "new"
    # The default view no longer lists the resolved alert.
    assert good.pk not in row_ids(response)
    assert odd.pk in row_ids(response)


def test_bulk_without_a_selection_or_with_a_wrong_pair_changes_nothing(signed_in, queue_alerts):
    response = signed_in.post(BULK, {"action": "status", "status": "resolved"}, **HTMX)
    assert response.status_code == 422
    assert "Select at least one alert first." in response.content.decode()
    response = signed_in.post(
        BULK,
        {
            "alert": [queue_alerts["new"].pk],
            "action": "classify",
            "classification": "falsePositive",
            "determination": "malware",
        },
        **HTMX,
    )
    assert response.status_code == 422
    assert "Malware is not a determination for False positive." in response.content.decode()
    response = signed_in.post(BULK, {"alert": [queue_alerts["new"].pk], "action": "status", "status": "closed"})
    assert response.status_code == 302
    assert Alert.objects.get(pk=queue_alerts["new"].pk).status == "new"
    assert not ActivityLogEntry.objects.filter(action="incidents.alert.updated").exists()


def test_the_bulk_bar_is_only_offered_to_people_who_may_change_alerts(client, reader, analyst, queue_alerts):
    client.force_login(reader)
    content = client.get(QUEUE).content.decode()
    assert 'name="alert"' not in content and "Set status" not in content
    client.force_login(analyst)
    content = client.get(QUEUE).content.decode()
    assert f'name="alert" value="{queue_alerts["new"].pk}"' in content
    assert 'data-testid="select-all"' in content


# --- The alert page -------------------------------------------------------------------------------------------


def _process(pid, name, started, *, parent, parent_started=None, parent_name=None, command=""):
    item = {
        "@odata.type": NS + "processEvidence",
        "processId": pid,
        "processCreationDateTime": started.isoformat(),
        "processCommandLine": command,
        "imageFile": {"sha256": f"{pid:064x}", "fileName": name},
        "parentProcessId": parent,
        "mdeDeviceId": "dev-proc-1",
        "verdict": "suspicious",
    }
    if parent_started:
        item["parentProcessCreationDateTime"] = parent_started.isoformat()
    if parent_name:
        item["parentProcessImageFile"] = {"sha256": f"{parent:064x}", "fileName": parent_name}
    return item


@pytest.fixture
def story_alert():
    """An endpoint alert with a device, a user, an IP and a three-level process chain, correlated into an incident."""
    start = ago(hours=3)
    host = {**device("ws-tree.corp.example"), "mdeDeviceId": "dev-proc-1"}
    payload = graph_alert(
        host,
        user("alice@corp.example"),
        {"@odata.type": NS + "ipEvidence", "ipAddress": "203.0.113.45", "verdict": "malicious"},
        _process(
            7420,
            "powershell.exe",
            start + timedelta(minutes=1),
            parent=6112,
            parent_name="winword.exe",
            command="powershell.exe -nop -w hidden -enc SQBFAFgA",
        ),
        _process(
            8100,
            "rundll32.exe",
            start + timedelta(minutes=2),
            parent=7420,
            parent_started=start + timedelta(minutes=1),
            parent_name="powershell.exe",
        ),
        at=start,
        title="Suspicious PowerShell command line",
        mitre=["T1059.001", "T1105", "T9999"],
    )
    payload["description"] = "PowerShell ran an encoded command."
    payload["recommendedActions"] = "Isolate the device and collect an investigation package."
    [alert] = ingest_and_correlate(payload)
    return alert


def test_the_alert_page_tells_what_happened_and_why_it_is_in_its_incident(signed_in, story_alert):
    response = signed_in.get(reverse("incidents:alert_detail", args=[story_alert.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Suspicious PowerShell command line" in content
    assert "PowerShell ran an encoded command." in content
    assert "Isolate the device and collect an investigation package." in content
    assert "Defender for Endpoint" in content
    # Techniques by their ATT&CK names; an unknown id still shows.
    assert "Command and Scripting Interpreter: PowerShell" in content
    assert "Ingress Tool Transfer" in content
    assert "<code>T9999</code>" in content
    # The incident, and why the alert is in it.
    assert story_alert.correlation_reason
    assert story_alert.correlation_reason in content
    assert f'href="/incidents/{story_alert.incident_id}/"' in content


def test_the_alert_page_lists_the_evidence_linked_to_entity_pages(signed_in, story_alert):
    content = signed_in.get(reverse("incidents:alert_detail", args=[story_alert.pk])).content.decode()
    for evidence in story_alert.evidence.select_related("entity"):
        assert f'href="/entities/{evidence.entity_id}/">{evidence.entity.display_name}</a>' in content
    assert content.count('data-testid="evidence-row"') == story_alert.evidence.count()
    assert "Malicious" in content and "Suspicious" in content


def test_the_alert_page_draws_the_processes_as_a_tree(signed_in, story_alert):
    content = signed_in.get(reverse("incidents:alert_detail", args=[story_alert.pk])).content.decode()
    tree = content[content.index('data-testid="process-tree"') :]
    tree = tree[: tree.index("</section>")]
    parent, child, grandchild = (
        tree.index(name) for name in ("winword.exe (6112)", "powershell.exe (7420)", "rundll32.exe (8100)")
    )
    assert parent < child < grandchild
    # Each process sits in a list nested inside its parent's item, not beside it.
    for upper, lower in ((parent, child), (child, grandchild)):
        between = tree[upper:lower]
        assert '<ul class="process-tree">' in between
        assert "</li>" not in between
    assert "powershell.exe -nop -w hidden -enc SQBFAFgA" in tree
    assert "(parent, known from its child)" in tree


def test_the_manage_form_offers_only_the_determinations_of_the_classification(signed_in, story_alert):
    Alert.objects.filter(pk=story_alert.pk).update(classification="falsePositive", determination="clean")
    content = signed_in.get(reverse("incidents:alert_detail", args=[story_alert.pk])).content.decode()
    select = content[content.index('id="manage-determination"') :]
    select = select[: select.index("</select>")]
    assert '<option value="clean" selected>' in select
    assert 'value="insufficientData"' in select
    assert 'value="malware"' not in select
    # The list htmx fetches when the classification changes.
    options = signed_in.get(
        reverse("incidents:alert_detail", args=[story_alert.pk]),
        {"part": "determinations", "classification": "truePositive"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert 'value="malware"' in options and 'value="clean"' not in options and 'value="apt"' not in options


def test_managing_an_alert_saves_through_the_service(signed_in, story_alert):
    url = reverse("incidents:alert_manage", args=[story_alert.pk])
    response = signed_in.post(
        url, {"status": "inProgress", "assigned_to": "", "classification": "truePositive", "determination": "malware"}
    )
    assert response.status_code == 302
    story_alert.refresh_from_db()
    assert (story_alert.status, story_alert.classification, story_alert.determination) == (
        "inProgress",
        "truePositive",
        "malware",
    )
    entry = _updates(story_alert).get()
    assert set(entry.changes) == {"status", "classification", "determination"}
    # "Assign to me" takes the signed-in person's name.
    response = signed_in.post(
        url,
        {
            "status": "inProgress",
            "assigned_to": "",
            "assign_to_me": "1",
            "classification": "truePositive",
            "determination": "malware",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Alert.objects.get(pk=story_alert.pk).assigned_to == "analyst"
    assert 'id="alert-state"' in response.content.decode() and "hx-swap-oob" in response.content.decode()


def test_a_determination_that_does_not_fit_answers_422_with_the_form(signed_in, story_alert):
    url = reverse("incidents:alert_manage", args=[story_alert.pk])
    data = {"status": "new", "assigned_to": "", "classification": "falsePositive", "determination": "malware"}
    response = signed_in.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    content = response.content.decode()
    assert "Malware is not a determination for False positive." in content
    assert 'id="alert-manage"' in content and "<html" not in content
    # Without JavaScript: the whole page again, with the message by the field.
    response = signed_in.post(url, data)
    assert response.status_code == 422
    assert "Malware is not a determination for False positive." in response.content.decode()
    story_alert.refresh_from_db()
    assert (story_alert.classification, story_alert.determination) == ("unknown", "unknown")
    assert not _updates(story_alert).exists()


def test_a_status_that_is_not_one_answers_422(signed_in, story_alert):
    url = reverse("incidents:alert_manage", args=[story_alert.pk])
    response = signed_in.post(
        url, {"status": "closed", "classification": "unknown", "determination": "unknown"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


def test_comments_are_added_and_listed_newest_first(signed_in, story_alert):
    url = reverse("incidents:alert_comment", args=[story_alert.pk])
    assert signed_in.post(url, {"text": "First look: encoded PowerShell."}).status_code == 302
    response = signed_in.post(url, {"text": "Confirmed with the user."}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("Confirmed with the user.") < content.index("First look: encoded PowerShell.")
    assert Comment.objects.filter(alert=story_alert).count() == 2
    assert ActivityLogEntry.objects.filter(action="incidents.comment.added", target_id=str(story_alert.pk)).count() == 2
    page = signed_in.get(reverse("incidents:alert_detail", args=[story_alert.pk])).content.decode()
    assert page.index("Confirmed with the user.") < page.index("First look: encoded PowerShell.")


def test_an_empty_comment_answers_422(signed_in, story_alert):
    response = signed_in.post(
        reverse("incidents:alert_comment", args=[story_alert.pk]), {"text": "   "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Write something first." in response.content.decode()
    assert not Comment.objects.exists()


def test_moving_an_alert_to_a_new_incident(signed_in, story_alert):
    before = story_alert.incident_id
    response = signed_in.post(
        reverse("incidents:alert_move", args=[story_alert.pk]),
        {"destination": "new", "reason": "Unrelated to the phishing story."},
    )
    assert response.status_code == 302
    story_alert.refresh_from_db()
    assert story_alert.incident_id not in (None, before)
    assert story_alert.correlation_reason == "Moved by analyst: Unrelated to the phishing story."
    assert ActivityLogEntry.objects.filter(action="incidents.alert.moved_in", target_id=str(story_alert.incident_id))
    page = signed_in.get(reverse("incidents:alert_detail", args=[story_alert.pk])).content.decode()
    assert "Moved by analyst: Unrelated to the phishing story." in page


def test_moving_an_alert_to_an_existing_incident_with_htmx(signed_in, story_alert):
    other = IncidentFactory(status="active")
    response = signed_in.post(
        reverse("incidents:alert_move", args=[story_alert.pk]),
        {"destination": "existing", "incident": f"#{other.pk}", "reason": "Same attacker."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f"Moved to incident {other.pk}." in response.content.decode()
    assert Alert.objects.get(pk=story_alert.pk).incident_id == other.pk


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"destination": "new", "reason": ""}, "Say why the alert belongs elsewhere"),
        ({"destination": "existing", "incident": "", "reason": "x"}, "Give the number of the incident"),
        ({"destination": "existing", "incident": "abc", "reason": "x"}, "Give the incident&#x27;s number"),
        ({"destination": "existing", "incident": "987654", "reason": "x"}, "There is no incident 987654"),
    ],
)
def test_a_move_without_what_it_needs_answers_422(signed_in, story_alert, data, message):
    before = story_alert.incident_id
    response = signed_in.post(reverse("incidents:alert_move", args=[story_alert.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert Alert.objects.get(pk=story_alert.pk).incident_id == before


def test_moving_into_the_incident_it_is_already_in_is_refused(signed_in, story_alert):
    response = signed_in.post(
        reverse("incidents:alert_move", args=[story_alert.pk]),
        {"destination": "existing", "incident": str(story_alert.incident_id), "reason": "x"},
    )
    assert response.status_code == 422
    assert "The alert is already in that incident." in response.content.decode()


def test_an_uncorrelated_alert_says_so(signed_in):
    alert = AlertFactory()
    content = signed_in.get(reverse("incidents:alert_detail", args=[alert.pk])).content.decode()
    assert "Not in an incident yet." in content


# --- Permissions and missing objects --------------------------------------------------------------------------


def test_unknown_alerts_answer_404(signed_in):
    assert signed_in.get(reverse("incidents:alert_detail", args=[987654])).status_code == 404
    data = {"status": "new", "classification": "unknown", "determination": "unknown"}
    assert signed_in.post(reverse("incidents:alert_manage", args=[987654]), data).status_code == 404
    assert signed_in.post(reverse("incidents:alert_comment", args=[987654]), {"text": "x"}).status_code == 404
    move = {"destination": "new", "reason": "x"}
    assert signed_in.post(reverse("incidents:alert_move", args=[987654]), move).status_code == 404


def test_a_reader_sees_the_alert_but_every_change_is_refused(client, reader, story_alert):
    client.force_login(reader)
    page = client.get(reverse("incidents:alert_detail", args=[story_alert.pk]))
    assert page.status_code == 200
    assert 'data-testid="manage-form"' not in page.content.decode()
    assert 'data-testid="comment-form"' not in page.content.decode()
    assert 'data-testid="move-form"' not in page.content.decode()
    posts = [
        (BULK, {"alert": [story_alert.pk], "action": "status", "status": "resolved"}),
        (reverse("incidents:alert_manage", args=[story_alert.pk]), {"status": "resolved"}),
        (reverse("incidents:alert_comment", args=[story_alert.pk]), {"text": "hello"}),
        (reverse("incidents:alert_move", args=[story_alert.pk]), {"destination": "new", "reason": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    story_alert.refresh_from_db()
    assert story_alert.status == "new"
    assert not Comment.objects.exists()


def test_someone_without_the_alert_permission_gets_403(client, outsider, story_alert):
    client.force_login(outsider)
    assert client.get(QUEUE).status_code == 403
    assert client.get(reverse("incidents:alert_detail", args=[story_alert.pk])).status_code == 403


def test_writes_are_post_only(signed_in, story_alert):
    assert signed_in.get(BULK).status_code == 405
    assert signed_in.get(reverse("incidents:alert_manage", args=[story_alert.pk])).status_code == 405
    assert signed_in.post(QUEUE).status_code == 405


def test_signed_out_people_are_sent_to_the_login_page(client, story_alert):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_incident_created_by_a_move_is_a_real_incident(signed_in, story_alert):
    signed_in.post(
        reverse("incidents:alert_move", args=[story_alert.pk]), {"destination": "new", "reason": "Separate story."}
    )
    story_alert.refresh_from_db()
    incident = Incident.objects.get(pk=story_alert.incident_id)
    assert incident.alerts_total == 1


def test_technique_names_fall_back_to_the_parent_then_to_the_id():
    from incidents.attack import technique

    assert technique("t1059.001").name == "Command and Scripting Interpreter: PowerShell"
    assert technique("T1566.009").name == "Phishing (sub-technique T1566.009)"
    unknown = technique("T9999")
    assert (unknown.name, unknown.known) == ("T9999", False)
    assert technique("T1486").url == "https://attack.mitre.org/techniques/T1486/"
    assert technique("T1059.001").url == "https://attack.mitre.org/techniques/T1059/001/"
    assert technique("not an id").url == ""


def test_a_row_names_the_incident_only_to_people_who_may_view_it():
    alert = AlertFactory(incident=IncidentFactory(display_name="Secret merger phishing"))
    alert.devices, alert.users, alert.category_text = [], [], ""

    (hidden,) = alert_rows([alert], can_change=False, visible_incidents=set())
    (shown,) = alert_rows([alert], can_change=False, visible_incidents={alert.incident_id})

    assert f"#{alert.incident_id}" in hidden and "Secret merger" not in hidden
    assert "Secret merger phishing" in shown
