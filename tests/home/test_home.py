"""
Home: the cards each role sees, each card's data inside the reader's scope, cards that fail or are hidden, and what
the page and each card cost in queries.
"""

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from home import cards as card_registry
from home.cards import Card, register_card
from permissions.models import Role
from portal.models import ActivityLogEntry, HomeCard
from portal.services import activity_record
from tests.conftest import assign_role
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    ResourceLinkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HOME = reverse("home:home")
ALL_CARDS = [
    "active-incidents",
    "assigned-to-me",
    "alerts-last-7-days",
    "devices-at-risk",
    "users-at-risk",
    "latest-high-severity-alerts",
    "recent-activity",
]


def card_url(key):
    return reverse("home:card", args=[key])


def shown_cards(response) -> list[str]:
    return re.findall(r'data-card="([^"]+)"', response.content.decode())


def card(client, key) -> str:
    response = client.get(card_url(key), headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def links(html) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', html)]


# Which cards each role sees


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", ALL_CARDS),
        ("analyst", ALL_CARDS),
        (
            "reader",
            [
                "active-incidents",
                "alerts-last-7-days",
                "devices-at-risk",
                "users-at-risk",
                "latest-high-severity-alerts",
            ],
        ),
        ("ti_analyst", ["active-incidents", "alerts-last-7-days", "latest-high-severity-alerts"]),
        ("posture_manager", []),
        ("outsider", []),
    ],
)
def test_each_built_in_role_sees_the_cards_of_the_default_matrix_once_each_in_order(client, request, role, expected):
    client.force_login(request.getfixturevalue(role))

    response = client.get(HOME)

    assert response.status_code == 200
    assert shown_cards(response) == expected
    assert ('data-testid="home-empty"' in response.content.decode()) is (not expected)


def test_someone_without_cards_is_told_who_to_ask(client, posture_manager):
    client.force_login(posture_manager)

    body = client.get(HOME).content.decode()

    assert "No cards to show yet" in body
    assert "Ask a Security administrator" in body


def test_a_superuser_sees_every_card(client):
    client.force_login(UserFactory(username="root", is_superuser=True))

    assert shown_cards(client.get(HOME)) == ALL_CARDS


def test_a_role_assigned_to_a_group_shows_its_cards_to_the_group_s_members(client):
    team = Group.objects.create(name="Night shift")
    member = UserFactory(username="night")
    member.groups.add(team)
    assign_role(team, "Threat intelligence analyst")
    client.force_login(member)

    assert shown_cards(client.get(HOME)) == ["active-incidents", "alerts-last-7-days", "latest-high-severity-alerts"]


def test_ticking_and_unticking_a_card_for_a_role_takes_effect_at_once(client, reader):
    group = Group.objects.get(name="Security reader")
    recent = HomeCard.objects.get(key="recent-activity")
    devices = HomeCard.objects.get(key="devices-at-risk")
    client.force_login(reader)

    assign_perm("portal.view_homecard", group, recent)
    remove_perm("portal.view_homecard", group, devices)

    shown = shown_cards(client.get(HOME))
    assert "recent-activity" in shown
    assert "devices-at-risk" not in shown
    assert client.get(card_url("devices-at-risk")).status_code == 404
    assert client.get(card_url("recent-activity")).status_code == 200


def test_a_card_ticked_for_a_role_that_may_not_see_its_data_stays_hidden(client, posture_manager):
    assign_perm(
        "portal.view_homecard", Group.objects.get(name="Posture manager"), HomeCard.objects.get(key="active-incidents")
    )
    client.force_login(posture_manager)

    assert shown_cards(client.get(HOME)) == []
    assert client.get(card_url("active-incidents")).status_code == 404


def test_a_granted_card_only_held_through_group_membership_does_not_count(client):
    # Roles come from assignments; membership of a role's group gives nothing (permissions migration 0004).
    member = UserFactory(username="member")
    member.groups.add(Group.objects.get(name="Security administrator"))
    client.force_login(member)

    assert shown_cards(client.get(HOME)) == []


