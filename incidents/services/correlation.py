"""
Correlation: every alert joins the incident that tells its story (DESIGN.md, Correlation).

1. Keys: the alert's strong entities (device, user, mailbox, file by hash, cloud app) and its IPs and URLs unless
   they are on the stop-list or noisy: within the window, in more than N open incidents or in alerts on more than
   N devices. (Counting incidents alone never catches a shared proxy: once it is a key, every alert that carries it
   lands in the same incident.)
2. Candidates: incidents that are not redirected, share a key, and were active within the window W of the alert.
   A resolved candidate is reopened by the alert that joins it. Incidents at the alert or entity cap are skipped,
   so overflow opens a new incident.
3. None → a new incident. One → join it. Several → join the oldest and merge into it the others Defender would
   merge (none resolved, same or empty assignee, classification and determination, within the caps, optionally the
   same device groups); if none can be merged, join the one sharing most keys.
4. Every link records why.

A batch of alerts is correlated in one transaction with a fixed number of set-based statements: the keys of every
alert, the noisy guard, the advisory locks, the candidates, then the links, the incident counters and the activity
log written in bulk. The decisions themselves are made in memory, alert by alert in the order things happened, so a
story's first alert opens its incident and the next ones in the same batch join it. Batches that share a key are
serialised by PostgreSQL advisory locks on the key entities, all taken in sorted order before any incident row is
locked, so concurrent workers never split a story or deadlock. An alert that already has an incident, or that
another worker holds, is left alone; the sweep correlates alerts whose message was lost.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from incidents.choices import AlertStatus, EntityKind, IncidentStatus
from incidents.correlation_rules import CorrelationKey, decide, is_candidate, key_list, window_text
from incidents.models import Alert, Incident
from incidents.services.bulk import rows_update
from incidents.services.merge import incident_open_for_alert, incidents_merge_locked
from incidents.services.rollups import incidents_refresh
from portal.services import ActivityEntry, activity_record_entries

__all__ = ("alert_correlate", "alerts_correlate", "pending_alert_ids")

logger = logging.getLogger(__name__)

SYSTEM_NAME = "correlation"
# PLAN_PROOF: the statements of a batch are written as lookups driven from the batch's id lists, each a
# `CROSS JOIN LATERAL (... WHERE id = outer.id OFFSET 0)` that PostgreSQL cannot flatten into a join. They touch a
# few hundred rows whatever the size of the tables, and their plans stay index probes even where the planner knows
# nothing of the tables yet (autovacuum off, or a table that grew since it was last analysed): a plain join or
# `= ANY(...)` was planned as a scan of all the evidence, which made every batch slower than the one before.
# First key of the two-integer advisory lock: "correlation of this entity" (distinct from other lock users).
ADVISORY_NAMESPACE = 7_001
BATCH_SIZE = 500
STRONG_KINDS = {EntityKind.DEVICE, EntityKind.USER, EntityKind.MAILBOX, EntityKind.FILE, EntityKind.CLOUD_APPLICATION}
GUARDED_KINDS = {EntityKind.IP, EntityKind.URL}
HASH_LENGTHS = {32, 40, 64}
DEVICE_EVIDENCE = "#microsoft.graph.security.deviceEvidence"
# How many of an IP's or URL's latest alerts the noisy guard looks at to count the devices it was seen with.
NOISY_SAMPLE_ALERTS = 200
OPEN = (IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS, IncidentStatus.AWAITING_ACTION)
# What `_attach` changes on an incident, written for the whole batch in one UPDATE (column → SQL type).
COUNTER_COLUMNS = {
    "alerts_total": "integer",
    "first_activity": "timestamptz",
    "last_activity": "timestamptz",
    "device_group_ids": "bigint[]",
    "status": "varchar",
    "rollups_stale": "boolean",
    "last_update": "timestamptz",
}
INCIDENT_FIELDS = (
    "id",
    "display_name",
    "created_at",
    "status",
    "assigned_to",
    "classification",
    "determination",
    "device_group_ids",
    "alerts_total",
    "impacted_assets",
    "first_activity",
    "last_activity",
    "custom_tags",
    "display_name_is_custom",
)


@dataclass
class PendingAlert:
    id: int
    title: str
    severity: str
    status: str
    at: datetime
    last_activity: datetime
    device_group_ids: list[int]
    keys: list[CorrelationKey] = field(default_factory=list)


@dataclass
class Batch:
    """What one transaction has decided and not yet written."""

    links: list[tuple[int, int, str]] = field(default_factory=list)  # (alert, incident, reason)
    activity: list[ActivityEntry] = field(default_factory=list)
    changed: dict[int, Incident] = field(default_factory=dict)  # incidents whose counters to write


def alerts_correlate(*, alert_ids: list[int]) -> dict[int, int | None]:
    """Correlate alerts in batches, each in its own transaction, then refresh the touched incidents' rollups."""
    results, touched = {}, set()
    ids = sorted(set(alert_ids))
    for start in range(0, len(ids), BATCH_SIZE):
        batch_results, changed = _correlate_batch(ids[start : start + BATCH_SIZE])
        results.update(batch_results)
        touched |= changed
    left_alone = [alert_id for alert_id in ids if alert_id not in results]
    if left_alone:
        # Already correlated, or held by another worker: report where they are now.
        results.update(Alert.objects.filter(pk__in=left_alone).values_list("pk", "incident_id"))
    if touched:
        incidents_refresh(incident_ids=sorted(touched), sync_entities=False)
    return results


