"""The Permissions & roles pages: roles, their permissions and assignments, through the Django test client."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from guardian.models import UserObjectPermission

from incidents.models import DeviceGroup
from permissions.models import Role, RoleAssignment
from portal.models import ActivityLogEntry
from tests.conftest import assign_role
from tests.factories import DeviceGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

NON_MANAGERS = ["analyst", "reader", "ti_analyst", "posture_manager", "outsider"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def custom_role(name="Tier 1 triage", permissions=("incidents.view_security_data",)):
    group = Group.objects.create(name=name)
    for permission in permissions:
        app_label, codename = permission.split(".")
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return Role.objects.create(group=group, description="For tests")


def builtin(name) -> Role:
    return Role.objects.get(group__name=name)


def page_queries(client, url) -> int:
    """How many queries a page costs once the session's own reads (two-factor status) have settled."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def section_urls():
    """Every page of the section but the API tokens, with the methods it answers."""
    role = custom_role("Scratch role")
    group = DeviceGroupFactory()
    assignment = RoleAssignment.objects.create(role=role, user=UserFactory(), all_data=True)
    return [
        ("get", "/permissions/"),
        ("get", "/permissions/roles/new/"),
        ("post", "/permissions/roles/new/"),
        ("get", f"/permissions/roles/{role.pk}/"),
        ("get", f"/permissions/roles/{role.pk}/edit/"),
        ("post", f"/permissions/roles/{role.pk}/edit/"),
        ("get", f"/permissions/roles/{role.pk}/delete/"),
        ("post", f"/permissions/roles/{role.pk}/delete/"),
        ("post", f"/permissions/roles/{role.pk}/assign/"),
        ("get", f"/permissions/assignments/{assignment.pk}/"),
        ("post", f"/permissions/assignments/{assignment.pk}/"),
        ("post", f"/permissions/assignments/{assignment.pk}/delete/"),
        ("get", "/permissions/device-groups/"),
        ("get", "/permissions/device-groups/new/"),
        ("post", "/permissions/device-groups/new/"),
        ("get", f"/permissions/device-groups/{group.pk}/"),
        ("get", f"/permissions/device-groups/{group.pk}/edit/"),
        ("post", f"/permissions/device-groups/{group.pk}/edit/"),
        ("post", f"/permissions/device-groups/{group.pk}/apply/"),
        ("post", f"/permissions/device-groups/{group.pk}/devices/add/"),
        ("post", f"/permissions/device-groups/{group.pk}/devices/remove/"),
        ("get", f"/permissions/device-groups/{group.pk}/delete/"),
        ("post", f"/permissions/device-groups/{group.pk}/delete/"),
        ("get", "/permissions/home-cards/"),
        ("post", "/permissions/home-cards/"),
    ]


# --- Who may come in ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", NON_MANAGERS)
def test_every_page_but_tokens_refuses_people_who_may_not_manage_roles(request, fixture):
    user = request.getfixturevalue(fixture)
    urls = section_urls()
    client = client_for(user)
    before = (Role.objects.count(), RoleAssignment.objects.count(), DeviceGroup.objects.count())

    statuses = {(method, url): getattr(client, method)(url).status_code for method, url in urls}

    assert set(statuses.values()) == {403}, statuses
    assert (Role.objects.count(), RoleAssignment.objects.count(), DeviceGroup.objects.count()) == before


