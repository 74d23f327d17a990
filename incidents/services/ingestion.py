"""
`ingest_alerts`: the one way alerts come in (the REST API, the demo seed, future connectors).

Each item is validated on its own: good items are stored, bad ones are reported by index with field paths. The good
ones are stored in one transaction with a few bulk statements (entities, alerts, evidence upserted with
INSERT ... ON CONFLICT), never a round trip per row; correlation is enqueued after commit. Re-sending an alert
(same serviceSource and providerAlertId) updates it and counts the repeat.

Correlation writes the same alert rows (it links them, a merge moves them), so a re-send takes its rows in
correlation's order (`_lock_resent_alerts`); should PostgreSQL still abort the transaction as a deadlock victim, it
is made again a few times (portal.retry) before the caller is told to send the batch later.
"""

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from psycopg2.extras import Json, execute_values

from incidents.ingestion.document import alert_payloads
from incidents.ingestion.entities import PROCESS_FALLBACK_NAME, EntityRecord
from incidents.ingestion.parse import ParsedAlert, parse_alert
from incidents.models import DeviceGroup
from incidents.services.device_groups import pattern_matcher
from portal.retry import retry_on_conflict

__all__ = ("IngestResult", "ingest_alert_document", "ingest_alerts")

logger = logging.getLogger(__name__)

# Entity key → (entity id, device group id)
EntityIds = dict[tuple[str, str], tuple[int, int | None]]


@dataclass
class IngestResult:
    accepted: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)


def ingest_alert_document(body: bytes, *, source: str) -> IngestResult:
    """A push of alerts as it arrived (a JSON body: incidents.ingestion.document), stored as `ingest_alerts` does."""
    return ingest_alerts(alert_payloads(body), source=source)


def ingest_alerts(payloads: list, *, source: str) -> IngestResult:
    result = IngestResult()
    parsed: dict[tuple[str, str], ParsedAlert] = {}
    repeats: Counter = Counter()
    for index, payload in enumerate(payloads):
        alert, errors = parse_alert(payload)
        if errors:
            result.rejected.append({"index": index, "errors": errors})
            continue
        # The same alert twice in one request is a re-send: the last copy wins and the repeat is counted.
        repeats[alert.dedup_key] += 1
        parsed[alert.dedup_key] = alert
    if not parsed:
        return result

    alerts = list(parsed.values())
    # A deadlock with a concurrent correlation, or another transient conflict, rolls an attempt back whole: it is
    # made again, and StillConflicting (nothing of the batch stored) tells the caller to send it later.
    rows = retry_on_conflict(lambda: _store(alerts, repeats, source), what="Storing alerts")
    for alert_id, inserted, _ in rows:
        (result.accepted if inserted else result.updated).append(alert_id)
    return result


def _store(alerts: list[ParsedAlert], repeats: Counter, source: str) -> list[tuple[int, bool, int | None]]:
    # Entities in their own short transaction: their rows are shared by every request that names them, and holding
    # their locks until the alerts and evidence are written would make concurrent requests wait on each other.
    # An entity whose alert then fails to store is harmless: it is reference data, and the next alert reuses it.
    with transaction.atomic():
        entity_ids = _upsert_entities(alerts)
    with transaction.atomic():
        rows = _upsert_alerts(alerts, entity_ids, repeats, source)
        _store_evidence(alerts, rows, entity_ids)
        pending = [alert_id for alert_id, inserted, incident_id in rows if incident_id is None]
        touched_incidents = sorted({incident_id for _, _, incident_id in rows if incident_id is not None})
        # Registered by the attempt that commits only: a rolled-back attempt drops its hooks.
        transaction.on_commit(lambda: _enqueue(pending, touched_incidents), robust=True)
    return rows


def _enqueue(alert_ids: list[int], incident_ids: list[int]) -> None:
    # Imported here: tasks import the services, not the other way round.
    from incidents.tasks import correlate_alerts, refresh_incidents

    for start in range(0, len(alert_ids), 500):
        correlate_alerts.delay(alert_ids[start : start + 500])
    if incident_ids:
        refresh_incidents.delay(incident_ids)


