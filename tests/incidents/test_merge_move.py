"""
Merging incidents and moving alerts, as a person asks (DESIGN.md, Correlation, point 6).

Incidents are built the way production builds them: alerts ingested as Graph alerts_v2 JSON, then correlated.
"""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from incidents.choices import IncidentStatus
from incidents.models import Alert, Incident, IncidentEntity
from incidents.services.correlation import alerts_correlate, pending_alert_ids
from incidents.services.ingestion import ingest_alerts
from incidents.services.merge import alert_move, incidents_merge
from portal.models import ActivityLogEntry
from tests.incidents.alert_builders import T0, device, graph_alert, ingest_and_correlate, user

pytestmark = pytest.mark.django_db


def separate_incidents(count: int, **alert_fields) -> list[Incident]:
    """`count` incidents of one alert each, on different devices, one minute apart."""
    alerts = ingest_and_correlate(
        *(
            graph_alert(device(f"ws{n}.corp.example"), at=T0 + timedelta(minutes=n), **alert_fields)
            for n in range(1, count + 1)
        )
    )
    incidents = [alert.incident for alert in alerts]
    assert len({incident.pk for incident in incidents}) == count
    return incidents


def log(incident) -> list[ActivityLogEntry]:
    return list(
        ActivityLogEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(Incident), target_id=str(incident.pk)
        ).order_by("id")
    )


def actions(incident) -> list[str]:
    return [entry.action for entry in log(incident)]


def entry(incident, action) -> ActivityLogEntry:
    (found,) = [e for e in log(incident) if e.action == action]
    return found


def fresh(incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


# --- Manual merge -----------------------------------------------------------------------------------------------


def test_it_merges_up_to_five_incidents_into_the_target(analyst):
    severities = ["low", "medium", "informational", "high", "low"]
    categories = ["InitialAccess", "Execution", "Execution", "LateralMovement", "Exfiltration"]
    alerts = ingest_and_correlate(
        *(
            graph_alert(device(f"ws{n}.corp.example"), at=T0 + timedelta(hours=n), severity=s, category=c)
            for n, (s, c) in enumerate(zip(severities, categories, strict=True))
        )
    )
    incidents = [alert.incident for alert in alerts]
    target, sources = incidents[2], [incidents[0], incidents[1], incidents[3], incidents[4]]
    Incident.objects.filter(pk=target.pk).update(custom_tags=["phishing"])
    Incident.objects.filter(pk=sources[0].pk).update(custom_tags=["vip"])
    Incident.objects.filter(pk=sources[3].pk).update(custom_tags=["phishing", "finance"])

    merged = incidents_merge(
        target_id=target.pk,
        source_ids=[s.pk for s in sources],
        actor=analyst,
        reason="One phishing campaign.",
    )

    assert merged.pk == target.pk
    target = fresh(target)
    assert set(target.alerts.values_list("pk", flat=True)) == {a.pk for a in alerts}
    assert target.alerts_total == 5
    assert target.alerts_active == 5
    assert target.severity == "high"
    assert target.impacted_assets == {"device": 5}
    assert target.categories == ["Execution", "Exfiltration", "InitialAccess", "LateralMovement"]
    assert target.first_activity == T0
    assert target.last_activity == T0 + timedelta(hours=4, minutes=5)
    assert target.custom_tags == ["phishing", "vip", "finance"]
    assert target.display_name == (
        "Multi-stage incident involving Initial access, Execution & 2 more stages on multiple endpoints"
    )
    assert target.rollups_stale is False
    assert target.last_modified_by == "analyst"
    assert target.status == IncidentStatus.ACTIVE
    for source in sources:
        source = fresh(source)
        assert source.status == IncidentStatus.REDIRECTED
        assert source.redirect_incident_id == target.pk
        assert source.alerts_total == 0
        assert not source.alerts.exists()
        assert not IncidentEntity.objects.filter(incident=source).exists()
        merged_into = entry(source, "incidents.incident.merged_into")
        assert merged_into.actor_id == analyst.pk
        assert merged_into.actor_name == "analyst"
        assert merged_into.changes["redirect_incident"] == {"before": None, "after": target.pk}
        assert "One phishing campaign." in merged_into.message
    merged_entry = entry(target, "incidents.incident.merged")
    assert merged_entry.actor_name == "analyst"
    assert sorted(merged_entry.changes["merged_incidents"]["after"]) == sorted(s.pk for s in sources)
    assert merged_entry.changes["custom_tags"]["after"] == ["phishing", "vip", "finance"]
    assert "One phishing campaign." in merged_entry.message


def test_it_refuses_to_merge_six_incidents_at_once(analyst):
    target, *sources = separate_incidents(6)

    with pytest.raises(ValidationError, match="At most 5"):
        incidents_merge(target_id=target.pk, source_ids=[s.pk for s in sources], actor=analyst, reason="Too many.")

    assert not Incident.objects.filter(status=IncidentStatus.REDIRECTED).exists()
    assert set(Incident.objects.values_list("alerts_total", flat=True)) == {1}
    assert not ActivityLogEntry.objects.filter(action__startswith="incidents.incident.merged").exists()


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("assigned_to", ("analyst", "admin"), "assigned to different people"),
        ("classification", ("truePositive", "falsePositive"), "classified differently"),
        ("determination", ("malware", "phishing"), "different determinations"),
    ],
)
def test_it_refuses_to_merge_incidents_that_people_judged_differently(analyst, field, values, message):
    target, source, third = separate_incidents(3)
    Incident.objects.filter(pk=target.pk).update(**{field: values[0]})
    Incident.objects.filter(pk=source.pk).update(**{field: values[1]})

    with pytest.raises(ValidationError, match=message):
        incidents_merge(target_id=target.pk, source_ids=[third.pk, source.pk], actor=analyst, reason="Same story.")

    assert not Incident.objects.filter(status=IncidentStatus.REDIRECTED).exists()
    assert fresh(target).alerts_total == 1
    assert fresh(third).alerts_total == 1


