"""
The analyst's night: find the incident in the queue, read its story, take it, classify it, resolve it; merge two
incidents from the queue. Runs on the demo estate, so the pages show what a real shift would.

With VIGIL_SCREENSHOTS=<folder> set, the test also saves the screenshots of the queue and the incident page that
the README shows (docs/).
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from demo.services import DEMO_ACCOUNTS, demo_estate_seed
from incidents.models import Alert, Entity, Incident

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def screenshot(page, name: str) -> None:
    folder = os.environ.get("VIGIL_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=False)


ANALYST_PASSWORD = next(account.password for account in DEMO_ACCOUNTS if account.username == "analyst")


@pytest.fixture
def estate():
    """The demo estate, with its demo accounts (the analyst signs in with the demo password)."""
    demo_estate_seed()


def story_of(device_name: str) -> Incident:
    device = Entity.objects.get(kind="device", key=device_name)
    return Incident.objects.filter(entity_links__entity=device).exclude(status="redirected").get()


def test_an_analyst_finds_reads_takes_classifies_and_resolves_an_incident(live_server, page, sign_in, estate):
    page.set_viewport_size({"width": 1280, "height": 860})
    incident = story_of("ws-lon-002.corp.example")
    sign_in("analyst", ANALYST_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("link", name="Incidents", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/incidents/")
    expect(page.get_by_test_id("incident-table")).to_be_visible()
    # The 24-hour timeline arrives after the table.
    expect(page.locator(".timeline .timeline-slot")).to_have_count(24)
    screenshot(page, "incident-queue.png")
    page.evaluate("window.__noReload = true")

    # Filter by severity (high only) and by a device name: the table follows without a reload, the URL keeps it.
    page.get_by_test_id("filter-severity").click()
    page.get_by_label("Medium").uncheck()
    page.get_by_label("Low").uncheck()
    page.keyboard.press("Escape")
    page.get_by_placeholder("Name, id, device, user, mailbox, IP or hash").fill("ws-lon-002.corp.example")
    rows = page.get_by_test_id("incident-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=ws-lon-002\.corp\.example"))
    assert "severity=high" in page.url and "severity=medium" not in page.url
    assert page.evaluate("window.__noReload") is True

    # The incident: its graph and its alerts, each with the reason it was linked.
    rows.first.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.get_by_test_id("incident-graph")).to_be_visible()
    screenshot(page, "incident-page.png")
    page.get_by_role("tab", name="Alerts").click()
    alert_rows = page.get_by_test_id("incident-alerts").locator("tbody tr")
    expect(alert_rows).to_have_count(Alert.objects.filter(incident=incident).count())
    expect(page.get_by_test_id("incident-alerts")).to_contain_text("shares")

    # Take it.
    page.get_by_test_id("assign-to-me").click()
    expect(page.get_by_test_id("incident-assignee")).to_have_text("analyst")

    # Classify it: the determination list offers only what fits a true positive.
    form = page.get_by_test_id("manage-form")
    form.get_by_label("Classification").select_option("truePositive")
    form.get_by_label("Determination").select_option("multiStagedAttack")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("incident-classification")).to_have_text("True positive (Multistage attack)")
    incident.refresh_from_db()
    assert (incident.classification, incident.determination) == ("truePositive", "multiStagedAttack")

    # Resolving asks for a resolving comment; then the incident and its alerts are resolved.
    form = page.get_by_test_id("manage-form")
    form.get_by_label("Status").select_option("resolved")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("manage-errors")).to_contain_text("Say how the incident was resolved")
    form = page.get_by_test_id("manage-form")
    form.get_by_label("Status").select_option("resolved")
    form.get_by_label("Resolving comment").fill("Device isolated, Ben's and the victim's passwords reset.")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("incident-status")).to_have_text("Resolved")
    page.get_by_role("tab", name="Alerts").click()
    statuses = page.get_by_test_id("alert-status")
    expect(statuses.first).to_have_text("Resolved")
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.assigned_to == "analyst"
    assert set(Alert.objects.filter(incident=incident).values_list("status", flat=True)) == {"resolved"}


def test_an_analyst_merges_two_incidents_from_the_queue_and_lands_on_the_target(live_server, page, sign_in, estate):
    first, second = Incident.objects.exclude(status="redirected").filter(severity="high").order_by("pk")[:2]
    sign_in("analyst", ANALYST_PASSWORD)
    page.goto(f"{live_server.url}/incidents/?f=1")

    page.get_by_label(f"Select incident {first.pk}", exact=True).check()
    page.get_by_label(f"Select incident {second.pk}", exact=True).check()
    page.locator("details.merge-box summary").click()
    page.get_by_label("Reason for merging").fill("One attacker, one story")
    page.get_by_test_id("merge-submit").click()

    expect(page).to_have_url(f"{live_server.url}/incidents/{first.pk}/")
    expect(page.get_by_text("Merged 1 incident into this one.")).to_be_visible()
    assert Incident.objects.get(pk=second.pk).redirect_incident_id == first.pk
    assert not Alert.objects.filter(incident_id=second.pk).exists()


BRANCH_PASSWORD = next(account.password for account in DEMO_ACCOUNTS if account.username == "branch")


def test_a_scoped_operator_sees_their_part_of_a_shared_incident_and_moves_their_alert_out(
    live_server, page, sign_in, estate
):
    """
    The demo's IT-account story spans Branch offices and Servers; `branch` operates Branch offices only: they see
    one alert of three, may not change the incident, and take their alert to an incident of its own.
    """
    shared = story_of("dc02.corp.example")
    branch_alert = Alert.objects.get(incident=shared, title="Suspicious PowerShell download cradle")
    sign_in("branch", BRANCH_PASSWORD)
    page.goto(f"{live_server.url}/incidents/{shared.pk}/")

    expect(page.get_by_test_id("alerts-visible")).to_have_text("1 of 3 alerts visible to you")
    expect(page.get_by_test_id("beyond-scope")).to_contain_text("also holds alerts outside your device groups")
    expect(page.get_by_test_id("manage-form")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("LSASS")
    expect(page.locator("body")).not_to_contain_text("dc02")

    page.get_by_role("tab", name="Alerts").click()
    page.get_by_test_id("incident-alerts").get_by_role("link", name=branch_alert.title).click()
    expect(page).to_have_url(f"{live_server.url}/alerts/{branch_alert.pk}/")
    page.get_by_text("Move to another incident").click()
    page.get_by_label("A new incident").check()
    page.get_by_label("Reason (required)").fill("Our workstation's part is handled by the branch team")
    page.get_by_role("button", name="Move alert").click()
    expect(page.get_by_role("status")).to_contain_text("Moved to incident")

    moved = Alert.objects.get(pk=branch_alert.pk)
    assert moved.incident_id != shared.pk
    page.get_by_test_id("alert-incident-link").get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/incidents/{moved.incident_id}/")
    page.get_by_test_id("assign-to-me").click()
    expect(page.get_by_test_id("incident-assignee")).to_have_text("branch")
    assert Incident.objects.get(pk=moved.incident_id).assigned_to == "branch"
    assert Incident.objects.get(pk=shared.pk).assigned_to == ""