def alert_correlate(*, alert_id: int) -> tuple[int | None, set[int]]:
    """Attach one alert to its incident. Returns the incident id and the incidents whose rollups are now stale."""
    results, changed = _correlate_batch([alert_id])
    if alert_id not in results:
        results[alert_id] = Alert.objects.filter(pk=alert_id).values_list("incident_id", flat=True).first()
    return results[alert_id], changed


def pending_alert_ids(*, limit: int = 2000) -> list[int]:
    cutoff = timezone.now() - settings.CORRELATION_SWEEP_AFTER
    return list(
        Alert.objects.filter(correlated_at__isnull=True, ingested_at__lt=cutoff)
        .order_by("ingested_at")
        .values_list("pk", flat=True)[:limit]
    )


def _correlate_batch(alert_ids: list[int]) -> tuple[dict[int, int], set[int]]:
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            _commit_without_waiting_for_disk()
        return _correlate_locked_batch(alert_ids)


def _correlate_locked_batch(alert_ids: list[int]) -> tuple[dict[int, int], set[int]]:
    alerts = _lock_pending_alerts(alert_ids)
    if not alerts:
        return {}, set()
    _load_keys(alerts)
    keys = sorted({key.entity_id for alert in alerts for key in alert.keys})
    _lock_keys(keys)
    incidents, incidents_by_key = _candidates(keys, alerts)
    batch = Batch()
    results = {}
    for alert in alerts:
        results[alert.id] = _place(alert, incidents, incidents_by_key, batch)
    _flush(batch)
    return results, set(batch.changed)


def _commit_without_waiting_for_disk() -> None:
    # Correlation only derives state from stored alerts. Should PostgreSQL crash in the instant between this commit
    # and its WAL flush, the whole batch is lost at once, its alerts are uncorrelated again, and the sweep redoes
    # them; meanwhile no worker waits for a disk flush per batch. Alerts themselves are always committed durably,
    # which is why this is only done in a transaction of correlation's own, never in a caller's.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")


def _lock_pending_alerts(alert_ids: list[int]) -> list[PendingAlert]:
    # The row locks serialise two workers handed the same alert (a re-delivered message, the sweep); an alert that
    # another worker holds is that worker's to correlate.
    with connection.cursor() as cursor:
        # One primary-key probe per id (PLAN_PROOF).
        cursor.execute(
            """
            SELECT a.* FROM unnest(%s::bigint[]) AS k(id)
            CROSS JOIN LATERAL (
                SELECT id, title, severity, status, coalesce(first_activity, created_at),
                       coalesce(last_activity, first_activity, created_at), device_group_ids
                FROM incidents_alert WHERE id = k.id AND incident_id IS NULL
                FOR UPDATE SKIP LOCKED
            ) AS a
            ORDER BY a.id
            """,
            [sorted(alert_ids)],
        )
        alerts = [PendingAlert(*row) for row in cursor.fetchall()]
    # In the order things happened, so that a story's first alert opens its incident.
    return sorted(alerts, key=lambda alert: (alert.at, alert.id))


