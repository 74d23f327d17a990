"""
Correlation: every alert joins the incident that tells its story (DESIGN.md, Correlation).

Alerts come in only through `ingest_alerts`, as Graph alerts_v2 JSON, and are correlated through
`alerts_correlate` (what the Celery task calls), synchronously. Time is set through the alerts' own activity
times, so that the window is tested against the story's clock, not the wall clock.
"""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType

from incidents import tasks
from incidents.choices import IncidentStatus
from incidents.models import Alert, DeviceGroup, Incident, IncidentEntity
from incidents.services.correlation import alert_correlate, alerts_correlate
from incidents.services.rollups import incident_refresh
from portal.models import ActivityLogEntry
from tests.incidents.alert_builders import T0, device, graph_alert, ingest_and_correlate, ip, store, user

pytestmark = pytest.mark.django_db


def actions(incident) -> list[str]:
    return list(
        ActivityLogEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk)
        )
        .order_by("id")
        .values_list("action", flat=True)
    )


def entry(incident, action) -> ActivityLogEntry:
    return ActivityLogEntry.objects.get(
        target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk), action=action
    )


# --- Joining and opening incidents ------------------------------------------------------------------------------


def test_it_puts_an_alert_sharing_a_device_into_the_incident_of_the_first_alert():
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), user("alice@corp.example")))
    (second,) = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), user("bob@corp.example"), at=T0 + timedelta(hours=1))
    )

    assert first.incident_id is not None
    assert second.incident_id == first.incident_id
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.alerts_total == 2
    assert set(incident.alerts.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert second.correlated_at is not None


def test_it_correlates_alerts_of_one_batch_into_one_incident_through_the_celery_task_function():
    alerts = store(
        graph_alert(device("ws1.corp.example"), at=T0),
        graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=30)),
        graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=60)),
    )

    tasks.correlate_alerts([a.pk for a in alerts])

    assert Incident.objects.count() == 1
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {Incident.objects.get().pk}
    assert Incident.objects.get().alerts_total == 3


def test_it_opens_a_new_incident_for_an_alert_that_shares_nothing_with_open_incidents():
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), user("alice@corp.example")))
    (unrelated,) = ingest_and_correlate(
        graph_alert(device("ws2.corp.example"), user("bob@corp.example"), at=T0 + timedelta(minutes=10))
    )

    assert unrelated.incident_id is not None
    assert unrelated.incident_id != first.incident_id
    assert Incident.objects.count() == 2
    assert actions(unrelated.incident) == ["incidents.incident.created", "incidents.alert.linked"]


def test_it_opens_a_new_incident_for_an_alert_outside_the_correlation_window(settings):
    settings.CORRELATION_WINDOW = timedelta(hours=2)
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0, lasting=timedelta(0)))

    (too_late,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0 + timedelta(hours=3)))
    (too_early,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0 - timedelta(hours=3)))
    (in_time,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=90)))

    assert too_late.incident_id != first.incident_id
    assert too_early.incident_id not in (first.incident_id, too_late.incident_id)
    assert in_time.incident_id == first.incident_id
    assert Incident.objects.count() == 3
    assert "within 2 h" in too_late.correlation_reason


def test_it_does_not_let_an_ip_seen_in_more_open_incidents_than_the_noisy_limit_tie_alerts_together(settings):
    settings.CORRELATION_NOISY_INCIDENTS = 2
    # Three incidents that each saw the proxy: the cap of one alert per incident keeps them apart.
    settings.CORRELATION_MAX_ALERTS_PER_INCIDENT = 1
    seeded = ingest_and_correlate(
        *(
            graph_alert(device(f"ws{n}.corp.example"), ip("203.0.113.7"), at=T0 + timedelta(minutes=n))
            for n in (1, 2, 3)
        )
    )
    assert len({a.incident_id for a in seeded}) == 3
    settings.CORRELATION_MAX_ALERTS_PER_INCIDENT = 1000

    (noisy,) = ingest_and_correlate(
        graph_alert(device("ws9.corp.example"), ip("203.0.113.7"), at=T0 + timedelta(minutes=10))
    )

    assert noisy.incident_id not in {a.incident_id for a in seeded}
    assert noisy.correlation_reason.startswith("New incident")
    assert "203.0.113.7" not in noisy.correlation_reason
    assert Incident.objects.filter(status=IncidentStatus.REDIRECTED).count() == 0
    assert Incident.objects.count() == 4