@pytest.mark.parametrize(
    ("role", "key"),
    [
        ("reader", "assigned-to-me"),
        ("reader", "recent-activity"),
        ("outsider", "active-incidents"),
        ("ti_analyst", "devices-at-risk"),
    ],
)
def test_a_card_the_user_may_not_see_answers_404(client, request, role, key):
    client.force_login(request.getfixturevalue(role))

    assert client.get(card_url(key)).status_code == 404


def test_an_unknown_card_answers_404_even_to_a_superuser(client):
    client.force_login(UserFactory(username="root", is_superuser=True))

    assert client.get(card_url("no-such-card")).status_code == 404


def test_a_row_without_a_registered_card_is_skipped(client):
    row = HomeCard.objects.create(key="uninstalled-section", title="Gone", position=1)
    client.force_login(UserFactory(username="root", is_superuser=True))

    assert row.key not in shown_cards(client.get(HOME))
    assert client.get(card_url(row.key)).status_code == 404


def test_a_later_section_registers_its_card_and_a_role_granted_it_sees_it(client, reader, monkeypatch):
    monkeypatch.setattr(card_registry, "_registry", dict(card_registry._registry))
    register_card(
        Card(
            key="secure-score",
            title="Secure score",
            template="home/cards/error.html",
            context=lambda user: {},
            permission="permissions.view_secure_score",
        )
    )
    row = HomeCard.objects.create(key="secure-score", title="Secure score", position=5)
    assign_perm("portal.view_homecard", Group.objects.get(name="Security reader"), row)
    client.force_login(reader)

    assert shown_cards(client.get(HOME))[0] == "secure-score"
    assert client.get(card_url("secure-score")).status_code == 200


def test_home_is_the_first_entry_of_the_navigation_and_the_brand_links_to_it(client, reader):
    client.force_login(reader)

    response = client.get(HOME)

    navigation = response.context["navigation"]
    assert navigation[0]["section"].label == "Home"
    assert navigation[0]["url"] == "/"
    assert navigation[0]["active"] is True


# The page: placeholders only


def test_the_page_has_one_htmx_placeholder_per_card_and_none_of_their_data(client, analyst):
    IncidentFactory(display_name="Ransomware on the file server", severity="high")
    client.force_login(analyst)

    body = client.get(HOME).content.decode()

    for key in ALL_CARDS:
        assert body.count(f'data-card="{key}"') == 1
        assert f'hx-get="{card_url(key)}" hx-trigger="load"' in body
    assert "Ransomware on the file server" not in body


def test_the_page_runs_the_same_few_queries_whatever_the_data_and_never_reads_security_data(client, analyst):
    client.force_login(analyst)
    client.get(HOME)  # warm the per-process caches (content types) so that both counts measure the same work

    with CaptureQueriesContext(connection) as empty:
        client.get(HOME)
    for n in range(20):
        alert = AlertFactory(severity="high", incident=IncidentFactory(severity="high"))
        EvidenceFactory(alert=alert, entity=EntityFactory(key=f"busy{n}.corp.example"))
        activity_record(actor=None, action="incidents.alert.updated", target=alert)
    with CaptureQueriesContext(connection) as busy:
        client.get(HOME)

    # Session, user, the sign-in middleware, the cards (one query) and the user's permissions (two, shared with the
    # navigation); the count is not pinned exactly because the middleware belongs to other sections.
    assert len(busy) == len(empty) <= 8
    assert sum("portal_homecard" in query["sql"] for query in busy.captured_queries) == 1
    sql = " ".join(query["sql"] for query in busy.captured_queries)
    assert "incidents_incident" not in sql
    assert "incidents_alert" not in sql
    assert "portal_activitylogentry" not in sql


# Errors


