"""
The demo estate: a plausible organisation to explore the portal with. Idempotent: running it again updates the
same rows. Later sections add their own demo data here (incidents arrive through ingestion).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents.choices import EntityKind
from incidents.demo import demo_alerts
from incidents.models import Alert, DeviceGroup, Entity
from incidents.services.correlation import alerts_correlate
from incidents.services.ingestion import ingest_alerts
from permissions.models import Role
from permissions.services import assignment_set
from portal.services import SYSTEM

__all__ = ("DEMO_ACCOUNTS", "DemoAccount", "demo_estate_seed")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    full_name: str
    role: str
    # The device groups the role covers; empty for all data.
    device_groups: tuple[str, ...] = ()


# Printed by `make run`; for a local demo only (seed_demo refuses to run with DEBUG off unless told to).
DEMO_ACCOUNTS = (
    DemoAccount("admin", "vigil-demo-admin", "Avery Admin", "Security administrator"),
    DemoAccount("analyst", "vigil-demo-analyst", "Sam Analyst", "Security operator"),
    DemoAccount("reader", "vigil-demo-reader", "Riley Reader", "Security reader"),
    DemoAccount("branch", "vigil-demo-branch", "Blake Branch", "Security operator", ("Branch offices",)),
    DemoAccount("intel", "vigil-demo-intel", "Indra Intel", "Threat intelligence analyst"),
    DemoAccount("posture", "vigil-demo-posture", "Pat Posture", "Posture manager"),
)

DEVICE_GROUPS = (
    ("Headquarters workstations", "Laptops and desktops at the London headquarters."),
    ("Servers", "Domain controllers, file and application servers."),
    ("Branch offices", "Workstations in the Manchester and Leeds branches."),
    ("Executives", "Devices of the leadership team; handled with priority."),
)

# (device name, group, os, risk score)
DEVICES = (
    ("ws-lon-001.corp.example", "Headquarters workstations", "Windows11", "low"),
    ("ws-lon-002.corp.example", "Headquarters workstations", "Windows11", "medium"),
    ("ws-lon-003.corp.example", "Headquarters workstations", "Windows10", "none"),
    ("ws-lon-004.corp.example", "Headquarters workstations", "macOS", "none"),
    ("dc01.corp.example", "Servers", "WindowsServer2022", "none"),
    ("fs01.corp.example", "Servers", "WindowsServer2019", "low"),
    ("app01.corp.example", "Servers", "Linux", "none"),
    ("sql01.corp.example", "Servers", "WindowsServer2022", "high"),
    ("ws-man-001.corp.example", "Branch offices", "Windows11", "none"),
    ("ws-lds-001.corp.example", "Branch offices", "Windows10", "medium"),
    ("ceo-laptop.corp.example", "Executives", "Windows11", "none"),
    ("cfo-laptop.corp.example", "Executives", "macOS", "low"),
)

# (UPN, display name)
DIRECTORY_USERS = (
    ("alice.ward@corp.example", "Alice Ward"),
    ("ben.okafor@corp.example", "Ben Okafor"),
    ("chloe.martin@corp.example", "Chloe Martin"),
    ("dan.hughes@corp.example", "Dan Hughes"),
    ("eve.lindqvist@corp.example", "Eve Lindqvist"),
    ("svc-backup@corp.example", "Backup service account"),
    ("helen.price@corp.example", "Helen Price (CEO)"),
    ("ian.shaw@corp.example", "Ian Shaw (CFO)"),
)


def demo_estate_seed() -> dict[str, int]:
    now = timezone.now()
    _seed_directory(now)
    stories = _ingest_attack_stories(now)
    return {
        "device_groups": len(DEVICE_GROUPS),
        "devices": len(DEVICES),
        "users": len(DIRECTORY_USERS),
        "alerts": stories,
    }


@transaction.atomic
def _seed_directory(now) -> None:
    """Device groups, devices, directory users and the demo accounts."""
    groups = {}
    for rank, (name, description) in enumerate(DEVICE_GROUPS):
        groups[name], _ = DeviceGroup.objects.update_or_create(
            name=name, defaults={"description": description, "rank": rank}
        )
    for name, group, os_platform, risk in DEVICES:
        values = {
            "display_name": name.split(".", 1)[0],
            "device_group": groups[group],
            "os_platform": os_platform,
            "risk_score": risk,
            "attributes": {"deviceDnsName": name, "osPlatform": os_platform},
            "last_seen": now,
        }
        Entity.objects.update_or_create(
            kind=EntityKind.DEVICE,
            key=name,
            defaults=values,
            create_defaults={**values, "first_seen": now - timedelta(days=120)},
        )
    for upn, display_name in DIRECTORY_USERS:
        values = {"display_name": display_name, "attributes": {"userPrincipalName": upn}, "last_seen": now}
        Entity.objects.update_or_create(
            kind=EntityKind.USER,
            key=upn,
            defaults=values,
            create_defaults={**values, "first_seen": now - timedelta(days=365)},
        )
    user_model = get_user_model()
    for account in DEMO_ACCOUNTS:
        first_name, last_name = account.full_name.split(" ", 1)
        user, _ = user_model.objects.update_or_create(
            username=account.username,
            defaults={"first_name": first_name, "last_name": last_name, "email": f"{account.username}@vigil.example"},
        )
        user.set_password(account.password)
        user.is_staff = account.role == "Security administrator"
        user.save()
        _demo_assignment(user, account, groups)


def _demo_assignment(user, account: DemoAccount, groups: dict[str, DeviceGroup]) -> None:
    # Through the permissions services, so the seed gets their checks, grants and log; a second run finds the
    # assignment and changes (and logs) nothing.
    assignment_set(
        role=Role.objects.get(group__name=account.role),
        user=user,
        all_data=not account.device_groups,
        device_groups=[groups[name] for name in account.device_groups],
        actor=SYSTEM,
    )


def _ingest_attack_stories(now) -> int:
    """Ingest the attack stories once; re-running the seed leaves alerts already stored alone."""
    payloads = demo_alerts(now)
    known = set(
        Alert.objects.filter(provider_alert_id__in=[p["providerAlertId"] for p in payloads]).values_list(
            "provider_alert_id", flat=True
        )
    )
    fresh = [payload for payload in payloads if payload["providerAlertId"] not in known]
    if not fresh:
        return 0
    result = ingest_alerts(fresh, source="seed_demo")
    if result.rejected:
        raise ValueError(f"demo alerts were rejected: {result.rejected}")
    # Correlated here rather than by the worker, so the demo opens on finished incidents even before it starts.
    alerts_correlate(alert_ids=result.accepted)
    return len(result.accepted)