def test_signed_out_visitors_are_sent_to_the_login_page():
    for method, url in [*section_urls(), ("get", "/permissions/tokens/")]:
        response = getattr(Client(), method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/"), url


def test_every_page_opens_for_a_role_manager(admin_user):
    client = client_for(admin_user)
    for method, url in section_urls():
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_the_navigation_shows_the_section_to_role_managers_only(admin_user, reader):
    assert "Permissions &amp; roles" in client_for(admin_user).get("/permissions/").content.decode()
    page = client_for(reader).get("/incidents/").content.decode()
    assert 'href="/permissions/"' not in page
    assert 'href="/permissions/tokens/"' in page  # the user menu's API tokens


# --- Roles list and detail ------------------------------------------------------------------------------------------


def test_the_list_shows_built_in_and_custom_roles_with_how_many_hold_them(admin_user, analyst, reader):
    role = custom_role()
    assign_role(Group.objects.create(name="Night shift"), "Tier 1 triage")
    assign_role(UserFactory(), "Security reader")

    page = client_for(admin_user).get("/permissions/").content.decode()

    for name in ("Security administrator", "Security operator", "Security reader", "Posture manager", role.name):
        assert name in page
    assert "2 users, 0 groups" in page  # Security reader: the reader and the new user
    assert "0 users, 1 group" in page  # the custom role, held by a group
    assert page.count("Built-in") == 5
    assert page.count(">Custom<") == 1


def test_a_role_page_shows_its_permissions_by_category_and_who_holds_it(admin_user, reader):
    scoped = DeviceGroupFactory(name="London")
    holder = UserFactory(username="bob")
    assign_role(holder, "Security reader", device_groups=[scoped])

    response = client_for(admin_user).get(f"/permissions/roles/{builtin('Security reader').pk}/")
    page = response.content.decode()

    assert response.status_code == 200
    for category in ("Security operations", "Security posture", "Authorization and settings"):
        assert category in page
    assert page.count('data-testid="permission-held"') == 3  # view security data, secure score, threat analytics
    assert "View security data" in page and "Incidents, alerts, entities, evidence" in page
    assert page.count('data-testid="assignment-row"') == 2
    assert "bob" in page and "London" in page and "All data" in page


def test_the_roles_list_costs_the_same_queries_however_many_roles_and_holders(admin_user, django_assert_num_queries):
    client = client_for(admin_user)
    custom_role("Role 0")
    few = page_queries(client, "/permissions/")

    for n in range(1, 15):
        assign_role(UserFactory(), custom_role(f"Role {n}").name)
        assign_role(Group.objects.create(name=f"Team {n}"), f"Role {n}")

    with django_assert_num_queries(few):
        page = client.get("/permissions/").content.decode()
    assert page.count('data-testid="role-row"') == Role.objects.count()


def test_a_role_page_costs_the_same_queries_however_many_holders_and_device_groups(
    admin_user, django_assert_num_queries
):
    role = custom_role()
    url = f"/permissions/roles/{role.pk}/"
    client = client_for(admin_user)
    assign_role(UserFactory(), role.name, device_groups=[DeviceGroupFactory()])
    few = page_queries(client, url)

    for n in range(20):
        assign_role(UserFactory(), role.name, device_groups=[DeviceGroupFactory(), DeviceGroupFactory()])
        assign_role(Group.objects.create(name=f"Team {n}"), role.name)

    with django_assert_num_queries(few):
        page = client.get(url).content.decode()
    assert page.count('data-testid="assignment-row"') == 25  # a full page


def test_the_user_picker_suggests_at_most_fifty_people(admin_user):
    UserFactory.create_batch(60)
    response = client_for(admin_user).get(
        f"/permissions/roles/{builtin('Security reader').pk}/?user=user",
        headers={"HX-Request": "true", "HX-Target": "user-options"},
    )

    page = response.content.decode()
    assert page.startswith("<datalist")
    assert page.count("<option") == 50


# --- Create, edit, delete -------------------------------------------------------------------------------------------


def test_a_custom_role_made_on_the_page_takes_effect_at_once(admin_user, outsider):
    admin = client_for(admin_user)
    assert client_for(outsider).get("/incidents/").status_code == 403

    response = admin.post(
        "/permissions/roles/new/",
        {
            "name": "Incident viewer",
            "description": "Reads incidents",
            "permissions": ["incidents.view_security_data", "permissions.view_secure_score"],
        },
    )
    role = Role.objects.get(group__name="Incident viewer")
    assert response.status_code == 302 and response["Location"] == f"/permissions/roles/{role.pk}/"
    assert sorted(role.group.permissions.values_list("codename", flat=True)) == [
        "view_secure_score",
        "view_security_data",
    ]
    assert not role.is_builtin and not role.require_two_factor

    response = admin.post(
        f"/permissions/roles/{role.pk}/assign/", {"principal": "user", "user": "outsider", "scope": "all"}
    )
    assert response.status_code == 302
    assert RoleAssignment.objects.filter(role=role, user=outsider, all_data=True).exists()
    assert client_for(outsider).get("/incidents/").status_code == 200
    assert client_for(outsider).get("/permissions/").status_code == 403

    actions = set(ActivityLogEntry.objects.filter(target_id=str(role.pk)).values_list("action", flat=True))
    assert {"permissions.role.created", "permissions.assignment.created"} <= actions


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": "No permissions"}, "Choose at least one permission."),
        ({"name": "", "permissions": ["incidents.view_security_data"]}, "This field is required."),
        ({"name": "Bogus", "permissions": ["auth.delete_user"]}, "is not one of the available choices"),
        ({"name": "Security reader", "permissions": ["incidents.view_security_data"]}, "already exists"),
    ],
)
def test_a_bad_role_form_answers_422_with_the_error_and_creates_nothing(admin_user, data, field_error):
    before = Role.objects.count()

    response = client_for(admin_user).post("/permissions/roles/new/", data)

    assert response.status_code == 422
    assert field_error in response.content.decode()
    assert 'class="form-control is-invalid"' in response.content.decode() or "alert-danger" in response.content.decode()
    assert Role.objects.count() == before