def test_a_failing_card_shows_its_own_error_and_the_other_cards_still_work(client, analyst, monkeypatch, caplog):
    def broken(user):
        raise RuntimeError("the incident store is on fire")

    monkeypatch.setitem(
        card_registry._registry, "devices-at-risk", replace(card_registry.card_for("devices-at-risk"), context=broken)
    )
    IncidentFactory(severity="high")
    client.force_login(analyst)

    with caplog.at_level(logging.ERROR, logger="home.views"):
        failed = client.get(card_url("devices-at-risk"), headers={"HX-Request": "true"})
    working = client.get(card_url("active-incidents"), headers={"HX-Request": "true"})
    page = client.get(HOME)

    assert failed.status_code == 200
    assert "data-card-error" in failed.content.decode()
    assert "This card could not be loaded" in failed.content.decode()
    assert "on fire" not in failed.content.decode()
    assert "the incident store is on fire" in caplog.text
    assert working.status_code == 200
    assert "data-card-error" not in working.content.decode()
    assert "devices-at-risk" in shown_cards(page)


def test_a_card_whose_template_fails_shows_the_error_box_too(client, analyst, monkeypatch):
    monkeypatch.setitem(
        card_registry._registry,
        "active-incidents",
        replace(card_registry.card_for("active-incidents"), template="home/cards/missing.html"),
    )
    client.force_login(analyst)

    assert "data-card-error" in card(client, "active-incidents")


# Data in scope: two device groups, a reader scoped to one of them


@pytest.fixture
def estate():
    """Two device groups, each with a device, a user, incidents, alerts and activity; one incident without a device."""
    found = {}
    now = timezone.now()
    for name in ("north", "south"):
        group = DeviceGroupFactory(name=name.capitalize())
        scope = [group.pk]
        device = EntityFactory(kind="device", key=f"ws-{name}.corp.example", device_group=group, risk_score="high")
        person = EntityFactory(kind="user", key=f"{name}@corp.example")
        high = IncidentFactory(display_name=f"{name} high", severity="high", device_group_ids=scope)
        medium = IncidentFactory(
            display_name=f"{name} medium", severity="medium", status="inProgress", device_group_ids=scope
        )
        IncidentFactory(display_name=f"{name} resolved", severity="high", status="resolved", device_group_ids=scope)
        high_alert = AlertFactory(title=f"{name} high alert", severity="high", incident=high, device_group_ids=scope)
        low_alert = AlertFactory(
            title=f"{name} low alert",
            severity="low",
            incident=medium,
            device_group_ids=scope,
            created_at=now - timedelta(days=2),
        )
        old_alert = AlertFactory(
            title=f"{name} old alert", severity="high", device_group_ids=scope, created_at=now - timedelta(days=9)
        )
        EvidenceFactory(alert=high_alert, entity=device)
        EvidenceFactory(alert=high_alert, entity=person)
        EvidenceFactory(alert=low_alert, entity=device)
        activity_record(actor=None, action="incidents.incident.updated", target=high, system_name="correlation")
        activity_record(actor=None, action="incidents.alert.updated", target=high_alert)
        found[name] = {
            "group": group,
            "device": device,
            "person": person,
            "high": high,
            "medium": medium,
            "high_alert": high_alert,
            "low_alert": low_alert,
            "old_alert": old_alert,
        }
    orphan = IncidentFactory(display_name="no device", severity="low")
    AlertFactory(title="no device alert", severity="high", incident=orphan)
    activity_record(actor=None, action="incidents.incident.updated", target=orphan)
    activity_record(actor=None, action="resources.resourcelink.updated", target=ResourceLinkFactory())
    return found


@pytest.fixture
def north_reader(estate):
    user = UserFactory(username="north-reader")
    assign_role(user, "Security operator", device_groups=[estate["north"]["group"]])
    return user


def active_counts(html) -> dict[str, int]:
    return {severity: int(count) for severity, count in re.findall(r'data-severity="(\w+)" data-count="(\d+)"', html)}


