"""Roles, assignments and data scope: the services, the guardian rows they keep, and what a user may then reach."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.models import GroupObjectPermission, UserObjectPermission

from incidents.selectors import incidents_for
from permissions.access import data_scope
from permissions.models import Role, RoleAssignment
from permissions.roles import BUILTIN_ROLES
from permissions.services import (
    assignment_create,
    assignment_delete,
    assignment_update,
    role_create,
    role_delete,
    role_update,
)
from portal.catalogue import (
    CATEGORIES,
    MANAGE_INCIDENTS,
    MANAGE_ROLES,
    VIEW_SECURITY_DATA,
    catalogue,
    catalogue_by_category,
)
from portal.models import ActivityLogEntry
from tests.conftest import assign_role
from tests.factories import DeviceGroupFactory, IncidentFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request sees them: permission and scope caches live on the user object."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def groups():
    return DeviceGroupFactory(name="London"), DeviceGroupFactory(name="Leeds")


@pytest.fixture
def incidents(groups):
    london, leeds = groups
    return {
        "london": IncidentFactory(device_group_ids=[london.pk]),
        "leeds": IncidentFactory(device_group_ids=[leeds.pk]),
        "no device": IncidentFactory(device_group_ids=[]),
    }


def visible(user, **kwargs):
    return set(incidents_for(fresh(user), **kwargs).values_list("display_name", flat=True))


def names(incidents, *keys):
    return {incidents[key].display_name for key in keys}


# The catalogue


def test_every_catalogue_permission_exists_as_a_django_permission_in_one_of_three_categories():
    from django.contrib.auth.models import Permission

    existing = {
        f"{app}.{codename}" for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    assert {entry.permission for entry in catalogue()} <= existing
    assert [category for category, _ in catalogue_by_category()] == list(CATEGORIES)
    assert all(entries for _, entries in catalogue_by_category())


def test_the_built_in_roles_exist_and_hold_what_their_definition_lists():
    roles = {role.name: role for role in Role.objects.select_related("group")}
    for definition in BUILTIN_ROLES:
        role = roles[definition.name]
        assert role.is_builtin
        held = {
            f"{app}.{code}" for app, code in role.group.permissions.values_list("content_type__app_label", "codename")
        }
        for permission in definition.permissions:
            if not permission.endswith(".*"):
                assert permission in held, (definition.name, permission)
    admin_permissions = roles["Security administrator"].group.permissions
    assert {e.permission for e in catalogue()} <= {
        f"{app}.{code}" for app, code in admin_permissions.values_list("content_type__app_label", "codename")
    }


# Roles


def test_a_custom_role_is_made_from_the_catalogue_and_logged(admin_user):
    role = role_create(
        name="Tier 1", description="Night shift", permissions=[VIEW_SECURITY_DATA, MANAGE_INCIDENTS], actor=admin_user
    )

    assert not role.is_builtin
    assert sorted(role.group.permissions.values_list("codename", flat=True)) == [
        "manage_incidents",
        "view_security_data",
    ]
    entry = ActivityLogEntry.objects.get(action="permissions.role.created")
    assert entry.actor_name == "admin"
    assert entry.changes["permissions"]["after"] == [MANAGE_INCIDENTS, VIEW_SECURITY_DATA]


@pytest.mark.parametrize(
    ("name", "permissions", "field"),
    [
        ("", [VIEW_SECURITY_DATA], "name"),
        ("Security reader", [VIEW_SECURITY_DATA], "name"),
        ("Tier 1", [], "permissions"),
        ("Tier 1", ["auth.delete_user"], "permissions"),
    ],
)
def test_a_custom_role_with_bad_input_is_refused_with_the_field_named(admin_user, name, permissions, field):
    with pytest.raises(ValidationError) as raised:
        role_create(name=name, permissions=permissions, actor=admin_user)

    assert field in raised.value.message_dict
    assert not Role.objects.filter(is_builtin=False).exists()


def test_a_built_in_role_keeps_its_permissions_but_may_require_two_factor(admin_user):
    reader = Role.objects.get(group__name="Security reader")
    held = sorted(reader.group.permissions.values_list("codename", flat=True))

    with pytest.raises(ValidationError):
        role_update(
            role=reader,
            name=reader.name,
            description=reader.description,
            permissions=[MANAGE_ROLES],
            require_two_factor=False,
            actor=admin_user,
        )
    with pytest.raises(ValidationError):
        role_delete(role=reader, actor=admin_user)
    role_update(
        role=reader,
        name=reader.name,
        description=reader.description,
        permissions=[
            f"{app}.{code}" for app, code in reader.group.permissions.values_list("content_type__app_label", "codename")
        ],
        require_two_factor=True,
        actor=admin_user,
    )

    reader.refresh_from_db()
    assert reader.require_two_factor
    assert sorted(reader.group.permissions.values_list("codename", flat=True)) == held


def test_editing_a_custom_role_changes_what_its_holders_may_do_at_once(admin_user, groups, incidents):
    role = role_create(name="Tier 1", permissions=[VIEW_SECURITY_DATA], actor=admin_user)
    user = UserFactory()
    assignment_create(role=role, user=user, all_data=False, device_groups=[groups[0]], actor=admin_user)
    assert visible(user, action="change") == set()

    role_update(
        role=role,
        name="Tier 1",
        description="",
        permissions=[VIEW_SECURITY_DATA, MANAGE_INCIDENTS],
        require_two_factor=False,
        actor=admin_user,
    )

    assert visible(user, action="change") == names(incidents, "london")
    assert UserObjectPermission.objects.filter(user=user, permission__codename="manage_incidents").count() == 1


def test_editing_a_role_resyncs_its_holders_grants_with_a_fixed_number_of_queries(admin_user, groups):
    def update_queries(holders: int) -> int:
        role = role_create(name=f"Tier {holders}", permissions=[VIEW_SECURITY_DATA], actor=admin_user)
        users = UserFactory.create_batch(holders)
        for user in users:
            assign_role(user, role.name, device_groups=groups)
        with CaptureQueriesContext(connection) as queries:
            role_update(
                role=role,
                name=role.name,
                description="",
                permissions=[VIEW_SECURITY_DATA, MANAGE_INCIDENTS],
                require_two_factor=False,
                actor=admin_user,
            )
        rows = UserObjectPermission.objects.filter(user__in=users, permission__codename="manage_incidents")
        assert rows.count() == holders * len(groups)
        return len(queries)

    assert update_queries(2) == update_queries(12)


def test_deleting_a_custom_role_takes_its_rights_and_its_guardian_rows_away(admin_user, groups, incidents):
    role = role_create(name="Tier 1", permissions=[VIEW_SECURITY_DATA], actor=admin_user)
    user = UserFactory()
    assignment_create(role=role, user=user, all_data=False, device_groups=[groups[0]], actor=admin_user)

    role_delete(role=role, actor=admin_user)

    assert not fresh(user).has_perm(VIEW_SECURITY_DATA)
    assert visible(user) == set()
    assert not UserObjectPermission.objects.filter(user=user).exists()
    assert not Group.objects.filter(name="Tier 1").exists()
    assert ActivityLogEntry.objects.filter(action="permissions.role.deleted").exists()


# Assignments and scope


def test_an_all_data_assignment_reaches_every_incident_including_those_without_a_device(admin_user, incidents):
    user = UserFactory()
    assignment_create(role=Role.objects.get(group__name="Security reader"), user=user, all_data=True, actor=admin_user)

    assert visible(user) == names(incidents, "london", "leeds", "no device")
    assert visible(user, action="change") == set()


def test_a_scoped_assignment_is_stored_as_guardian_object_permissions_and_reaches_only_its_groups(
    admin_user, groups, incidents
):
    london, _ = groups
    user = UserFactory()
    assignment_create(
        role=Role.objects.get(group__name="Security operator"),
        user=user,
        all_data=False,
        device_groups=[london],
        actor=admin_user,
    )

    rows = UserObjectPermission.objects.filter(user=user)
    assert {(row.permission.codename, row.object_pk) for row in rows} == {
        ("view_security_data", str(london.pk)),
        ("manage_incidents", str(london.pk)),
        ("take_response_actions", str(london.pk)),
    }
    assert visible(user) == names(incidents, "london")
    assert data_scope(fresh(user), VIEW_SECURITY_DATA).device_group_ids == {london.pk}
    # Tenant-wide permissions of the role hold everywhere.
    assert data_scope(fresh(user), "permissions.view_secure_score").all_data


def test_rights_are_the_union_of_assignments_each_permission_with_its_own_scope(admin_user, groups, incidents):
    london, _ = groups
    user = UserFactory()
    assign_role(user, "Security reader")
    assign_role(user, "Security operator", device_groups=[london])

    assert visible(user) == names(incidents, "london", "leeds", "no device")
    assert visible(user, action="change") == names(incidents, "london")


def test_an_assignment_to_a_group_reaches_its_members_and_only_them(admin_user, groups, incidents):
    _, leeds = groups
    team = Group.objects.create(name="Leeds SOC")
    member, other = UserFactory(), UserFactory()
    member.groups.add(team)
    assignment_create(
        role=Role.objects.get(group__name="Security reader"),
        group=team,
        all_data=False,
        device_groups=[leeds],
        actor=admin_user,
    )

    assert GroupObjectPermission.objects.filter(group=team, permission__codename="view_security_data").count() == 1
    assert visible(member) == names(incidents, "leeds")
    assert visible(other) == set()


def test_a_role_group_cannot_itself_be_given_a_role(admin_user):
    with pytest.raises(ValidationError):
        assignment_create(
            role=Role.objects.get(group__name="Security reader"),
            group=Group.objects.get(name="Security operator"),
            all_data=True,
            actor=admin_user,
        )


def test_a_scoped_assignment_needs_device_groups_and_a_role_is_assigned_once_per_principal(admin_user, groups):
    role = Role.objects.get(group__name="Security reader")
    user = UserFactory()
    with pytest.raises(ValidationError) as raised:
        assignment_create(role=role, user=user, all_data=False, device_groups=[], actor=admin_user)
    assert "device_groups" in raised.value.message_dict

    assignment_create(role=role, user=user, all_data=True, actor=admin_user)
    with pytest.raises(ValidationError):
        assignment_create(role=role, user=user, all_data=False, device_groups=[groups[0]], actor=admin_user)
    assert RoleAssignment.objects.filter(user=user).count() == 1


def test_changing_a_scope_moves_what_the_user_sees_and_is_logged(admin_user, groups, incidents):
    london, leeds = groups
    user = UserFactory()
    assignment = assignment_create(
        role=Role.objects.get(group__name="Security reader"),
        user=user,
        all_data=False,
        device_groups=[london],
        actor=admin_user,
    )

    assignment_update(assignment=assignment, all_data=False, device_groups=[leeds], actor=admin_user)

    assert visible(user) == names(incidents, "leeds")
    entry = ActivityLogEntry.objects.get(action="permissions.assignment.changed")
    assert entry.changes["scope"] == {"before": ["London"], "after": ["Leeds"]}


def test_removing_an_assignment_takes_access_away_at_once(admin_user, groups, incidents):
    user = UserFactory()
    assignment = assignment_create(
        role=Role.objects.get(group__name="Security reader"),
        user=user,
        all_data=False,
        device_groups=[groups[0]],
        actor=admin_user,
    )
    assert visible(user) == names(incidents, "london")

    assignment_delete(assignment=assignment, actor=admin_user)

    assert visible(user) == set()
    assert not fresh(user).has_perm(VIEW_SECURITY_DATA)
    assert not UserObjectPermission.objects.filter(user=user).exists()
    assert ActivityLogEntry.objects.filter(action="permissions.assignment.deleted").count() == 1


def test_one_assignment_removed_leaves_the_grants_another_assignment_still_gives(admin_user, groups, incidents):
    london, _ = groups
    user = UserFactory()
    reader = assign_role(user, "Security reader", device_groups=[london])
    assign_role(user, "Threat intelligence analyst", device_groups=[london])

    assignment_delete(assignment=reader, actor=admin_user)

    assert visible(user) == names(incidents, "london")


def test_membership_of_a_role_group_alone_gives_nothing(incidents):
    """Roles are held through assignments; putting someone in a role's group (say, in the Django admin) is not one."""
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Security administrator"))

    assert not fresh(user).has_perm(VIEW_SECURITY_DATA)
    assert visible(user) == set()


