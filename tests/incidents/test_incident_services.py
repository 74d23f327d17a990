import pytest
from django.core.exceptions import ValidationError

from incidents.models import Alert, Comment, Incident
from incidents.services.correlation import alerts_correlate
from incidents.services.incidents import alert_update, comment_add, incident_update
from incidents.services.ingestion import ingest_alerts
from portal.models import ActivityLogEntry
from tests.factories import AlertFactory

pytestmark = pytest.mark.django_db


def _story(count=3, status="new"):
    result = ingest_alerts(
        [
            {
                "id": f"da-story-{n}",
                "title": f"Step {n}",
                "severity": "medium",
                "status": status if n else "resolved",
                "evidence": [
                    {"@odata.type": "#microsoft.graph.security.deviceEvidence", "deviceDnsName": "ws9.corp.example"}
                ],
            }
            for n in range(count)
        ],
        source="test",
    )
    incident_ids = set(alerts_correlate(alert_ids=result.accepted).values())
    assert len(incident_ids) == 1
    return Incident.objects.get(pk=incident_ids.pop())


def test_it_resolves_the_active_alerts_when_an_incident_is_resolved(analyst):
    incident = _story()
    assert Alert.objects.filter(incident=incident, status="new").count() == 2

    incident_update(
        incident_id=incident.pk, actor=analyst, status="resolved", resolving_comment="Contained and cleaned."
    )

    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.alerts_active == 0
    assert set(Alert.objects.filter(incident=incident).values_list("status", flat=True)) == {"resolved"}
    assert not Alert.objects.filter(incident=incident, resolved_at__isnull=True).exists()
    entry = ActivityLogEntry.objects.get(action="incidents.incident.updated", target_id=str(incident.pk))
    assert entry.actor_name == "analyst"
    assert entry.changes["status"] == {"before": "active", "after": "resolved"}
    # One entry per alert that changed (the already-resolved one did not).
    assert ActivityLogEntry.objects.filter(action="incidents.alert.updated").count() == 2


def test_it_asks_for_a_resolving_comment(analyst):
    incident = _story()
    with pytest.raises(ValidationError, match="how the incident was resolved"):
        incident_update(incident_id=incident.pk, actor=analyst, status="resolved")
    incident.refresh_from_db()
    assert incident.status == "active"


def test_it_assigns_the_alerts_with_the_incident(analyst):
    incident = _story()
    incident_update(incident_id=incident.pk, actor=analyst, assigned_to="analyst")
    assert set(Alert.objects.filter(incident=incident).values_list("assigned_to", flat=True)) == {"analyst"}


def test_it_refuses_a_determination_of_another_classification(analyst):
    incident = _story()
    with pytest.raises(ValidationError, match="not a determination"):
        incident_update(incident_id=incident.pk, actor=analyst, classification="falsePositive", determination="malware")
    incident_update(incident_id=incident.pk, actor=analyst, classification="truePositive", determination="malware")
    incident.refresh_from_db()
    assert (incident.classification, incident.determination) == ("truePositive", "malware")
    # A new classification alone drops a determination that no longer fits.
    incident_update(incident_id=incident.pk, actor=analyst, classification="falsePositive")
    incident.refresh_from_db()
    assert (incident.classification, incident.determination) == ("falsePositive", "unknown")


def test_a_rename_and_a_severity_set_by_hand_stick(analyst):
    incident = _story()
    incident_update(incident_id=incident.pk, actor=analyst, display_name="Workstation 9 compromise", severity="high")
    incident.refresh_from_db()
    assert incident.display_name_is_custom and incident.severity_is_custom
    assert (incident.display_name, incident.severity) == ("Workstation 9 compromise", "high")


def test_it_refuses_changes_to_a_redirected_incident(analyst):
    target, source = _story(), Incident.objects.create(display_name="old")
    Incident.objects.filter(pk=source.pk).update(status="redirected", redirect_incident=target)
    with pytest.raises(ValidationError, match="merged into incident"):
        incident_update(incident_id=source.pk, actor=analyst, assigned_to="analyst")


def test_it_deduplicates_and_trims_tags(analyst):
    incident = _story()
    incident_update(incident_id=incident.pk, actor=analyst, custom_tags=[" BEC ", "BEC", "", "finance"])
    incident.refresh_from_db()
    assert incident.custom_tags == ["BEC", "finance"]


def test_an_unchanged_update_writes_nothing(analyst):
    incident = _story()
    before = ActivityLogEntry.objects.count()
    incident_update(incident_id=incident.pk, actor=analyst, severity=incident.severity)
    assert ActivityLogEntry.objects.count() == before


def test_resolving_every_alert_resolves_the_incident(analyst):
    incident = _story(count=2)
    alert = Alert.objects.get(incident=incident, status="new")
    alert_update(alert_id=alert.pk, actor=analyst, status="resolved")
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert ActivityLogEntry.objects.filter(action="incidents.incident.resolved", target_id=str(incident.pk)).exists()


def test_comments_are_kept_and_logged_and_bounded(analyst):
    incident = _story()
    comment_add(actor=analyst, incident_id=incident.pk, text="  Isolated ws9.  ")
    assert Comment.objects.get(incident=incident).text == "Isolated ws9."
    assert ActivityLogEntry.objects.filter(action="incidents.comment.added", target_id=str(incident.pk)).exists()
    with pytest.raises(ValidationError, match="30,000"):
        comment_add(actor=analyst, incident_id=incident.pk, text="x" * 30_001)
    with pytest.raises(ValidationError, match="Write something"):
        comment_add(actor=analyst, incident_id=incident.pk, text="   ")
    assert Comment.objects.count() == 1


def test_alert_update_refuses_to_set_unknown_but_keeps_an_alert_that_came_unknown(analyst):
    new = AlertFactory(status="new")
    came_unknown = AlertFactory(status="unknown")

    with pytest.raises(ValidationError, match="not a status to set"):
        alert_update(alert_id=new.pk, actor=analyst, status="unknown")
    alert_update(alert_id=came_unknown.pk, actor=analyst, status="unknown", assigned_to="  analyst ")

    assert Alert.objects.get(pk=new.pk).status == "new"
    kept = Alert.objects.get(pk=came_unknown.pk)
    assert (kept.status, kept.assigned_to) == ("unknown", "analyst")


def test_alert_update_refuses_an_assignee_longer_than_the_field(analyst):
    alert = AlertFactory()

    with pytest.raises(ValidationError, match="at most 254 characters"):
        alert_update(alert_id=alert.pk, actor=analyst, assigned_to="x" * 255)
    assert Alert.objects.get(pk=alert.pk).assigned_to == ""