def test_active_incidents_counts_open_incidents_in_scope_by_severity(client, north_reader, estate):
    client.force_login(north_reader)

    html = card(client, "active-incidents")

    assert active_counts(html) == {"high": 1, "medium": 1, "low": 0, "informational": 0}
    assert 'data-testid="active-incidents-total">2<' in html


def test_active_incidents_counts_everything_for_all_data_scope(client, reader, estate):
    client.force_login(reader)

    assert active_counts(card(client, "active-incidents")) == {"high": 2, "medium": 2, "low": 1, "informational": 0}


def test_each_active_incidents_number_links_to_the_queue_filtered_to_the_same_incidents(client, north_reader, estate):
    client.force_login(north_reader)
    html = card(client, "active-incidents")

    high_link = next(url for url in links(html) if "severity=high" in url)
    assert high_link == "/incidents/?f=1&status=active&status=inProgress&severity=high"
    for url, expected in zip(links(html), [2, 1, 1, 0, 0], strict=True):
        queue = client.get(url)
        assert queue.status_code == 200
        assert queue.context["page"].paginator.count == expected, url
    assert [i.pk for i in client.get(high_link).context["page"].object_list] == [estate["north"]["high"].pk]


def test_assigned_to_me_lists_only_my_open_incidents_in_scope(client, north_reader, estate):
    north, south = estate["north"], estate["south"]
    for incident in (north["high"], south["high"]):
        incident.assigned_to = "north-reader"
        incident.save()
    closed = IncidentFactory(assigned_to="north-reader", status="resolved", device_group_ids=[north["group"].pk])
    client.force_login(north_reader)

    html = card(client, "assigned-to-me")

    assert re.findall(r'data-incident="(\d+)"', html) == [str(north["high"].pk)]
    assert str(closed.pk) not in re.findall(r'data-incident="(\d+)"', html)
    assert 'data-testid="assigned-count">1<' in html
    assert "/incidents/?f=1&status=active&status=inProgress&assigned=me" in links(html)


def test_the_alert_chart_counts_seven_days_of_alerts_in_scope_and_each_bar_opens_its_day(client, north_reader, estate):
    client.force_login(north_reader)

    html = card(client, "alerts-last-7-days")

    days = re.findall(r'data-day="([\d-]+)" data-total="(\d+)"', html)
    today = timezone.now().astimezone(UTC).date()
    assert [day for day, _ in days] == [str(today - timedelta(days=n)) for n in range(6, -1, -1)]
    totals = dict(days)
    assert totals[str(today)] == "1"
    assert totals[str(today - timedelta(days=2))] == "1"
    assert sum(int(total) for total in totals.values()) == 2
    assert 'data-testid="alerts-7-days-total">2<' in html
    assert "<svg" in html and 'class="segment segment-high"' in html
    day_links = [url for url in links(html) if "until=" in url]
    assert len(day_links) == 7
    today_queue = client.get(day_links[-1])
    assert [a.pk for a in today_queue.context["page"].object_list] == [estate["north"]["high_alert"].pk]
    total_queue = client.get(links(html)[0])
    assert total_queue.context["page"].paginator.count == 2


def test_devices_at_risk_are_the_devices_of_unresolved_alerts_in_scope_most_severe_first(client, north_reader, estate):
    calm = EntityFactory(kind="device", key="ws-calm.corp.example", device_group=estate["north"]["group"])
    EvidenceFactory(
        alert=AlertFactory(severity="high", status="resolved", device_group_ids=[estate["north"]["group"].pk]),
        entity=calm,
    )
    worried = EntityFactory(kind="device", key="ws-worried.corp.example", device_group=estate["north"]["group"])
    EvidenceFactory(
        alert=AlertFactory(severity="medium", device_group_ids=[estate["north"]["group"].pk]), entity=worried
    )
    client.force_login(north_reader)

    html = card(client, "devices-at-risk")

    assert re.findall(r'data-entity="(\d+)"', html) == [str(estate["north"]["device"].pk), str(worried.pk)]
    assert "2 open alerts" in html
    assert f'href="/entities/{estate["north"]["device"].pk}/"' in html


