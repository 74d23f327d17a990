"""
/api/roles/: roles and their permissions over the REST API, for role managers. Built-in roles keep their name and
permissions; nobody may take away the last way to manage roles; every change is logged.
"""

import pytest
from django.contrib.auth.models import Group

from permissions.models import Role, RoleAssignment
from permissions.services import assignment_create, role_create
from portal.catalogue import (
    CATEGORIES,
    MANAGE_INCIDENTS,
    MANAGE_ROLES,
    VIEW_SECURE_SCORE,
    VIEW_SECURITY_DATA,
    VIEW_THREAT_ANALYTICS,
    catalogue,
)
from portal.models import ActivityLogEntry
from tests.api_clients import api_for, fresh_user
from tests.conftest import assign_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/roles/"
BUILTIN_NAMES = [
    "Posture manager",
    "Security administrator",
    "Security operator",
    "Security reader",
    "Threat intelligence analyst",
]
BUILTIN_REFUSAL = "Built-in roles cannot be changed or deleted; make a custom role instead."
LAST_MANAGER = "This would leave nobody able to manage roles and assignments: give that right to someone else first."


def url(role) -> str:
    return f"/api/roles/{role.pk}/"


@pytest.fixture
def admin_api(admin_user):
    return api_for(admin_user)


def builtin(name) -> Role:
    return Role.objects.select_related("group").get(group__name=name)


def permission_names(role) -> list[str]:
    return sorted(
        f"{p.content_type.app_label}.{p.codename}" for p in Role.objects.get(pk=role.pk).group.permissions.all()
    )


def role_entries():
    return ActivityLogEntry.objects.filter(action__startswith="permissions.role.")


def roles_snapshot():
    return [
        (role.name, role.description, role.require_two_factor, permission_names(role)) for role in Role.objects.all()
    ]


# --- Reading ----------------------------------------------------------------------------------------------------------


def test_roles_are_listed_built_in_first_with_their_permissions_by_category_and_holder_counts(
    admin_api, admin_user, reader
):
    custom = role_create(name="Alpha triage", permissions=[VIEW_SECURITY_DATA, MANAGE_INCIDENTS], actor=admin_user)
    assign_role(UserFactory(), "Security reader")
    assign_role(Group.objects.create(name="SOC"), "Security reader")

    response = admin_api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert [role["name"] for role in body["results"]] == [*BUILTIN_NAMES, "Alpha triage"]
    reader_role = body["results"][3]
    assert reader_role == {
        "id": builtin("Security reader").pk,
        "name": "Security reader",
        "description": "Views security data and reports; changes nothing.",
        "is_builtin": True,
        "require_two_factor": False,
        "permissions": sorted([VIEW_SECURITY_DATA, VIEW_SECURE_SCORE, VIEW_THREAT_ANALYTICS]),
        "categories": [
            {"category": "Security operations", "permissions": [VIEW_SECURITY_DATA]},
            {"category": "Security posture", "permissions": [VIEW_SECURE_SCORE, VIEW_THREAT_ANALYTICS]},
            {"category": "Authorization and settings", "permissions": []},
        ],
        "user_count": 2,  # the reader fixture and the new user
        "group_count": 1,
    }
    assert body["results"][5]["id"] == custom.pk
    assert body["results"][5]["is_builtin"] is False
    assert body["results"][5]["categories"][0] == {
        "category": "Security operations",
        "permissions": [VIEW_SECURITY_DATA, MANAGE_INCIDENTS],
    }


def test_the_administrator_role_lists_the_django_admin_permissions_too(admin_api):
    body = admin_api.get(url(builtin("Security administrator"))).json()

    assert MANAGE_ROLES in body["permissions"]
    assert "portal.view_activitylogentry" in body["permissions"]
    assert body["categories"][2]["permissions"][0] == MANAGE_ROLES


def test_the_catalogue_lists_every_permission_a_role_can_be_made_of(admin_api):
    response = admin_api.get("/api/roles/catalogue/")

    assert response.status_code == 200
    body = response.json()
    assert [entry["permission"] for entry in body] == [entry.permission for entry in catalogue()]
    assert {entry["category"] for entry in body} == set(CATEGORIES)
    assert body[0] == {
        "permission": VIEW_SECURITY_DATA,
        "category": "Security operations",
        "label": "View security data",
        "description": "Incidents, alerts, entities, evidence and their comments and activity.",
        "level": "read",
        "scoped": True,
    }


def test_an_unknown_role_is_not_found(admin_api):
    assert admin_api.get("/api/roles/987654/").status_code == 404


def test_the_list_costs_the_same_queries_whatever_the_page_size(admin_user, django_assert_num_queries):
    for n in range(30):
        role = role_create(name=f"Custom {n:02}", permissions=[VIEW_SECURITY_DATA, VIEW_SECURE_SCORE], actor=admin_user)
        assignment_create(role=role, user=UserFactory(), all_data=True, actor=admin_user)

    first, second = api_for(admin_user), api_for(admin_user)
    with django_assert_num_queries(4) as few:  # permissions, count, page, the page's permissions
        assert len(first.get(LIST_URL, {"limit": 2}).json()["results"]) == 2
    with django_assert_num_queries(len(few.captured_queries)):
        results = second.get(LIST_URL, {"limit": 35}).json()["results"]
    assert len(results) == 35
    assert results[-1]["permissions"] == [VIEW_SECURITY_DATA, VIEW_SECURE_SCORE]


