"""
Small worlds for scoping tests: one incident of one alert on one device in a device group, with a user account seen
only in that alert, so that what a scoped reader may see (and what not) is easy to name.
"""

from dataclasses import dataclass

from incidents.models import Alert, DeviceGroup, Entity, Incident, IncidentEntity
from incidents.services.rollups import incident_refresh
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


@dataclass
class SharedStory:
    """
    One incident across two device groups, tied by a user they share: an alert on a Branch offices workstation, one on
    a Servers domain controller and one with no device. A person scoped to Branch offices sees the first only.
    """

    branch: DeviceGroup
    servers: DeviceGroup
    workstation: Entity
    controller: Entity
    account: Entity
    branch_alert: Alert
    servers_alert: Alert
    deviceless_alert: Alert
    incident: Incident


def shared_story() -> SharedStory:
    branch, servers = DeviceGroup.objects.create(name="Branch offices"), DeviceGroup.objects.create(name="Servers")
    workstation = EntityFactory(kind="device", key="ws-branch1.corp.example", device_group=branch)
    controller = EntityFactory(kind="device", key="secretserver-dc1.corp.example", device_group=servers)
    account = EntityFactory(kind="user", key="shared-admin@corp.example")
    incident = IncidentFactory(display_name="Shared story")
    branch_alert = AlertFactory(
        incident=incident,
        title="Suspicious PowerShell on a branch workstation",
        severity="medium",
        category="Execution",
        mitre_techniques=["T1059.001"],
        device_group_ids=[branch.pk],
    )
    servers_alert = AlertFactory(
        incident=incident,
        title="SECRETSERVER credential dump on domain controller",
        severity="high",
        category="CredentialAccess",
        mitre_techniques=["T1003.001"],
        service_source="microsoftDefenderForIdentity",
        device_group_ids=[servers.pk],
    )
    deviceless_alert = AlertFactory(
        incident=incident,
        title="Impossible travel for the shared account",
        severity="high",
        category="InitialAccess",
        service_source="microsoftDefenderForCloudApps",
        device_group_ids=[],
    )
    for alert, entities in (
        (branch_alert, (workstation, account)),
        (servers_alert, (controller, account)),
        (deviceless_alert, (account,)),
    ):
        for entity in entities:
            EvidenceFactory(alert=alert, entity=entity)
    incident = incident_refresh(incident_id=incident.pk)
    # The name follows the alerts, as correlation leaves it.
    return SharedStory(
        branch, servers, workstation, controller, account, branch_alert, servers_alert, deviceless_alert, incident
    )
