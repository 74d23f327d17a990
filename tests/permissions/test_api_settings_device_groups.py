"""
/api/device-groups/: device groups over the REST API. Role managers manage them; holders of view_security_data read
the groups in their scope; moving devices moves the alerts and incidents that follow them, and is logged.
"""

import pytest
from rest_framework.test import APIClient

from incidents.models import DeviceGroup, Entity
from portal.models import ActivityLogEntry
from tests.api_clients import api_for
from tests.conftest import assign_role
from tests.factories import DeviceGroupFactory, EntityFactory, UserFactory
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate

pytestmark = pytest.mark.django_db

LIST_URL = "/api/device-groups/"
NON_MANAGERS = ["analyst", "reader", "ti_analyst", "posture_manager", "outsider"]


def url(group, suffix="") -> str:
    return f"/api/device-groups/{group.pk}/{suffix}"


@pytest.fixture
def admin_api(admin_user):
    return api_for(admin_user)


def group_entries():
    return ActivityLogEntry.objects.filter(action__startswith="incidents.devicegroup.")


def rows():
    return list(
        DeviceGroup.objects.order_by("pk").values_list("pk", "name", "description", "rank", "device_name_pattern")
    )


def device_groups_of(*devices) -> list:
    return [Entity.objects.get(pk=d.pk).device_group_id for d in devices]


# --- Reading ----------------------------------------------------------------------------------------------------------


def test_a_role_manager_lists_every_group_with_its_counts_in_rank_order(admin_api):
    london = DeviceGroupFactory(name="London", rank=10, device_name_pattern="ws-lon-*")
    paris = DeviceGroupFactory(name="Paris", rank=5, description="The Paris office.")
    EntityFactory.create_batch(3, device_group=london)
    EntityFactory(kind="user", key="someone@corp.example", device_group=london)  # not a device: not counted
    assign_role(UserFactory(), "Security reader", device_groups=[london, paris])
    assign_role(UserFactory(), "Security operator", device_groups=[london])

    response = admin_api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(g["name"], g["device_count"], g["assignment_count"]) for g in body["results"]] == [
        ("Paris", 0, 1),
        ("London", 3, 2),
    ]
    assert body["results"][1] == {
        "id": london.pk,
        "name": "London",
        "description": "",
        "rank": 10,
        "device_name_pattern": "ws-lon-*",
        "device_count": 3,
        "assignment_count": 2,
        "created_at": body["results"][1]["created_at"],
    }
    assert "apply_pattern" not in body["results"][0]


@pytest.mark.parametrize("role", ["Security reader", "Security operator", "Threat intelligence analyst"])
def test_a_viewer_scoped_to_some_groups_reads_those_and_no_other(role):
    london, paris, berlin = (DeviceGroupFactory(name=name) for name in ("London", "Paris", "Berlin"))
    person = UserFactory()
    assign_role(person, role, device_groups=[london, paris])
    api = api_for(person)

    listed = api.get(LIST_URL)

    assert listed.status_code == 200
    assert [g["name"] for g in listed.json()["results"]] == ["London", "Paris"]
    assert api.get(url(london)).json()["name"] == "London"
    assert api.get(url(berlin)).status_code == 404


def test_a_viewer_over_all_data_reads_every_group(reader):
    DeviceGroupFactory.create_batch(3)

    assert api_for(reader).get(LIST_URL).json()["count"] == 3


@pytest.mark.parametrize("role", ["posture_manager", "outsider"])
def test_someone_who_may_see_no_security_data_may_not_read_groups(request, role):
    group = DeviceGroupFactory()
    api = api_for(request.getfixturevalue(role))

    listed, one = api.get(LIST_URL), api.get(url(group))

    assert (listed.status_code, one.status_code) == (403, 403)
    assert listed.json() == {
        "detail": "Reading device groups requires the incidents.view_security_data or permissions.manage_roles "
        "permission.",
        "code": "permission_denied",
    }


def test_an_unknown_group_is_not_found(admin_api):
    assert admin_api.get("/api/device-groups/987654/").status_code == 404
    assert admin_api.get("/api/device-groups/not-a-number/").status_code == 404


