import pytest
from playwright.sync_api import expect

from portal.models import ActivityLogEntry
from resources.models import ResourceLink
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_administrator_edits_a_resource_link_in_place(live_server, page, sign_in, admin_user):
    sign_in("admin", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("link", name="More resources").click()
    expect(page).to_have_url(f"{live_server.url}/resources/")
    rows = page.get_by_test_id("resource-row")
    expect(rows).to_have_count(7)
    # A marker on the window survives htmx swaps and disappears on a full reload.
    page.evaluate("window.__noReload = true")

    link = ResourceLink.objects.get(name="Azure Active Directory")
    row = page.locator(f"#resource-{link.pk}")
    row.get_by_role("link", name="Edit").click()
    form_row = page.get_by_test_id("resource-edit-row")
    expect(form_row).to_be_visible()

    form_row.get_by_label("URL").fill("javascript:alert(1)")
    form_row.get_by_role("button", name="Save").click()
    expect(form_row.get_by_text("starts with https://")).to_be_visible()

    form_row.get_by_label("Name").fill("Microsoft Entra admin center")
    form_row.get_by_label("URL").fill("https://entra.microsoft.com/")
    form_row.get_by_role("button", name="Save").click()

    renamed = page.get_by_role("link", name="Microsoft Entra admin center")
    expect(renamed).to_be_visible()
    expect(renamed).to_have_attribute("href", "https://entra.microsoft.com/")
    expect(renamed).to_have_attribute("target", "_blank")
    expect(renamed).to_have_attribute("rel", "noopener noreferrer")
    assert page.evaluate("window.__noReload") is True

    link.refresh_from_db()
    assert (link.name, link.url) == ("Microsoft Entra admin center", "https://entra.microsoft.com/")
    entry = ActivityLogEntry.objects.get(action="resources.resourcelink.updated", target_id=str(link.pk))
    assert entry.actor_name == "admin"
    assert entry.changes["name"] == {"before": "Azure Active Directory", "after": "Microsoft Entra admin center"}


def test_a_reader_sees_the_directory_without_edit_controls(live_server, page, sign_in, reader):
    sign_in("reader", PASSWORD)
    page.goto(f"{live_server.url}/resources/")
    expect(page.get_by_test_id("resource-row")).to_have_count(7)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_test_id("resource-add-form")).to_have_count(0)
