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
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast

from incidents.choices import EntityKind
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
    "incidents_to_change",
    "sees_all_data",
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
