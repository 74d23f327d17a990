"""
Incident rollups: the values an incident derives from its alerts, recomputed in a few aggregate queries.

Kept true on every change (correlation, merge, move, alert updates). Severity follows the highest alert severity
unless a person set it; the name follows the alerts until a person renames the incident. Status: an incident whose
alerts are all resolved is resolved; a new alert that joins a resolved incident (it may only within the
correlation window) reopens it, in `correlation.attach`.
"""

from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from incidents.choices import AlertStatus, IncidentStatus, Severity
from incidents.models import Incident
from incidents.naming import incident_name
from incidents.services.bulk import rows_update
from portal.services import ActivityEntry, activity_record_entries

__all__ = (
    "alert_rollups",
    "incident_refresh",
    "incident_sync_entities",
    "incidents_refresh",
    "incidents_sync_entities",
    "rollup_apply",
    "stale_incident_ids",
)

OPEN = (IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS, IncidentStatus.AWAITING_ACTION)
# An incident without alerts, as `alert_rollups` would describe it.
EMPTY_ROLLUP = (0, 0, None, None, None, [], [], [], [], [])
# Column → SQL type, for the one UPDATE that writes every refreshed incident.
ROLLUP_COLUMNS = {
    "alerts_total": "integer",
    "alerts_active": "integer",
    "first_activity": "timestamptz",
    "last_activity": "timestamptz",
    "service_sources": "varchar[]",
    "detection_sources": "varchar[]",
    "categories": "varchar[]",
    "mitre_techniques": "varchar[]",
    "impacted_assets": "jsonb",
    "device_group_ids": "bigint[]",
    "rollups_stale": "boolean",
    "last_update": "timestamptz",
    "severity": "varchar",
    "display_name": "varchar",
    "status": "varchar",
    "resolving_comment": "text",
}


def incident_sync_entities(*, incident_id: int) -> None:
    """Make the incident's entity links equal to the entities of its alerts' evidence."""
    incidents_sync_entities(incident_ids=[incident_id])


