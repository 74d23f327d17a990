"""
An incident as a scoped person sees it: what it derives from its alerts, derived from the alerts they may see.

An incident in someone's scope can hold alerts that are not (alerts on devices of two device groups, joined by a user
they share). Its stored rollups (severity, name, categories, techniques, sources, impacted assets, device groups,
activity times, active alerts) are computed from all its alerts, and would tell a scoped reader about alerts they
cannot open. `incidents_as_seen` recomputes them for such incidents from the visible alerts, at read time, in a
fixed number of queries for any number of incidents, and gives every incident `alerts_visible` so that pages and
APIs can say "1 of 3 alerts visible to you" rather than hide that the others exist.

What a person set on the incident (its name once renamed, a severity set by hand, status, classification, assignee,
tags) is theirs to see as it is.
"""

from collections import defaultdict

from django.db.models import Count

from incidents.choices import EntityKind, Severity
from incidents.models import Evidence, Incident
from incidents.naming import incident_name
from incidents.selectors import alerts_for, entities_for
from incidents.services.rollups import alert_rollups
from portal.catalogue import VIEW_SECURITY_DATA
from portal.scoping import data_scope

__all__ = ("alerts_with_incidents_as_seen", "incidents_as_seen", "is_partly_visible")


def is_partly_visible(incident: Incident) -> bool:
    """Whether `incidents_as_seen` found alerts of this incident that its reader may not see."""
    return getattr(incident, "alerts_visible", incident.alerts_total) < incident.alerts_total


def incidents_as_seen(user, incidents: list[Incident]) -> list[Incident]:
    """
    The same incidents, each with `alerts_visible`, and the rollups of those holding alerts out of the user's view
    scope recomputed from the alerts in it. No query for someone whose scope is all data; one to find the visible
    alerts otherwise, and two more when some incident is only partly visible.
    """
    incidents = list(incidents)
    for incident in incidents:
        incident.alerts_visible = incident.alerts_total
    if not incidents or data_scope(user, VIEW_SECURITY_DATA).all_data:
        return incidents
    by_pk = defaultdict(list)  # one incident may come as several instances (the incidents of a list of alerts)
    for incident in incidents:
        by_pk[incident.pk].append(incident)
    visible = defaultdict(list)
    for incident_id, alert_id in alerts_for(user).filter(incident_id__in=by_pk).values_list("incident_id", "pk"):
        visible[incident_id].append(alert_id)
    partly = [pk for pk, instances in by_pk.items() if len(visible[pk]) < instances[0].alerts_total]
    if not partly:
        return incidents
    alert_ids = [alert_id for pk in partly for alert_id in visible[pk]]
    rollups = alert_rollups(partly, alert_ids=alert_ids)
    assets, device_groups = _visible_assets(user, alert_ids)
    for pk in partly:
        for incident in by_pk[pk]:
            _apply(incident, rollups.get(pk), assets.get(pk, {}), device_groups.get(pk, set()), len(visible[pk]))
    return incidents


def alerts_with_incidents_as_seen(user, alerts):
    """The same alerts, their incidents (already read with them: select_related) as `user` sees them."""
    alerts = list(alerts)
    incidents_as_seen(user, [alert.incident for alert in alerts if alert.incident_id])
    return alerts


def _visible_assets(user, alert_ids: list[int]) -> tuple[dict[int, dict[str, int]], dict[int, set[int]]]:
    """Per incident: the entities the visible alerts name that the user may see, by kind, and their devices' groups."""
    rows = (
        Evidence.objects.filter(alert_id__in=alert_ids, entity__in=entities_for(user))
        .values_list("alert__incident_id", "entity__kind", "entity__device_group_id")
        .annotate(count=Count("entity", distinct=True))
        .order_by()
    )
    assets, device_groups = defaultdict(lambda: defaultdict(int)), defaultdict(set)
    for incident_id, kind, group_id, count in rows:
        assets[incident_id][kind] += count
        if kind == EntityKind.DEVICE and group_id is not None:
            device_groups[incident_id].add(group_id)
    return {pk: dict(kinds) for pk, kinds in assets.items()}, device_groups


def _apply(incident: Incident, rollup: tuple | None, assets: dict, device_groups: set[int], visible: int) -> None:
    total, active, severity_rank, first, last, services, detections, categories, techniques, titles = rollup or (
        0, 0, None, None, None, [], [], [], [], []
    )  # fmt: skip
    incident.alerts_visible = visible
    incident.alerts_active = active
    incident.first_activity, incident.last_activity = first, last
    incident.service_sources = sorted(services)
    incident.detection_sources = sorted(detections)
    incident.categories = sorted(categories)
    incident.mitre_techniques = sorted(techniques)
    incident.impacted_assets = assets
    incident.device_group_ids = sorted(device_groups)
    if not incident.severity_is_custom:
        incident.severity = Severity.values[severity_rank] if severity_rank is not None else Severity.INFORMATIONAL
    if not incident.display_name_is_custom:
        incident.display_name = (
            incident_name(titles=titles, categories=incident.categories, assets=assets, sources=services)
            if total
            else f"Incident {incident.pk}"
        )
