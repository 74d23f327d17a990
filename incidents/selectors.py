"""Reads of the shared security model, always scoped through portal.scoping.restrict."""

from incidents.models import Alert, Entity, Incident
from portal.scoping import restrict

__all__ = ("alerts_for", "entities_for", "incidents_for")


def incidents_for(user, *, action: str = "view"):
    return restrict(Incident.objects.all(), user, permission=f"incidents.{action}_incident")


def alerts_for(user, *, action: str = "view"):
    return restrict(Alert.objects.all(), user, permission=f"incidents.{action}_alert")


def entities_for(user):
    # Devices carry their group; other entities are visible through the alerts they appear in (Permissions &
    # roles narrows this for scoped users).
    return restrict(Entity.objects.all(), user, permission="incidents.view_entity", device_groups_field="device_group")