def test_it_merges_incidents_where_only_one_has_an_assignee_and_a_classification(analyst):
    target, source = separate_incidents(2)
    Incident.objects.filter(pk=source.pk).update(assigned_to="analyst", classification="truePositive")

    incidents_merge(target_id=target.pk, source_ids=[source.pk], actor=analyst, reason="Same host pair.")

    assert fresh(source).status == IncidentStatus.REDIRECTED
    assert fresh(target).alerts_total == 2


def test_it_refuses_to_merge_an_incident_that_was_already_merged(analyst):
    first, second, third = separate_incidents(3)
    incidents_merge(target_id=first.pk, source_ids=[second.pk], actor=analyst, reason="Same story.")

    with pytest.raises(ValidationError, match="already merged"):
        incidents_merge(target_id=third.pk, source_ids=[second.pk], actor=analyst, reason="Again.")
    with pytest.raises(ValidationError, match="already merged"):
        incidents_merge(target_id=second.pk, source_ids=[third.pk], actor=analyst, reason="Into the merged one.")

    assert fresh(second).redirect_incident_id == first.pk
    assert fresh(third).status == IncidentStatus.ACTIVE
    assert fresh(third).alerts_total == 1
    assert fresh(first).alerts_total == 2


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_to_merge_without_a_reason(analyst, reason):
    target, source = separate_incidents(2)

    with pytest.raises(ValidationError, match="reason"):
        incidents_merge(target_id=target.pk, source_ids=[source.pk], actor=analyst, reason=reason)

    assert fresh(source).status == IncidentStatus.ACTIVE
    assert fresh(target).alerts_total == 1


def test_it_refuses_to_merge_an_incident_with_only_itself(analyst):
    (target,) = separate_incidents(1)

    with pytest.raises(ValidationError, match="at least one other"):
        incidents_merge(target_id=target.pk, source_ids=[target.pk], actor=analyst, reason="Itself.")

    assert fresh(target).status == IncidentStatus.ACTIVE


def test_it_gives_a_renamed_target_its_automatic_name_back_after_a_merge(analyst):
    target, source = separate_incidents(2, category="Execution")
    Incident.objects.filter(pk=target.pk).update(display_name="Red team", display_name_is_custom=True)

    incidents_merge(target_id=target.pk, source_ids=[source.pk], actor=analyst, reason="Same test.")

    target = fresh(target)
    assert target.display_name_is_custom is False
    assert target.display_name == "Execution incident on multiple endpoints"


# --- Moving an alert --------------------------------------------------------------------------------------------


def test_it_moves_an_alert_out_to_a_new_incident(analyst):
    stays, moves = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), at=T0, severity="high", category="Execution", title="Mimikatz"),
        graph_alert(
            device("ws1.corp.example"),
            device("ws2.corp.example"),
            at=T0 + timedelta(hours=1),
            severity="low",
            category="Discovery",
            title="Port scan",
        ),
    )
    source = stays.incident
    assert moves.incident_id == source.pk
    assert fresh(source).impacted_assets == {"device": 2}

    moved = alert_move(alert_id=moves.pk, actor=analyst, reason="A scanner, not the attacker.")

    moved.refresh_from_db()
    target = moved.incident
    assert target.pk not in (None, source.pk)
    assert moved.correlation_reason == "Moved by analyst: A scanner, not the attacker."
    assert target.alerts_total == 1
    assert target.alerts_active == 1
    assert target.severity == "low"
    assert target.categories == ["Discovery"]
    assert target.impacted_assets == {"device": 2}
    assert target.first_activity == T0 + timedelta(hours=1)
    assert target.display_name == "Port scan on multiple endpoints"
    assert target.status == IncidentStatus.ACTIVE
    assert actions(target) == ["incidents.incident.created", "incidents.alert.moved_in"]
    assert entry(target, "incidents.alert.moved_in").actor_name == "analyst"
    assert entry(target, "incidents.alert.moved_in").changes == {"alert": {"before": source.pk, "after": target.pk}}

    source = fresh(source)
    assert list(source.alerts.values_list("pk", flat=True)) == [stays.pk]
    assert source.alerts_total == 1
    assert source.severity == "high"
    assert source.categories == ["Execution"]
    assert source.impacted_assets == {"device": 1}
    assert source.last_activity == T0 + timedelta(minutes=5)
    assert source.display_name == "Mimikatz on one endpoint"
    assert set(IncidentEntity.objects.filter(incident=source).values_list("entity__key", flat=True)) == {
        "ws1.corp.example"
    }
    moved_out = entry(source, "incidents.alert.moved_out")
    assert moved_out.actor_id == analyst.pk
    assert "A scanner, not the attacker." in moved_out.message