def test_a_groups_devices_are_listed_by_name(admin_api):
    group = DeviceGroupFactory()
    for name in ("ws-b", "ws-a", "ws-c"):
        EntityFactory(key=f"{name}.corp.example", display_name=name, device_group=group, os_platform="Windows11")
    EntityFactory(key="elsewhere.corp.example")
    EntityFactory(kind="user", key="someone@corp.example", display_name="ws-0", device_group=group)  # not a device

    response = admin_api.get(url(group, "devices/"), {"limit": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [d["display_name"] for d in body["results"]] == ["ws-a", "ws-b"]
    assert set(body["results"][0]) == {
        "id",
        "display_name",
        "key",
        "os_platform",
        "risk_score",
        "is_isolated",
        "last_seen",
    }
    assert body["results"][0]["key"] == "ws-a.corp.example"


def test_the_list_costs_the_same_queries_whatever_the_page_size(admin_user, django_assert_num_queries):
    for n in range(30):
        group = DeviceGroupFactory()
        EntityFactory.create_batch(2, device_group=group)
        if n % 3 == 0:
            assign_role(UserFactory(), "Security reader", device_groups=[group])
    first, second = api_for(admin_user), api_for(admin_user)
    with django_assert_num_queries(3) as few:  # permissions, count, page
        assert len(first.get(LIST_URL, {"limit": 2}).json()["results"]) == 2
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(second.get(LIST_URL, {"limit": 30}).json()["results"]) == 30


def test_a_scoped_viewers_list_costs_the_same_queries_whatever_the_page_size(django_assert_num_queries):
    groups = DeviceGroupFactory.create_batch(30)
    person = UserFactory()
    assign_role(person, "Security reader", device_groups=groups)
    first, second = api_for(person), api_for(person)
    with django_assert_num_queries(3) as few:  # permissions, count, page
        assert len(first.get(LIST_URL, {"limit": 2}).json()["results"]) == 2
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(second.get(LIST_URL, {"limit": 30}).json()["results"]) == 30


def test_the_device_list_costs_the_same_queries_whatever_the_page_size(admin_user, django_assert_num_queries):
    group = DeviceGroupFactory()
    EntityFactory.create_batch(30, device_group=group)
    first, second = api_for(admin_user), api_for(admin_user)
    with django_assert_num_queries(4) as few:  # permissions, the group, count, page
        assert len(first.get(url(group, "devices/"), {"limit": 2}).json()["results"]) == 2
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(second.get(url(group, "devices/"), {"limit": 30}).json()["results"]) == 30


# --- Creating, changing, deleting -------------------------------------------------------------------------------------


def test_a_role_manager_creates_a_group_and_it_is_logged(admin_api, admin_user):
    response = admin_api.post(
        LIST_URL, {"name": " London ", "description": "The London office.", "rank": 10}, format="json"
    )

    assert response.status_code == 201
    group = DeviceGroup.objects.get(name="London")
    assert response.json() == {
        "id": group.pk,
        "name": "London",
        "description": "The London office.",
        "rank": 10,
        "device_name_pattern": "",
        "device_count": 0,
        "assignment_count": 0,
        "created_at": response.json()["created_at"],
    }
    entry = group_entries().get()
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "incidents.devicegroup.created",
        str(group.pk),
        admin_user.pk,
    )
    assert entry.changes["name"] == {"before": None, "after": "London"}
    assert entry.changes["rank"] == {"before": None, "after": 10}


def test_a_group_made_by_pattern_takes_its_devices_and_their_alerts_when_asked(admin_api):
    [london_alert] = ingest_and_correlate(graph_alert(device("ws-lon-001.corp.example", group="Unsorted")))
    [paris_alert] = ingest_and_correlate(graph_alert(device("ws-par-001.corp.example", group="Unsorted")))
    unsorted = DeviceGroup.objects.get(name="Unsorted")

    response = admin_api.post(
        LIST_URL, {"name": "London", "device_name_pattern": "ws-lon-*", "apply_pattern": True}, format="json"
    )

    assert response.status_code == 201
    london = DeviceGroup.objects.get(name="London")
    assert response.json()["device_count"] == 1
    london_alert.refresh_from_db()
    paris_alert.refresh_from_db()
    london_alert.incident.refresh_from_db()
    assert london_alert.device_group_ids == [london.pk]
    assert london_alert.incident.device_group_ids == [london.pk]
    assert paris_alert.device_group_ids == [unsorted.pk]
    added = ActivityLogEntry.objects.get(action="incidents.devicegroup.devices_added", target_id=str(london.pk))
    assert "by the pattern ws-lon-*" in added.message


def test_a_group_made_with_a_pattern_moves_nothing_unless_asked(admin_api):
    EntityFactory(key="ws-lon-001.corp.example")

    response = admin_api.post(LIST_URL, {"name": "London", "device_name_pattern": "ws-lon-*"}, format="json")

    assert response.status_code == 201
    assert response.json()["device_count"] == 0
    assert not group_entries().filter(action="incidents.devicegroup.devices_added").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "   "}, "name", "A device group needs a name."),
        ({"name": "x" * 101}, "name", "Use at most 100 characters."),
        ({"name": "existing"}, "name", "A device group named 'existing' already exists."),
        ({"name": "New", "rank": -1}, "rank", "The rank is a whole number from 0 up."),
        ({"name": "New", "rank": "ten"}, "rank", "A valid integer is required."),
        ({"name": "New", "device_name_pattern": "*" * 201}, "device_name_pattern", "Use at most 200 characters."),
        ({}, "name", "This field is required."),
    ],
)
def test_a_bad_group_is_refused_with_the_field_named_and_nothing_changes(admin_api, data, field, message):
    DeviceGroupFactory(name="Existing")
    before = rows()

    response = admin_api.post(LIST_URL, data, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == {field: [message]}
    assert body["detail"] == f"Invalid input. {field}: {message}"
    assert rows() == before
    assert not group_entries().exists()


def test_a_partial_update_changes_only_what_it_names_and_logs_it(admin_api):
    group = DeviceGroupFactory(name="London", description="The London office.", rank=10, device_name_pattern="ws-*")

    response = admin_api.patch(url(group), {"rank": 3}, format="json")

    assert response.status_code == 200
    assert (response.json()["rank"], response.json()["description"]) == (3, "The London office.")
    group.refresh_from_db()
    assert (group.name, group.description, group.rank, group.device_name_pattern) == (
        "London",
        "The London office.",
        3,
        "ws-*",
    )
    entry = group_entries().get(action="incidents.devicegroup.changed")
    assert entry.changes == {"rank": {"before": 10, "after": 3}}


def test_a_full_update_replaces_the_settings_and_may_apply_the_new_pattern(admin_api):
    group = DeviceGroupFactory(name="London", description="Old.", rank=10)
    matching = EntityFactory(key="ws-par-001.corp.example")

    response = admin_api.put(
        url(group), {"name": "Paris", "device_name_pattern": "ws-par-*", "apply_pattern": True}, format="json"
    )

    assert response.status_code == 200
    group.refresh_from_db()
    assert (group.name, group.description, group.rank, group.device_name_pattern) == ("Paris", "", 0, "ws-par-*")
    assert device_groups_of(matching) == [group.pk]
    assert response.json()["device_count"] == 1


def test_an_update_that_changes_nothing_logs_nothing(admin_api):
    group = DeviceGroupFactory(name="London", rank=10)

    response = admin_api.patch(url(group), {"name": "London"}, format="json")

    assert response.status_code == 200
    assert not group_entries().exists()


def test_a_group_with_devices_is_not_deleted_and_the_answer_says_why(admin_api):
    group = DeviceGroupFactory(name="London")
    EntityFactory.create_batch(2, device_group=group)

    response = admin_api.delete(url(group))

    assert response.status_code == 400
    message = "London still has 2 devices; move them to another group or out of it first."
    assert response.json() == {
        "detail": f"Invalid input. {message}",
        "code": "invalid",
        "errors": {"non_field_errors": [message]},
    }
    assert DeviceGroup.objects.filter(pk=group.pk).exists()
    assert not group_entries().exists()


def test_an_empty_group_is_deleted_and_the_assignments_scoped_to_it_lose_it(admin_api, admin_user):
    london, paris = DeviceGroupFactory(name="London"), DeviceGroupFactory(name="Paris")
    assignment = assign_role(UserFactory(), "Security reader", device_groups=[london, paris])

    response = admin_api.delete(url(london))

    assert response.status_code == 204
    assert not DeviceGroup.objects.filter(pk=london.pk).exists()
    assert list(assignment.device_groups.all()) == [paris]
    entry = group_entries().get()
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "incidents.devicegroup.deleted",
        str(london.pk),
        admin_user.pk,
    )
    scope_change = ActivityLogEntry.objects.get(action="permissions.assignment.changed")
    assert scope_change.changes["scope"] == {"before": ["London", "Paris"], "after": ["Paris"]}