def _entity_records(alerts: list[ParsedAlert]) -> dict[tuple[str, str], EntityRecord]:
    records: dict[tuple[str, str], EntityRecord] = {}
    for alert in alerts:
        for evidence in alert.evidence:
            for record in (evidence.entity, evidence.device, evidence.image_file, evidence.parent_process):
                if record is None:
                    continue
                known = records.get((record.kind, record.key))
                if known is None:
                    records[(record.kind, record.key)] = dataclasses.replace(record, attributes=dict(record.attributes))
                else:
                    known.attributes = {**known.attributes, **record.attributes}
                    if known.name_is_fallback or not record.name_is_fallback:
                        known.display_name = record.display_name or known.display_name
                        known.name_is_fallback = record.name_is_fallback
                    known.os_platform = record.os_platform or known.os_platform
                    known.risk_score = record.risk_score or known.risk_score
                    known.device_group_name = record.device_group_name or known.device_group_name
    return records


def _device_group_ids(names: set[str]) -> dict[str, int]:
    if not names:
        return {}
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            "INSERT INTO incidents_devicegroup (name, description, rank, device_name_pattern, created_at) VALUES %s "
            "ON CONFLICT (name) DO NOTHING",
            [(name, "Created from device evidence (rbacGroupName).", 1000) for name in sorted(names)],
            template="(%s, %s, %s, '', now())",
        )
        cursor.execute("SELECT name, id FROM incidents_devicegroup WHERE name = ANY(%s)", [sorted(names)])
        return dict(cursor.fetchall())


def _device_group_patterns() -> list[tuple[Callable[[str], bool], int]]:
    """
    The device groups' name patterns, lowest rank first: the first that matches places a new device. Matched as
    "Apply pattern" matches them in the database (`pattern_matcher`), each compiled once per batch.
    """
    return [
        (pattern_matcher(pattern), group_id)
        for group_id, pattern in DeviceGroup.objects.exclude(device_name_pattern="")
        .order_by("rank", "name")
        .values_list("pk", "device_name_pattern")
    ]


def _group_by_pattern(record, patterns: list[tuple[Callable[[str], bool], int]]) -> int | None:
    if record.kind != "device":
        return None
    names = (record.display_name, record.key)
    return next((group_id for matches, group_id in patterns if any(matches(name) for name in names)), None)


ENTITY_UPSERT = """
            INSERT INTO incidents_entity
                (kind, key, display_name, attributes, first_seen, last_seen, device_group_id, os_platform,
                 risk_score, is_isolated)
            VALUES %s
            ON CONFLICT (kind, key) DO UPDATE SET
                display_name = NEW_DISPLAY_NAME,
                attributes = incidents_entity.attributes || EXCLUDED.attributes,
                first_seen = LEAST(incidents_entity.first_seen, EXCLUDED.first_seen),
                last_seen = GREATEST(incidents_entity.last_seen, EXCLUDED.last_seen),
                -- A device keeps the group it has: once here, membership is managed in Vigil (by hand or by a
                -- group's name pattern), and a source's rbacGroupName only places devices that have none.
                device_group_id = COALESCE(incidents_entity.device_group_id, EXCLUDED.device_group_id),
                os_platform = COALESCE(NULLIF(EXCLUDED.os_platform, ''), incidents_entity.os_platform),
                risk_score = COALESCE(NULLIF(EXCLUDED.risk_score, ''), incidents_entity.risk_score)
            -- Only when something changed: the same devices, users and IPs come back in request after request, and
            -- rewriting an unchanged row costs a new row version and an entry in each of its indexes. Last seen
            -- is kept to the minute.
            WHERE (incidents_entity.display_name, incidents_entity.device_group_id, incidents_entity.os_platform,
                   incidents_entity.risk_score)
                  IS DISTINCT FROM
                  (NEW_DISPLAY_NAME, COALESCE(incidents_entity.device_group_id, EXCLUDED.device_group_id),
                   COALESCE(NULLIF(EXCLUDED.os_platform, ''), incidents_entity.os_platform),
                   COALESCE(NULLIF(EXCLUDED.risk_score, ''), incidents_entity.risk_score))
               OR NOT incidents_entity.attributes @> EXCLUDED.attributes
               OR EXCLUDED.first_seen < incidents_entity.first_seen
               OR EXCLUDED.last_seen > incidents_entity.last_seen + interval '1 minute'
            RETURNING kind, key, id, device_group_id
    """.replace(
    # A process known here only by its id ("process (5872)", no image file) keeps the name it already has.
    "NEW_DISPLAY_NAME",
    "CASE WHEN EXCLUDED.kind = 'process' AND starts_with(EXCLUDED.display_name, '"
    + PROCESS_FALLBACK_NAME
    + " (') THEN incidents_entity.display_name ELSE EXCLUDED.display_name END",
)