# --- Custom roles -----------------------------------------------------------------------------------------------------


def test_a_custom_role_is_made_from_the_catalogue_and_logged(admin_api, admin_user):
    response = admin_api.post(
        LIST_URL,
        {
            "name": "Tier 1 analyst",
            "description": "Triage.",
            "permissions": [MANAGE_INCIDENTS, VIEW_SECURITY_DATA],
            "require_two_factor": True,
        },
        format="json",
    )

    assert response.status_code == 201
    role = Role.objects.get(group__name="Tier 1 analyst")
    assert (role.description, role.require_two_factor, role.is_builtin) == ("Triage.", True, False)
    assert permission_names(role) == [MANAGE_INCIDENTS, VIEW_SECURITY_DATA]
    body = response.json()
    assert (body["id"], body["permissions"], body["user_count"], body["group_count"]) == (
        role.pk,
        [MANAGE_INCIDENTS, VIEW_SECURITY_DATA],
        0,
        0,
    )
    entry = role_entries().get()
    assert (entry.action, entry.target_id, entry.actor_id) == ("permissions.role.created", str(role.pk), admin_user.pk)
    assert entry.changes["permissions"] == {"before": None, "after": [MANAGE_INCIDENTS, VIEW_SECURITY_DATA]}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": " ", "permissions": [VIEW_SECURITY_DATA]}, "name", "A role needs a name."),
        ({"name": "x" * 151, "permissions": [VIEW_SECURITY_DATA]}, "name", None),
        ({"name": "Empty", "permissions": []}, "permissions", "Choose at least one permission."),
        ({"name": "No list"}, "permissions", "This field is required."),
        (
            {"name": "Sneaky", "permissions": [VIEW_SECURITY_DATA, "auth.change_user", "incidents.*"]},
            "permissions",
            "Not in the permission catalogue: auth.change_user, incidents.*.",
        ),
        ({"name": "Odd", "permissions": "incidents.view_security_data"}, "permissions", None),
    ],
)
def test_a_bad_role_is_refused_with_the_field_named_and_nothing_changes(admin_api, data, field, message):
    before = roles_snapshot()

    response = admin_api.post(LIST_URL, data, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    if message is not None:
        assert errors[field] == [message]
    assert roles_snapshot() == before
    assert not role_entries().exists()


def test_a_name_in_use_is_refused_whatever_its_case(admin_api):
    response = admin_api.post(LIST_URL, {"name": "security READER", "permissions": [VIEW_SECURITY_DATA]}, format="json")

    assert response.json()["errors"] == {"name": ["A role or group named 'security READER' already exists."]}


def test_changing_a_custom_roles_permissions_changes_what_its_holders_may_do_at_once(admin_api, admin_user):
    role = role_create(name="Triage", permissions=[VIEW_SECURITY_DATA], actor=admin_user)
    holder = UserFactory()
    assignment_create(role=role, user=holder, all_data=True, actor=admin_user)
    assert not fresh_user(holder).has_perm(MANAGE_INCIDENTS)

    response = admin_api.patch(url(role), {"permissions": [VIEW_SECURITY_DATA, MANAGE_INCIDENTS]}, format="json")

    assert response.status_code == 200
    assert response.json()["permissions"] == [MANAGE_INCIDENTS, VIEW_SECURITY_DATA]
    assert response.json()["user_count"] == 1
    assert fresh_user(holder).has_perm(MANAGE_INCIDENTS)
    role.refresh_from_db()
    assert role.name == "Triage"
    entry = role_entries().get(action="permissions.role.changed")
    assert entry.changes == {
        "permissions": {"before": [VIEW_SECURITY_DATA], "after": [MANAGE_INCIDENTS, VIEW_SECURITY_DATA]}
    }


def test_a_full_update_replaces_the_role(admin_api, admin_user):
    role = role_create(name="Triage", description="Old.", permissions=[VIEW_SECURITY_DATA], actor=admin_user)

    response = admin_api.put(url(role), {"name": "Tier 2", "permissions": [VIEW_SECURE_SCORE]}, format="json")

    assert response.status_code == 200
    role = Role.objects.select_related("group").get(pk=role.pk)
    assert (role.name, role.description, role.require_two_factor) == ("Tier 2", "", False)
    assert permission_names(role) == [VIEW_SECURE_SCORE]
    entry = role_entries().get(action="permissions.role.changed")
    assert set(entry.changes) == {"name", "description", "permissions"}


def test_a_custom_role_is_deleted_and_its_holders_lose_what_it_gave(admin_api, admin_user):
    role = role_create(name="Triage", permissions=[VIEW_SECURITY_DATA], actor=admin_user)
    holder = UserFactory()
    assignment_create(role=role, user=holder, all_data=True, actor=admin_user)

    response = admin_api.delete(url(role))

    assert response.status_code == 204
    assert not Role.objects.filter(pk=role.pk).exists()
    assert not Group.objects.filter(name="Triage").exists()
    assert not fresh_user(holder).has_perm(VIEW_SECURITY_DATA)
    entry = role_entries().get(action="permissions.role.deleted")
    assert (entry.target_id, entry.actor_id) == (str(role.pk), admin_user.pk)


# --- Built-in roles ---------------------------------------------------------------------------------------------------


def test_a_built_in_role_may_be_made_to_require_a_second_factor(admin_api):
    role = builtin("Security reader")

    response = admin_api.patch(url(role), {"require_two_factor": True}, format="json")

    assert response.status_code == 200
    assert response.json()["require_two_factor"] is True
    role.refresh_from_db()
    assert role.require_two_factor is True
    assert permission_names(role) == sorted([VIEW_SECURITY_DATA, VIEW_SECURE_SCORE, VIEW_THREAT_ANALYTICS])
    entry = role_entries().get()
    assert entry.changes == {"require_two_factor": {"before": False, "after": True}}


def test_a_built_in_role_read_and_sent_back_whole_may_change_its_second_factor(admin_api):
    role = builtin("Security administrator")
    current = admin_api.get(url(role)).json()

    response = admin_api.put(url(role), {**current, "require_two_factor": True}, format="json")

    assert response.status_code == 200
    assert builtin("Security administrator").require_two_factor is True


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Readers"},
        {"description": "Something else."},
        {"permissions": [VIEW_SECURITY_DATA]},
        {"permissions": [VIEW_SECURITY_DATA, VIEW_SECURE_SCORE, VIEW_THREAT_ANALYTICS, MANAGE_INCIDENTS]},
    ],
)
def test_a_built_in_roles_name_description_and_permissions_cannot_change(admin_api, change):
    before = roles_snapshot()

    response = admin_api.patch(url(builtin("Security reader")), change, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [BUILTIN_REFUSAL]}
    assert roles_snapshot() == before
    assert not role_entries().exists()


