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

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    SmallIntegerField,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from incidents.choices import EntityKind, Severity
from incidents.models import Evidence, Incident
from incidents.selectors import alerts_for
from incidents.services.rollups import alert_rollups, rollup_apply
from portal.catalogue import VIEW_SECURITY_DATA
from portal.scoping import data_scope

__all__ = (
    "alerts_with_incidents_as_seen",
    "incidents_as_seen",
    "incidents_of_seen_severity",
    "incidents_seen_where",
    "is_partly_visible",
    "with_seen_rollups",
    "with_seen_severity",
)


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
    """
    Per incident: the entities the visible alerts name that the user may see, by kind, and their devices' groups. The
    evidence rule (Evidence.objects.restrict) is the entity rule here: every entity of a visible alert is visible but
    the devices of other groups, and it costs a join rather than entities_for's search of each entity's alerts.
    """
    rows = (
        Evidence.objects.restrict(user)
        .filter(alert_id__in=alert_ids, entity__isnull=False)
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
    incident.alerts_visible = visible
    total, _ = rollup_apply(incident, rollup, assets=assets, device_groups=device_groups)
    if not total:
        # None of its alerts is visible (a device moved since): nothing of theirs shows.
        if not incident.severity_is_custom:
            incident.severity = Severity.INFORMATIONAL
        if not incident.display_name_is_custom:
            incident.display_name = f"Incident {incident.pk}"


# --- The same in SQL, for filtering and sorting a scoped reader's lists by what they see ---------------------


def _visible_alerts_of_incident(user):
    # The alerts of the outer query's incident that `user` may see, for correlated subqueries.
    return alerts_for(user).filter(incident=OuterRef("pk")).order_by().values("incident")


def _wholly_visible(user) -> Q:
    """The incidents all of whose alerts `user` may see (as incidents_as_seen counts them)."""
    visible = _visible_alerts_of_incident(user).annotate(n=Count("pk")).values("n")
    return Q(alerts_total__lte=Coalesce(Subquery(visible), 0))


def incidents_seen_where(user, *, stored: Q, alerts: Q) -> Q:
    """
    A condition on what an incident derives from its alerts, as `user` sees it (incidents.selectors.seen): `stored`,
    on the incident's own rollup columns, for someone over all data and for an incident they see wholly; for one
    they see in part, `alerts` holding for one of its alerts they may see. A filter never finds an incident by an
    alert its reader cannot open.
    """
    if data_scope(user, VIEW_SECURITY_DATA).all_data:
        return stored
    wholly = _wholly_visible(user)
    return (wholly & stored) | (~wholly & Q(Exists(alerts_for(user).filter(alerts, incident=OuterRef("pk")))))


def with_seen_severity(user, incidents):
    """
    `incidents` annotated with `seen_severity_rank`, the severity rank `user` sees (Severity.values' order): the
    stored one over all data, when a person set it, or for an incident they see wholly; otherwise the highest of the
    alerts they may see.
    """
    if data_scope(user, VIEW_SECURITY_DATA).all_data:
        return incidents.annotate(seen_severity_rank=F("severity_rank"))
    # One correlated subquery per incident: the highest visible rank when some alerts are not visible, else NULL.
    partly_visible_rank = (
        _visible_alerts_of_incident(user)
        .annotate(visible=Count("pk"), highest=Max("severity_rank"))
        .annotate(
            rank=Case(
                When(visible__lt=OuterRef("alerts_total"), then=F("highest")),
                default=Value(None),
                output_field=SmallIntegerField(),
            )
        )
        .values("rank")
    )
    return incidents.annotate(
        seen_severity_rank=Case(
            When(severity_is_custom=True, then=F("severity_rank")),
            default=Coalesce(Subquery(partly_visible_rank), F("severity_rank")),
            output_field=SmallIntegerField(),
        )
    )


def with_seen_rollups(user, incidents):
    """
    `incidents` annotated with what `user` sees of them, for filtering and sorting in SQL: `seen_severity_rank` and
    `seen_severity` (`with_seen_severity`), and `seen_display_name` — the name, or None for a partly visible incident's
    automatic name, which only incidents.selectors.seen can make (a filter on it then never matches, rather than
    match the alerts the reader cannot see).
    """
    incidents = with_seen_severity(user, incidents)
    if data_scope(user, VIEW_SECURITY_DATA).all_data:
        return incidents.annotate(seen_severity=F("severity"), seen_display_name=F("display_name"))
    return incidents.annotate(
        seen_severity=Case(
            *(When(seen_severity_rank=rank, then=Value(value)) for rank, value in enumerate(Severity.values)),
            output_field=CharField(),
        ),
        seen_display_name=Case(
            When(Q(display_name_is_custom=True) | _wholly_visible(user), then=F("display_name")),
            default=Value(None),
            output_field=CharField(),
        ),
    )


def incidents_of_seen_severity(user, incidents, severities):
    """Those of `incidents` whose severity, as `user` sees it (`with_seen_severity`), is one of `severities`."""
    if data_scope(user, VIEW_SECURITY_DATA).all_data:
        return incidents.filter(severity__in=severities)  # the stored column, as the queue's indexes expect
    ranks = [Severity.values.index(severity) for severity in severities]
    return with_seen_severity(user, incidents).filter(seen_severity_rank__in=ranks)