def test_it_stops_tying_alerts_together_through_an_ip_once_it_is_seen_on_more_devices_than_the_noisy_limit(settings):
    # A shared proxy: every alert that carries it would land in one incident, so counting incidents never sees it.
    settings.CORRELATION_NOISY_INCIDENTS = 2
    alerts = [
        ingest_and_correlate(
            graph_alert(device(f"ws{n}.corp.example"), ip("203.0.113.80"), at=T0 + timedelta(minutes=n))
        )[0]
        for n in range(1, 6)
    ]

    # The first two devices are a story the IP may tell; from the third device on, the IP is infrastructure.
    assert alerts[1].incident_id == alerts[0].incident_id
    assert "IP 203.0.113.80" in alerts[1].correlation_reason
    later = alerts[2:]
    assert len({alert.incident_id for alert in later} | {alerts[0].incident_id}) == 4
    for alert in later:
        assert alert.correlation_reason.startswith("New incident")
        assert "203.0.113.80" not in alert.correlation_reason
    assert Incident.objects.filter(status=IncidentStatus.REDIRECTED).count() == 0


def test_it_ignores_an_ip_seen_on_more_devices_than_the_noisy_limit_within_one_batch(settings):
    settings.CORRELATION_NOISY_INCIDENTS = 2

    alerts = ingest_and_correlate(
        *(
            graph_alert(device(f"ws{n}.corp.example"), ip("203.0.113.81"), at=T0 + timedelta(minutes=n))
            for n in (1, 2, 3)
        )
    )

    assert len({alert.incident_id for alert in alerts}) == 3
    assert Incident.objects.count() == 3


def test_it_ties_alerts_on_different_devices_together_through_a_fresh_ip(settings):
    settings.CORRELATION_NOISY_INCIDENTS = 2

    first, second = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), ip("198.51.100.20"), at=T0),
        graph_alert(device("ws2.corp.example"), ip("198.51.100.20"), at=T0 + timedelta(minutes=5)),
    )

    assert second.incident_id == first.incident_id
    assert "IP 198.51.100.20" in second.correlation_reason
    assert Incident.objects.count() == 1


def test_it_never_ties_alerts_together_through_an_ip_on_the_stop_list(settings):
    settings.CORRELATION_STOP_LIST = ["203.0.113.7"]

    first, second = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), ip("203.0.113.7"), at=T0),
        graph_alert(device("ws2.corp.example"), ip("203.0.113.7"), at=T0 + timedelta(minutes=5)),
    )

    assert first.incident_id != second.incident_id
    assert Incident.objects.count() == 2
    assert "203.0.113.7" not in second.correlation_reason


# --- Merging --------------------------------------------------------------------------------------------------


def test_it_merges_the_younger_incident_into_the_older_when_an_alert_ties_them_together():
    (on_device,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0))
    (on_user,) = ingest_and_correlate(graph_alert(user("bob@corp.example"), at=T0 + timedelta(minutes=10)))
    older, younger = on_device.incident, on_user.incident
    assert older.pk != younger.pk
    Incident.objects.filter(pk=older.pk).update(custom_tags=["ransomware", "vip"])
    Incident.objects.filter(pk=younger.pk).update(custom_tags=["vip", "finance"])

    (bridge,) = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), user("bob@corp.example"), at=T0 + timedelta(minutes=20))
    )

    older.refresh_from_db()
    younger.refresh_from_db()
    assert bridge.incident_id == older.pk
    assert younger.status == IncidentStatus.REDIRECTED
    assert younger.redirect_incident_id == older.pk
    assert younger.alerts.count() == 0
    assert not IncidentEntity.objects.filter(incident=younger).exists()
    assert set(older.alerts.values_list("pk", flat=True)) == {on_device.pk, on_user.pk, bridge.pk}
    assert older.alerts_total == 3
    assert older.impacted_assets == {"device": 1, "user": 1}
    assert older.custom_tags == ["ransomware", "vip", "finance"]
    assert older.status == IncidentStatus.ACTIVE
    assert "device ws1.corp.example" in bridge.correlation_reason
    assert "user bob@corp.example" in bridge.correlation_reason

    merged = entry(older, "incidents.incident.merged")
    assert merged.actor_name == "correlation"
    assert merged.changes["merged_incidents"]["after"] == [younger.pk]
    assert merged.changes["custom_tags"] == {"before": ["ransomware", "vip"], "after": ["ransomware", "vip", "finance"]}
    assert f"Alert {bridge.pk}" in merged.message
    merged_into = entry(younger, "incidents.incident.merged_into")
    assert merged_into.changes["status"] == {"before": "active", "after": "redirected"}
    assert merged_into.changes["redirect_incident"] == {"before": None, "after": older.pk}
    assert f"Merged into incident {older.pk}" in merged_into.message


