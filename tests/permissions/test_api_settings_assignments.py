"""
/api/role-assignments/: who holds which role over which data, over the REST API, for role managers. The scope is
stored as django-guardian grants and takes effect at once; nobody may take away the last way to manage roles.
"""

import pytest
from django.contrib.auth.models import Group

from permissions.access import data_scope
from permissions.models import Role, RoleAssignment
from permissions.services import assignment_create, role_create
from portal.catalogue import MANAGE_ROLES, VIEW_SECURITY_DATA
from portal.models import ActivityLogEntry
from tests.api_clients import api_for, fresh_user
from tests.conftest import assign_role
from tests.factories import DeviceGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/role-assignments/"
LAST_MANAGER = "This would leave nobody able to manage roles and assignments: give that right to someone else first."


def url(assignment) -> str:
    return f"/api/role-assignments/{assignment.pk}/"


@pytest.fixture
def admin_api(admin_user):
    return api_for(admin_user)


@pytest.fixture
def reader_role():
    return Role.objects.select_related("group").get(group__name="Security reader")


@pytest.fixture
def groups():
    return DeviceGroupFactory(name="London"), DeviceGroupFactory(name="Paris")


def assignment_entries():
    return ActivityLogEntry.objects.filter(action__startswith="permissions.assignment.")


def assignments_snapshot():
    return [
        (a.role_id, a.user_id, a.group_id, a.all_data, sorted(g.pk for g in a.device_groups.all()))
        for a in RoleAssignment.objects.order_by("pk")
    ]


def scope_of(user, permission=VIEW_SECURITY_DATA):
    scope = data_scope(fresh_user(user), permission)
    return scope.all_data, set(scope.device_group_ids)


# --- Reading ----------------------------------------------------------------------------------------------------------


def test_assignments_are_listed_with_their_role_holder_and_scope(admin_api, admin_user, reader_role, groups):
    london, paris = groups
    alice = UserFactory(username="alice")
    assigned = assign_role(alice, "Security reader", device_groups=[paris, london])
    assign_role(Group.objects.create(name="SOC"), "Security reader")

    response = admin_api.get(LIST_URL, {"role": reader_role.pk})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"][0] == {
        "id": assigned.pk,
        "role": reader_role.pk,
        "role_name": "Security reader",
        "user": "alice",
        "group": None,
        "all_data": False,
        "device_groups": [london.pk, paris.pk],
        "created_at": body["results"][0]["created_at"],
    }
    assert (body["results"][1]["user"], body["results"][1]["group"], body["results"][1]["all_data"]) == (
        None,
        "SOC",
        True,
    )
    assert body["results"][1]["device_groups"] == []


def test_assignments_are_filtered_by_role_user_and_group(admin_api, admin_user, reader_role):
    alice = UserFactory(username="alice")
    assign_role(alice, "Security reader")
    assign_role(alice, "Security operator")
    assign_role(Group.objects.create(name="SOC"), "Security operator")

    def listed(**params):
        return [(a["role_name"], a["user"] or a["group"]) for a in admin_api.get(LIST_URL, params).json()["results"]]

    assert listed(user="ALICE") == [("Security operator", "alice"), ("Security reader", "alice")]
    assert listed(group="soc") == [("Security operator", "SOC")]
    assert listed(role=reader_role.pk, user="alice") == [("Security reader", "alice")]
    assert listed(user="nobody") == []
    for bad_id in ("readers", f"{reader_role.pk}.5"):  # not a fraction that would find the role with the whole part
        bad = admin_api.get(LIST_URL, {"role": bad_id})
        assert bad.status_code == 400
        assert bad.json()["errors"] == {"role": ["Enter a whole number."]}


def test_the_list_costs_the_same_queries_whatever_the_page_size(admin_user, groups, django_assert_num_queries):
    for _ in range(30):
        assign_role(UserFactory(), "Security reader", device_groups=list(groups))
    first, second = api_for(admin_user), api_for(admin_user)

    with django_assert_num_queries(4) as few:  # permissions, count, page, the page's device groups
        assert len(first.get(LIST_URL, {"limit": 2}).json()["results"]) == 2
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(second.get(LIST_URL, {"limit": 31}).json()["results"]) == 31


@pytest.mark.parametrize("url", ["/api/role-assignments/", "/api/roles/", "/api/device-groups/", "/api/tokens/"])
def test_the_settings_lists_answer_a_limit_beyond_the_largest_page_with_the_largest_page(admin_api, url):
    # A limit past what PostgreSQL's LIMIT takes would otherwise reach the database.
    response = admin_api.get(url, {"limit": 2**70})

    assert response.status_code == 200
    assert len(response.json()["results"]) == response.json()["count"]


