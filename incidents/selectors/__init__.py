"""
Reads of the shared security model, always scoped through portal.scoping.restrict.

Alerts and incidents are scoped by their device groups; entities by their own group (devices) or by the alerts they
appear in (everything else); evidence by its alert, less the devices of device groups out of scope. Writes find
their rows through `incidents_to_change` / `alerts_to_change`, inside their transaction, so that an object that left
the actor's scope since the page was loaded is refused.

An incident in scope can hold alerts that are not (alerts sharing a user across device groups): a person changes
such an incident only when their scope covers every one of its alerts (`alerts_beyond_scope`, `BeyondScope`).
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
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
from django.db.models.functions import Cast, Coalesce

from incidents.choices import EntityKind, Severity
from incidents.models import ACTION_PERMISSIONS, Alert, Comment, DeviceGroup, Entity, Evidence, Incident
from portal.catalogue import VIEW_SECURITY_DATA
from portal.scoping import data_scope

__all__ = (
    "BeyondScope",
    "OutOfScope",
    "activity_visible_to",
    "alerts_beyond_scope",
    "alerts_for",
    "alerts_to_change",
    "comments_for",
    "device_groups_for",
    "devices_to_group",
    "entities_for",
    "evidence_of",
    "evidence_visible_to",
    "incidents_for",
    "incidents_of_seen_severity",
    "incidents_seen_where",
    "incidents_to_change",
    "sees_all_data",
    "with_seen_rollups",
    "with_seen_severity",
)


class OutOfScope(ObjectDoesNotExist):
    """
    The object does not exist, or the actor may not (or no longer) reach it with the action. One exception for both,
    so that an answer never tells whether an object outside someone's scope exists; views answer 404. It names the
    model and id it was raised for, so that a write touching two objects (an alert and the incident it moves to)
    tells which one was refused.
    """

    def __init__(self, model, pk):
        self.model, self.pk = model, pk
        super().__init__(f"There is no {model._meta.verbose_name} {pk} that you may change.")


class BeyondScope(PermissionDenied):
    """
    The actor may see the incident but not change it: it also holds alerts outside their scope, which a change to the
    incident would change too (its assignee and status follow to its alerts; a merge moves them). The message says
    so and what they may do instead; the APIs answer 403 with it.
    """

    def __init__(self, incident_id):
        self.pk = incident_id
        super().__init__(
            f"Incident {incident_id} also holds alerts outside your device groups: only someone whose scope covers "
            "all of its alerts may change it. You may move the alerts you can change to a new incident."
        )


def device_groups_for(user, permission: str = VIEW_SECURITY_DATA):
    """The device groups `user` may see data of (for filters and pickers)."""
    scope = data_scope(user, permission)
    if scope.all_data:
        return DeviceGroup.objects.all()
    return DeviceGroup.objects.filter(pk__in=sorted(scope.device_group_ids))


def sees_all_data(user) -> bool:
    """Whether `user`'s view of security data is all of it (no incident is then only partly visible to them)."""
    return data_scope(user, VIEW_SECURITY_DATA).all_data


def devices_to_group():
    """
    Every device, for the device-group pages of Permissions & roles: those who manage roles place any device in a
    group, whatever their own data scope (the pages ask for that permission first).
    """
    return Entity.objects.filter(kind=EntityKind.DEVICE)


def incidents_for(user, *, action: str = "view"):
    return Incident.objects.restrict(user, action)


def alerts_for(user, *, action: str = "view"):
    return Alert.objects.restrict(user, action)


def alerts_beyond_scope(actor, incident_ids, *, action: str = "change") -> set[int]:
    """
    Of these incidents, those holding an alert that `actor` may not reach with `action`. No query for the system
    (actor None) or for someone whose scope is all data.
    """
    ids = [pk for pk in incident_ids if pk]
    if actor is None or not ids or data_scope(actor, ACTION_PERMISSIONS[action]).all_data:
        return set()
    reachable = alerts_for(actor, action=action).filter(incident_id__in=ids).values("pk")
    outside = Alert.objects.filter(incident_id__in=ids).exclude(pk__in=reachable)
    return set(outside.values_list("incident_id", flat=True).distinct())


def activity_visible_to(entries, user):
    """
    The activity-log entries about security data that `user` may read among `entries` (the log's rule for this app,
    registered with portal.scoping): entries on incidents, alerts and device groups in their view scope, less those
    on an incident that are about an alert out of it (linked, moved, created for it), which name that alert. Entries
    on anything else pass. No filter for someone whose scope is all data.
    """
    scope = data_scope(user, VIEW_SECURITY_DATA)
    if scope.all_data:
        return entries
    types = ContentType.objects.get_for_models(Incident, Alert, DeviceGroup, for_concrete_models=False)
    in_scope = {
        Incident: _text_ids(incidents_for(user)),
        Alert: _text_ids(alerts_for(user)),
        DeviceGroup: [str(pk) for pk in sorted(scope.device_group_ids)],
    }
    for model, ids in in_scope.items():
        entries = entries.filter(~Q(target_type=types[model]) | Q(target_id__in=ids))
    about_visible_alert = Exists(alerts_for(user).filter(pk=OuterRef("about_alert_id")))
    return entries.filter(Q(about_alert_id__isnull=True) | about_visible_alert)


def _text_ids(queryset):
    # Log entries name their object by id as text.
    return queryset.order_by().annotate(text_id=Cast("pk", CharField())).values("text_id")


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
    highest_visible = _visible_alerts_of_incident(user).annotate(rank=Max("severity_rank")).values("rank")
    return incidents.annotate(
        seen_severity_rank=Case(
            When(Q(severity_is_custom=True) | _wholly_visible(user), then=F("severity_rank")),
            default=Subquery(highest_visible),
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


def comments_for(user):
    """The comments on incidents or alerts in the user's scope."""
    return Comment.objects.restrict(user)


def evidence_visible_to(user):
    """The evidence rows `user` may see (incidents.models.EvidenceQuerySet.restrict says which)."""
    return Evidence.objects.restrict(user)


def evidence_of(user, alert: Alert):
    """An alert's evidence as `user` may see it, with its entities, in the order it was stored; `alert` comes from a
    scoped read."""
    return evidence_visible_to(user).filter(alert=alert).select_related("entity").order_by("id")


def incidents_to_change(actor):
    """The incidents a write may touch: the actor's change scope, or every incident for the system (actor None)."""
    return Incident.objects.all() if actor is None else incidents_for(actor, action="change")


def alerts_to_change(actor):
    """The alerts a write may touch: the actor's change scope, or every alert for the system (actor None)."""
    return Alert.objects.all() if actor is None else alerts_for(actor, action="change")


def entities_for(user):
    """The entities `user` may see (incidents.models.EntityQuerySet.restrict says which)."""
    return Entity.objects.restrict(user)