def test_it_merges_incidents_opened_earlier_in_the_same_batch_when_a_later_alert_of_the_batch_ties_them():
    alerts = store(
        graph_alert(device("ws1.corp.example"), at=T0),
        graph_alert(user("bob@corp.example"), at=T0 + timedelta(minutes=1)),
        graph_alert(user("bob@corp.example"), at=T0 + timedelta(minutes=2)),
        graph_alert(device("ws1.corp.example"), user("bob@corp.example"), at=T0 + timedelta(minutes=3)),
    )

    results = alerts_correlate(alert_ids=[alert.pk for alert in alerts])

    survivor = Incident.objects.exclude(status=IncidentStatus.REDIRECTED).get()
    merged = Incident.objects.get(status=IncidentStatus.REDIRECTED)
    assert merged.redirect_incident_id == survivor.pk
    assert set(results.values()) <= {survivor.pk, merged.pk}
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {survivor.pk}
    assert survivor.alerts_total == 4
    assert survivor.impacted_assets == {"device": 1, "user": 1}
    assert not IncidentEntity.objects.filter(incident=merged).exists()
    assert merged.alerts_total == 0


def test_it_merges_incidents_with_the_same_classification_and_an_assignee_on_only_one_of_them():
    (on_device,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0))
    (on_user,) = ingest_and_correlate(graph_alert(user("bob@corp.example"), at=T0 + timedelta(minutes=10)))
    Incident.objects.filter(pk=on_device.incident_id).update(classification="truePositive", assigned_to="analyst")
    Incident.objects.filter(pk=on_user.incident_id).update(classification="truePositive")

    (bridge,) = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), user("bob@corp.example"), at=T0 + timedelta(minutes=20))
    )

    assert bridge.incident_id == on_device.incident_id
    assert Incident.objects.get(pk=on_user.incident_id).status == IncidentStatus.REDIRECTED
    assert Incident.objects.exclude(status=IncidentStatus.REDIRECTED).count() == 1


@pytest.mark.parametrize(
    ("older_fields", "younger_fields"),
    [
        pytest.param({"status": IncidentStatus.RESOLVED}, {}, id="older-resolved"),
        pytest.param({}, {"status": IncidentStatus.RESOLVED}, id="younger-resolved"),
        pytest.param({"classification": "truePositive"}, {"classification": "falsePositive"}, id="classifications"),
        pytest.param({"determination": "malware"}, {"determination": "phishing"}, id="determinations"),
        pytest.param({"assigned_to": "analyst"}, {"assigned_to": "admin"}, id="assignees"),
    ],
)
def test_it_does_not_merge_incidents_defender_would_keep_apart_and_joins_the_one_sharing_most_keys(
    older_fields, younger_fields
):
    (on_device,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0))
    (on_user,) = ingest_and_correlate(
        graph_alert(user("bob@corp.example"), device("ws2.corp.example"), at=T0 + timedelta(minutes=10))
    )
    older_id, younger_id = on_device.incident_id, on_user.incident_id
    Incident.objects.filter(pk=older_id).update(**older_fields)
    Incident.objects.filter(pk=younger_id).update(**younger_fields)
    # Shares one key with the older incident and two with the younger one.
    (bridge,) = ingest_and_correlate(
        graph_alert(
            device("ws1.corp.example"),
            user("bob@corp.example"),
            device("ws2.corp.example"),
            at=T0 + timedelta(minutes=20),
        )
    )

    assert bridge.incident_id == younger_id
    assert "user bob@corp.example" in bridge.correlation_reason
    assert "device ws2.corp.example" in bridge.correlation_reason
    assert "ws1.corp.example" not in bridge.correlation_reason
    assert not Incident.objects.filter(status=IncidentStatus.REDIRECTED).exists()
    assert Incident.objects.get(pk=older_id).alerts_total == 1
    assert list(Incident.objects.get(pk=older_id).alerts.values_list("pk", flat=True)) == [on_device.pk]
    assert Incident.objects.get(pk=younger_id).alerts_total == 2
    assert not ActivityLogEntry.objects.filter(action__startswith="incidents.incident.merged").exists()