def _upsert_entities(alerts: list[ParsedAlert]) -> EntityIds:
    records = _entity_records(alerts)
    if not records:
        return {}
    groups = _device_group_ids({r.device_group_name for r in records.values() if r.device_group_name})
    patterns = (
        _device_group_patterns()
        if any(r.kind == "device" and not r.device_group_name for r in records.values())
        else []
    )
    seen = {}
    for alert in alerts:
        for key in _alert_entity_keys(alert):
            first, last = seen.get(key, (alert.fields["first_activity"], alert.fields["last_activity"]))
            seen[key] = (min(first, alert.fields["first_activity"]), max(last, alert.fields["last_activity"]))
    # Sorted, so that concurrent requests lock shared entities in the same order and never deadlock.
    rows = [
        (
            record.kind,
            record.key,
            record.display_name,
            Json(record.attributes),
            *seen[key],
            groups.get(record.device_group_name) or _group_by_pattern(record, patterns),
            record.os_platform,
            record.risk_score,
        )
        for key, record in sorted(records.items())
    ]
    with connection.cursor() as cursor:
        returned = execute_values(
            cursor,
            ENTITY_UPSERT,
            rows,
            template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, false)",
            page_size=len(rows),
            fetch=True,
        )
        written = {(kind, key) for kind, key, _, _ in returned}
        unchanged = [key for key in sorted(records) if key not in written]
        if unchanged:
            # One probe of the (kind, key) index per entity, driven from the list (see correlation.PLAN_PROOF).
            cursor.execute(
                """
                SELECT e.kind, e.key, e.id, e.device_group_id FROM unnest(%s::text[], %s::text[]) AS k(kind, key)
                CROSS JOIN LATERAL (
                    SELECT kind, key, id, device_group_id FROM incidents_entity
                    WHERE kind = k.kind AND key = k.key OFFSET 0
                ) AS e
                """,
                [[kind for kind, _ in unchanged], [key for _, key in unchanged]],
            )
            returned += cursor.fetchall()
    return {(kind, key): (entity_id, group_id) for kind, key, entity_id, group_id in returned}


def _alert_entity_keys(alert: ParsedAlert):
    for evidence in alert.evidence:
        for record in (evidence.entity, evidence.device, evidence.image_file, evidence.parent_process):
            if record is not None:
                yield record.kind, record.key


def _alert_device_groups(alert: ParsedAlert, entity_ids: EntityIds) -> list[int]:
    groups = {entity_ids[(kind, key)][1] for kind, key in _alert_entity_keys(alert) if kind == "device"}
    return sorted(group for group in groups if group is not None)


ALERT_COLUMNS = (
    "graph_id, provider_alert_id, service_source, title, description, recommended_actions, category, severity, "
    "status, classification, determination, assigned_to, detection_source, detector_id, product_name, "
    "actor_display_name, threat_display_name, threat_family_name, mitre_techniques, system_tags, alert_web_url, "
    "tenant_id, additional_data, first_activity, last_activity, created_at, last_update, resolved_at, payload, "
    "repeat_count, ingested_at, ingested_via, device_group_ids, correlation_reason"
)
ALERT_TEMPLATE = (
    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::varchar[], %s::varchar[], %s, "
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, now(), %s, %s::bigint[], '')"
)
FIELD_ORDER = (
    "title",
    "description",
    "recommended_actions",
    "category",
    "severity",
    "status",
    "classification",
    "determination",
    "assigned_to",
    "detection_source",
    "detector_id",
    "product_name",
    "actor_display_name",
    "threat_display_name",
    "threat_family_name",
    "mitre_techniques",
    "system_tags",
    "alert_web_url",
    "tenant_id",
)