def test_a_superuser_reaches_all_data(incidents):
    user = UserFactory(is_superuser=True)

    assert visible(user, action="change") == names(incidents, "london", "leeds", "no device")


# Nobody locked out of Permissions & roles


def test_the_last_assignment_that_lets_anyone_manage_roles_cannot_be_removed(admin_user):
    (only,) = RoleAssignment.objects.filter(user=admin_user)
    only_pk = only.pk

    with pytest.raises(ValidationError, match="nobody able to manage roles"):
        assignment_delete(assignment=only, actor=admin_user)

    assert RoleAssignment.objects.filter(pk=only_pk).exists()
    assert fresh(admin_user).has_perm(MANAGE_ROLES)
    assert not ActivityLogEntry.objects.filter(action="permissions.assignment.deleted").exists()


def test_an_administrator_may_step_down_once_someone_else_manages_roles(admin_user):
    (own,) = RoleAssignment.objects.filter(user=admin_user)
    successor = UserFactory()
    custom = role_create(name="Access managers", permissions=[MANAGE_ROLES], actor=admin_user)
    team = Group.objects.create(name="Identity team")
    successor.groups.add(team)
    assignment_create(role=custom, group=team, all_data=True, actor=admin_user)

    assignment_delete(assignment=own, actor=admin_user)

    assert not fresh(admin_user).has_perm(MANAGE_ROLES)
    assert fresh(successor).has_perm(MANAGE_ROLES)
    # The custom role is now the last way to manage roles: neither taking the permission out nor deleting it goes.
    with pytest.raises(ValidationError):
        role_update(
            role=custom,
            name=custom.name,
            description="",
            permissions=[VIEW_SECURITY_DATA],
            require_two_factor=False,
            actor=successor,
        )
    with pytest.raises(ValidationError):
        role_delete(role=custom, actor=successor)
    assert fresh(successor).has_perm(MANAGE_ROLES)


def test_a_permission_given_directly_in_the_django_admin_reaches_all_data(incidents):
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_security_data"))

    assert visible(user) == names(incidents, "london", "leeds", "no device")
    assert visible(user, action="change") == set()


def test_permissions_and_every_scope_of_a_request_cost_one_query(groups, django_assert_num_queries):
    london, leeds = groups
    user = UserFactory()
    assign_role(user, "Security reader")
    assign_role(user, "Security operator", device_groups=[london, leeds])
    user = fresh(user)

    with django_assert_num_queries(1):
        assert user.has_perm(VIEW_SECURITY_DATA)
        assert not user.has_perm(MANAGE_ROLES)
        assert data_scope(user, VIEW_SECURITY_DATA).all_data
        assert data_scope(user, MANAGE_INCIDENTS).device_group_ids == {london.pk, leeds.pk}
