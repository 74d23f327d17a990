"""
Reads of the shared security model, always scoped through portal.scoping.restrict.

Alerts and incidents are scoped by their device groups; entities by their own group (devices) or by the alerts they
appear in (everything else). Writes find their rows through `incidents_to_change` / `alerts_to_change`, inside
their transaction, so that an object that left the actor's scope since the page was loaded is refused.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q

from incidents.choices import EntityKind
from incidents.models import Alert, Comment, Entity, Evidence, Incident
from permissions.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.scoping import data_scope, restrict

__all__ = (
    "OutOfScope",
    "alerts_for",
    "alerts_to_change",
    "comments_for",
    "entities_for",
    "evidence_of",
    "incidents_for",
    "incidents_to_change",
)

# What each action on alerts and incidents needs, in the user's data scope.
ACTION_PERMISSIONS = {"view": VIEW_SECURITY_DATA, "change": MANAGE_INCIDENTS}


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


def incidents_for(user, *, action: str = "view"):
    return restrict(Incident.objects.all(), user, permission=ACTION_PERMISSIONS[action])


def alerts_for(user, *, action: str = "view"):
    return restrict(Alert.objects.all(), user, permission=ACTION_PERMISSIONS[action])


def comments_for(user):
    """The comments on incidents or alerts in the user's scope."""
    return Comment.objects.filter(Q(incident__in=incidents_for(user)) | Q(alert__in=alerts_for(user)))


def evidence_of(alert: Alert):
    """An alert's evidence with its entities, in the order it was stored; `alert` comes from a scoped read."""
    return Evidence.objects.filter(alert=alert).select_related("entity").order_by("id")


def incidents_to_change(actor):
    """The incidents a write may touch: the actor's change scope, or every incident for the system (actor None)."""
    return Incident.objects.all() if actor is None else incidents_for(actor, action="change")


def alerts_to_change(actor):
    """The alerts a write may touch: the actor's change scope, or every alert for the system (actor None)."""
    return Alert.objects.all() if actor is None else alerts_for(actor, action="change")


def entities_for(user):
    """
    A device when its device group is in scope; any other entity (user, address, file, ...) when it appears in an
    alert in scope, so that a name only out-of-scope alerts carry never reaches a scoped reader. The second test is
    an EXISTS over the entity's evidence (the (entity, alert) index) to its alerts' device groups.
    """
    scope = data_scope(user, VIEW_SECURITY_DATA)
    if scope.all_data:
        return Entity.objects.all()
    if scope.is_empty:
        return Entity.objects.none()
    devices = restrict(
        Entity.objects.filter(kind=EntityKind.DEVICE),
        user,
        permission=VIEW_SECURITY_DATA,
        device_groups_field="device_group",
    )
    seen_in_scope = restrict(
        Evidence.objects.filter(entity=OuterRef("pk")),
        user,
        permission=VIEW_SECURITY_DATA,
        device_groups_field="alert__device_group_ids",
    )
    return devices | Entity.objects.exclude(kind=EntityKind.DEVICE).filter(Exists(seen_in_scope))