# --- Moving devices ---------------------------------------------------------------------------------------------------


def test_applying_the_pattern_moves_the_matching_devices_and_says_what_moved(admin_api):
    [alert] = ingest_and_correlate(graph_alert(device("ws-lon-001.corp.example", group="Unsorted")))
    london = DeviceGroupFactory(name="London", device_name_pattern="WS-LON-*")

    response = admin_api.post(url(london, "apply/"))

    assert response.status_code == 200
    assert response.json() == {"devices": 1, "alerts": 1, "incidents": 1}
    alert.refresh_from_db()
    assert alert.device_group_ids == [london.pk]
    assert group_entries().filter(action="incidents.devicegroup.devices_added", target_id=str(london.pk)).exists()


def test_applying_without_a_pattern_is_refused(admin_api):
    group = DeviceGroupFactory(name="By hand")

    response = admin_api.post(url(group, "apply/"))

    assert response.status_code == 400
    assert response.json()["errors"] == {"device_name_pattern": ["This group has no name pattern to apply."]}


def test_devices_are_added_by_id_and_their_alerts_follow(admin_api, admin_user):
    [alert] = ingest_and_correlate(graph_alert(device("ws-lon-001.corp.example", group="Unsorted")))
    moved = Entity.objects.get(kind="device", key="ws-lon-001.corp.example")
    unmoved = EntityFactory(key="ws-lon-002.corp.example")
    london = DeviceGroupFactory(name="London")

    response = admin_api.post(url(london, "devices/add/"), {"devices": [moved.pk, moved.pk]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"devices": 1, "alerts": 1, "incidents": 1}
    assert device_groups_of(moved, unmoved) == [london.pk, None]
    alert.refresh_from_db()
    assert alert.device_group_ids == [london.pk]
    added = group_entries().get(action="incidents.devicegroup.devices_added")
    assert (added.target_id, added.actor_id) == (str(london.pk), admin_user.pk)
    assert added.changes["devices"]["after"] == [moved.display_name]
    assert "by hand" in added.message


def test_devices_taken_out_are_left_in_no_group(admin_api):
    london = DeviceGroupFactory(name="London")
    leaving, staying = EntityFactory(device_group=london), EntityFactory(device_group=london)
    elsewhere = EntityFactory(device_group=DeviceGroupFactory(name="Paris"))

    response = admin_api.post(url(london, "devices/remove/"), {"devices": [leaving.pk, elsewhere.pk]}, format="json")

    assert response.status_code == 200
    assert response.json()["devices"] == 1
    assert device_groups_of(leaving, staying, elsewhere) == [None, london.pk, elsewhere.device_group_id]
    removed = group_entries().get(action="incidents.devicegroup.devices_removed")
    assert removed.target_id == str(london.pk)


@pytest.mark.parametrize("suffix", ["devices/add/", "devices/remove/"])
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"devices": []}, {"devices": ["Name at least one device."]}),
        ({}, {"devices": ["This field is required."]}),
        ({"devices": "all"}, {"devices": ['Expected a list of items but got type "str".']}),
        ({"devices": [987654, 987655]}, {"devices": ["No device with id 987654, 987655."]}),
        ({"devices": [1, "x"]}, {"devices.1": ["A valid integer is required."]}),
    ],
)
def test_a_bad_device_list_is_refused_and_nothing_moves(admin_api, suffix, body, errors):
    group = DeviceGroupFactory()
    EntityFactory(device_group=group)

    response = admin_api.post(url(group, suffix), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert group.devices.count() == 1
    assert not group_entries().exists()


def test_an_entity_that_is_not_a_device_cannot_be_moved(admin_api):
    group = DeviceGroupFactory()
    account = EntityFactory(kind="user", key="alice@corp.example")

    response = admin_api.post(url(group, "devices/add/"), {"devices": [account.pk]}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"devices": [f"No device with id {account.pk}."]}
    assert Entity.objects.get(pk=account.pk).device_group_id is None


# --- Refusals ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NON_MANAGERS)
def test_only_a_role_manager_changes_groups_or_moves_devices(request, role):
    group = DeviceGroupFactory(name="London", device_name_pattern="ws-*")
    device_in_it = EntityFactory(key="ws-1.corp.example", device_group=group)
    outside = EntityFactory(key="ws-2.corp.example")
    api = api_for(request.getfixturevalue(role))
    before = rows()

    answers = [
        api.post(LIST_URL, {"name": "Sneaky"}, format="json"),
        api.patch(url(group), {"name": "Sneaky"}, format="json"),
        api.put(url(group), {"name": "Sneaky"}, format="json"),
        api.delete(url(group)),
        api.post(url(group, "apply/")),
        api.post(url(group, "devices/add/"), {"devices": [outside.pk]}, format="json"),
        api.post(url(group, "devices/remove/"), {"devices": [device_in_it.pk]}, format="json"),
        api.get(url(group, "devices/")),
    ]

    assert [answer.status_code for answer in answers] == [403] * len(answers)
    assert answers[0].json()["detail"] == "Managing device groups requires the permissions.manage_roles permission."
    assert rows() == before
    assert device_groups_of(device_in_it, outside) == [group.pk, None]
    assert not ActivityLogEntry.objects.exists()


def test_an_anonymous_caller_is_asked_to_authenticate(db):
    response = APIClient().get(LIST_URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
