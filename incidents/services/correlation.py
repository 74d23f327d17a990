"""
Correlation: every alert joins the incident that tells its story (DESIGN.md, Correlation).

1. Keys: the alert's strong entities (device, user, mailbox, file by hash, cloud app) and its IPs and URLs unless
   they are on the stop-list or noisy (already in more than N open incidents within the window).
2. Candidates: incidents that are not redirected, share a key, and were active within the window W of the alert.
   A resolved candidate is reopened by the alert that joins it. Incidents at the alert or entity cap are skipped,
   so overflow opens a new incident.
3. None → a new incident. One → join it. Several → join the oldest and merge into it the others Defender would
   merge (none resolved, same or empty assignee, classification and determination, within the caps, optionally the
   same device groups); if none can be merged, join the one sharing most keys.
4. Every link records why. Alerts sharing a key are serialised by PostgreSQL advisory locks on the key entities,
   taken in sorted order inside the alert's transaction, so concurrent workers never split a story or deadlock.
5. Idempotent: an alert that already has an incident is left alone; the sweep correlates alerts whose message was
   lost.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from incidents.choices import Classification, Determination, EntityKind, IncidentStatus
from incidents.models import Alert, Entity, Incident
from incidents.services.merge import incidents_merge_locked
from incidents.services.rollups import incident_refresh
from portal.services import activity_record

__all__ = ("CorrelationKey", "alert_correlate", "alerts_correlate", "pending_alert_ids")

logger = logging.getLogger(__name__)

SYSTEM_NAME = "correlation"
# First key of the two-integer advisory lock: "correlation of this entity" (distinct from other lock users).
ADVISORY_NAMESPACE = 7_001
STRONG_KINDS = {EntityKind.DEVICE, EntityKind.USER, EntityKind.MAILBOX, EntityKind.FILE, EntityKind.CLOUD_APPLICATION}
GUARDED_KINDS = {EntityKind.IP, EntityKind.URL}
HASH_LENGTHS = {32, 40, 64}
CORRELATION_FIELDS = (
    "incident",
    "title",
    "severity",
    "status",
    "first_activity",
    "last_activity",
    "created_at",
    "device_group_ids",
    "correlated_at",
    "correlation_reason",
)


@dataclass(frozen=True)
class CorrelationKey:
    entity_id: int
    kind: str
    key: str
    display_name: str

    def describe(self) -> str:
        label = {"cloudApplication": "app", "ip": "IP", "url": "URL"}.get(self.kind, self.kind)
        return f"{label} {self.display_name if self.kind != 'device' else self.key}"


def alerts_correlate(*, alert_ids: list[int]) -> dict[int, int | None]:
    """Correlate each alert in its own transaction, then refresh each touched incident once."""
    results, touched = {}, set()
    # In the order things happened, so that a story's first alert opens its incident.
    ordered = Alert.objects.filter(pk__in=set(alert_ids)).order_by("first_activity", "pk").values_list("pk", flat=True)
    for alert_id in ordered:
        incident_id, changed = alert_correlate(alert_id=alert_id)
        results[alert_id] = incident_id
        touched |= changed
    for incident_id in sorted(touched):
        incident_refresh(incident_id=incident_id)
    return results


def pending_alert_ids(*, limit: int = 2000) -> list[int]:
    cutoff = timezone.now() - settings.CORRELATION_SWEEP_AFTER
    return list(
        Alert.objects.filter(correlated_at__isnull=True, ingested_at__lt=cutoff)
        .order_by("ingested_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def alert_correlate(*, alert_id: int) -> tuple[int | None, set[int]]:
    """Attach one alert to its incident. Returns the incident id and the incidents whose rollups changed."""
    # The row lock serialises two workers handed the same alert (a re-delivered message, the sweep).
    # Only what correlation reads: decoding the stored payload of every alert would dominate the worker's time.
    alert = Alert.objects.select_for_update().only(*CORRELATION_FIELDS).filter(pk=alert_id).first()
    if alert is None:
        return None, set()
    if alert.incident_id is not None:
        return alert.incident_id, set()
    at = alert.first_activity or alert.created_at
    keys = _keys(alert, at)
    _lock(keys)
    candidates = _candidates(keys, at)
    target, merged, reason = _decide(candidates, keys)
    changed = set()
    if target is None:
        target = _new_incident(alert, at)
        reason = (
            "New incident: no open incident within "
            f"{_window_text()} shares {_key_list(keys) if keys else 'an entity with this alert'}."
        )
    elif merged:
        incidents_merge_locked(
            target=target,
            sources=merged,
            actor=None,
            reason=f"Alert {alert.pk} ties them together ({reason}).",
        )
        changed |= {incident.pk for incident in merged}
    _attach(alert, target, reason)
    changed.add(target.pk)
    return target.pk, changed


def _window_text() -> str:
    hours = settings.CORRELATION_WINDOW.total_seconds() / 3600
    return f"{hours:g} h"


def _key_list(keys: list[CorrelationKey]) -> str:
    described = [key.describe() for key in keys[:4]]
    more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
    return ", ".join(described[:-1]) + (" and " if len(described) > 1 else "") + described[-1] + more


def _keys(alert: Alert, at) -> list[CorrelationKey]:
    entities = list(
        Entity.objects.filter(evidence__alert=alert, kind__in=STRONG_KINDS | GUARDED_KINDS)
        .values_list("pk", "kind", "key", "display_name")
        .distinct()
    )
    keys = []
    guarded = []
    stop_list = {value.strip().lower() for value in settings.CORRELATION_STOP_LIST}
    for entity_id, kind, key, display_name in entities:
        if kind == EntityKind.FILE and len(key) not in HASH_LENGTHS:
            continue  # a file known only by its path is too weak to tie alerts together
        if kind in GUARDED_KINDS:
            if key in stop_list:
                continue
            guarded.append(entity_id)
        keys.append(CorrelationKey(entity_id, kind, key, display_name))
    noisy = _noisy(guarded, at)
    return sorted((key for key in keys if key.entity_id not in noisy), key=lambda k: k.entity_id)


def _noisy(entity_ids: list[int], at) -> set[int]:
    if not entity_ids:
        return set()
    window = settings.CORRELATION_WINDOW
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT ie.entity_id FROM incidents_incidententity ie
            JOIN incidents_incident i ON i.id = ie.incident_id
            WHERE ie.entity_id = ANY(%s) AND i.status IN %s AND i.last_activity >= %s
            GROUP BY ie.entity_id HAVING count(*) > %s
            """,
            [
                entity_ids,
                (IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS, IncidentStatus.AWAITING_ACTION),
                at - window,
                settings.CORRELATION_NOISY_INCIDENTS,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def _lock(keys: list[CorrelationKey]) -> None:
    # Sorted entity ids: every worker takes shared locks in the same order, so none waits on another in a cycle.
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ADVISORY_NAMESPACE, key.entity_id % 2**31])