def test_users_at_risk_for_all_data_scope_rank_by_severity_then_alert_count(client, reader, estate):
    quiet = EntityFactory(kind="user", key="quiet@corp.example")
    EvidenceFactory(alert=AlertFactory(severity="low"), entity=quiet)
    client.force_login(reader)

    html = card(client, "users-at-risk")

    shown = re.findall(r'data-entity="(\d+)"', html)
    assert shown[-1] == str(quiet.pk)
    assert set(shown[:2]) == {str(estate["north"]["person"].pk), str(estate["south"]["person"].pk)}


def test_a_scoped_reader_sees_the_entities_of_their_group_and_none_of_another(client, north_reader, estate):
    client.force_login(north_reader)

    devices = card(client, "devices-at-risk")
    users = card(client, "users-at-risk")

    assert re.findall(r'data-entity="(\d+)"', devices) == [str(estate["north"]["device"].pk)]
    assert re.findall(r'data-entity="(\d+)"', users) == [str(estate["north"]["person"].pk)]


def test_latest_high_severity_alerts_are_unresolved_ones_in_scope_newest_first_linking_to_alert_pages(
    client, north_reader, estate
):
    north = estate["north"]
    AlertFactory(severity="high", status="resolved", device_group_ids=[north["group"].pk])
    client.force_login(north_reader)

    html = card(client, "latest-high-severity-alerts")

    assert re.findall(r'data-alert="(\d+)"', html) == [str(north["high_alert"].pk), str(north["old_alert"].pk)]
    assert f"/alerts/{north['high_alert'].pk}/" in links(html)
    queue = client.get(links(html)[-1])
    assert queue.context["page"].paginator.count == 2


def test_recent_activity_shows_a_scoped_user_only_entries_about_incidents_and_alerts_in_scope(
    client, north_reader, estate
):
    north = estate["north"]
    client.force_login(north_reader)

    html = card(client, "recent-activity")

    entries = ActivityLogEntry.objects.filter(target_id__in=[str(north["high"].pk), str(north["high_alert"].pk)])
    shown = re.findall(r'data-activity="(\d+)"', html)
    assert sorted(shown) == sorted(
        str(entry.pk) for entry in entries if entry.target_type.model in ("incident", "alert")
    )
    assert "south" not in html
    assert "no device" not in html
    assert f'href="/incidents/{north["high"].pk}/"' in html
    assert f'href="/alerts/{north["high_alert"].pk}/"' in html
    assert "correlation</strong> incident updated" in html


def test_recent_activity_shows_all_data_users_every_incident_and_alert_entry_but_not_other_sections(
    client, admin_user, estate
):
    client.force_login(admin_user)

    html = card(client, "recent-activity")

    assert len(re.findall(r'data-activity="(\d+)"', html)) == 5
    assert "no device" in html
    assert "resourcelink" not in html


def test_recent_activity_shows_repeated_entries_in_a_row_as_one_line_with_a_count(client, admin_user):
    incident = IncidentFactory(display_name="Busy story")
    for _ in range(3):
        activity_record(actor=None, action="incidents.alert.linked", target=incident, system_name="correlation")
    activity_record(actor=admin_user, action="incidents.incident.updated", target=incident)
    client.force_login(admin_user)

    html = card(client, "recent-activity")

    assert len(re.findall(r'data-activity="(\d+)"', html)) == 2
    assert "<strong>admin</strong> incident updated" in html
    assert "<strong>correlation</strong> alert linked:" in html
    assert 'title="3 entries in a row">\u00d73<' in html


# Queries: each card costs a fixed number, whatever the data, scoped or not


# Each card's own reads, on top of the one query that reads the user's permissions and scopes (permissions.access).
CARD_QUERIES = {
    "active-incidents": 1,
    "assigned-to-me": 2,
    "alerts-last-7-days": 1,
    "devices-at-risk": 1,
    "users-at-risk": 1,
    "latest-high-severity-alerts": 1,
    "recent-activity": 1,
}
SCOPE_QUERIES = 1
# A reader scoped to device groups also reads which alerts of the incidents shown they may see (incidents_as_seen):
# once, when the card shows incidents (none is only partly visible here).
SEEN_QUERIES = {"assigned-to-me": 1}