def test_editing_a_custom_role_changes_its_permissions_and_logs_it(admin_user):
    role = custom_role()

    response = client_for(admin_user).post(
        f"/permissions/roles/{role.pk}/edit/",
        {
            "name": "Tier 2",
            "description": "Escalations",
            "permissions": ["incidents.view_security_data", "incidents.manage_incidents"],
            "require_two_factor": "on",
        },
    )

    assert response.status_code == 302
    role.refresh_from_db()
    role.group.refresh_from_db()
    assert role.name == "Tier 2" and role.description == "Escalations" and role.require_two_factor
    assert sorted(role.group.permissions.values_list("codename", flat=True)) == [
        "manage_incidents",
        "view_security_data",
    ]
    entry = ActivityLogEntry.objects.get(action="permissions.role.changed", target_id=str(role.pk))
    assert entry.actor_name == "admin"
    assert entry.changes["name"] == {"before": "Tier 1 triage", "after": "Tier 2"}
    assert entry.changes["require_two_factor"] == {"before": False, "after": True}


def test_a_built_in_role_keeps_its_permissions_and_only_its_two_factor_rule_changes(admin_user):
    role = builtin("Security reader")
    permissions_before = set(role.group.permissions.values_list("pk", flat=True))
    page = client_for(admin_user).get(f"/permissions/roles/{role.pk}/edit/").content.decode()
    assert 'name="permissions"' not in page and 'name="name"' not in page
    assert 'name="require_two_factor"' in page

    response = client_for(admin_user).post(
        f"/permissions/roles/{role.pk}/edit/",
        {"name": "Renamed", "permissions": ["permissions.manage_roles"], "require_two_factor": "on"},
    )

    assert response.status_code == 302
    role.refresh_from_db()
    assert role.name == "Security reader" and role.require_two_factor
    assert set(role.group.permissions.values_list("pk", flat=True)) == permissions_before
    entry = ActivityLogEntry.objects.get(action="permissions.role.changed", target_id=str(role.pk))
    assert list(entry.changes) == ["require_two_factor"]