# --- Assigning --------------------------------------------------------------------------------------------------------


def test_a_role_given_over_some_device_groups_reaches_only_them_and_is_logged(
    admin_api, admin_user, reader_role, groups
):
    london, _paris = groups
    alice = UserFactory(username="alice")

    response = admin_api.post(
        LIST_URL, {"role": reader_role.pk, "user": "Alice", "device_groups": [london.pk]}, format="json"
    )

    assert response.status_code == 201
    assignment = RoleAssignment.objects.get(role=reader_role, user=alice)
    assert response.json()["id"] == assignment.pk
    assert (response.json()["all_data"], response.json()["device_groups"]) == (False, [london.pk])
    assert scope_of(alice) == (False, {london.pk})
    entry = assignment_entries().get()
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "permissions.assignment.created",
        str(reader_role.pk),
        admin_user.pk,
    )
    assert entry.changes == {
        "principal": {"before": None, "after": "alice"},
        "scope": {"before": None, "after": ["London"]},
    }


def test_a_role_given_to_a_group_over_all_data_reaches_its_members(admin_api, reader_role):
    team = Group.objects.create(name="SOC Tier 1")
    member = UserFactory()
    member.groups.add(team)

    response = admin_api.post(LIST_URL, {"role": reader_role.pk, "group": "SOC Tier 1"}, format="json")

    assert response.status_code == 201
    assert (response.json()["group"], response.json()["all_data"]) == ("SOC Tier 1", True)
    assert RoleAssignment.objects.filter(role=reader_role, group=team, all_data=True).exists()
    assert scope_of(member) == (True, set())
    assert assignment_entries().get().changes["scope"] == {"before": None, "after": "all data"}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"user": "alice", "group": "SOC"},
            {"non_field_errors": ["Assign the role to one user or one group."]},
        ),
        ({}, {"non_field_errors": ["Assign the role to one user or one group."]}),
        ({"user": "ghost"}, {"user": ["No active user named 'ghost'."]}),
        ({"user": "retired"}, {"user": ["No active user named 'retired'."]}),
        ({"user": 7}, {"user": ["A user name is a string."]}),
        ({"user": "al\x00ice"}, {"user": ["Null characters are not allowed."]}),
        ({"user": "alice", "device_groups": [2**70]}, {"device_groups": [f"No device group with id {2**70}."]}),
        ({"group": "Nobody"}, {"group": ["No group named 'Nobody'."]}),
        ({"group": "Security operator"}, {"group": ["That group is a role; assign the role itself instead."]}),
        (
            {"user": "alice", "all_data": False},
            {"device_groups": ["Choose at least one device group, or all data."]},
        ),
        ({"user": "alice", "device_groups": []}, {"device_groups": ["Choose at least one device group, or all data."]}),
        ({"user": "alice", "device_groups": [987654]}, {"device_groups": ["No device group with id 987654."]}),
        ({"user": "alice", "role": 987654}, {"role": ["No role with id 987654."]}),
        (
            {"user": "already"},
            {"non_field_errors": ["Security reader is already assigned to already; change that assignment's scope."]},
        ),
    ],
)
def test_a_bad_assignment_is_refused_and_nothing_changes(admin_api, reader_role, data, errors):
    UserFactory(username="alice")
    UserFactory(username="retired", is_active=False)
    assign_role(UserFactory(username="already"), "Security reader")
    Group.objects.create(name="SOC")
    data = {"role": reader_role.pk, **data}
    before = assignments_snapshot()

    response = admin_api.post(LIST_URL, data, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert assignments_snapshot() == before
    assert not assignment_entries().exists()


def test_an_all_data_assignment_naming_device_groups_is_refused_rather_than_guessed(admin_api, reader_role, groups):
    UserFactory(username="alice")

    response = admin_api.post(
        LIST_URL,
        {"role": reader_role.pk, "user": "alice", "all_data": True, "device_groups": [groups[0].pk]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "device_groups": ["An all-data assignment has no device groups: leave them out, or set all_data to false."]
    }
    assert not RoleAssignment.objects.filter(user__username="alice").exists()


# --- Changing the scope -----------------------------------------------------------------------------------------------


def test_narrowing_a_scope_takes_effect_at_once_and_is_logged(admin_api, admin_user, groups):
    _london, paris = groups
    alice = UserFactory(username="alice")
    assignment = assign_role(alice, "Security reader")

    response = admin_api.patch(url(assignment), {"device_groups": [paris.pk]}, format="json")

    assert response.status_code == 200
    assert (response.json()["all_data"], response.json()["device_groups"]) == (False, [paris.pk])
    assert scope_of(alice) == (False, {paris.pk})
    entry = assignment_entries().get()
    assert (entry.action, entry.actor_id) == ("permissions.assignment.changed", admin_user.pk)
    assert entry.changes == {"scope": {"before": "all data", "after": ["Paris"]}}
    assert entry.message == "Scope of alice"


def test_widening_a_scope_to_all_data_drops_its_device_groups(admin_api, groups):
    alice = UserFactory(username="alice")
    assignment = assign_role(alice, "Security reader", device_groups=list(groups))

    response = admin_api.put(url(assignment), {"all_data": True}, format="json")

    assert response.status_code == 200
    assert (response.json()["all_data"], response.json()["device_groups"]) == (True, [])
    assert scope_of(alice) == (True, set())


def test_a_partial_update_keeps_what_it_leaves_out_and_logs_nothing_when_nothing_changes(admin_api, groups):
    london, _paris = groups
    assignment = assign_role(UserFactory(), "Security reader", device_groups=[london])

    unchanged = admin_api.patch(url(assignment), {}, format="json")
    still_scoped = admin_api.patch(url(assignment), {"all_data": False}, format="json")

    assert (unchanged.status_code, still_scoped.status_code) == (200, 200)
    assert still_scoped.json()["device_groups"] == [london.pk]
    assert not assignment_entries().exists()


def test_the_role_and_holder_of_an_assignment_cannot_be_changed(admin_api, reader_role):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    assignment = assign_role(alice, "Security operator")

    response = admin_api.patch(url(assignment), {"role": reader_role.pk, "user": "bob"}, format="json")

    assert response.status_code == 200
    assignment.refresh_from_db()
    assert (assignment.role.name, assignment.user) == ("Security operator", alice)
    assert not RoleAssignment.objects.filter(user=bob).exists()


def test_a_scope_without_device_groups_is_refused(admin_api, groups):
    assignment = assign_role(UserFactory(), "Security reader")
    before = assignments_snapshot()

    response = admin_api.put(url(assignment), {"all_data": False}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"device_groups": ["Choose at least one device group, or all data."]}
    assert assignments_snapshot() == before


# --- Taking a role away -----------------------------------------------------------------------------------------------


def test_taking_a_role_away_removes_its_access_at_once_and_is_logged(admin_api, admin_user, groups):
    alice = UserFactory(username="alice")
    assignment = assign_role(alice, "Security reader", device_groups=[groups[0]])

    response = admin_api.delete(url(assignment))

    assert response.status_code == 204
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert scope_of(alice) == (False, set())
    entry = assignment_entries().get()
    assert (entry.action, entry.actor_id) == ("permissions.assignment.deleted", admin_user.pk)
    assert entry.changes["principal"] == {"before": "alice", "after": None}


def test_the_last_way_anyone_could_manage_roles_cannot_be_taken_away(admin_api, admin_user):
    (own,) = RoleAssignment.objects.filter(user=admin_user)
    before = assignments_snapshot()

    response = admin_api.delete(url(own))

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"Invalid input. {LAST_MANAGER}",
        "code": "invalid",
        "errors": {"non_field_errors": [LAST_MANAGER]},
    }
    assert assignments_snapshot() == before
    assert fresh_user(admin_user).has_perm(MANAGE_ROLES)
    assert not assignment_entries().exists()


def test_an_administrator_may_step_down_once_someone_else_manages_roles(admin_api, admin_user):
    (own,) = RoleAssignment.objects.filter(user=admin_user)
    keepers = role_create(name="Keepers", permissions=[MANAGE_ROLES], actor=admin_user)
    assignment_create(role=keepers, user=UserFactory(), all_data=True, actor=admin_user)

    response = admin_api.delete(url(own))

    assert response.status_code == 204
    assert not fresh_user(admin_user).has_perm(MANAGE_ROLES)


# --- Refusals ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "reader", "ti_analyst", "posture_manager", "outsider"])
def test_only_a_role_manager_reads_or_changes_assignments(request, reader_role, role):
    person = request.getfixturevalue(role)
    other = assign_role(UserFactory(), "Security reader")
    api = api_for(person)
    before = assignments_snapshot()

    answers = [
        api.get(LIST_URL),
        api.get(url(other)),
        api.post(LIST_URL, {"role": reader_role.pk, "user": person.username}, format="json"),
        api.patch(url(other), {"all_data": True}, format="json"),
        api.delete(url(other)),
        api.delete("/api/role-assignments/987654/"),
    ]

    assert [answer.status_code for answer in answers] == [403] * len(answers)
    assert answers[0].json()["detail"] == "Managing role assignments requires the permissions.manage_roles permission."
    assert assignments_snapshot() == before
    assert not assignment_entries().exists()