def _load_keys(alerts: list[PendingAlert]) -> None:
    by_id = {alert.id: alert for alert in alerts}
    with connection.cursor() as cursor:
        # From each alert to its evidence to each entity (PLAN_PROOF).
        cursor.execute(
            """
            SELECT DISTINCT ev.alert_id, e.id, e.kind, e.key, e.display_name
            FROM unnest(%s::bigint[]) AS a(id)
            CROSS JOIN LATERAL (
                SELECT alert_id, entity_id FROM incidents_evidence WHERE alert_id = a.id OFFSET 0
            ) AS ev
            CROSS JOIN LATERAL (
                SELECT id, kind, key, display_name FROM incidents_entity WHERE id = ev.entity_id OFFSET 0
            ) AS e
            WHERE e.kind = ANY(%s)
            """,
            [list(by_id), [str(kind) for kind in STRONG_KINDS | GUARDED_KINDS]],
        )
        rows = cursor.fetchall()
    stop_list = {value.strip().lower() for value in settings.CORRELATION_STOP_LIST}
    guarded = set()
    for alert_id, entity_id, kind, key, display_name in rows:
        if kind == EntityKind.FILE and len(key) not in HASH_LENGTHS:
            continue  # a file known only by its path is too weak to tie alerts together
        if kind in GUARDED_KINDS:
            if key in stop_list:
                continue
            guarded.add(entity_id)
        by_id[alert_id].keys.append(CorrelationKey(entity_id, kind, key, display_name))
    noisy = _noisy(sorted(guarded), alerts)
    for alert in alerts:
        alert.keys = sorted((key for key in alert.keys if key.entity_id not in noisy), key=lambda k: k.entity_id)


def _batch_window(alerts: list[PendingAlert]) -> tuple[datetime, datetime]:
    """From the window before the batch's earliest alert to the window after its latest."""
    window = settings.CORRELATION_WINDOW
    return min(alert.at for alert in alerts) - window, max(alert.at for alert in alerts) + window


def _noisy(entity_ids: list[int], alerts: list[PendingAlert]) -> set[int]:
    if not entity_ids:
        return set()
    since, until = _batch_window(alerts)
    limit = settings.CORRELATION_NOISY_INCIDENTS
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ie.entity_id FROM incidents_incidententity ie
            CROSS JOIN LATERAL (
                SELECT status, last_activity FROM incidents_incident WHERE id = ie.incident_id OFFSET 0
            ) AS i
            WHERE ie.entity_id = ANY(%s) AND i.status = ANY(%s) AND i.last_activity >= %s
            GROUP BY ie.entity_id HAVING count(*) > %s
            """,
            [entity_ids, [str(status) for status in OPEN], since, limit],
        )
        noisy = {row[0] for row in cursor.fetchall()}
    return noisy | _seen_on_many_devices(sorted(set(entity_ids) - noisy), since, until, limit)


def _seen_on_many_devices(entity_ids: list[int], since, until, limit: int) -> set[int]:
    """
    The entities seen, within the window, in alerts on more than `limit` devices.

    Three index walks (PLAN_PROOF): each entity's latest alerts, their times, their devices. A bounded look at
    the latest alerts is enough to tell "more than N".
    """
    if not entity_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT g.id, recent.alert_id FROM unnest(%s::bigint[]) AS g(id)
            CROSS JOIN LATERAL (
                SELECT ev.alert_id FROM incidents_evidence ev WHERE ev.entity_id = g.id
                ORDER BY ev.alert_id DESC LIMIT %s
            ) AS recent
            """,
            [entity_ids, NOISY_SAMPLE_ALERTS],
        )
        alerts_by_entity = defaultdict(set)
        for entity_id, alert_id in cursor.fetchall():
            alerts_by_entity[entity_id].add(alert_id)
        candidates = {entity_id: ids for entity_id, ids in alerts_by_entity.items() if len(ids) > 1}
        if not candidates:
            return set()
        alert_ids = sorted(set().union(*candidates.values()))
        cursor.execute(
            """
            SELECT a.id FROM unnest(%s::bigint[]) AS k(id)
            CROSS JOIN LATERAL (
                SELECT id, first_activity FROM incidents_alert WHERE id = k.id OFFSET 0
            ) AS a
            WHERE a.first_activity BETWEEN %s AND %s
            """,
            [alert_ids, since, until],
        )
        in_window = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            """
            SELECT ev.alert_id, coalesce(ev.device_id, ev.entity_id) FROM unnest(%s::bigint[]) AS a(id)
            CROSS JOIN LATERAL (
                SELECT alert_id, device_id, entity_id, odata_type FROM incidents_evidence
                WHERE alert_id = a.id OFFSET 0
            ) AS ev
            WHERE ev.device_id IS NOT NULL OR ev.odata_type = %s
            """,
            [in_window, DEVICE_EVIDENCE],
        )
        devices_by_alert = defaultdict(set)
        for alert_id, device_id in cursor.fetchall():
            devices_by_alert[alert_id].add(device_id)
    return {
        entity_id
        for entity_id, ids in candidates.items()
        if len(set().union(*(devices_by_alert[alert_id] for alert_id in ids))) > limit
    }