def test_it_reopens_a_resolved_incident_that_a_new_alert_joins_within_the_window():
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0))
    incident = first.incident
    Incident.objects.filter(pk=incident.pk).update(status=IncidentStatus.RESOLVED)

    (late,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0 + timedelta(hours=3)))

    incident.refresh_from_db()
    assert late.incident_id == incident.pk
    assert incident.status == IncidentStatus.ACTIVE
    assert incident.alerts_total == 2
    reopened = entry(incident, "incidents.incident.reopened")
    assert reopened.actor_name == "correlation"
    assert reopened.changes == {"status": {"before": "resolved", "after": "active"}}


def test_it_opens_a_new_incident_once_an_incident_holds_the_maximum_number_of_alerts(settings):
    settings.CORRELATION_MAX_ALERTS_PER_INCIDENT = 2

    first, second, third = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), at=T0),
        graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=1)),
        graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=2)),
    )

    assert second.incident_id == first.incident_id
    assert third.incident_id != first.incident_id
    assert Incident.objects.get(pk=first.incident_id).alerts_total == 2
    assert Incident.objects.get(pk=third.incident_id).alerts_total == 1
    assert third.correlation_reason.startswith("New incident")


# --- Why an alert joined ----------------------------------------------------------------------------------------


def test_it_records_which_shared_entities_tied_an_alert_to_its_incident():
    ingest_and_correlate(graph_alert(device("ws1.corp.example"), user("alice@corp.example"), at=T0))

    (joined,) = ingest_and_correlate(
        graph_alert(device("WS1.corp.example"), user("Alice@Corp.Example"), at=T0 + timedelta(minutes=5))
    )

    assert joined.correlation_reason == "shares device ws1.corp.example and user alice@corp.example"
    linked = ActivityLogEntry.objects.filter(action="incidents.alert.linked", changes__alerts__after=joined.pk).get()
    assert "shares device ws1.corp.example and user alice@corp.example" in linked.message


def test_it_says_new_incident_in_the_reason_of_an_alert_that_opened_one():
    (opener,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0))

    assert opener.correlation_reason.startswith("New incident")
    assert "ws1.corp.example" in opener.correlation_reason
    assert opener.correlated_at is not None


# --- Rollups and names ------------------------------------------------------------------------------------------


