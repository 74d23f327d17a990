"""
Merging incidents and moving alerts between incidents: one mechanism for correlation and for people.

A merge moves the sources' alerts, entity links and tags to the target; each source becomes `redirected` with
`redirect_incident` set, and both activity logs say so. Moving an alert to another (or a new) incident is the same
operation for one alert.

A person's merge or move finds every incident and alert it changes through their scope inside the transaction
(`incidents_to_change`, `alerts_to_change`) and is refused with OutOfScope when one of them left it since the page
was loaded, and with BeyondScope when an incident it merges, or moves an alert into, holds alerts outside their
change scope (a merge moves every alert of its incidents). An alert the person may change may always leave its
incident, for another they may change wholly or a new one. Correlation (actor None) merges through
`incidents_merge_locked` and reaches everything.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from incidents.choices import IncidentStatus
from incidents.merge_rule import merge_conflict
from incidents.models import Alert, Incident
from incidents.selectors import BeyondScope, OutOfScope, alerts_beyond_scope, incidents_to_change
from incidents.services.incidents import locked_alert
from incidents.services.rollups import incident_refresh
from portal.services import ActivityEntry, activity_record, activity_record_entries

__all__ = ("MAX_MANUAL_MERGE", "alert_move", "incident_open_for_alert", "incidents_merge", "incidents_merge_locked")

MAX_MANUAL_MERGE = 5


def incidents_merge_locked(*, target: Incident, sources: list[Incident], actor, reason: str) -> Incident:
    """Merge `sources` into `target`; the caller holds row locks on all of them (select_for_update)."""
    source_ids = [source.pk for source in sources]
    with connection.cursor() as cursor:
        # The rows it moves are locked first, by id: the order ingestion takes re-sent alerts in, so that a merge and
        # a request re-sending some of the same alerts wait for each other instead of deadlocking. The UPDATE
        # alone would lock them in whatever order its plan visits them.
        cursor.execute(
            "SELECT id FROM incidents_alert WHERE incident_id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [source_ids]
        )
        cursor.execute(
            "UPDATE incidents_alert SET incident_id = %s WHERE incident_id = ANY(%s)", [target.pk, source_ids]
        )
        cursor.execute(
            """
            INSERT INTO incidents_incidententity (incident_id, entity_id)
            SELECT %s, entity_id FROM incidents_incidententity WHERE incident_id = ANY(%s)
            ON CONFLICT DO NOTHING
            """,
            [target.pk, source_ids],
        )
        cursor.execute("DELETE FROM incidents_incidententity WHERE incident_id = ANY(%s)", [source_ids])
    actor_name = "correlation" if actor is None else actor.get_username()
    tags_before = list(target.custom_tags)
    for source in sources:
        target.custom_tags = list(dict.fromkeys([*target.custom_tags, *source.custom_tags]))
        target.alerts_total += source.alerts_total
        target.first_activity = min(filter(None, (target.first_activity, source.first_activity)), default=None)
        target.last_activity = max(filter(None, (target.last_activity, source.last_activity)), default=None)
        target.device_group_ids = sorted(set(target.device_group_ids) | set(source.device_group_ids))
        before = source.status
        source.status = IncidentStatus.REDIRECTED
        source.redirect_incident = target
        source.alerts_total = 0
        source.alerts_active = 0
        source.last_modified_by = actor_name
        source.save(
            update_fields=[
                "status",
                "redirect_incident",
                "alerts_total",
                "alerts_active",
                "last_modified_by",
                "last_update",
            ]
        )
        activity_record(
            actor=actor,
            system_name="correlation",
            action="incidents.incident.merged_into",
            target=source,
            changes={
                "status": {"before": before, "after": IncidentStatus.REDIRECTED},
                "redirect_incident": {"before": None, "after": target.pk},
            },
            message=f"Merged into incident {target.pk}. {reason}".strip(),
        )
    # As in Defender, a merge into an incident gives it back its automatic name.
    target.display_name_is_custom = False
    target.rollups_stale = True
    target.last_modified_by = actor_name
    target.save()
    activity_record(
        actor=actor,
        system_name="correlation",
        action="incidents.incident.merged",
        target=target,
        changes={
            "merged_incidents": {"before": None, "after": source_ids},
            **(
                {"custom_tags": {"before": tags_before, "after": target.custom_tags}}
                if tags_before != target.custom_tags
                else {}
            ),
        },
        message=f"Incidents {', '.join(map(str, source_ids))} merged into this one. {reason}".strip(),
    )
    return target


def incident_open_for_alert(
    *, alert_id: int, title: str, severity: str, first_activity=None, last_activity=None, device_group_ids=()
) -> tuple[Incident, ActivityEntry]:
    """
    A new incident for one alert (correlation finding no incident for it, or a person moving it to a new one), named
    after it until others join; its rollups are left to the next refresh. Inserted at once, since the caller links
    the alert to it; the activity entry recording it is the caller's to write, with its others.
    """
    incident = Incident.objects.create(
        display_name=title[:400],
        severity=severity,
        first_activity=first_activity,
        last_activity=last_activity,
        device_group_ids=list(device_group_ids),
        rollups_stale=True,
    )
    entry = ActivityEntry(
        action="incidents.incident.created",
        target=incident,
        message=f"Created for alert {alert_id} ({title}).",
        about_alert_id=alert_id,
    )
    return incident, entry


def _may_merge_manually(incidents: list[Incident]) -> None:
    conflict = merge_conflict(incidents)
    if conflict:
        raise ValidationError(f"These incidents cannot be merged: they are {conflict}.")


@transaction.atomic
def incidents_merge(*, target_id: int, source_ids: list[int], actor, reason: str) -> Incident:
    """Merge up to five incidents (the target included) into the target, as a person asked."""
    source_ids = [pk for pk in dict.fromkeys(source_ids) if pk != target_id]
    if not source_ids:
        raise ValidationError("Choose at least one other incident to merge.")
    if len(source_ids) + 1 > MAX_MANUAL_MERGE:
        raise ValidationError(f"At most {MAX_MANUAL_MERGE} incidents can be merged at once.")
    if not reason or not reason.strip():
        raise ValidationError("Give a reason for merging.")
    ids = [target_id, *source_ids]
    locked = {i.pk: i for i in incidents_to_change(actor).select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = [pk for pk in ids if pk not in locked]
    if missing:
        raise OutOfScope(Incident, missing[0])
    beyond = alerts_beyond_scope(actor, ids)
    if beyond:
        raise BeyondScope(min(beyond))
    incidents = list(locked.values())
    if any(incident.status == IncidentStatus.REDIRECTED for incident in incidents):
        raise ValidationError("An incident that was already merged cannot be merged again; use its target.")
    _may_merge_manually(incidents)
    target = locked[target_id]
    incidents_merge_locked(target=target, sources=[locked[pk] for pk in source_ids], actor=actor, reason=reason)
    return incident_refresh(incident_id=target.pk)


@transaction.atomic
def alert_move(*, alert_id: int, actor, reason: str, incident_id: int | None = None) -> Alert:
    """Move an alert to another incident, or to a new one when `incident_id` is None."""
    alert = locked_alert(actor, alert_id)
    source_id = alert.incident_id
    if incident_id is not None and incident_id == source_id:
        raise ValidationError("The alert is already in that incident.")
    ids = sorted(filter(None, {source_id, incident_id}))
    locked = {i.pk: i for i in Incident.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if incident_id is not None:
        # The alert's own incident moves with it whatever the scope; the target must be one the actor may change.
        target = locked.get(incident_id)
        out_of_scope = actor is not None and not incidents_to_change(actor).filter(pk=incident_id).exists()
        if target is None or out_of_scope:
            raise OutOfScope(Incident, incident_id)
        if alerts_beyond_scope(actor, [incident_id]):
            raise BeyondScope(incident_id)
        if target.status == IncidentStatus.REDIRECTED:
            raise ValidationError(
                f"Incident {incident_id} was merged into {target.redirect_incident_id}; use that one."
            )
    else:
        target, created = incident_open_for_alert(alert_id=alert.pk, title=alert.title, severity=alert.severity)
        activity_record_entries(entries=[created], actor=actor)
    actor_name = actor.get_username() if actor is not None else "correlation"
    alert.incident = target
    alert.correlation_reason = f"Moved by {actor_name}: {reason}".strip()
    # Filed by hand counts as correlated: the sweep must not pick the alert up again and again.
    alert.correlated_at = alert.correlated_at or timezone.now()
    alert.save(update_fields=["incident", "correlation_reason", "correlated_at"])
    for incident, action, message in (
        (locked.get(source_id), "incidents.alert.moved_out", f"Alert {alert.pk} moved to incident {target.pk}."),
        (target, "incidents.alert.moved_in", f"Alert {alert.pk} moved here from incident {source_id}."),
    ):
        if incident is None:
            continue
        activity_record(
            actor=actor,
            action=action,
            target=incident,
            changes={"alert": {"before": source_id, "after": target.pk}},
            message=f"{message} {reason}".strip(),
            about_alert_id=alert.pk,
        )
    for incident_id_to_refresh in filter(None, (source_id, target.pk)):
        incident_refresh(incident_id=incident_id_to_refresh)
    return alert
