"""
What people change on an incident or an alert, with the rules of the domain enforced here rather than in views:
resolving an incident resolves its active alerts; assigning an incident assigns its alerts; a determination must
belong to the classification; every change is in the activity log with who, what, before and after.

Each write finds its row through the actor's scope inside its transaction (`incidents_to_change`,
`alerts_to_change`) and locks it there: an object that left the actor's data scope since the page was loaded is
refused with `OutOfScope`, never changed. A change to an incident also needs every alert in it to be in the actor's
change scope, since its assignee and status follow to its alerts: otherwise `BeyondScope`. The system (actor None)
reaches everything.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.choices import AlertStatus, Classification, Determination, IncidentStatus, Severity
from incidents.models import COMMENT_MAX_LENGTH, Alert, Comment, Incident
from incidents.selectors import BeyondScope, OutOfScope, alerts_beyond_scope, alerts_to_change, incidents_to_change
from portal.concurrency import StaleVersion, version_matches, version_of
from portal.errors import validation_messages
from portal.services import activity_record, activity_record_many, changes_between, snapshot

__all__ = (
    "ASSIGNEE_MAX_LENGTH",
    "DEPRECATED_DETERMINATIONS",
    "DETERMINATIONS_BY_CLASSIFICATION",
    "BulkOutcome",
    "alert_update",
    "alert_version",
    "bulk_apply",
    "comment_add",
    "determinations_offered",
    "incident_tag",
    "incident_update",
    "incident_version",
    "locked_alert",
    "locked_incident",
)

DETERMINATIONS_BY_CLASSIFICATION = {
    Classification.UNKNOWN: {Determination.UNKNOWN},
    Classification.TRUE_POSITIVE: {
        Determination.UNKNOWN,
        Determination.MULTI_STAGED_ATTACK,
        Determination.MALICIOUS_USER_ACTIVITY,
        Determination.COMPROMISED_USER,
        Determination.MALWARE,
        Determination.PHISHING,
        Determination.UNWANTED_SOFTWARE,
        Determination.OTHER,
        Determination.APT,
    },
    Classification.INFORMATIONAL_EXPECTED_ACTIVITY: {
        Determination.UNKNOWN,
        Determination.SECURITY_TESTING,
        Determination.LINE_OF_BUSINESS_APPLICATION,
        Determination.CONFIRMED_USER_ACTIVITY,
        Determination.SECURITY_PERSONNEL,
        Determination.OTHER,
    },
    Classification.FALSE_POSITIVE: {
        Determination.UNKNOWN,
        Determination.CLEAN,
        Determination.INSUFFICIENT_DATA,
        Determination.OTHER,
    },
}
# Deprecated by Microsoft in August 2022: no longer offered, still shown on an item that carries one.
DEPRECATED_DETERMINATIONS = {Determination.APT, Determination.SECURITY_PERSONNEL}


def determinations_offered(classification: str, current: str | None = None) -> list[tuple[str, str]]:
    """(value, label) of the determinations a person may choose for a classification, in the portal's order."""
    allowed = DETERMINATIONS_BY_CLASSIFICATION.get(classification, {Determination.UNKNOWN})
    return [
        (value, label)
        for value, label in Determination.choices
        if value in allowed and (value not in DEPRECATED_DETERMINATIONS or value == current)
    ]


INCIDENT_FIELDS = (
    "display_name",
    "severity",
    "status",
    "classification",
    "determination",
    "assigned_to",
    "custom_tags",
    "resolving_comment",
    "summary",
)
ALERT_FIELDS = ("status", "classification", "determination", "assigned_to")
# What a person sets; "unknown" is only ever the source's, kept while nobody changes it.
SETTABLE_ALERT_STATUSES = (AlertStatus.NEW, AlertStatus.IN_PROGRESS, AlertStatus.RESOLVED)
ASSIGNEE_MAX_LENGTH = Alert._meta.get_field("assigned_to").max_length
SETTABLE_INCIDENT_STATUSES = {IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED}


