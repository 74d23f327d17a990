"""
Device groups: the pages, and what moving a device does to data scoping — the alerts and incidents it appears in
follow it, so a reader scoped to a group sees exactly what its devices are in.
"""

import fnmatch

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission, UserObjectPermission

from incidents.models import Alert, DeviceGroup, Entity, Incident, IncidentEntity
from incidents.services import device_groups as services
from portal.models import ActivityLogEntry
from tests.conftest import assign_role
from tests.factories import AlertFactory, DeviceGroupFactory, EntityFactory, EvidenceFactory, UserFactory
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate, user

pytestmark = pytest.mark.django_db


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def device_entity(name) -> Entity:
    return Entity.objects.get(kind="device", key=name)


# --- The pattern ----------------------------------------------------------------------------------------------------

NAMES = ["ws-lon-001", "WS-LON-002.corp.example", "ws-par-001", "srv[1]", "a.b", "axb", "ws-lon-", "x*y", "db-7"]
PATTERNS = ["ws-lon-*", "ws-???-001", "a.b", "*[!0-9]", "srv[[]1]", "db-[0-9]", "x[*]y", "*", "ws-lon-0*", "[", "a[b"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_pattern_matches_in_postgres_what_fnmatch_matches_without_regard_to_case(pattern):
    for number, name in enumerate(NAMES):
        EntityFactory(key=f"id-{number}", display_name=name)
    expected = {name for name in NAMES if fnmatch.fnmatchcase(name.lower(), pattern.lower())}

    found = set(services.devices_matching(pattern).values_list("display_name", flat=True))

    assert found == expected


def test_a_pattern_matches_device_keys_and_only_devices():
    EntityFactory(key="ws-lon-009.corp.example", display_name="Front desk PC")
    EntityFactory(kind="user", key="ws-lon-user@corp.example", display_name="ws-lon-user")

    assert list(services.devices_matching("ws-lon-*").values_list("display_name", flat=True)) == ["Front desk PC"]


# --- Scoping follows the devices ------------------------------------------------------------------------------------


def test_a_group_made_by_pattern_moves_its_devices_and_a_scoped_reader_then_sees_their_incident(admin_user):
    [london_alert] = ingest_and_correlate(graph_alert(device("ws-lon-001.corp.example", group="Unsorted")))
    [paris_alert] = ingest_and_correlate(graph_alert(device("ws-par-001.corp.example", group="Unsorted")))
    unsorted = DeviceGroup.objects.get(name="Unsorted")
    london_incident = london_alert.incident
    assert london_incident.device_group_ids == [unsorted.pk]

    response = client_for(admin_user).post(
        "/permissions/device-groups/new/",
        {"name": "London", "rank": "10", "device_name_pattern": "ws-lon-*", "apply_pattern": "on"},
    )

    london = DeviceGroup.objects.get(name="London")
    assert response.status_code == 302 and response["Location"] == f"/permissions/device-groups/{london.pk}/"
    assert device_entity("ws-lon-001.corp.example").device_group == london
    assert device_entity("ws-par-001.corp.example").device_group == unsorted
    london_alert.refresh_from_db()
    london_incident.refresh_from_db()
    paris_alert.refresh_from_db()
    assert london_alert.device_group_ids == [london.pk]
    assert london_incident.device_group_ids == [london.pk]
    assert paris_alert.device_group_ids == [unsorted.pk]

    scoped = UserFactory(username="lon-reader")
    assign_role(scoped, "Security reader", device_groups=[london])
    reader = client_for(scoped)
    assert reader.get(f"/incidents/{london_incident.pk}/").status_code == 200
    assert reader.get(f"/alerts/{london_alert.pk}/").status_code == 200
    assert reader.get(f"/incidents/{paris_alert.incident_id}/").status_code == 404
    assert london_incident.display_name in reader.get("/incidents/").content.decode()

    added = ActivityLogEntry.objects.get(action="incidents.devicegroup.devices_added", target_id=str(london.pk))
    assert added.changes["devices"]["after"] == ["ws-lon-001"]
    assert "by the pattern ws-lon-*" in added.message
    removed = ActivityLogEntry.objects.get(action="incidents.devicegroup.devices_removed", target_id=str(unsorted.pk))
    assert removed.changes["devices"]["before"] == ["ws-lon-001"]


def test_an_alert_with_devices_in_two_groups_keeps_both_and_its_incident_follows(admin_user):
    [alert] = ingest_and_correlate(
        graph_alert(device("ws-lon-001.corp.example", group="A"), device("srv-01.corp.example", group="B"))
    )
    group_a, group_b = DeviceGroup.objects.get(name="A"), DeviceGroup.objects.get(name="B")
    london = DeviceGroupFactory(name="London")

    moved = services.device_group_add_devices(
        device_group=london, devices=[device_entity("ws-lon-001.corp.example")], actor=admin_user
    )

    assert (moved.devices, moved.alerts, moved.incidents) == (1, 1, 1)
    alert.refresh_from_db()
    assert alert.device_group_ids == sorted([london.pk, group_b.pk])
    assert Incident.objects.get(pk=alert.incident_id).device_group_ids == sorted([london.pk, group_b.pk])
    assert group_a.pk not in alert.device_group_ids


def test_taking_a_device_out_of_its_group_hides_its_data_from_readers_scoped_to_it(admin_user):
    [alert] = ingest_and_correlate(
        graph_alert(device("ws-lon-001.corp.example", group="London"), user("a@corp.example"))
    )
    london = DeviceGroup.objects.get(name="London")
    scoped = UserFactory()
    assign_role(scoped, "Security reader", device_groups=[london])
    reader = client_for(scoped)
    assert reader.get(f"/incidents/{alert.incident_id}/").status_code == 200

    response = client_for(admin_user).post(
        f"/permissions/device-groups/{london.pk}/devices/remove/",
        {"devices": [device_entity("ws-lon-001.corp.example").pk]},
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.device_group_ids == []
    assert Incident.objects.get(pk=alert.incident_id).device_group_ids == []
    assert reader.get(f"/incidents/{alert.incident_id}/").status_code == 404
    assert reader.get(f"/alerts/{alert.pk}/").status_code == 404


def test_adding_devices_by_hand_on_the_page(admin_user):
    [alert] = ingest_and_correlate(graph_alert(device("kiosk-7.corp.example", group="Unsorted")))
    kiosks = DeviceGroupFactory(name="Kiosks")
    client = client_for(admin_user)

    page = client.get(f"/permissions/device-groups/{kiosks.pk}/?q=kiosk").content.decode()
    assert "kiosk-7.corp.example" in page and "now in Unsorted" in page

    response = client.post(
        f"/permissions/device-groups/{kiosks.pk}/devices/add/", {"devices": [device_entity("kiosk-7.corp.example").pk]}
    )

    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.device_group_ids == [kiosks.pk]
    page = client.get(f"/permissions/device-groups/{kiosks.pk}/").content.decode()
    assert page.count('data-testid="member-row"') == 1


def test_adding_nothing_answers_422(admin_user):
    kiosks = DeviceGroupFactory(name="Kiosks")

    response = client_for(admin_user).post(f"/permissions/device-groups/{kiosks.pk}/devices/add/", {})

    assert response.status_code == 422
    assert "Tick at least one device." in response.content.decode()


def test_set_devices_makes_the_membership_exact(admin_user):
    group = DeviceGroupFactory()
    a, b, c = EntityFactory(device_group=group), EntityFactory(device_group=group), EntityFactory()

    services.device_group_set_devices(device_group=group, devices=[b, c], actor=admin_user)

    assert set(group.devices.all()) == {b, c}
    a.refresh_from_db()
    assert a.device_group is None


def test_moving_devices_recomputes_alerts_with_a_fixed_number_of_statements(admin_user):
    def moving_queries(alert_count):
        source, target = DeviceGroupFactory(), DeviceGroupFactory()
        entity = EntityFactory(device_group=source)
        incident_ids = []
        for _ in range(alert_count):
            evidence = EvidenceFactory(entity=entity, alert=AlertFactory(device_group_ids=[source.pk]))
            incident = Incident.objects.create(display_name="x", severity="medium")
            Alert.objects.filter(pk=evidence.alert_id).update(incident=incident)
            IncidentEntity.objects.create(incident=incident, entity=entity)
            incident_ids.append(incident.pk)
        with CaptureQueriesContext(connection) as queries:
            moved = services.device_group_add_devices(device_group=target, devices=[entity], actor=admin_user)
        assert moved.alerts == alert_count
        alert_groups = Alert.objects.filter(evidence__entity=entity).values_list("device_group_ids", flat=True)
        assert list(alert_groups) == [[target.pk]] * alert_count
        incident_groups = Incident.objects.filter(pk__in=incident_ids).values_list("device_group_ids", flat=True)
        assert list(incident_groups) == [[target.pk]] * alert_count
        return len(queries)

    assert moving_queries(2) == moving_queries(20)


# --- Create, edit, delete -------------------------------------------------------------------------------------------


def test_the_list_shows_groups_with_their_device_counts(admin_user):
    london = DeviceGroupFactory(name="London", device_name_pattern="ws-lon-*")
    EntityFactory.create_batch(3, device_group=london)
    EntityFactory(kind="user", key="someone@corp.example", device_group=london)  # not a device: not counted
    DeviceGroupFactory(name="Paris")
    assign_role(UserFactory(), "Security reader", device_groups=[london])
    assign_role(UserFactory(), "Security operator", device_groups=[london])

    page = client_for(admin_user).get("/permissions/device-groups/").content.decode()

    assert page.count('data-testid="device-group-row"') == 2
    assert "<code>ws-lon-*</code>" in page and "By hand" in page
    assert '<td data-testid="device-count">3</td>' in page
    assert '<td data-testid="assignment-count">2</td>' in page
    assert '<td data-testid="assignment-count">0</td>' in page


def test_a_group_page_lists_only_its_devices(admin_user):
    london = DeviceGroupFactory(name="London")
    EntityFactory(kind="device", key="ws-lon-001.corp.example", display_name="ws-lon-001", device_group=london)
    EntityFactory(kind="user", key="someone@corp.example", display_name="someone", device_group=london)

    page = client_for(admin_user).get(f"/permissions/device-groups/{london.pk}/").content.decode()

    assert '<span data-testid="member-count">1</span>' in page
    assert "ws-lon-001" in page and "someone@corp.example" not in page


def test_the_list_costs_the_same_queries_however_many_groups_devices_and_assignments(
    admin_user, django_assert_num_queries
):
    client = client_for(admin_user)
    DeviceGroupFactory()
    client.get("/permissions/device-groups/")
    with CaptureQueriesContext(connection) as few:
        client.get("/permissions/device-groups/")

    for _ in range(20):
        group = DeviceGroupFactory()
        EntityFactory.create_batch(2, device_group=group)
        assign_role(UserFactory(), "Security reader", device_groups=[group])

    with django_assert_num_queries(len(few)):
        page = client.get("/permissions/device-groups/").content.decode()
    assert page.count('data-testid="device-group-row"') == 21


def test_the_list_has_an_empty_state(admin_user):
    assert (
        'data-testid="device-groups-empty"'
        in client_for(admin_user).get("/permissions/device-groups/").content.decode()
    )


def test_a_group_page_previews_what_its_pattern_would_move(admin_user):
    group = DeviceGroupFactory(name="London", device_name_pattern="ws-lon-*")
    EntityFactory(key="ws-lon-1.corp.example", device_group=group)
    EntityFactory(key="ws-lon-2.corp.example")
    EntityFactory(key="ws-par-1.corp.example")

    page = client_for(admin_user).get(f"/permissions/device-groups/{group.pk}/").content.decode()

    assert '<strong data-testid="pattern-matching">2</strong>' in page
    assert '<strong data-testid="pattern-outside">1</strong>' in page


def test_editing_a_group_logs_its_changes_and_can_apply_the_new_pattern(admin_user):
    group = DeviceGroupFactory(name="London")
    EntityFactory(key="ws-lon-1.corp.example")

    response = client_for(admin_user).post(
        f"/permissions/device-groups/{group.pk}/edit/",
        {
            "name": "London office",
            "description": "HQ",
            "rank": "5",
            "device_name_pattern": "ws-lon-*",
            "apply_pattern": "on",
        },
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.description, group.rank, group.device_name_pattern) == (
        "London office",
        "HQ",
        5,
        "ws-lon-*",
    )
    assert group.devices.count() == 1
    entry = ActivityLogEntry.objects.get(action="incidents.devicegroup.changed", target_id=str(group.pk))
    assert entry.changes["name"] == {"before": "London", "after": "London office"}
    assert entry.changes["device_name_pattern"] == {"before": "", "after": "ws-lon-*"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "paris", "rank": "0"}, "A device group named &#x27;paris&#x27; already exists."),
        ({"name": "", "rank": "0"}, "This field is required."),
        ({"name": "Ok", "rank": "-1"}, "greater than or equal to 0"),
        ({"name": "Ok", "rank": "0", "device_name_pattern": "x" * 201}, "at most 200 characters"),
    ],
)
def test_a_bad_group_form_answers_422_and_changes_nothing(admin_user, data, message):
    DeviceGroupFactory(name="Paris")
    before = list(DeviceGroup.objects.values_list("pk", "name"))

    response = client_for(admin_user).post("/permissions/device-groups/new/", data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert list(DeviceGroup.objects.values_list("pk", "name")) == before


def test_a_group_with_devices_cannot_be_deleted_and_the_page_says_why(admin_user):
    group = DeviceGroupFactory(name="London")
    EntityFactory(device_group=group)
    client = client_for(admin_user)

    assert (
        'data-testid="delete-refused"' in client.get(f"/permissions/device-groups/{group.pk}/delete/").content.decode()
    )
    response = client.post(f"/permissions/device-groups/{group.pk}/delete/")

    assert response.status_code == 422
    assert "still has 1 device" in response.content.decode()
    assert DeviceGroup.objects.filter(pk=group.pk).exists()


def test_deleting_an_empty_group_removes_the_guardian_rows_of_the_assignments_scoped_to_it(admin_user):
    london, paris = DeviceGroupFactory(name="London"), DeviceGroupFactory(name="Paris")
    person = UserFactory()
    assignment = assign_role(person, "Security reader", device_groups=[london, paris])
    team = UserFactory().groups.create(name="Team")
    assign_role(team, "Security operator", device_groups=[london])
    stale = AlertFactory(device_group_ids=[london.pk, paris.pk])
    content_type = ContentType.objects.get_for_model(DeviceGroup)

    response = client_for(admin_user).post(f"/permissions/device-groups/{london.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == "/permissions/device-groups/"
    assert not DeviceGroup.objects.filter(pk=london.pk).exists()
    assert set(
        UserObjectPermission.objects.filter(user=person, content_type=content_type).values_list("object_pk", flat=True)
    ) == {str(paris.pk)}
    assert not GroupObjectPermission.objects.filter(group=team, content_type=content_type).exists()
    assert list(assignment.device_groups.all()) == [paris]
    stale.refresh_from_db()
    assert stale.device_group_ids == [paris.pk]
    assert ActivityLogEntry.objects.filter(action="incidents.devicegroup.deleted", target_id=str(london.pk)).exists()
    scope_change = ActivityLogEntry.objects.get(
        action="permissions.assignment.changed", target_id=str(assignment.role_id)
    )
    assert scope_change.changes["scope"] == {"before": ["London", "Paris"], "after": ["Paris"]}
