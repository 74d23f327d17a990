"""
Home in a browser: the page is ready while a slow card is still loading, the other cards arrive on their own, and a
failing card shows its error in its own place.
"""

import threading
import time

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from home import cards as card_registry
from home.cards import Card
from portal.models import HomeCard
from tests.conftest import PASSWORD
from tests.factories import AlertFactory, IncidentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLOW_SECONDS = 5


@pytest.fixture
def slow_and_broken_cards(monkeypatch):
    """
    Two extra cards for the Security administrator: one whose data takes five seconds (until the test releases
    it), one whose data fails. The live server runs in this process, so the registry it reads is this one.
    """
    release = threading.Event()
    finished = threading.Event()

    def slow(user):
        release.wait(SLOW_SECONDS)
        finished.set()
        return {"entries": []}

    def broken(user):
        raise RuntimeError("card data source unavailable")

    monkeypatch.setattr(card_registry, "_registry", dict(card_registry._registry))
    card_registry.register_card(
        Card(key="slow-card", title="Slow card", template="home/cards/recent_activity.html", context=slow)
    )
    card_registry.register_card(
        Card(key="broken-card", title="Broken card", template="home/cards/recent_activity.html", context=broken)
    )
    admins = Group.objects.get(name="Security administrator")
    for key, position in (("slow-card", 1), ("broken-card", 2)):
        assign_perm("portal.view_homecard", admins, HomeCard.objects.create(key=key, title=key, position=position))
    yield release, finished
    release.set()


def test_home_is_ready_before_a_slow_card_and_a_broken_card_fails_alone(
    live_server, page, sign_in, admin_user, slow_and_broken_cards
):
    release, finished = slow_and_broken_cards
    IncidentFactory(display_name="Ransomware on the file server", severity="high")
    AlertFactory(title="Credential theft", severity="high")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in("admin", PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")

    # page.goto returns at the load event.
    started = time.monotonic()
    page.goto(f"{live_server.url}/")
    loaded_after = time.monotonic() - started
    assert loaded_after < SLOW_SECONDS - 2, f"the page waited {loaded_after:.1f} s for its cards"

    # Every card has its placeholder, once; the quick ones fill in while the slow one still loads.
    assert page.locator("[data-card]").count() == 9
    expect(page.get_by_test_id("active-incidents-total")).to_have_text("1")
    expect(page.locator('[data-card="latest-high-severity-alerts"]')).to_contain_text("Credential theft")
    expect(page.get_by_test_id("alerts-chart")).to_be_visible()
    expect(page.locator('[data-card="broken-card"] [data-card-error]')).to_contain_text("could not be loaded")
    expect(page.locator('[data-card="slow-card"] [data-card-loading]')).to_be_visible()
    assert not finished.is_set()
    assert time.monotonic() - started < SLOW_SECONDS
    # The card's failure stays in the card: the page-wide error banner stays hidden.
    expect(page.locator("#request-error")).to_be_hidden()

    # When the slow card's data comes, it takes its place.
    release.set()
    expect(page.locator('[data-card="slow-card"]')).to_contain_text("No activity on incidents or alerts")
    expect(page.locator('[data-card="slow-card"] [data-card-loading]')).to_have_count(0)