def _fit_determination(item: Incident | Alert, values: dict) -> None:
    """
    A new classification without a determination resets a determination that no longer fits it; an explicit
    determination must belong to the classification.
    """
    allowed = DETERMINATIONS_BY_CLASSIFICATION.get(item.classification, set())
    if "classification" in values and "determination" not in values and item.determination not in allowed:
        item.determination = Determination.UNKNOWN
    check_classification(item.classification, item.determination)


def check_classification(classification: str, determination: str) -> None:
    """A ValidationError unless the determination belongs to the classification (both as Graph values)."""
    if classification not in Classification.values:
        raise ValidationError({"classification": f"{classification!r} is not a classification."})
    if determination not in Determination.values:
        raise ValidationError({"determination": f"{determination!r} is not a determination."})
    if determination not in DETERMINATIONS_BY_CLASSIFICATION.get(classification, set()):
        raise ValidationError(
            {
                "determination": f"{Determination(determination).label} is not a determination for "
                f"{Classification(classification).label}."
            }
        )


def _normalise_tags(tags) -> list[str]:
    cleaned = []
    for tag in tags:
        tag = str(tag).strip()
        if not tag:
            continue
        if len(tag) > 100:
            raise ValidationError({"custom_tags": "A tag is at most 100 characters."})
        cleaned.append(tag)
    return list(dict.fromkeys(cleaned))


def locked_incident(actor, incident_id: int, *, no_key: bool = False, whole: bool = True) -> Incident:
    """
    The incident, locked for the caller's transaction, when `actor` may change it now: OutOfScope when it is not in
    their change scope, BeyondScope when it is but `whole` (a change to the incident itself) and some of its alerts
    are not. A comment (`whole` False) adds to the incident without touching its alerts. `no_key` takes the lighter
    lock of a write that leaves the row itself alone.
    """
    incident = incidents_to_change(actor).select_for_update(no_key=no_key).filter(pk=incident_id).first()
    if incident is None:
        raise OutOfScope(Incident, incident_id)
    # Checked under the incident's lock: correlation links alerts under it too, so none joins unseen meanwhile.
    if whole and alerts_beyond_scope(actor, [incident.pk]):
        raise BeyondScope(incident.pk)
    return incident


def locked_alert(actor, alert_id: int, *, no_key: bool = False) -> Alert:
    """The alert, locked for the caller's transaction, when `actor` may change it now; OutOfScope otherwise."""
    alert = alerts_to_change(actor).select_for_update(no_key=no_key).filter(pk=alert_id).first()
    if alert is None:
        raise OutOfScope(Alert, alert_id)
    return alert


def incident_version(incident: Incident) -> str:
    """The incident's ETag: it changes whenever the incident is saved (a person's change, a rollup, a merge)."""
    return version_of(incident.pk, incident.last_update)


