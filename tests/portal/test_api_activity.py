"""
/api/activity/: the activity log over the REST API, newest first, for holders of portal.view_activitylogentry;
its filters, and keyset pages that cost one query however deep and never shift as the log grows.
"""

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from portal.models import ActivityLogEntry
from portal.services import ActivityEntry, activity_record, activity_record_entries
from resources.models import ResourceLink
from tests.api_clients import api_for, listed_ids
from tests.factories import DeviceGroupFactory, ResourceLinkFactory

pytestmark = pytest.mark.django_db

URL = "/api/activity/"
NOT_A_CURSOR = "This cursor is not one this list gave out."


@pytest.fixture
def admin_api(admin_user):
    return api_for(admin_user)


def newest_first() -> list[int]:
    return list(ActivityLogEntry.objects.order_by("-occurred_at", "-id").values_list("pk", flat=True))


def all_pages(api, params) -> list[list[int]]:
    pages, response = [], api.get(URL, params)
    while True:
        assert response.status_code == 200
        pages.append(listed_ids(response))
        if response.json()["next"] is None:
            return pages
        response = api.get(response.json()["next"])


# --- Reading ----------------------------------------------------------------------------------------------------------


def test_the_log_is_listed_newest_first_with_who_did_what_to_which_object(admin_api, analyst):
    link = ResourceLinkFactory(name="Intune")
    activity_record(actor=analyst, action="resources.resourcelink.created", target=link)
    changed = activity_record(
        actor=analyst,
        action="resources.resourcelink.updated",
        target=link,
        changes={"name": {"before": "Intune", "after": "Intune admin center"}},
        message="Renamed.",
    )

    response = admin_api.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    assert listed_ids(response) == newest_first()
    assert body["results"][0] == {
        "id": changed.pk,
        "occurred_at": body["results"][0]["occurred_at"],
        "actor": analyst.pk,
        "actor_name": "analyst",
        "action": "resources.resourcelink.updated",
        "target_type": "resources.resourcelink",
        "target_id": str(link.pk),
        "target_repr": "Intune",
        "changes": {"name": {"before": "Intune", "after": "Intune admin center"}},
        "message": "Renamed.",
    }


def test_a_change_the_system_made_has_no_actor(admin_api):
    activity_record(actor=None, action="incidents.devicegroup.created", target=DeviceGroupFactory(), system_name="seed")

    entry = admin_api.get(URL).json()["results"][0]

    assert (entry["actor"], entry["actor_name"]) == (None, "seed")


@pytest.mark.parametrize("role", ["analyst", "reader", "ti_analyst", "posture_manager", "outsider"])
def test_only_holders_of_the_view_permission_read_the_log(request, role):
    activity_record(actor=None, action="incidents.devicegroup.created", target=DeviceGroupFactory())

    response = api_for(request.getfixturevalue(role)).get(URL)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Reading the activity log requires the portal.view_activitylogentry permission.",
        "code": "permission_denied",
    }


def test_an_anonymous_caller_is_asked_to_authenticate(db):
    assert APIClient().get(URL).status_code == 401


# --- Filters ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def history(admin_user, analyst):
    """Entries an hour apart, oldest first: by two people and the system, on two kinds of object."""
    london, link = DeviceGroupFactory(name="London"), ResourceLinkFactory(name="Intune")
    start = timezone.now() - timedelta(hours=10)
    written = {}
    for hour, (key, actor, action, target) in enumerate(
        [
            ("group created", admin_user, "incidents.devicegroup.created", london),
            ("link created", analyst, "resources.resourcelink.created", link),
            ("group changed", admin_user, "incidents.devicegroup.changed", london),
            ("link changed", None, "resources.resourcelink.updated", link),
        ]
    ):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            written[key] = activity_record(actor=actor, action=action, target=target, system_name="correlation")
    return start, london, link, written


def test_the_log_is_filtered_by_action_actor_and_target(admin_api, admin_user, history):
    _start, london, link, written = history

    def found(**params):
        response = admin_api.get(URL, params)
        assert response.status_code == 200
        return listed_ids(response)

    assert found(action="incidents.devicegroup.changed") == [written["group changed"].pk]
    assert found(action_prefix="resources.") == [written["link changed"].pk, written["link created"].pk]
    assert found(actor=admin_user.pk) == [written["group changed"].pk, written["group created"].pk]
    assert found(actor_name="correlation") == [written["link changed"].pk]
    assert found(target_type="incidents.DeviceGroup", target_id=str(london.pk)) == [
        written["group changed"].pk,
        written["group created"].pk,
    ]
    assert found(target_type="resources.resourcelink", target_id=str(link.pk), actor=admin_user.pk) == []


def test_the_log_is_filtered_by_a_time_range(admin_api, history):
    start, _london, _link, written = history

    response = admin_api.get(
        URL, {"since": (start + timedelta(hours=1)).isoformat(), "until": (start + timedelta(hours=3)).isoformat()}
    )

    assert listed_ids(response) == [written["group changed"].pk, written["link created"].pk]