def _candidates(keys: list[CorrelationKey], at) -> list[tuple[Incident, list[CorrelationKey]]]:
    if not keys:
        return []
    window = settings.CORRELATION_WINDOW
    by_id = {key.entity_id: key for key in keys}
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT ie.incident_id, array_agg(ie.entity_id ORDER BY ie.entity_id)
                FROM incidents_incidententity ie JOIN incidents_incident i ON i.id = ie.incident_id
                WHERE ie.entity_id = ANY(%s) AND i.status <> %s
                  AND i.last_activity >= %s AND i.first_activity <= %s
                  AND i.alerts_total < %s
                GROUP BY ie.incident_id
                """,
                [
                    list(by_id),
                    IncidentStatus.REDIRECTED,
                    at - window,
                    at + window,
                    settings.CORRELATION_MAX_ALERTS_PER_INCIDENT,
                ],
            )
            shared = dict(cursor.fetchall())
        if not shared:
            return []
        incidents = list(Incident.objects.select_for_update().filter(pk__in=shared).order_by("pk"))
        # Waiting for these row locks may have let a merge commit: a candidate is now redirected and its entity links
        # are in its target. Look again; the next statement sees what that merge committed.
        if not any(incident.status == IncidentStatus.REDIRECTED for incident in incidents):
            break
    return [
        (incident, [by_id[entity_id] for entity_id in shared[incident.pk]])
        for incident in incidents
        if _entity_count(incident) < settings.CORRELATION_MAX_ENTITIES_PER_INCIDENT
    ]


def _entity_count(incident: Incident) -> int:
    return sum(incident.impacted_assets.values()) if incident.impacted_assets else 0


def _decide(candidates, keys):
    """(target incident or None, incidents to merge into it, the reason)."""
    if not candidates:
        return None, [], ""
    if len(candidates) == 1:
        incident, shared = candidates[0]
        return incident, [], f"shares {_key_list(shared)}"
    oldest, oldest_shared = min(candidates, key=lambda c: (c[0].created_at, c[0].pk))
    mergeable = [
        (incident, shared)
        for incident, shared in candidates
        if incident.pk != oldest.pk and _may_merge(oldest, incident)
    ]
    if mergeable:
        total_alerts = oldest.alerts_total + sum(incident.alerts_total for incident, _ in mergeable)
        total_entities = _entity_count(oldest) + sum(_entity_count(incident) for incident, _ in mergeable)
        if (
            total_alerts < settings.CORRELATION_MAX_ALERTS_PER_INCIDENT
            and total_entities < settings.CORRELATION_MAX_ENTITIES_PER_INCIDENT
        ):
            all_shared = {key for _, shared in [(oldest, oldest_shared), *mergeable] for key in shared}
            return (
                oldest,
                [incident for incident, _ in mergeable],
                f"shares {_key_list(sorted(all_shared, key=lambda k: k.entity_id))}",
            )
    # No merge possible: the incident sharing most keys, preferring open ones, then the oldest.
    incident, shared = min(
        candidates,
        key=lambda c: (-len(c[1]), c[0].status == IncidentStatus.RESOLVED, c[0].created_at, c[0].pk),
    )
    return incident, [], f"shares {_key_list(shared)}"


def _may_merge(target: Incident, source: Incident) -> bool:
    """Defender's conditions for an automatic merge."""
    if IncidentStatus.RESOLVED in (target.status, source.status):
        return False
    if target.assigned_to and source.assigned_to and target.assigned_to != source.assigned_to:
        return False
    for field, unset in (("classification", Classification.UNKNOWN), ("determination", Determination.UNKNOWN)):
        mine, theirs = getattr(target, field), getattr(source, field)
        if mine != unset and theirs != unset and mine != theirs:
            return False
    return not (
        settings.CORRELATION_MERGE_SAME_DEVICE_GROUP_ONLY
        and set(target.device_group_ids) != set(source.device_group_ids)
    )


