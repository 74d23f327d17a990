"""
Reads for the incident queue and the incident page. The queue starts from the scoped `incidents_for`; the page's
reads take an incident the view already fetched through it, and read its alerts through `alerts_for` and its
entities through `entities_for`: an incident in scope can hold alerts and devices that are not.
"""

from datetime import timedelta

from django.db.models import Count, F, Func
from django.db.models.functions import TruncHour
from django.utils import timezone

from incidents.filters import FilterRequest, IncidentFilterSet, with_defaults
from incidents.models import Comment, Evidence, Incident, IncidentEntity
from incidents.queue_columns import order_by
from incidents.selectors import (
    alerts_beyond_scope,
    alerts_for,
    entities_for,
    evidence_visible_to,
    incidents_for,
)
from incidents.selectors.seen import incidents_as_seen, with_seen_severity
from portal.selectors import activity_seen_by

__all__ = (
    "DEFAULT_FILTERS",
    "incident_activity",
    "incident_alerts",
    "incident_entities",
    "incident_evidence",
    "incident_graph_data",
    "incident_queue",
    "incident_rights",
    "known_tags",
    "queue_timeline",
    "similar_incidents",
)

# The queue's default view: open work of the last six months, newest update first.
DEFAULT_FILTERS = {"status": ["active", "inProgress"], "severity": ["high", "medium", "low"], "range": ["6m"]}


def incident_queue(user, params):
    """(filterset, the effective sort, the ordered queryset) for the queue's query string."""
    data, _ = with_defaults(IncidentFilterSet, params, DEFAULT_FILTERS)
    base = with_seen_severity(user, incidents_for(user).exclude(status="redirected"))
    filterset = IncidentFilterSet(data, queryset=base, request=FilterRequest(user))
    sort, ordering = order_by(params.get("sort"))
    rows = filterset.qs.order_by(*ordering) if filterset.is_valid() else base.none()
    return filterset, sort, rows


def queue_timeline(user, *, hours: int = 24) -> list[dict]:
    """Alerts received and incidents created per hour over the last `hours`, oldest hour first."""
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(hours=hours - 1)
    alerts = _per_hour(alerts_for(user), "ingested_at", start)
    incidents = _per_hour(incidents_for(user), "created_at", start)
    slots = [start + timedelta(hours=n) for n in range(hours)]
    peak = max([*alerts.values(), *incidents.values(), 1])
    return [
        {
            "hour": slot,
            "alerts": alerts.get(slot, 0),
            "incidents": incidents.get(slot, 0),
            "alerts_height": round(100 * alerts.get(slot, 0) / peak),
            "incidents_height": round(100 * incidents.get(slot, 0) / peak),
        }
        for slot in slots
    ]


def _per_hour(queryset, field: str, start) -> dict:
    return dict(
        queryset.filter(**{f"{field}__gte": start})
        .annotate(hour=TruncHour(field))
        .values_list("hour")
        .annotate(count=Count("id"))
        .values_list("hour", "count")
    )


def incident_rights(user, incident: Incident) -> tuple[bool, bool]:
    """
    (may comment, may change) for the activity tab's comment form and the manage pane: both need the right to manage
    incidents over a scope that holds this one (without the right the change scope is empty, and the question costs
    no query); changing it also needs every alert in it in that scope, since its changes follow to them.
    """
    may_comment = incidents_for(user, action="change").filter(pk=incident.pk).exists()
    return may_comment, may_comment and not alerts_beyond_scope(user, [incident.pk])


def known_tags(user) -> list[str]:
    """Tags in use on the most recently updated tagged incidents this person can see, for the type-ahead."""
    recent = incidents_for(user).exclude(custom_tags=[]).order_by("-last_update").values("pk")[:1000]
    tags = (
        Incident.objects.filter(pk__in=recent)
        .annotate(tag=Func(F("custom_tags"), function="unnest"))
        .values_list("tag", flat=True)
        .distinct()
        .order_by("tag")
    )
    return list(tags[:200])


def incident_alerts(user, incident: Incident):
    return alerts_for(user).filter(incident=incident).order_by("first_activity", "id")


def incident_entities(user, incident: Incident):
    """The incident's entities with how many of its alerts name each, most named first."""
    return (
        entities_for(user)
        .filter(evidence__alert__in=incident_alerts(user, incident))
        .annotate(alert_count=Count("evidence__alert", distinct=True))
        .select_related("device_group")
        .order_by("kind", "-alert_count", "display_name")
    )


def incident_evidence(user, incident: Incident):
    """Every evidence row of the incident's alerts, with its entity, for verdicts and remediation status."""
    return (
        evidence_visible_to(user)
        .filter(alert__in=incident_alerts(user, incident))
        .select_related("entity", "alert")
        .order_by("entity__kind", "entity__display_name", "alert_id")
    )


def incident_activity(user, incident: Incident):
    """The activity log (a queryset, for paging) and the comments of the incident, newest first."""
    return (
        activity_seen_by(user, incident),
        list(Comment.objects.filter(incident=incident).order_by("-created_at")),
    )


def incident_graph_data(user, incident: Incident) -> dict:
    """Nodes (alerts and entities) and the edges between them: the attack story as a graph."""
    alerts = list(incident_alerts(user, incident).values("id", "title", "severity", "first_activity"))
    alert_ids = [alert["id"] for alert in alerts]
    links = (
        Evidence.objects.filter(alert_id__in=alert_ids, entity__in=entities_for(user))
        .values_list("alert_id", "entity_id", "entity__kind", "entity__display_name", "roles")
        .distinct()
    )
    entities, edges = {}, []
    for alert_id, entity_id, kind, name, roles in links:
        entities[entity_id] = {"id": entity_id, "kind": kind, "name": name}
        edges.append({"alert": alert_id, "entity": entity_id, "roles": roles})
    return {"alerts": alerts, "entities": list(entities.values()), "edges": edges}


def similar_incidents(user, incident: Incident, *, limit: int = 5) -> list[Incident]:
    """
    Other incidents sharing entities or alert titles with this one, the most shared first; each carries
    `shared_entities` and `shared_titles`.
    """
    entity_ids = incident.entity_links.filter(entity__in=entities_for(user)).values("entity_id")
    titles = alerts_for(user).filter(incident=incident).values("title")
    by_entities = dict(
        IncidentEntity.objects.filter(entity_id__in=entity_ids, incident__in=incidents_for(user))
        .exclude(incident=incident)
        .values_list("incident")
        .annotate(shared=Count("id"))
        .order_by("-shared")
        .values_list("incident", "shared")[:50]
    )
    by_titles = dict(
        alerts_for(user)
        .filter(title__in=titles, incident__isnull=False)
        .exclude(incident=incident)
        .values_list("incident")
        .annotate(shared=Count("title", distinct=True))
        .order_by("-shared")
        .values_list("incident", "shared")[:50]
    )
    found = incidents_as_seen(
        user, incidents_for(user).exclude(status="redirected").filter(pk__in={*by_entities, *by_titles})
    )
    for other in found:
        other.shared_entities = by_entities.get(other.pk, 0)
        other.shared_titles = by_titles.get(other.pk, 0)
    found.sort(key=lambda other: (-other.shared_entities, -other.shared_titles, -other.pk))
    return found[:limit]