def test_a_time_is_compared_in_utc_whatever_its_offset(admin_api, history):
    # PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 and Python accept.
    start, _london, _link, written = history
    far_east = timezone.get_fixed_timezone(timedelta(hours=20))

    response = admin_api.get(URL, {"since": (start + timedelta(hours=2)).astimezone(far_east).isoformat()})

    assert listed_ids(response) == [written["link changed"].pk, written["group changed"].pk]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"target_type": "incidents.nothing"},
            {
                "target_type": [
                    "No such target type 'incidents.nothing': use app_label.model as entries show it, e.g. "
                    "incidents.incident."
                ]
            },
        ),
        ({"since": "yesterday"}, {"since": ["Enter a valid date/time."]}),
        ({"until": "9999-12-31T23:59:59-23:00"}, {"until": ["This time is out of range once converted to UTC."]}),
        ({"actor": "admin"}, {"actor": ["Enter a whole number."]}),
        ({"actor": "1.5"}, {"actor": ["Enter a whole number."]}),
        ({"page_size": "0"}, {"page_size": ["A page size is a whole number from 1."]}),
        ({"page_size": "many"}, {"page_size": ["A page size is a whole number from 1."]}),
        ({"page_size": "²"}, {"page_size": ["A page size is a whole number from 1."]}),
        ({"ordering": "occurred_at"}, {"ordering": ["'occurred_at' is not an ordering; use one of -occurred_at."]}),
        ({"cursor": "not-a-cursor"}, {"cursor": [NOT_A_CURSOR]}),
    ],
)
def test_bad_filters_and_page_parameters_are_refused_with_the_parameter_named(admin_api, params, errors):
    response = admin_api.get(URL, params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"] == errors


# --- Pages ------------------------------------------------------------------------------------------------------------


def _log(n: int, actor) -> None:
    """n entries, most of them written in one statement and so sharing one timestamp, the case keysets get wrong."""
    link = ResourceLinkFactory()
    activity_record(actor=actor, action="resources.resourcelink.created", target=link)
    activity_record_entries(
        actor=actor,
        entries=[ActivityEntry(action="resources.resourcelink.updated", target=link) for _ in range(n - 2)],
    )
    activity_record(actor=actor, action="resources.resourcelink.deleted", target=link)


def test_following_next_reads_every_entry_once_in_order_even_when_they_share_a_time(admin_api, admin_user):
    _log(12, admin_user)

    pages = all_pages(admin_api, {"page_size": 5})

    assert [len(page) for page in pages] == [5, 5, 2]
    assert [pk for page in pages for pk in page] == newest_first()


def test_the_next_link_keeps_the_filters(admin_api, admin_user):
    _log(6, admin_user)
    activity_record(actor=admin_user, action="incidents.devicegroup.created", target=DeviceGroupFactory())

    first = admin_api.get(URL, {"action_prefix": "resources.", "page_size": 4})
    query = parse_qs(urlsplit(first.json()["next"]).query)

    assert query["action_prefix"] == ["resources."] and query["page_size"] == ["4"]
    pages = all_pages(admin_api, {"action_prefix": "resources.", "page_size": 4})
    assert [pk for page in pages for pk in page] == list(
        ActivityLogEntry.objects.filter(action__startswith="resources.")
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )


def test_entries_written_while_a_client_pages_never_shift_the_pages(admin_api, admin_user):
    _log(6, admin_user)
    expected = newest_first()
    first = admin_api.get(URL, {"page_size": 3})

    activity_record(actor=admin_user, action="resources.resourcelink.created", target=ResourceLink.objects.first())
    second = admin_api.get(first.json()["next"])

    assert listed_ids(first) + listed_ids(second) == expected


def test_a_page_size_above_the_maximum_gives_the_maximum(admin_api, admin_user):
    _log(205, admin_user)

    response = admin_api.get(URL, {"page_size": 500})

    assert len(listed_ids(response)) == 200
    assert response.json()["next"] is not None


def _forged(document: str) -> str:
    return base64.urlsafe_b64encode(document.encode()).decode()


@pytest.mark.parametrize(
    "document",
    [
        '{"o":"-occurred_at","v":["2026-11-20T08:00:00+00:00",Infinity],"b":false}',
        '{"o":"-occurred_at","v":["2026-11-20T08:00:00+00:00",1e400],"b":false}',
        '{"o":"-occurred_at","v":["2026-11-20T08:00:00",1],"b":false}',
        '{"o":"-occurred_at","v":["9999-12-31T23:59:59-23:00",1],"b":false}',
        '{"o":["-occurred_at"],"v":["2026-11-20T08:00:00+00:00",1],"b":false}',
        '{"o":"-occurred_at","v":[{"at":1},1],"b":false}',
        "[" * 100_000,
    ],
    ids=["infinity", "huge float", "no offset", "beyond UTC", "ordering not a string", "object", "nested"],
)
def test_a_forged_cursor_is_refused(admin_api, admin_user, document):
    _log(3, admin_user)

    response = admin_api.get(URL, {"cursor": _forged(document)})

    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": [NOT_A_CURSOR]}


def test_a_cursor_with_any_utc_offset_pages_from_that_time(admin_api, admin_user):
    _log(4, admin_user)
    newest = ActivityLogEntry.objects.order_by("-occurred_at", "-id").first()
    far_west = timezone.get_fixed_timezone(timedelta(hours=-20))
    cursor = _forged(
        json.dumps(
            {"o": "-occurred_at", "v": [newest.occurred_at.astimezone(far_west).isoformat(), newest.pk], "b": False}
        )
    )

    response = admin_api.get(URL, {"cursor": cursor})

    assert listed_ids(response) == newest_first()[1:]


def test_a_page_costs_the_same_queries_whatever_its_size_or_depth(admin_user, django_assert_num_queries):
    _log(60, admin_user)
    clients = [api_for(admin_user) for _ in range(3)]

    with django_assert_num_queries(2) as few:  # permissions, page
        first = clients[0].get(URL, {"page_size": 2})
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(listed_ids(clients[1].get(URL, {"page_size": 50}))) == 50
    with django_assert_num_queries(len(few.captured_queries)):
        deep = clients[2].get(first.json()["next"])
    assert listed_ids(deep) == newest_first()[2:4]