@transaction.atomic
def incident_update(*, incident_id: int, actor, if_match: str | None = None, **values) -> Incident:
    """
    Change what a person may change on an incident: display_name, severity, status, classification,
    determination, assigned_to, custom_tags, resolving_comment, summary.

    With `if_match` (an If-Match header's value), the change applies only if the incident is still at that version,
    checked under the row's lock so that two concurrent writers based on the same version cannot both win;
    StaleVersion otherwise.
    """
    unknown = set(values) - set(INCIDENT_FIELDS)
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))} on an incident.")
    incident = locked_incident(actor, incident_id)
    if if_match is not None and not version_matches(if_match, incident_version(incident)):
        raise StaleVersion(incident_version(incident))
    if incident.status == IncidentStatus.REDIRECTED:
        raise ValidationError(
            f"Incident {incident.pk} was merged into incident {incident.redirect_incident_id}; change that one."
        )
    before = snapshot(incident, INCIDENT_FIELDS)
    if "display_name" in values:
        name = (values["display_name"] or "").strip()
        if not name:
            raise ValidationError({"display_name": "An incident needs a name."})
        if name != incident.display_name:
            incident.display_name = name[:400]
            incident.display_name_is_custom = True
    if "severity" in values:
        if values["severity"] not in Severity.values:
            raise ValidationError({"severity": f"{values['severity']!r} is not a severity."})
        if values["severity"] != incident.severity:
            incident.severity = values["severity"]
            incident.severity_is_custom = True
    if "custom_tags" in values:
        incident.custom_tags = _normalise_tags(values["custom_tags"])
    for field in ("classification", "determination", "assigned_to", "summary"):
        if field in values:
            setattr(incident, field, (values[field] or "") if field in ("assigned_to", "summary") else values[field])
    _fit_determination(incident, values)
    if "resolving_comment" in values:
        incident.resolving_comment = (values["resolving_comment"] or "").strip()
    if "status" in values and values["status"] != incident.status:
        status = values["status"]
        if status not in SETTABLE_INCIDENT_STATUSES:
            raise ValidationError({"status": "Set the status to active, inProgress or resolved."})
        if status == IncidentStatus.RESOLVED and not incident.resolving_comment:
            raise ValidationError({"resolving_comment": "Say how the incident was resolved."})
        incident.status = status

    changes = changes_between(before, snapshot(incident, INCIDENT_FIELDS))
    if not changes:
        return incident
    incident.last_modified_by = actor.get_username()
    incident.full_clean(exclude=["redirect_incident"])
    incident.save()
    activity_record(actor=actor, action="incidents.incident.updated", target=incident, changes=changes)

    if "assigned_to" in changes:
        _alerts_follow(incident, actor, assigned_to=incident.assigned_to)
    if changes.get("status", {}).get("after") == IncidentStatus.RESOLVED:
        _alerts_follow(incident, actor, status=AlertStatus.RESOLVED)
    return incident


@transaction.atomic
def incident_tag(*, incident_id: int, actor, tag: str, remove: bool = False) -> Incident:
    """
    Add one tag to an incident's tags (last), or remove it. The tags are read under the incident's lock, so that
    two people tagging the same incident at once both keep their tag.
    """
    incident = locked_incident(actor, incident_id)
    tags = [t for t in incident.custom_tags if t != tag]
    return incident_update(incident_id=incident_id, actor=actor, custom_tags=tags if remove else [*tags, tag])


def _alerts_follow(incident: Incident, actor, **values) -> None:
    """Assigning an incident assigns its alerts; resolving it resolves its active alerts."""
    alerts = Alert.objects.select_for_update().filter(incident=incident).order_by("pk")
    if values.get("status") == AlertStatus.RESOLVED:
        alerts = alerts.exclude(status=AlertStatus.RESOLVED)
    now = timezone.now()
    changed = []
    for alert in alerts:
        before = snapshot(alert, ALERT_FIELDS)
        for field, value in values.items():
            setattr(alert, field, value)
        if alert.status == AlertStatus.RESOLVED and alert.resolved_at is None:
            alert.resolved_at = now
        alert.last_update = now
        changes = changes_between(before, snapshot(alert, ALERT_FIELDS))
        if changes:
            changed.append((alert, changes))
    if not changed:
        return
    Alert.objects.bulk_update([a for a, _ in changed], [*values, "resolved_at", "last_update"])
    activity_record_many(
        actor=actor, action="incidents.alert.updated", targets=changed, message=f"Follows incident {incident.pk}."
    )
    incident.alerts_active = Alert.objects.filter(
        incident=incident, status__in=[AlertStatus.NEW, AlertStatus.IN_PROGRESS, AlertStatus.UNKNOWN]
    ).count()
    incident.save(update_fields=["alerts_active"])


