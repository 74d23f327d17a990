"""The API's Swagger UI works offline: every file it loads comes from Vigil itself, and it calls the API."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_signed_in_person_tries_an_operation_in_the_api_docs_with_nothing_loaded_from_elsewhere(
    live_server, page, sign_in, admin_user
):
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    sign_in("admin", PASSWORD)

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.get_by_role("heading", name="Vigil API")).to_be_visible()
    operation = page.locator("#operations-resources-resources_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()

    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    expect(
        operation.locator(".live-responses-table").get_by_text("Microsoft 365 Defender portal").first
    ).to_be_visible()
    assert hosts == {urlsplit(live_server.url).netloc}