def _new_incident(alert: Alert, at) -> Incident:
    incident = Incident.objects.create(
        display_name=alert.title[:400],
        severity=alert.severity,
        first_activity=at,
        last_activity=alert.last_activity or at,
        device_group_ids=alert.device_group_ids,
        rollups_stale=True,
    )
    activity_record(
        actor=None,
        system_name=SYSTEM_NAME,
        action="incidents.incident.created",
        target=incident,
        message=f"Created for alert {alert.pk} ({alert.title}).",
    )
    return incident


def _attach(alert: Alert, incident: Incident, reason: str) -> None:
    now = timezone.now()
    alert.incident = incident
    alert.correlated_at = now
    alert.correlation_reason = reason
    alert.save(update_fields=["incident", "correlated_at", "correlation_reason"])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_incidententity (incident_id, entity_id)
            SELECT DISTINCT %s, entity_id FROM incidents_evidence WHERE alert_id = %s AND entity_id IS NOT NULL
            ON CONFLICT DO NOTHING
            """,
            [incident.pk, alert.pk],
        )
    # Enough of the rollups for the next alert's decision (window, caps); the full refresh follows the batch.
    at = alert.first_activity or alert.created_at
    incident.alerts_total += 1
    incident.first_activity = min(filter(None, (incident.first_activity, at)))
    incident.last_activity = max(filter(None, (incident.last_activity, alert.last_activity or at)))
    incident.device_group_ids = sorted(set(incident.device_group_ids) | set(alert.device_group_ids))
    incident.rollups_stale = True
    reopened = incident.status == IncidentStatus.RESOLVED and alert.status != "resolved"
    if reopened:
        incident.status = IncidentStatus.ACTIVE
    incident.save(
        update_fields=[
            "alerts_total",
            "first_activity",
            "last_activity",
            "device_group_ids",
            "rollups_stale",
            "status",
            "last_update",
        ]
    )
    activity_record(
        actor=None,
        system_name=SYSTEM_NAME,
        action="incidents.alert.linked",
        target=incident,
        changes={"alerts": {"before": None, "after": alert.pk}},
        message=f"Alert {alert.pk} ({alert.title}) linked: {reason}",
    )
    if reopened:
        activity_record(
            actor=None,
            system_name=SYSTEM_NAME,
            action="incidents.incident.reopened",
            target=incident,
            changes={"status": {"before": IncidentStatus.RESOLVED, "after": IncidentStatus.ACTIVE}},
            message=f"Reopened: alert {alert.pk} arrived within {_window_text()} of its last activity.",
        )