def test_it_rolls_up_the_incident_from_its_alerts():
    ingest_and_correlate(
        graph_alert(
            device("ws1.corp.example", group="Servers"),
            user("alice@corp.example"),
            at=T0,
            lasting=timedelta(minutes=10),
            severity="low",
            category="InitialAccess",
            mitre=["T1566.001"],
            service_source="microsoftDefenderForOffice365",
            detection_source="microsoftDefenderForOffice365",
        ),
        graph_alert(
            device("ws1.corp.example", group="Servers"),
            device("ws2.corp.example", group="Workstations"),
            ip("203.0.113.9"),
            at=T0 + timedelta(hours=1),
            lasting=timedelta(minutes=30),
            severity="high",
            category="LateralMovement",
            mitre=["T1021", "T1566.001"],
            status="resolved",
        ),
        graph_alert(
            user("alice@corp.example"),
            at=T0 + timedelta(minutes=30),
            severity="medium",
            category="LateralMovement",
            status="inProgress",
        ),
    )

    incident = Incident.objects.get()
    assert incident.severity == "high"
    assert incident.alerts_total == 3
    assert incident.alerts_active == 2
    assert incident.first_activity == T0
    assert incident.last_activity == T0 + timedelta(hours=1, minutes=30)
    assert incident.service_sources == ["microsoftDefenderForEndpoint", "microsoftDefenderForOffice365"]
    assert incident.detection_sources == ["microsoftDefenderForEndpoint", "microsoftDefenderForOffice365"]
    assert incident.categories == ["InitialAccess", "LateralMovement"]
    assert incident.mitre_techniques == ["T1021", "T1566.001"]
    assert incident.impacted_assets == {"device": 2, "user": 1, "ip": 1}
    groups = DeviceGroup.objects.filter(name__in=["Servers", "Workstations"]).values_list("pk", flat=True)
    assert incident.device_group_ids == sorted(groups)
    assert len(incident.device_group_ids) == 2
    assert incident.rollups_stale is False
    assert incident.status == IncidentStatus.ACTIVE


def test_it_keeps_a_severity_set_by_hand_when_higher_alerts_join():
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0, severity="low"))
    Incident.objects.filter(pk=first.incident_id).update(severity="informational", severity_is_custom=True)

    ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=5), severity="high"))

    incident = Incident.objects.get(pk=first.incident_id)
    assert incident.alerts_total == 2
    assert incident.severity == "informational"


def test_it_raises_the_automatic_severity_to_the_highest_alert_severity():
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0, severity="low"))
    assert Incident.objects.get(pk=first.incident_id).severity == "low"

    ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=5), severity="high"))

    assert Incident.objects.get(pk=first.incident_id).severity == "high"


def test_it_names_a_multi_stage_incident_after_its_stages_endpoints_and_sources():
    ingest_and_correlate(
        graph_alert(
            device("ws1.corp.example"),
            user("alice@corp.example"),
            at=T0,
            category="LateralMovement",
            service_source="microsoftDefenderForIdentity",
            detection_source="microsoftDefenderForIdentity",
        ),
        graph_alert(
            device("ws2.corp.example"),
            user("alice@corp.example"),
            at=T0 + timedelta(minutes=5),
            category="InitialAccess",
        ),
    )

    assert Incident.objects.get().display_name == (
        "Multi-stage incident involving Initial access & Lateral movement on multiple endpoints "
        "reported by multiple sources"
    )


def test_it_names_an_incident_of_many_stages_after_the_first_two_and_counts_the_rest():
    ingest_and_correlate(
        *(
            graph_alert(user("alice@corp.example"), at=T0 + timedelta(minutes=n), category=category)
            for n, category in enumerate(["Exfiltration", "Execution", "CredentialAccess", "InitialAccess"])
        )
    )

    assert Incident.objects.get().display_name == (
        "Multi-stage incident involving Initial access, Execution & 2 more stages involving one user"
    )


def test_it_names_a_single_alert_incident_after_the_alert():
    (alert,) = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), at=T0, title="Suspicious PowerShell command line")
    )

    assert alert.incident.display_name == "Suspicious PowerShell command line on one endpoint"


def test_it_keeps_a_name_given_by_hand_when_new_alerts_join():
    (first,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0, category="Execution"))
    Incident.objects.filter(pk=first.incident_id).update(display_name="Red team exercise", display_name_is_custom=True)

    ingest_and_correlate(
        graph_alert(device("ws2.corp.example"), device("ws1.corp.example"), at=T0 + timedelta(minutes=5))
    )

    incident = Incident.objects.get(pk=first.incident_id)
    assert incident.alerts_total == 2
    assert incident.display_name == "Red team exercise"
    assert incident.impacted_assets == {"device": 2}


# --- Status from alerts -----------------------------------------------------------------------------------------


