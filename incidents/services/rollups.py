"""
Incident rollups: the values an incident derives from its alerts, recomputed in a few aggregate queries.

Kept true on every change (correlation, merge, move, alert updates). Severity follows the highest alert severity
unless a person set it; the name follows the alerts until a person renames the incident. Status: an incident whose
alerts are all resolved is resolved; a new alert that joins a resolved incident (it may only within the
correlation window) reopens it, in `correlation.attach`.
"""

from django.db import connection, transaction

from incidents.choices import AlertStatus, IncidentStatus, Severity
from incidents.models import Incident
from incidents.naming import incident_name
from portal.services import activity_record

__all__ = ("incident_refresh", "incident_sync_entities", "stale_incident_ids")

OPEN = (IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS, IncidentStatus.AWAITING_ACTION)


def incident_sync_entities(*, incident_id: int) -> None:
    """Make the incident's entity links equal to the entities of its alerts' evidence."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_incidententity (incident_id, entity_id)
            SELECT DISTINCT a.incident_id, ev.entity_id
            FROM incidents_alert a JOIN incidents_evidence ev ON ev.alert_id = a.id
            WHERE a.incident_id = %(incident)s AND ev.entity_id IS NOT NULL
            ON CONFLICT DO NOTHING
            """,
            {"incident": incident_id},
        )
        cursor.execute(
            """
            DELETE FROM incidents_incidententity ie
            WHERE ie.incident_id = %(incident)s AND NOT EXISTS (
                SELECT 1 FROM incidents_alert a JOIN incidents_evidence ev ON ev.alert_id = a.id
                WHERE a.incident_id = %(incident)s AND ev.entity_id = ie.entity_id
            )
            """,
            {"incident": incident_id},
        )


@transaction.atomic
def incident_refresh(*, incident_id: int, sync_entities: bool = True) -> Incident | None:
    incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None or incident.status == IncidentStatus.REDIRECTED:
        return incident
    if sync_entities:
        incident_sync_entities(incident_id=incident_id)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE status IN (%(new)s, %(in_progress)s, %(unknown)s)),
                   max(severity_rank),
                   min(first_activity), max(last_activity),
                   coalesce(array_agg(DISTINCT service_source), '{}'),
                   coalesce(array_agg(DISTINCT detection_source), '{}'),
                   coalesce(array_agg(DISTINCT category) FILTER (WHERE category <> ''), '{}'),
                   coalesce((SELECT array_agg(DISTINCT t) FROM incidents_alert a2, unnest(a2.mitre_techniques) t
                             WHERE a2.incident_id = %(incident)s), '{}'),
                   coalesce((array_agg(DISTINCT title))[1:2], '{}')
            FROM incidents_alert WHERE incident_id = %(incident)s
            """,
            {
                "incident": incident_id,
                "new": AlertStatus.NEW,
                "in_progress": AlertStatus.IN_PROGRESS,
                "unknown": AlertStatus.UNKNOWN,
            },
        )
        (total, active, severity_rank, first, last, services, detections, categories, techniques, titles) = (
            cursor.fetchone()
        )
        cursor.execute(
            """
            SELECT e.kind, count(*), coalesce(array_agg(DISTINCT e.device_group_id)
                                              FILTER (WHERE e.device_group_id IS NOT NULL), '{}')
            FROM incidents_incidententity ie JOIN incidents_entity e ON e.id = ie.entity_id
            WHERE ie.incident_id = %s GROUP BY e.kind
            """,
            [incident_id],
        )
        assets, device_groups = {}, set()
        for kind, count, groups in cursor.fetchall():
            assets[kind] = count
            if kind == "device":
                device_groups.update(groups)

    before_status = incident.status
    incident.alerts_total = total
    incident.alerts_active = active
    incident.first_activity = first
    incident.last_activity = last
    incident.service_sources = sorted(services)
    incident.detection_sources = sorted(detections)
    incident.categories = sorted(categories)
    incident.mitre_techniques = sorted(techniques)
    incident.impacted_assets = assets
    incident.device_group_ids = sorted(device_groups)
    incident.rollups_stale = False
    if not incident.severity_is_custom and severity_rank is not None:
        incident.severity = Severity.values[severity_rank]
    if not incident.display_name_is_custom and total:
        incident.display_name = incident_name(titles=titles, categories=categories, assets=assets, sources=services)
    if active == 0 and incident.status in OPEN:
        # Every alert resolved, or every alert moved elsewhere: nothing is left to work on.
        incident.status = IncidentStatus.RESOLVED
        if not total and not incident.resolving_comment:
            incident.resolving_comment = "Its alerts were moved to other incidents."
    incident.save()
    if incident.status != before_status:
        activity_record(
            actor=None,
            system_name="correlation",
            action="incidents.incident.resolved",
            target=incident,
            changes={"status": {"before": before_status, "after": incident.status}},
            message="Every alert of the incident is resolved." if total else "The incident has no alerts left.",
        )
    return incident


def stale_incident_ids(limit: int = 500) -> list[int]:
    return list(Incident.objects.filter(rollups_stale=True).values_list("pk", flat=True)[:limit])
