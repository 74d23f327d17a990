"""
Reads for the alert queue, the alert page and the entity pages.

Every read starts from the scoped selectors in `incidents.selectors` (`alerts_for`, `incidents_for`,
`entities_for`): the data scope is applied there and nowhere else. Evidence and incident-entity links are only
read as part of alerts, incidents and entities those selectors returned.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, Q
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

from incidents.choices import AlertStatus, EntityKind, IncidentStatus
from incidents.filters import AlertFilterSet, FilterRequest, with_defaults
from incidents.models import Alert, Entity, Evidence, Incident, IncidentEntity
from incidents.selectors import alerts_beyond_scope, alerts_for, entities_for, evidence_of, incidents_for
from incidents.selectors.seen import alerts_with_incidents_as_seen
from portal.catalogue import VIEW_SECURITY_DATA
from portal.scoping import data_scope

__all__ = (
    "DEFAULT_FILTERS",
    "DEFAULT_SORT",
    "QUEUE_SORTS",
    "AlertQueue",
    "ProcessNode",
    "alert_evidence",
    "alert_for_page",
    "alert_queue",
    "entity_alerts",
    "entity_for_page",
    "entity_incidents",
    "incident_choices_for_move",
    "may_change_alert",
    "process_tree",
    "visible_entity_ids",
    "visible_incident_ids",
    "with_impacted_assets",
)

# Defender's default alert queue: new and in-progress alerts of the last seven days, newest first.
DEFAULT_FILTERS = {"status": [AlertStatus.NEW, AlertStatus.IN_PROGRESS], "range": ["7d"]}

# ?sort= values and what they order by; anything else falls back to the default (never an error).
QUEUE_SORTS = {
    "-created": (F("created_at").desc(), "-id"),
    "created": (F("created_at").asc(), "id"),
    "-severity": (F("severity_rank").desc(), F("created_at").desc(), "-id"),
    "severity": (F("severity_rank").asc(), F("created_at").desc(), "-id"),
    "-first_activity": (F("first_activity").desc(nulls_last=True), "-id"),
    "first_activity": (F("first_activity").asc(nulls_last=True), "id"),
    "-last_activity": (F("last_activity").desc(nulls_last=True), "-id"),
    "last_activity": (F("last_activity").asc(nulls_last=True), "id"),
}
DEFAULT_SORT = "-created"
# What the queue's rows never show: the original JSON can be large, so it stays in the database.
QUEUE_DEFERRED = ("payload", "additional_data", "description", "recommended_actions")
IMPACTED_KINDS = (EntityKind.DEVICE, EntityKind.USER)


@dataclass
class AlertQueue:
    filterset: AlertFilterSet
    rows: object  # the ordered queryset (empty when a filter value is invalid)
    sort: str
    # True when no filter came in the URL and the default view applies.
    is_default: bool
    # The time range as the person chose it: "", a TIME_RANGES key, or "custom" (since/until only).
    range_choice: str


def alert_queue(user, params: QueryDict) -> AlertQueue:
    """The alert queue for a query string: its filters (with the defaults when none is given), sort and rows."""
    data, is_default = with_defaults(AlertFilterSet, params, DEFAULT_FILTERS)
    range_choice = data.get("range", "")
    if range_choice == "custom":
        # "Custom" in the range list means: only the since/until dates apply.
        data.pop("range")
    elif not range_choice and (data.get("since") or data.get("until")):
        range_choice = "custom"
    filterset = AlertFilterSet(data, queryset=alerts_for(user), request=FilterRequest(user))
    sort = params.get("sort") if params.get("sort") in QUEUE_SORTS else DEFAULT_SORT
    if filterset.is_valid():
        rows = filterset.qs.select_related("incident").defer(*QUEUE_DEFERRED).order_by(*QUEUE_SORTS[sort])
    else:
        rows = alerts_for(user).none()
    return AlertQueue(filterset=filterset, rows=rows, sort=sort, is_default=is_default, range_choice=range_choice)


def with_impacted_assets(user, alerts: list[Alert]) -> list[Alert]:
    """
    Give each alert `devices` and `users`: the entities its evidence names, in evidence order. One query for the
    whole page, whatever its size.
    """
    if not alerts:
        return alerts
    visible = entities_for(user).filter(kind__in=IMPACTED_KINDS)
    evidence = (
        Evidence.objects.filter(alert__in=[alert.pk for alert in alerts], entity__in=visible)
        .select_related("entity")
        .only("id", "alert_id", "entity__id", "entity__kind", "entity__display_name")
        .order_by("alert_id", "id")
    )
    by_alert: dict[int, list[Entity]] = {}
    for row in evidence:
        by_alert.setdefault(row.alert_id, []).append(row.entity)
    for alert in alerts:
        entities = by_alert.get(alert.pk, [])
        alert.devices = [entity for entity in entities if entity.kind == EntityKind.DEVICE]
        alert.users = [entity for entity in entities if entity.kind == EntityKind.USER]
    return alerts


def alert_for_page(user, pk: int, *, action: str = "view") -> Alert | None:
    """The alert, with its incident as `user` sees it (incidents.selectors.seen)."""
    alert = alerts_for(user, action=action).select_related("incident").filter(pk=pk).first()
    return alerts_with_incidents_as_seen(user, [alert])[0] if alert is not None else None


def may_change_alert(user, alert: Alert) -> bool:
    """
    Whether the manage, comment and move forms apply: the right to manage alerts over a scope holding this one
    (without the right the change scope is empty, and the question costs no query).
    """
    return alerts_for(user, action="change").filter(pk=alert.pk).exists()


def visible_incident_ids(user, incident_ids) -> set[int]:
    """
    Which of these incidents the user may open. An alert in scope normally sits in an incident in scope, but not
    always (a device that moved to another group since its alert came in), so names and links ask. No query for
    a reader over all data.
    """
    ids = {pk for pk in incident_ids if pk}
    if not ids or data_scope(user, VIEW_SECURITY_DATA).all_data:
        return ids
    return set(incidents_for(user).filter(pk__in=ids).values_list("pk", flat=True))


def alert_evidence(user, alert: Alert) -> list[Evidence]:
    """The alert's evidence as `user` may see it, with the entities it names and links (device, image file, parent
    process)."""
    return list(evidence_of(user, alert).select_related("device", "image_file", "parent_process").defer("payload"))


def visible_entity_ids(user, evidence: list[Evidence]) -> set[int]:
    """Which of the entities these evidence rows name the user may open (their pages answer 404 otherwise)."""
    ids = {
        entity_id
        for row in evidence
        for entity_id in (row.entity_id, row.device_id, row.image_file_id, row.parent_process_id)
        if entity_id
    }
    if not ids:
        return set()
    return set(entities_for(user).filter(pk__in=ids).values_list("pk", flat=True))


@dataclass
class ProcessNode:
    entity: Entity
    # The evidence row that names this process; None for a parent known only from a child's evidence.
    evidence: Evidence | None = None
    children: list["ProcessNode"] = field(default_factory=list)

    @property
    def command_line(self) -> str:
        return self.entity.attributes.get("commandLine") or ""

    @property
    def started(self) -> datetime | None:
        value = self.entity.attributes.get("creationDateTime")
        try:
            return parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            return None

    @property
    def image_file(self) -> Entity | None:
        return self.evidence.image_file if self.evidence else None


def process_tree(evidence: list[Evidence]) -> list[ProcessNode]:
    """
    The alert's processes as a forest: each process under its parent (Evidence.parent_process), parents that are
    known only from a child shown as their own node. Roots and children are in start-time order.
    """
    nodes: dict[int, ProcessNode] = {}
    parent_of: dict[int, int] = {}
    for row in evidence:
        if row.entity is None or row.entity.kind != EntityKind.PROCESS:
            continue
        node = nodes.setdefault(row.entity_id, ProcessNode(row.entity))
        node.evidence = node.evidence or row
        if row.parent_process is not None and row.parent_process_id != row.entity_id:
            nodes.setdefault(row.parent_process_id, ProcessNode(row.parent_process))
            parent_of.setdefault(row.entity_id, row.parent_process_id)
    # A loop (bad data: a process its own ancestor) is cut where it closes, so every node is drawn exactly once.
    for child_id in list(parent_of):
        seen, current = {child_id}, parent_of[child_id]
        while current in parent_of:
            if current in seen or parent_of[current] == child_id:
                del parent_of[child_id]
                break
            seen.add(current)
            current = parent_of[current]
    roots = []
    for entity_id, node in nodes.items():
        parent_id = parent_of.get(entity_id)
        (nodes[parent_id].children if parent_id is not None else roots).append(node)

    def order(items: list[ProcessNode]) -> list[ProcessNode]:
        items.sort(key=lambda node: (node.started is None, node.started or datetime.min, node.entity.pk))
        for node in items:
            order(node.children)
        return items

    return order(roots)


def entity_for_page(user, pk: int) -> Entity | None:
    return entities_for(user).select_related("device_group").filter(pk=pk).first()


def entity_alerts(user, entity: Entity):
    """
    Every alert the entity appears in, newest first, with the roles and verdict that alert gave it (one evidence
    row per alert and entity, so no duplicates).
    """
    return (
        alerts_for(user)
        .filter(evidence__entity=entity)
        .annotate(entity_roles=F("evidence__roles"), entity_verdict=F("evidence__verdict"))
        .select_related("incident")
        .defer(*QUEUE_DEFERRED)
        .order_by("-created_at", "-id")
    )


def entity_incidents(user, entity: Entity):
    """The incidents the entity is part of: linked to it directly, or holding an alert that names it."""
    linked = IncidentEntity.objects.filter(entity=entity).values("incident_id")
    through_alerts = alerts_for(user).filter(evidence__entity=entity, incident__isnull=False).values("incident_id")
    return (
        incidents_for(user)
        .filter(Q(pk__in=linked) | Q(pk__in=through_alerts))
        .order_by(F("last_activity").desc(nulls_last=True), "-id")
    )


def incident_choices_for_move(user, alert: Alert) -> list[Incident]:
    """
    Recent open incidents other than the alert's own, offered as targets when moving the alert: those the person may
    change wholly (moving an alert into an incident changes it).
    """
    choices = list(
        incidents_for(user, action="change")
        .exclude(pk=alert.incident_id or 0)
        .filter(status__in=[IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS])
        .only("id", "display_name")
        .order_by("-last_update", "-id")[:20]
    )
    beyond = alerts_beyond_scope(user, [incident.pk for incident in choices])
    return [incident for incident in choices if incident.pk not in beyond]