def test_it_moves_an_alert_to_another_incident(analyst):
    first, second = separate_incidents(2)
    Incident.objects.filter(pk=second.pk).update(severity="low")
    (extra,) = ingest_and_correlate(
        graph_alert(device("ws1.corp.example"), user("carol@corp.example"), at=T0, severity="high", category="Impact")
    )
    assert extra.incident_id == first.pk

    alert_move(alert_id=extra.pk, actor=analyst, reason="Belongs to the ws2 story.", incident_id=second.pk)

    extra.refresh_from_db()
    assert extra.incident_id == second.pk
    second, first = fresh(second), fresh(first)
    assert second.alerts_total == 2
    assert second.severity == "high"
    assert second.categories == ["Execution", "Impact"]
    assert second.impacted_assets == {"device": 2, "user": 1}
    assert second.first_activity == T0
    assert first.alerts_total == 1
    assert first.severity == "medium"
    assert first.impacted_assets == {"device": 1}
    assert not IncidentEntity.objects.filter(incident=first, entity__kind="user").exists()
    assert entry(first, "incidents.alert.moved_out").changes == {"alert": {"before": first.pk, "after": second.pk}}
    assert entry(second, "incidents.alert.moved_in").changes == {"alert": {"before": first.pk, "after": second.pk}}
    assert "incidents.incident.created" not in actions(second)[1:]


def test_it_refuses_to_move_an_alert_into_the_incident_it_is_already_in(analyst):
    (incident,) = separate_incidents(1)
    alert = incident.alerts.get()

    with pytest.raises(ValidationError, match="already in that incident"):
        alert_move(alert_id=alert.pk, actor=analyst, reason="No-op.", incident_id=incident.pk)

    assert not ActivityLogEntry.objects.filter(action__startswith="incidents.alert.moved").exists()


def test_it_refuses_to_move_an_alert_into_a_merged_incident(analyst):
    first, second, third = separate_incidents(3)
    incidents_merge(target_id=first.pk, source_ids=[second.pk], actor=analyst, reason="Same story.")
    alert = third.alerts.get()

    with pytest.raises(ValidationError, match=f"merged into {first.pk}"):
        alert_move(alert_id=alert.pk, actor=analyst, reason="Wrong target.", incident_id=second.pk)

    alert.refresh_from_db()
    assert alert.incident_id == third.pk
    assert fresh(second).alerts_total == 0


def test_it_takes_an_alert_moved_before_correlation_off_the_sweeps_list(analyst, settings):
    settings.CORRELATION_SWEEP_AFTER = timedelta(0)
    (incident,) = separate_incidents(1)
    # Stored, not yet correlated (its message is still queued), and a person files it by hand.
    result = ingest_alerts([graph_alert(user("dave@corp.example"), at=T0)], source="tests")
    (alert_id,) = result.accepted
    assert alert_id in pending_alert_ids()

    alert_move(alert_id=alert_id, actor=analyst, reason="Same phishing wave.", incident_id=incident.pk)

    assert Alert.objects.get(pk=alert_id).incident_id == incident.pk
    assert alert_id not in pending_alert_ids()


@pytest.mark.django_db
def test_it_resolves_an_incident_whose_last_alert_was_moved_out_and_keeps_its_name(admin_user):
    result = ingest_alerts(
        [
            {
                "id": "da-last-alert",
                "title": "Lonely alert",
                "evidence": [
                    {"@odata.type": "#microsoft.graph.security.deviceEvidence", "deviceDnsName": "lonely.corp.example"}
                ],
            }
        ],
        source="test",
    )
    alert_id = result.accepted[0]
    source_id = alerts_correlate(alert_ids=[alert_id])[alert_id]
    name = Incident.objects.get(pk=source_id).display_name

    alert_move(alert_id=alert_id, actor=admin_user, reason="Belongs to its own case")

    source = Incident.objects.get(pk=source_id)
    assert source.alerts_total == 0
    assert source.status == "resolved"
    assert source.display_name == name
    assert source.resolving_comment == "Its alerts were moved to other incidents."