def test_a_built_in_role_cannot_be_deleted(admin_api):
    role = builtin("Security reader")

    response = admin_api.delete(url(role))

    assert response.status_code == 400
    assert response.json()["detail"] == f"Invalid input. {BUILTIN_REFUSAL}"
    assert Role.objects.filter(pk=role.pk).exists()
    assert not role_entries().exists()


# --- Nobody locked out ------------------------------------------------------------------------------------------------


@pytest.fixture
def keeper(db):
    """The only person able to manage roles, through a custom role."""
    person = UserFactory(username="keeper")
    role = role_create(name="Keepers", permissions=[MANAGE_ROLES], actor=person)
    RoleAssignment.objects.create(role=role, user=person, all_data=True)
    return person


def test_the_last_role_that_lets_anyone_manage_roles_keeps_that_permission(keeper):
    keepers = Role.objects.get(group__name="Keepers")
    before = roles_snapshot()

    response = api_for(keeper).patch(url(keepers), {"permissions": [VIEW_SECURITY_DATA]}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [LAST_MANAGER]}
    assert roles_snapshot() == before
    assert fresh_user(keeper).has_perm(MANAGE_ROLES)
    assert not role_entries().filter(action="permissions.role.changed").exists()


def test_the_last_role_that_lets_anyone_manage_roles_cannot_be_deleted(keeper):
    keepers = Role.objects.get(group__name="Keepers")

    response = api_for(keeper).delete(url(keepers))

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [LAST_MANAGER]}
    assert Role.objects.filter(pk=keepers.pk).exists()
    assert fresh_user(keeper).has_perm(MANAGE_ROLES)
    assert not role_entries().filter(action="permissions.role.deleted").exists()


# --- Refusals ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["analyst", "reader", "ti_analyst", "posture_manager", "outsider"])
def test_only_a_role_manager_reads_or_changes_roles(request, admin_user, role):
    custom = role_create(name="Triage", permissions=[VIEW_SECURITY_DATA], actor=admin_user)
    api = api_for(request.getfixturevalue(role))
    before = roles_snapshot()

    answers = [
        api.get(LIST_URL),
        api.get(url(custom)),
        api.get("/api/roles/catalogue/"),
        api.post(LIST_URL, {"name": "Mine", "permissions": [MANAGE_ROLES]}, format="json"),
        api.patch(url(custom), {"permissions": [MANAGE_ROLES]}, format="json"),
        api.delete(url(custom)),
    ]

    assert [answer.status_code for answer in answers] == [403] * len(answers)
    assert answers[0].json() == {
        "detail": "Managing roles requires the permissions.manage_roles permission.",
        "code": "permission_denied",
    }
    assert roles_snapshot() == before
    assert role_entries().count() == 1  # the creation above