def alert_version(alert: Alert) -> str:
    """
    The alert's ETag: it changes whenever the alert's last update moves (a person's change, its incident's resolving or
    assigning, a newer version of it from its source).
    """
    return version_of(alert.pk, alert.last_update)


@transaction.atomic
def alert_update(*, alert_id: int, actor, if_match: str | None = None, **values) -> Alert:
    """
    Change an alert's status, classification, determination or assignee; its incident's rollups follow. With
    `if_match`, only if the alert is still at that version (checked under its lock, as for incidents).
    """
    from incidents.services.rollups import incident_refresh

    unknown = set(values) - set(ALERT_FIELDS)
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))} on an alert.")
    alert = locked_alert(actor, alert_id)
    if if_match is not None and not version_matches(if_match, alert_version(alert)):
        raise StaleVersion(alert_version(alert))
    before = snapshot(alert, ALERT_FIELDS)
    if "status" in values and values["status"] != alert.status and values["status"] not in SETTABLE_ALERT_STATUSES:
        raise ValidationError({"status": f"{values['status']!r} is not a status to set on an alert."})
    if "assigned_to" in values:
        values["assigned_to"] = (values["assigned_to"] or "").strip()
        if len(values["assigned_to"]) > ASSIGNEE_MAX_LENGTH:
            raise ValidationError({"assigned_to": f"A name is at most {ASSIGNEE_MAX_LENGTH} characters."})
    for field, value in values.items():
        setattr(alert, field, value)
    _fit_determination(alert, values)
    changes = changes_between(before, snapshot(alert, ALERT_FIELDS))
    if not changes:
        return alert
    now = timezone.now()
    alert.resolved_at = (alert.resolved_at or now) if alert.status == AlertStatus.RESOLVED else None
    alert.last_update = now
    alert.save(update_fields=[*ALERT_FIELDS, "resolved_at", "last_update"])
    activity_record(actor=actor, action="incidents.alert.updated", target=alert, changes=changes)
    if alert.incident_id and "status" in changes:
        incident_refresh(incident_id=alert.incident_id, sync_entities=False)
    return alert


@transaction.atomic
def comment_add(*, actor, text: str, incident_id: int | None = None, alert_id: int | None = None) -> Comment:
    if (incident_id is None) == (alert_id is None):
        raise ValueError("A comment belongs to an incident or to an alert.")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write something first."})
    if len(text) > COMMENT_MAX_LENGTH:
        raise ValidationError({"text": f"A comment is at most {COMMENT_MAX_LENGTH:,} characters."})
    # Commenting needs the right to manage the incident or alert, in scope at the time of writing.
    if incident_id is not None:
        target = locked_incident(actor, incident_id, no_key=True, whole=False)
    else:
        target = locked_alert(actor, alert_id, no_key=True)
    comment = Comment.objects.create(
        incident_id=incident_id, alert_id=alert_id, author=actor, author_name=actor.get_username(), text=text
    )
    activity_record(actor=actor, action="incidents.comment.added", target=target, message=text[:300])
    return comment


@dataclass(frozen=True)
class BulkOutcome:
    updated: list[int]
    # (id, the rules' messages) in the order asked; None for an id that is missing or out of the actor's scope.
    failed: list[tuple[int, str | None]]


def bulk_apply(ids: list[int], write: Callable[[int], object]) -> BulkOutcome:
    """
    `write(id)` (one of the services above) for each id, each in its own transaction: one item the rules refuse
    does not undo the others. The service re-checks the scope, so an id out of scope fails like a missing one.
    """
    outcome = BulkOutcome(updated=[], failed=[])
    for pk in ids:
        try:
            write(pk)
        except OutOfScope:
            outcome.failed.append((pk, None))
        except BeyondScope as error:
            outcome.failed.append((pk, str(error)))
        except ValidationError as error:
            outcome.failed.append((pk, " ".join(validation_messages(error))))
        else:
            outcome.updated.append(pk)
    return outcome
