import re
from base64 import b32decode

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from permissions.models import Role
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _code(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


def test_a_reader_whose_role_requires_it_sets_up_an_authenticator_and_reaches_the_portal(
    live_server, page, sign_in, reader
):
    Role.objects.filter(group__name="Security reader").update(require_two_factor=True)

    sign_in("reader", PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/two-factor/"))
    expect(page.get_by_text("Your role requires two-factor sign-in")).to_be_visible()
    expect(page.get_by_test_id("totp-qr").locator("svg")).to_be_visible()
    expect(page.get_by_role("navigation", name="Sections")).to_have_count(0)
    # Nothing else is reachable until then.
    page.goto(f"{live_server.url}/resources/")
    expect(page).to_have_url(re.compile(r"/account/two-factor/\?next="))

    # What an authenticator app does with the key it was given.
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(_code(b32decode(secret)))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page).to_have_url(f"{live_server.url}/resources/")
    expect(page.get_by_text("Two-factor sign-in is on")).to_be_visible()
    assert TOTPDevice.objects.get(user=reader).confirmed


def test_a_person_with_an_authenticator_enters_a_code_after_the_password(live_server, page, sign_in, analyst):
    device = TOTPDevice.objects.create(user=analyst, name="Authenticator app", confirmed=True)

    sign_in("analyst", PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/two-factor/verify/"))
    page.get_by_label("Code").fill("000000" if _code(device.bin_key) != "000000" else "111111")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("code-error")).to_be_visible()

    page.wait_for_timeout(1100)  # wrong codes slow the next try down by a second
    page.get_by_label("Code").fill(_code(device.bin_key))
    page.get_by_role("button", name="Verify").click()

    # Home (or the first section Home sends them to): the portal itself.
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/(incidents/)?$"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