def test_deleting_a_custom_role_asks_first_then_takes_it_from_its_holders(admin_user, outsider):
    role = custom_role()
    assign_role(outsider, role.name)
    client = client_for(admin_user)
    assert client_for(outsider).get("/incidents/").status_code == 200

    confirm = client.get(f"/permissions/roles/{role.pk}/delete/")
    assert confirm.status_code == 200 and "1 user and 0 groups hold this role" in confirm.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()

    response = client.post(f"/permissions/roles/{role.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == "/permissions/"
    assert not Role.objects.filter(pk=role.pk).exists() and not Group.objects.filter(name=role.name).exists()
    assert client_for(outsider).get("/incidents/").status_code == 403
    assert ActivityLogEntry.objects.filter(action="permissions.role.deleted", target_id=str(role.pk)).exists()


def test_a_built_in_role_cannot_be_deleted(admin_user):
    role = builtin("Security operator")
    client = client_for(admin_user)

    assert "cannot be deleted" in client.get(f"/permissions/roles/{role.pk}/delete/").content.decode()
    response = client.post(f"/permissions/roles/{role.pk}/delete/")

    assert response.status_code == 422
    assert "Built-in roles cannot be changed or deleted" in response.content.decode()
    assert Role.objects.filter(pk=role.pk).exists()


# --- Assignments ----------------------------------------------------------------------------------------------------


def test_assigning_a_role_over_device_groups_stores_guardian_rows_and_changing_the_scope_updates_them(admin_user):
    london, paris = DeviceGroupFactory(name="London"), DeviceGroupFactory(name="Paris")
    person = UserFactory(username="carol")
    role = builtin("Security reader")
    client = client_for(admin_user)

    response = client.post(
        f"/permissions/roles/{role.pk}/assign/",
        {"principal": "user", "user": "Carol", "scope": "device_groups", "device_groups": [london.pk]},
    )

    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(role=role, user=person)
    assert not assignment.all_data and list(assignment.device_groups.all()) == [london]
    content_type = ContentType.objects.get_for_model(DeviceGroup)
    rows = UserObjectPermission.objects.filter(user=person, content_type=content_type)
    assert set(rows.values_list("permission__codename", "object_pk")) == {("view_security_data", str(london.pk))}

    response = client.post(
        f"/permissions/assignments/{assignment.pk}/",
        {"scope": "device_groups", "device_groups": [paris.pk, london.pk]},
    )
    assert response.status_code == 302
    assert set(rows.values_list("object_pk", flat=True)) == {str(london.pk), str(paris.pk)}
    entry = ActivityLogEntry.objects.get(action="permissions.assignment.changed", target_id=str(role.pk))
    assert entry.changes["scope"] == {"before": ["London"], "after": ["London", "Paris"]}

    client.post(f"/permissions/assignments/{assignment.pk}/", {"scope": "all"})
    assignment.refresh_from_db()
    assert assignment.all_data and not rows.exists()


def test_a_role_assigned_to_a_group_reaches_its_members(admin_user):
    members = Group.objects.create(name="SOC tier 1")
    member = UserFactory(username="dave")
    member.groups.add(members)
    role = builtin("Security reader")
    assert client_for(member).get("/incidents/").status_code == 403

    response = client_for(admin_user).post(
        f"/permissions/roles/{role.pk}/assign/", {"principal": "group", "group": members.pk, "scope": "all"}
    )

    assert response.status_code == 302
    assert RoleAssignment.objects.filter(role=role, group=members).exists()
    assert client_for(member).get("/incidents/").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"principal": "user", "user": "nobody", "scope": "all"}, "No active user named"),
        ({"principal": "user", "user": "", "scope": "all"}, "Enter the user name"),
        ({"principal": "group", "scope": "all"}, "Choose the group"),
        ({"principal": "user", "user": "reader", "scope": "device_groups"}, "Choose at least one device group"),
        ({"principal": "user", "user": "reader", "scope": "all"}, "is already assigned to reader"),
    ],
)
def test_a_bad_assignment_answers_422_with_the_reason(admin_user, reader, data, message):
    role = builtin("Security reader")
    before = RoleAssignment.objects.count()

    response = client_for(admin_user).post(f"/permissions/roles/{role.pk}/assign/", data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert RoleAssignment.objects.count() == before


def test_a_role_group_cannot_be_chosen_as_the_group_that_gets_a_role(admin_user):
    role = builtin("Security reader")
    operators = builtin("Security operator").group

    response = client_for(admin_user).post(
        f"/permissions/roles/{role.pk}/assign/", {"principal": "group", "group": operators.pk, "scope": "all"}
    )

    assert response.status_code == 422
    assert not RoleAssignment.objects.filter(role=role, group=operators).exists()


def test_removing_an_assignment_takes_access_away_at_once(admin_user, reader):
    reader_client = client_for(reader)
    assert reader_client.get("/incidents/").status_code == 200
    assignment = RoleAssignment.objects.get(user=reader)

    response = client_for(admin_user).post(f"/permissions/assignments/{assignment.pk}/delete/")

    assert response.status_code == 302
    assert not RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert reader_client.get("/incidents/").status_code == 403
    entry = ActivityLogEntry.objects.get(action="permissions.assignment.deleted")
    assert entry.changes["principal"] == {"before": "reader", "after": None}


def test_removing_a_scoped_assignment_removes_its_guardian_rows(admin_user):
    london = DeviceGroupFactory(name="London")
    person = UserFactory()
    assignment = assign_role(person, "Security reader", device_groups=[london])
    assert UserObjectPermission.objects.filter(user=person).exists()

    client_for(admin_user).post(f"/permissions/assignments/{assignment.pk}/delete/")

    assert not UserObjectPermission.objects.filter(user=person).exists()


def test_a_role_page_shows_its_recent_activity(admin_user):
    role = custom_role()
    client = client_for(admin_user)
    client.post(f"/permissions/roles/{role.pk}/assign/", {"principal": "user", "user": "admin", "scope": "all"})

    page = client.get(f"/permissions/roles/{role.pk}/").content.decode()

    assert 'data-testid="activity-log"' in page
    assert "permissions.assignment.created" in page


def test_removing_the_last_way_to_manage_roles_is_refused_with_a_message(admin_user):
    client = client_for(admin_user)
    (own,) = RoleAssignment.objects.filter(user=admin_user)

    response = client.post(f"/permissions/assignments/{own.pk}/delete/", follow=True)

    assert response.status_code == 200
    assert "nobody able to manage roles" in response.content.decode()
    assert RoleAssignment.objects.filter(pk=own.pk).exists()