def _upsert_alerts(alerts, entity_ids, repeats, source) -> list[tuple[int, bool, int | None]]:
    rows = []
    for alert in sorted(alerts, key=lambda a: a.dedup_key):
        f = alert.fields
        rows.append(
            (
                alert.graph_id,
                alert.provider_alert_id,
                alert.service_source,
                *(f[name] for name in FIELD_ORDER),
                Json(f["additional_data"]),
                f["first_activity"],
                f["last_activity"],
                f["created_at"],
                f["last_update"],
                f["resolved_at"],
                Json(alert.payload),
                repeats[alert.dedup_key] - 1,
                source[:150],
                _alert_device_groups(alert, entity_ids),
            )
        )
    with connection.cursor() as cursor:
        _lock_resent_alerts(cursor, sorted(alert.dedup_key for alert in alerts))
        returned = execute_values(
            cursor,
            f"""
            INSERT INTO incidents_alert ({ALERT_COLUMNS}) VALUES %s
            ON CONFLICT (service_source, provider_alert_id) DO UPDATE SET
                graph_id = COALESCE(NULLIF(EXCLUDED.graph_id, ''), incidents_alert.graph_id),
                title = EXCLUDED.title,
                description = EXCLUDED.description,
                recommended_actions = EXCLUDED.recommended_actions,
                category = EXCLUDED.category,
                severity = EXCLUDED.severity,
                status = EXCLUDED.status,
                classification = CASE WHEN EXCLUDED.classification = 'unknown'
                    THEN incidents_alert.classification ELSE EXCLUDED.classification END,
                determination = CASE WHEN EXCLUDED.determination = 'unknown'
                    THEN incidents_alert.determination ELSE EXCLUDED.determination END,
                assigned_to = COALESCE(NULLIF(EXCLUDED.assigned_to, ''), incidents_alert.assigned_to),
                detection_source = EXCLUDED.detection_source,
                detector_id = EXCLUDED.detector_id,
                product_name = EXCLUDED.product_name,
                actor_display_name = EXCLUDED.actor_display_name,
                threat_display_name = EXCLUDED.threat_display_name,
                threat_family_name = EXCLUDED.threat_family_name,
                mitre_techniques = EXCLUDED.mitre_techniques,
                system_tags = EXCLUDED.system_tags,
                alert_web_url = EXCLUDED.alert_web_url,
                tenant_id = EXCLUDED.tenant_id,
                additional_data = EXCLUDED.additional_data,
                first_activity = LEAST(incidents_alert.first_activity, EXCLUDED.first_activity),
                last_activity = GREATEST(incidents_alert.last_activity, EXCLUDED.last_activity),
                last_update = GREATEST(incidents_alert.last_update, EXCLUDED.last_update),
                resolved_at = CASE WHEN EXCLUDED.status = 'resolved'
                    THEN COALESCE(incidents_alert.resolved_at, EXCLUDED.resolved_at) ELSE NULL END,
                payload = EXCLUDED.payload,
                repeat_count = incidents_alert.repeat_count + EXCLUDED.repeat_count + 1,
                device_group_ids = ARRAY(
                    SELECT DISTINCT g FROM unnest(incidents_alert.device_group_ids || EXCLUDED.device_group_ids) g
                    ORDER BY g
                )
            RETURNING id, (xmax = 0), incident_id, service_source, provider_alert_id
            """,
            rows,
            template=ALERT_TEMPLATE,
            page_size=len(rows),
            fetch=True,
        )
    ids = {(service, provider): alert_id for alert_id, _, _, service, provider in returned}
    for alert in alerts:
        alert.alert_id = ids[alert.dedup_key]
    return [(alert_id, inserted, incident_id) for alert_id, inserted, incident_id, _, _ in returned]


