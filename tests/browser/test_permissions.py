"""
An administrator makes a custom role in the browser — two permissions, one device group — assigns it to a person
and ticks two Home cards for it; that person then signs in and sees exactly those cards and only their group's data.

With VIGIL_SCREENSHOTS=<folder> set, the test also saves screenshots of the section's pages.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from incidents.models import DeviceGroup, Entity
from permissions.models import Role, RoleAssignment
from portal.models import HomeCard
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CARDS = ["active-incidents", "latest-high-severity-alerts"]


def screenshot(page, name: str) -> None:
    folder = os.environ.get("VIGIL_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.fixture
def estate():
    """Three stories: one on a London workstation, one on a Paris one, one with no device at all."""
    london, paris, nowhere = (
        ingest_and_correlate(
            graph_alert(device(name, group="Unsorted"), severity="high", title=title)
            if name
            else graph_alert(user("ceo@corp.example"), severity="high", title=title)
        )[0]
        for name, title in (
            ("ws-lon-001.corp.example", "Ransomware on a London workstation"),
            ("ws-par-001.corp.example", "Credential theft on a Paris workstation"),
            (None, "Suspicious sign-in of the CEO"),
        )
    )
    return {"london": london, "paris": paris, "nowhere": nowhere}


def test_an_admin_makes_a_scoped_role_with_two_home_cards_and_its_holder_sees_just_that(
    live_server, page, sign_in, admin_user, estate
):
    page.set_viewport_size({"width": 1280, "height": 900})
    carol = UserFactory(username="carol", first_name="Carol", last_name="Lane")
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in("admin", PASSWORD)
    page.get_by_role("link", name="Permissions & roles").click()
    expect(page).to_have_url(f"{live_server.url}/permissions/")
    expect(page.get_by_test_id("role-row")).to_have_count(Role.objects.count())
    screenshot(page, "permissions-roles.png")

    # A device group by name pattern: the London workstation joins it.
    page.get_by_role("link", name="Device groups").click()
    page.get_by_role("link", name="Create a device group").click()
    page.get_by_label("Name", exact=True).fill("London")
    page.get_by_label("Device name pattern").fill("ws-lon-*")
    expect(page.get_by_label("Move the devices that match the pattern into this group now")).to_be_checked()
    page.get_by_role("button", name="Create device group").click()
    expect(page.get_by_text("1 device changed group")).to_be_visible()
    expect(page.get_by_test_id("member-row")).to_have_count(1)
    expect(page.get_by_test_id("member-row")).to_contain_text("ws-lon-001")
    screenshot(page, "permissions-device-group.png")
    london = DeviceGroup.objects.get(name="London")
    assert Entity.objects.get(key="ws-lon-001.corp.example").device_group == london

    # A custom role with two permissions, a mistake first: the form says what is missing and keeps what was typed.
    page.get_by_role("link", name="Roles", exact=True).click()
    page.get_by_role("link", name="Create a custom role").click()
    page.get_by_label("Name", exact=True).fill("London responder")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_text("Choose at least one permission.")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("London responder")
    page.get_by_label("View security data").check()
    page.get_by_label("View secure score").check()
    screenshot(page, "permissions-role-form.png")
    page.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("heading", name="London responder")).to_be_visible()
    expect(page.get_by_test_id("permission-held")).to_have_count(2)
    expect(page.get_by_test_id("no-assignments")).to_be_visible()

    # Assigned to Carol over the London device group only.
    assign = page.get_by_test_id("assign-form")
    assign.get_by_label("User name").fill("carol")
    assign.get_by_label("Only chosen device groups").check()
    assign.get_by_label("London").check()
    assign.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("carol now holds London responder over London.")).to_be_visible()
    row = page.get_by_test_id("assignment-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("assignment-scope")).to_have_text("London")
    expect(page.get_by_test_id("activity-log")).to_contain_text("permissions.assignment.created")
    screenshot(page, "permissions-role.png")
    role = Role.objects.get(group__name="London responder")
    assignment = RoleAssignment.objects.get(role=role, user=carol)
    assert not assignment.all_data and list(assignment.device_groups.all()) == [london]

    # Two Home cards for the role.
    page.get_by_role("link", name="Home cards").click()
    for key in CARDS:
        title = HomeCard.objects.get(key=key).title
        page.get_by_label(f"Show {title} to London responder").check()
    screenshot(page, "permissions-home-cards.png")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the Home cards of London responder.")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()

    # Carol sees exactly those two cards, and in them and in the queue only the London story.
    sign_in("carol", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    cards = page.locator("[data-card]")
    expect(cards).to_have_count(2)
    assert sorted(cards.evaluate_all("nodes => nodes.map(node => node.dataset.card)")) == sorted(CARDS)
    expect(page.get_by_test_id("active-incidents-total")).to_have_text("1")
    latest = page.locator('[data-card="latest-high-severity-alerts"]')
    expect(latest.get_by_role("link", name="Ransomware on a London workstation")).to_be_visible()
    expect(latest.get_by_text("Credential theft on a Paris workstation")).to_have_count(0)
    expect(latest.get_by_text("Suspicious sign-in of the CEO")).to_have_count(0)
    screenshot(page, "permissions-holder-home.png")

    page.goto(f"{live_server.url}/incidents/")
    table = page.get_by_test_id("incident-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text(estate["london"].incident.display_name)
    assert page.goto(f"{live_server.url}/incidents/{estate['paris'].incident_id}/").status == 404
    assert page.goto(f"{live_server.url}/incidents/{estate['nowhere'].incident_id}/").status == 404
    assert page.goto(f"{live_server.url}/permissions/").status == 403


def test_a_person_creates_sees_once_and_revokes_their_own_api_token(live_server, page, sign_in, reader):
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in("reader", PASSWORD)
    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(f"{live_server.url}/permissions/tokens/")
    expect(page.get_by_test_id("no-tokens")).to_be_visible()

    page.get_by_label("Name").fill("Notebook")
    page.get_by_label("Expires in (days)").fill("7")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("token-secret").input_value()
    assert secret.startswith("vgl_")
    screenshot(page, "permissions-token-created.png")

    page.goto(f"{live_server.url}/permissions/tokens/")
    assert secret not in page.content()
    row = page.get_by_test_id("token-row")
    expect(row).to_contain_text("Notebook")
    expect(row.get_by_test_id("token-state")).to_have_text("Active")

    row.get_by_role("button", name="Revoke Notebook").click()
    expect(page.get_by_text("Revoked the token Notebook")).to_be_visible()
    expect(page.get_by_test_id("token-row").get_by_test_id("token-state")).to_have_text("Revoked")