def _lock_keys(entity_ids: list[int]) -> None:
    # One sorted list per transaction: every worker takes shared locks in the same order, so none waits on another
    # in a cycle.
    if not entity_ids:
        return
    lock_ids = sorted({entity_id % 2**31 for entity_id in entity_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::integer[]) AS k",
            [ADVISORY_NAMESPACE, lock_ids],
        )


def _candidates(keys: list[int], alerts: list[PendingAlert]) -> tuple[dict[int, Incident], dict[int, set[int]]]:
    """The incidents that share a key and may be within the window of an alert of the batch, row-locked."""
    if not keys:
        return {}, defaultdict(set)
    since, until = _batch_window(alerts)
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT ie.entity_id, ie.incident_id
                FROM incidents_incidententity ie
                CROSS JOIN LATERAL (
                    SELECT status, last_activity, first_activity FROM incidents_incident
                    WHERE id = ie.incident_id OFFSET 0
                ) AS i
                WHERE ie.entity_id = ANY(%s) AND i.status <> %s AND i.last_activity >= %s AND i.first_activity <= %s
                """,
                [keys, IncidentStatus.REDIRECTED, since, until],
            )
            pairs = cursor.fetchall()
        incidents = {
            incident.pk: incident
            for incident in Incident.objects.select_for_update()
            .only(*INCIDENT_FIELDS)
            .filter(pk__in={incident_id for _, incident_id in pairs})
            .order_by("pk")
        }
        # Waiting for these row locks may have let a merge commit: a candidate is now redirected and its entity links
        # are in its target. Look again; the next statement sees what that merge committed.
        if not any(incident.status == IncidentStatus.REDIRECTED for incident in incidents.values()):
            break
    incidents_by_key = defaultdict(set)
    for entity_id, incident_id in pairs:
        incidents_by_key[entity_id].add(incident_id)
    return incidents, incidents_by_key


def _place(alert: PendingAlert, incidents: dict[int, Incident], incidents_by_key, batch: Batch) -> int:
    shared_by_incident = defaultdict(list)
    for key in alert.keys:
        for incident_id in incidents_by_key.get(key.entity_id, ()):
            shared_by_incident[incident_id].append(key)
    candidates = []
    for incident_id, shared in sorted(shared_by_incident.items()):
        incident = incidents[incident_id]
        if is_candidate(incident, alert.at):
            candidates.append((incident, shared))
    target, merged, reason = decide(candidates)
    if target is None:
        target = _new_incident(alert, batch)
        incidents[target.pk] = target
        reason = (
            "New incident: no open incident within "
            f"{window_text()} shares {key_list(alert.keys) if alert.keys else 'an entity with this alert'}."
        )
    elif merged:
        _merge(target, merged, f"Alert {alert.id} ties them together ({reason}).", incidents_by_key, batch)
    _attach(alert, target, reason, batch)
    for key in alert.keys:
        incidents_by_key[key.entity_id].add(target.pk)
    return target.pk


def _new_incident(alert: PendingAlert, batch: Batch) -> Incident:
    # Inserted now, one row: the alerts after this one in the batch need its id.
    incident, created = incident_open_for_alert(
        alert_id=alert.id,
        title=alert.title,
        severity=alert.severity,
        first_activity=alert.at,
        last_activity=alert.at,
        device_group_ids=alert.device_group_ids,
    )
    batch.activity.append(created)
    return incident


def _merge(target: Incident, sources: list[Incident], reason: str, incidents_by_key, batch: Batch) -> None:
    # The merge moves the stored alerts and entity links of the sources; the links this batch has decided but not
    # yet written are pointed at the target here. The sources' counters (which count those alerts) go to the target.
    incidents_merge_locked(target=target, sources=sources, actor=None, reason=reason)
    source_ids = {source.pk for source in sources}
    batch.links = [
        (alert_id, target.pk if incident_id in source_ids else incident_id, reason)
        for alert_id, incident_id, reason in batch.links
    ]
    for incident_ids in incidents_by_key.values():
        if incident_ids & source_ids:
            incident_ids -= source_ids
            incident_ids.add(target.pk)


def _attach(alert: PendingAlert, incident: Incident, reason: str, batch: Batch) -> None:
    batch.links.append((alert.id, incident.pk, reason))
    incident.alerts_total += 1
    incident.first_activity = min(filter(None, (incident.first_activity, alert.at)))
    incident.last_activity = max(filter(None, (incident.last_activity, alert.last_activity)))
    incident.device_group_ids = sorted(set(incident.device_group_ids) | set(alert.device_group_ids))
    incident.rollups_stale = True
    batch.changed[incident.pk] = incident
    batch.activity.append(
        ActivityEntry(
            action="incidents.alert.linked",
            target=incident,
            changes={"alerts": {"before": None, "after": alert.id}},
            message=f"Alert {alert.id} ({alert.title}) linked: {reason}",
            about_alert_id=alert.id,
        )
    )
    if incident.status == IncidentStatus.RESOLVED and alert.status != AlertStatus.RESOLVED:
        incident.status = IncidentStatus.ACTIVE
        batch.activity.append(
            ActivityEntry(
                action="incidents.incident.reopened",
                target=incident,
                changes={"status": {"before": IncidentStatus.RESOLVED, "after": IncidentStatus.ACTIVE}},
                message=f"Reopened: alert {alert.id} arrived within {window_text()} of its last activity.",
                about_alert_id=alert.id,
            )
        )


def _flush(batch: Batch) -> None:
    """Write the batch's decisions: links, entity links, incident counters and the activity log, in bulk."""
    now = timezone.now()
    with connection.cursor() as cursor:
        if batch.links:
            execute_values(
                cursor,
                """
                UPDATE incidents_alert a SET incident_id = v.incident_id, correlated_at = v.at,
                       correlation_reason = v.reason
                FROM (VALUES %s) AS v(id, incident_id, reason, at) WHERE a.id = v.id
                """,
                [(alert_id, incident_id, reason, now) for alert_id, incident_id, reason in batch.links],
                page_size=len(batch.links),
            )
            execute_values(
                cursor,
                """
                INSERT INTO incidents_incidententity (incident_id, entity_id)
                SELECT DISTINCT v.incident_id, ev.entity_id
                FROM (VALUES %s) AS v(alert_id, incident_id)
                CROSS JOIN LATERAL (
                    SELECT entity_id FROM incidents_evidence WHERE alert_id = v.alert_id OFFSET 0
                ) AS ev
                WHERE ev.entity_id IS NOT NULL
                ON CONFLICT DO NOTHING
                """,
                [(alert_id, incident_id) for alert_id, incident_id, _ in batch.links],
                page_size=len(batch.links),
            )
        rows_update(
            cursor,
            table=Incident._meta.db_table,
            columns=COUNTER_COLUMNS,
            rows=[
                (
                    incident.pk,
                    incident.alerts_total,
                    incident.first_activity,
                    incident.last_activity,
                    incident.device_group_ids,
                    incident.status,
                    True,
                    now,
                )
                for incident in batch.changed.values()
            ],
        )
    activity_record_entries(entries=batch.activity, system_name=SYSTEM_NAME)
    batch.links.clear()
    batch.activity.clear()