def _lock_resent_alerts(cursor, dedup_keys: list[tuple[str, str]]) -> None:
    """
    Lock the stored rows of the alerts this batch re-sends, in the order correlation takes them: the uncorrelated
    ones first (a correlation holds those from its start), then the others by id (the order a merge moves them
    in). A request waiting for a correlation's alerts then holds none of the rows its merge is about to move, so
    the two never wait on each other in a cycle. New alerts are left to the INSERT, in the order of their key.
    """
    # One probe of the unique key's index per alert (see correlation.PLAN_PROOF).
    cursor.execute(
        """
        SELECT a.id, a.incident_id IS NULL FROM unnest(%s::text[], %s::text[]) AS k(service_source, provider_id)
        CROSS JOIN LATERAL (
            SELECT id, incident_id FROM incidents_alert
            WHERE service_source = k.service_source AND provider_alert_id = k.provider_id OFFSET 0
        ) AS a
        """,
        [[service for service, _ in dedup_keys], [provider for _, provider in dedup_keys]],
    )
    stored = cursor.fetchall()
    if not stored:
        return
    lock_order = [alert_id for alert_id, _ in sorted(stored, key=lambda row: (not row[1], row[0]))]
    # Locked one by one in the list's order: each probe takes its row's lock as the loop reaches it.
    cursor.execute(
        """
        SELECT count(*) FROM unnest(%s::bigint[]) AS k(id)
        CROSS JOIN LATERAL (SELECT id FROM incidents_alert WHERE id = k.id FOR NO KEY UPDATE) AS a
        """,
        [lock_order],
    )


def _store_evidence(alerts, rows, entity_ids) -> None:
    updated_ids = [alert_id for alert_id, inserted, _ in rows if not inserted]
    linked, generic = {}, []

    def entity_id(record):
        return entity_ids[(record.kind, record.key)][0] if record is not None else None

    for alert in alerts:
        for evidence in alert.evidence:
            row = [
                alert.alert_id,
                entity_id(evidence.entity),
                evidence.odata_type,
                evidence.roles,
                evidence.detailed_roles,
                evidence.tags,
                evidence.verdict,
                evidence.remediation_status,
                evidence.remediation_status_details,
                evidence.created_at,
                entity_id(evidence.device),
                entity_id(evidence.image_file),
                entity_id(evidence.parent_process),
                Json(evidence.payload),
            ]
            if row[1] is None:
                generic.append(tuple(row))
                continue
            # One row per entity per alert: evidence naming the same entity twice merges its roles.
            known = linked.get((row[0], row[1]))
            if known is not None:
                row[3] = list(dict.fromkeys(known[3] + row[3]))
                row[4] = list(dict.fromkeys(known[4] + row[4]))
                row[5] = list(dict.fromkeys(known[5] + row[5]))
            linked[(row[0], row[1])] = row
    template = "(%s, %s, %s, %s::varchar[], %s::varchar[], %s::varchar[], %s, %s, %s, %s, %s, %s, %s, %s)"
    columns = (
        "alert_id, entity_id, odata_type, roles, detailed_roles, tags, verdict, remediation_status, "
        "remediation_status_details, created_at, device_id, image_file_id, parent_process_id, payload"
    )
    with connection.cursor() as cursor:
        if updated_ids:
            # A re-sent alert carries its whole evidence again: replace the evidence that has no entity to match on.
            cursor.execute(
                "DELETE FROM incidents_evidence WHERE alert_id = ANY(%s) AND entity_id IS NULL", [updated_ids]
            )
        if linked:
            execute_values(
                cursor,
                f"""
                INSERT INTO incidents_evidence ({columns}) VALUES %s
                ON CONFLICT (alert_id, entity_id) WHERE entity_id IS NOT NULL DO UPDATE SET
                    roles = ARRAY(SELECT DISTINCT r FROM unnest(incidents_evidence.roles || EXCLUDED.roles) r),
                    detailed_roles = ARRAY(
                        SELECT DISTINCT r FROM unnest(incidents_evidence.detailed_roles || EXCLUDED.detailed_roles) r
                    ),
                    tags = EXCLUDED.tags,
                    verdict = EXCLUDED.verdict,
                    remediation_status = EXCLUDED.remediation_status,
                    remediation_status_details = EXCLUDED.remediation_status_details,
                    device_id = COALESCE(EXCLUDED.device_id, incidents_evidence.device_id),
                    image_file_id = COALESCE(EXCLUDED.image_file_id, incidents_evidence.image_file_id),
                    parent_process_id = COALESCE(EXCLUDED.parent_process_id, incidents_evidence.parent_process_id),
                    payload = EXCLUDED.payload
                """,
                [tuple(row) for _, row in sorted(linked.items())],
                template=template,
                page_size=1000,
            )
        if generic:
            execute_values(
                cursor,
                f"INSERT INTO incidents_evidence ({columns}) VALUES %s",
                generic,
                template=template,
                page_size=1000,
            )
