import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from demo.services import DEMO_ACCOUNTS
from incidents.models import Alert, DeviceGroup, Entity, Incident
from incidents.selectors import alerts_beyond_scope, entities_for, incidents_for
from incidents.selectors.seen import incidents_as_seen


@pytest.mark.django_db
def test_seed_demo_builds_the_estate_and_one_account_per_role(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent: the second run updates the same rows

    assert DeviceGroup.objects.count() == 4
    devices = Entity.objects.filter(kind="device")
    assert devices.count() == 14
    assert not devices.filter(device_group__isnull=True).exists()
    assert Entity.objects.filter(kind="user", key="alice.ward@corp.example").exists()
    for account in DEMO_ACCOUNTS:
        user = authenticate(username=account.username, password=account.password)
        assert user is not None, account.username
        assignments = list(user.role_assignments.select_related("role__group").prefetch_related("device_groups"))
        assert [(a.role.name, a.all_data) for a in assignments] == [(account.role, not account.device_groups)]
        assert sorted(g.name for g in assignments[0].device_groups.all()) == sorted(account.device_groups)
    assert authenticate(username="admin", password="vigil-demo-admin").has_perm("resources.change_resourcelink")
    assert not authenticate(username="reader", password="vigil-demo-reader").has_perm("resources.change_resourcelink")
    branch = authenticate(username="branch", password="vigil-demo-branch")
    branch_devices = Entity.objects.filter(kind="device", device_group__name="Branch offices")
    assert set(entities_for(branch).filter(kind="device")) == set(branch_devices)
    output = capsys.readouterr().out
    assert "19 new demo alerts" in output
    assert "0 new demo alerts" in output  # the second run re-sends nothing


@pytest.mark.django_db
def test_seed_demo_builds_each_attack_story_into_its_own_incident(settings):
    settings.DEBUG = True
    call_command("seed_demo")

    stories = {
        incident.display_name: incident
        for incident in Incident.objects.filter(alerts_total__gt=1).prefetch_related("alerts")
    }
    assert len(stories) == 4
    phishing = next(i for i in stories.values() if "T1566.002" in i.mitre_techniques)
    assert phishing.display_name.startswith("Multi-stage incident involving Initial access")
    assert phishing.display_name.endswith("on multiple endpoints reported by multiple sources")
    assert phishing.alerts_total == 6
    assert {"T1566.002", "T1003.001", "T1550.002"} <= set(phishing.mitre_techniques)
    ransomware = next(i for name, i in stories.items() if "Ransomware" in name)
    assert ransomware.alerts_total == 3 and ransomware.severity == "high"
    bec = next(i for name, i in stories.items() if "Collection" in name)
    assert {a.service_source for a in bec.alerts.all()} == {
        "azureAdIdentityProtection",
        "microsoftDefenderForCloudApps",
        "microsoftDefenderForOffice365",
    }
    # One story spans two device groups, joined by the account it shares: `branch` sees one alert of its three and may
    # not change the incident.
    shared = Incident.objects.get(alerts__title="Credential dumping from LSASS memory on a domain controller")
    assert shared.alerts_total == 3
    assert {g.name for g in DeviceGroup.objects.filter(pk__in=shared.device_group_ids)} == {"Branch offices", "Servers"}
    branch = authenticate(username="branch", password="vigil-demo-branch")
    seen = incidents_as_seen(branch, [incidents_for(branch).get(pk=shared.pk)])[0]
    assert (seen.alerts_visible, seen.severity) == (1, "medium")
    assert alerts_beyond_scope(branch, [shared.pk]) == {shared.pk}
    # The background noise stays in single-alert incidents named after their alert.
    singles = Incident.objects.filter(alerts_total=1)
    assert singles.count() == 4
    assert singles.filter(display_name="EICAR test file detected on one endpoint").exists()
    assert not Alert.objects.filter(incident__isnull=True).exists()


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published passwords"):
        call_command("seed_demo")
    assert not DeviceGroup.objects.exists()
