import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.models import Alert
from tests.conftest import PASSWORD
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_analyst_filters_the_alert_queue_opens_an_alert_and_follows_its_device(live_server, page, sign_in, analyst):
    now = timezone.now()
    ingest_and_correlate(
        graph_alert(
            device("ws-pw-007.corp.example", group="Workstations"),
            user("nina@corp.example"),
            at=now - timedelta(hours=3),
            severity="high",
            title="Credential theft tool detected",
            mitre=["T1003.001"],
        ),
        graph_alert(
            device("srv-pw-001.corp.example"),
            at=now - timedelta(hours=2),
            severity="low",
            title="Suspicious scheduled task",
        ),
    )
    theft = Alert.objects.get(title="Credential theft tool detected")

    sign_in("analyst", PASSWORD)
    page.goto(f"{live_server.url}/alerts/")
    rows = page.get_by_test_id("alert-row")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("alert-total")).to_have_text("2")
    # A marker on the window survives htmx swaps and disappears on a full reload.
    page.evaluate("window.__noReload = true")

    page.get_by_test_id("filter-severity").click()
    page.get_by_label("High", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Credential theft tool detected")
    expect(page.get_by_test_id("alert-total")).to_have_text("1")
    expect(page).to_have_url(re.compile(r"/alerts/\?.*severity=high"))
    assert page.evaluate("window.__noReload") is True

    rows.first.get_by_role("link", name="Credential theft tool detected", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/alerts/{theft.pk}/")
    expect(page.get_by_test_id("alert-title")).to_have_text("Credential theft tool detected")
    expect(page.get_by_test_id("alert-techniques")).to_contain_text("OS Credential Dumping: LSASS Memory")
    expect(page.get_by_test_id("correlation-reason")).to_be_visible()

    page.get_by_test_id("alert-evidence").get_by_role("link", name="ws-pw-007", exact=True).click()
    expect(page.get_by_test_id("entity-name")).to_have_text("ws-pw-007")
    expect(page.get_by_test_id("entity-device-group")).to_have_text("Workstations")
    listed = page.get_by_test_id("entity-alert-row")
    expect(listed).to_have_count(1)
    expect(listed.first.get_by_role("link", name="Credential theft tool detected", exact=True)).to_have_attribute(
        "href", f"/alerts/{theft.pk}/"
    )


def test_an_analyst_resolves_alerts_in_bulk_and_classifies_one_without_a_reload(live_server, page, sign_in, analyst):
    now = timezone.now()
    first, second = ingest_and_correlate(
        graph_alert(device("ws-bulk-1.corp.example"), at=now - timedelta(hours=4), title="Bulk alert one"),
        graph_alert(device("ws-bulk-2.corp.example"), at=now - timedelta(hours=3), title="Bulk alert two"),
    )

    sign_in("analyst", PASSWORD)
    page.goto(f"{live_server.url}/alerts/")
    page.evaluate("window.__noReload = true")
    rows = page.get_by_test_id("alert-row")
    expect(rows).to_have_count(2)

    page.get_by_test_id("select-all").check()
    expect(page.get_by_label(re.compile(r"^Select alert \d+:"))).to_have_count(2)
    for box in page.get_by_label(re.compile(r"^Select alert \d+:")).all():
        expect(box).to_be_checked()
    page.get_by_label("Status to set on the selected alerts").select_option("resolved")
    page.get_by_role("button", name="Set status").click()
    expect(page.get_by_test_id("bulk-summary")).to_have_text("Updated 2 alerts.")
    # The default view shows open alerts only: both are gone, and the empty state says what to do.
    expect(page.get_by_test_id("alert-empty")).to_contain_text("No alerts match these filters")
    assert set(Alert.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {"resolved"}
    assert page.evaluate("window.__noReload") is True

    page.goto(f"{live_server.url}/alerts/{first.pk}/")
    page.evaluate("window.__noReload = true")
    determination = page.get_by_label("Determination")
    expect(determination.locator("option")).to_have_count(1)  # "Not set" only, while the classification is not set
    page.get_by_label("Classification").select_option("truePositive")
    expect(determination.locator("option[value=malware]")).to_have_count(1)
    expect(determination.locator("option[value=clean]")).to_have_count(0)
    determination.select_option("malware")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("alert-state")).to_contain_text("True positive · Malware")
    assert page.evaluate("window.__noReload") is True
    first.refresh_from_db()
    assert (first.classification, first.determination) == ("truePositive", "malware")