def incidents_sync_entities(*, incident_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_incidententity (incident_id, entity_id)
            SELECT DISTINCT a.incident_id, ev.entity_id
            FROM incidents_alert a JOIN incidents_evidence ev ON ev.alert_id = a.id
            WHERE a.incident_id = ANY(%(incidents)s) AND ev.entity_id IS NOT NULL
            ON CONFLICT DO NOTHING
            """,
            {"incidents": incident_ids},
        )
        cursor.execute(
            """
            DELETE FROM incidents_incidententity ie
            WHERE ie.incident_id = ANY(%(incidents)s) AND NOT EXISTS (
                SELECT 1 FROM incidents_alert a JOIN incidents_evidence ev ON ev.alert_id = a.id
                WHERE a.incident_id = ie.incident_id AND ev.entity_id = ie.entity_id
            )
            """,
            {"incidents": incident_ids},
        )


def incident_refresh(*, incident_id: int, sync_entities: bool = True) -> Incident | None:
    refreshed = incidents_refresh(incident_ids=[incident_id], sync_entities=sync_entities)
    return refreshed.get(incident_id) or Incident.objects.filter(pk=incident_id).first()


@transaction.atomic
def incidents_refresh(*, incident_ids: list[int], sync_entities: bool = True) -> dict[int, Incident]:
    """Recompute the rollups of these incidents with a fixed number of statements, whatever their number."""
    incidents = {
        incident.pk: incident
        for incident in Incident.objects.select_for_update()
        .filter(pk__in=incident_ids)
        .exclude(status=IncidentStatus.REDIRECTED)
        .order_by("pk")
    }
    if not incidents:
        return {}
    ids = list(incidents)
    if sync_entities:
        incidents_sync_entities(incident_ids=ids)
    alert_rollups_by_incident = alert_rollups(ids)
    assets, device_groups = _asset_rollups(ids)
    now = timezone.now()
    resolved = []
    for incident in incidents.values():
        before_status = incident.status
        total, active = rollup_apply(
            incident,
            alert_rollups_by_incident.get(incident.pk),
            assets=assets.get(incident.pk, {}),
            device_groups=device_groups.get(incident.pk, ()),
        )
        incident.alerts_total = total
        incident.rollups_stale = False
        incident.last_update = now
        if active == 0 and incident.status in OPEN:
            # Every alert resolved, or every alert moved elsewhere: nothing is left to work on.
            incident.status = IncidentStatus.RESOLVED
            if not total and not incident.resolving_comment:
                incident.resolving_comment = "Its alerts were moved to other incidents."
        if incident.status != before_status:
            resolved.append(
                ActivityEntry(
                    action="incidents.incident.resolved",
                    target=incident,
                    changes={"status": {"before": before_status, "after": incident.status}},
                    message="Every alert of the incident is resolved." if total else "The incident has no alerts left.",
                )
            )
    with connection.cursor() as cursor:
        rows_update(
            cursor,
            table=Incident._meta.db_table,
            columns=ROLLUP_COLUMNS,
            rows=[
                (incident.pk, *(getattr(incident, name) for name in ROLLUP_COLUMNS)) for incident in incidents.values()
            ],
        )
    if resolved:
        activity_record_entries(entries=resolved, system_name="correlation")
    return incidents


def rollup_apply(incident: Incident, rollup: tuple | None, *, assets: dict, device_groups) -> tuple[int, int]:
    """
    Give `incident` what it derives from the alerts `rollup` (a row of `alert_rollups`) describes: active alerts,
    activity times, sources, categories, techniques, assets, device groups, and its severity and name unless a person
    set them. Returns (alerts, active alerts) of the rollup. The stored refresh and a scoped reader's view
    (incidents.selectors.seen) both read an incident through this.
    """
    total, active, severity_rank, first, last, services, detections, categories, techniques, titles = (
        rollup or EMPTY_ROLLUP
    )
    incident.alerts_active = active
    incident.first_activity, incident.last_activity = first, last
    incident.service_sources = sorted(services)
    incident.detection_sources = sorted(detections)
    incident.categories = sorted(categories)
    incident.mitre_techniques = sorted(techniques)
    incident.impacted_assets = assets
    incident.device_group_ids = sorted(device_groups)
    if not incident.severity_is_custom and severity_rank is not None:
        incident.severity = Severity.values[severity_rank]
    if not incident.display_name_is_custom and total:
        incident.display_name = incident_name(
            titles=titles, categories=incident.categories, assets=assets, sources=services
        )
    return total, active


def alert_rollups(incident_ids: list[int], *, alert_ids: list[int] | None = None) -> dict[int, tuple]:
    """
    Per incident: (alerts, active alerts, highest severity rank, first and last activity, service sources, detection
    sources, categories, techniques, up to two titles), over all its alerts or only `alert_ids` among them.
    """
    # Without `alert_ids` the "only these alerts" conditions are constant and the planner drops them.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.incident_id, count(*),
                   count(*) FILTER (WHERE a.status IN (%(new)s, %(in_progress)s, %(unknown)s)),
                   max(a.severity_rank),
                   min(a.first_activity), max(a.last_activity),
                   coalesce(array_agg(DISTINCT a.service_source), '{}'),
                   coalesce(array_agg(DISTINCT a.detection_source), '{}'),
                   coalesce(array_agg(DISTINCT a.category) FILTER (WHERE a.category <> ''), '{}'),
                   coalesce((SELECT array_agg(DISTINCT t) FROM incidents_alert a2, unnest(a2.mitre_techniques) t
                             WHERE a2.incident_id = a.incident_id
                               AND (%(alerts)s::bigint[] IS NULL OR a2.id = ANY(%(alerts)s::bigint[]))), '{}'),
                   coalesce((array_agg(DISTINCT a.title))[1:2], '{}')
            FROM incidents_alert a
            WHERE a.incident_id = ANY(%(incidents)s)
              AND (%(alerts)s::bigint[] IS NULL OR a.id = ANY(%(alerts)s::bigint[]))
            GROUP BY a.incident_id
            """,
            {
                "incidents": incident_ids,
                "alerts": alert_ids,
                "new": AlertStatus.NEW,
                "in_progress": AlertStatus.IN_PROGRESS,
                "unknown": AlertStatus.UNKNOWN,
            },
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _asset_rollups(incident_ids: list[int]) -> tuple[dict[int, dict[str, int]], dict[int, set[int]]]:
    """Impacted assets by kind, and the device groups of the devices, per incident."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ie.incident_id, e.kind, count(*),
                   coalesce(array_agg(DISTINCT e.device_group_id) FILTER (WHERE e.device_group_id IS NOT NULL), '{}')
            FROM incidents_incidententity ie
            CROSS JOIN LATERAL (
                -- A per-row index probe, whatever the planner believes about table sizes.
                SELECT kind, device_group_id FROM incidents_entity WHERE id = ie.entity_id OFFSET 0
            ) AS e
            WHERE ie.incident_id = ANY(%s) GROUP BY ie.incident_id, e.kind
            """,
            [incident_ids],
        )
        assets, device_groups = defaultdict(dict), defaultdict(set)
        for incident_id, kind, count, groups in cursor.fetchall():
            assets[incident_id][kind] = count
            if kind == "device":
                device_groups[incident_id].update(groups)
    return assets, device_groups


def stale_incident_ids(limit: int = 500) -> list[int]:
    return list(Incident.objects.filter(rollups_stale=True).values_list("pk", flat=True)[:limit])