def test_it_resolves_an_incident_once_all_its_alerts_are_resolved():
    payloads = [
        graph_alert(device("ws1.corp.example"), at=T0),
        graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=5)),
    ]
    alerts = ingest_and_correlate(*payloads)
    incident = alerts[0].incident

    store({**payloads[0], "status": "resolved"})
    incident_refresh(incident_id=incident.pk)
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACTIVE
    assert incident.alerts_active == 1

    store({**payloads[1], "status": "resolved"})
    tasks.refresh_incidents([incident.pk])

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.alerts_active == 0
    assert incident.alerts_total == 2
    resolved = entry(incident, "incidents.incident.resolved")
    assert resolved.changes == {"status": {"before": "active", "after": "resolved"}}


# --- Idempotence and the sweep ----------------------------------------------------------------------------------


def test_it_changes_nothing_when_correlation_runs_again_for_the_same_alerts():
    alerts = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), at=T0),
        graph_alert(device("ws1.corp.example"), user("bob@corp.example"), at=T0 + timedelta(minutes=5)),
        graph_alert(device("ws7.corp.example"), at=T0 + timedelta(minutes=6)),
    )
    before = {
        "incidents": list(Incident.objects.order_by("pk").values()),
        "alerts": list(Alert.objects.order_by("pk").values("pk", "incident_id", "correlated_at", "correlation_reason")),
        "activity": ActivityLogEntry.objects.count(),
        "links": IncidentEntity.objects.count(),
    }

    results = alerts_correlate(alert_ids=[a.pk for a in alerts])
    tasks.correlate_alerts([a.pk for a in alerts])

    assert results == {a.pk: a.incident_id for a in alerts}
    assert list(Incident.objects.order_by("pk").values()) == before["incidents"]
    assert (
        list(Alert.objects.order_by("pk").values("pk", "incident_id", "correlated_at", "correlation_reason"))
        == before["alerts"]
    )
    assert ActivityLogEntry.objects.count() == before["activity"]
    assert IncidentEntity.objects.count() == before["links"]


def test_it_correlates_an_alert_whose_correlation_message_was_lost_in_the_sweep(settings):
    settings.CORRELATION_SWEEP_AFTER = timedelta(0)
    (correlated,) = ingest_and_correlate(graph_alert(device("ws1.corp.example"), at=T0))
    # Stored, but its message never reached a worker.
    (lost,) = store(graph_alert(device("ws1.corp.example"), at=T0 + timedelta(minutes=5)))
    assert lost.correlated_at is None

    tasks.correlate_pending()

    lost.refresh_from_db()
    assert lost.incident_id == correlated.incident_id
    assert lost.correlated_at is not None
    assert Incident.objects.get().alerts_total == 2


def test_it_leaves_a_recent_uncorrelated_alert_to_its_own_message_in_the_sweep(settings):
    settings.CORRELATION_SWEEP_AFTER = timedelta(minutes=5)
    (fresh,) = store(graph_alert(device("ws1.corp.example"), at=T0))

    tasks.correlate_pending()

    fresh.refresh_from_db()
    assert fresh.incident_id is None
    assert fresh.correlated_at is None
    assert not Incident.objects.exists()


def test_it_refreshes_incidents_left_with_stale_rollups_in_the_sweep(settings):
    settings.CORRELATION_SWEEP_AFTER = timedelta(0)
    (alert,) = store(
        graph_alert(device("ws1.corp.example"), at=T0, severity="high", category="Execution", title="Mimikatz")
    )
    # One alert correlated, then the worker died before the batch's rollup refresh.
    incident_id, _ = alert_correlate(alert_id=alert.pk)
    stale = Incident.objects.get(pk=incident_id)
    assert stale.rollups_stale is True
    assert stale.categories == []
    assert stale.impacted_assets == {}

    tasks.correlate_pending()

    incident = Incident.objects.get(pk=incident_id)
    assert incident.rollups_stale is False
    assert incident.alerts_total == 1
    assert incident.alerts_active == 1
    assert incident.categories == ["Execution"]
    assert incident.impacted_assets == {"device": 1}
    assert incident.display_name == "Mimikatz on one endpoint"
