"""Reads of the shared security model, always scoped through portal.scoping.restrict."""

from incidents.models import Alert, Entity, Incident
from permissions.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.scoping import restrict

__all__ = ("alerts_for", "entities_for", "incidents_for")

# What each action on alerts and incidents needs, in the user's data scope.
ACTION_PERMISSIONS = {"view": VIEW_SECURITY_DATA, "change": MANAGE_INCIDENTS}


def incidents_for(user, *, action: str = "view"):
    return restrict(Incident.objects.all(), user, permission=ACTION_PERMISSIONS[action])


def alerts_for(user, *, action: str = "view"):
    return restrict(Alert.objects.all(), user, permission=ACTION_PERMISSIONS[action])


def entities_for(user):
    # Devices carry their group; other entities are visible through the alerts they appear in (Permissions &
    # roles narrows this for scoped users).
    return restrict(Entity.objects.all(), user, permission=VIEW_SECURITY_DATA, device_groups_field="device_group")
