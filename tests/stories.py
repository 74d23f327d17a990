"""
Small worlds for scoping tests: one incident of one alert on one device in a device group, with a user account seen
only in that alert, so that what a scoped reader may see (and what not) is easy to name.
"""

from dataclasses import dataclass

from incidents.models import Alert, DeviceGroup, Entity, Incident, IncidentEntity
from tests.factories import AlertFactory, EntityFactory, EvidenceFactory, IncidentFactory

__all__ = ("Story", "story")


@dataclass
class Story:
    """One incident of one alert on one device, with a user account seen only in that alert."""

    group: DeviceGroup | None
    device: Entity
    account: Entity
    alert: Alert
    incident: Incident


def story(name: str, group: DeviceGroup | None, *, tags=()) -> Story:
    groups = [group.pk] if group else []
    device = EntityFactory(kind="device", key=f"{name}.corp.example", device_group=group)
    account = EntityFactory(kind="user", key=f"{name}-user@corp.example")
    incident = IncidentFactory(display_name=f"Incident on {name}", device_group_ids=groups, custom_tags=list(tags))
    alert = AlertFactory(incident=incident, title=f"Alert on {name}", device_group_ids=groups)
    for entity in (device, account):
        EvidenceFactory(alert=alert, entity=entity)
        IncidentEntity.objects.create(incident=incident, entity=entity)
    return Story(group, device, account, alert, incident)