def grow(estate, assignee="north-reader", *, first=0):
    """More of everything in both groups, so that a per-row query would show."""
    for name in ("north", "south"):
        group = estate[name]["group"]
        for n in range(first, first + 5):
            incident = IncidentFactory(severity="high", assigned_to=assignee, device_group_ids=[group.pk])
            alert = AlertFactory(severity="high", incident=incident, device_group_ids=[group.pk])
            device = EntityFactory(kind="device", key=f"{name}-{n}.corp.example", device_group=group)
            EvidenceFactory(alert=alert, entity=device)
            EvidenceFactory(alert=alert, entity=EntityFactory(kind="user", key=f"{name}-{n}@corp.example"))
            activity_record(actor=None, action="incidents.alert.updated", target=alert)


def fresh(user):
    # A new instance, as each request has: no permission or scope cached on it.
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("key", ALL_CARDS)
@pytest.mark.parametrize("who", ["north_reader", "reader", "superuser"])
def test_each_card_s_data_costs_a_fixed_number_of_queries(request, estate, django_assert_num_queries, key, who):
    if who == "superuser":
        user = UserFactory(username="north-reader", is_superuser=True)
    else:
        user = request.getfixturevalue(who)
    context = card_registry.card_for(key).context
    grow(estate, assignee=user.get_username(), first=100)  # every card has something to show, small or large
    context(fresh(user))  # warm the per-process caches (content types)
    # A superuser's permissions and scopes need no reads; a reader over all data sees incidents as stored.
    scoped = who == "north_reader"
    expected = CARD_QUERIES[key] + (0 if who == "superuser" else SCOPE_QUERIES) + (SEEN_QUERIES.get(key, 0) * scoped)

    before, after = fresh(user), fresh(user)

    with django_assert_num_queries(expected):
        small = context(before)
    grow(estate, assignee=user.get_username())
    with django_assert_num_queries(expected):
        large = context(after)
    assert large != small


@pytest.mark.parametrize("key", ALL_CARDS)
def test_each_card_view_costs_the_same_queries_whatever_the_data(client, estate, north_reader, key):
    client.force_login(north_reader)
    grow(estate, first=100)  # every card has something to show, small or large
    card(client, key)
    with CaptureQueriesContext(connection) as small:
        card(client, key)
    grow(estate)
    with CaptureQueriesContext(connection) as large:
        html = card(client, key)
    assert len(large) == len(small)
    assert "data-card-error" not in html


# The seed


def test_seeding_again_changes_nothing():
    seed = import_module("portal.migrations.0006_home_cards").seed_home_cards
    before = (HomeCard.objects.count(), GroupObjectPermission.objects.count())

    seed(apps, None)
    seed(apps, None)

    assert (HomeCard.objects.count(), GroupObjectPermission.objects.count()) == before
    assert list(HomeCard.objects.values_list("key", flat=True)) == ALL_CARDS
    permission = Permission.objects.get(content_type__app_label="portal", codename="view_homecard")
    granted = GroupObjectPermission.objects.filter(permission=permission)
    assert granted.filter(group__name="Security administrator").count() == 7
    assert granted.filter(group__name="Posture manager").count() == 0
    assert Role.objects.filter(group__name="Posture manager").exists()


def test_the_day_links_cover_whole_utc_days():
    # The chart's bars start at midnight UTC, so the seven bars cover today and the six days before it.
    start, _ = card_registry.selectors.alerts_per_day(UserFactory(username="root", is_superuser=True))
    assert start.tzinfo is UTC
    assert start == datetime.combine(
        timezone.now().astimezone(UTC).date() - timedelta(days=6), datetime.min.time(), UTC
    )
