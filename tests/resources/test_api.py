"""/api/resources/: the More resources directory over the REST API."""

import importlib

import pytest
from rest_framework.test import APIClient

from permissions.services import api_token_create
from portal.models import ActivityLogEntry
from resources.models import ResourceLink

# Module-wide so that pytest-django runs these tests before the live-server tests, which empty the database
# (tests that take their user from a parameter would otherwise look database-free and run after them).
pytestmark = pytest.mark.django_db

SEED = importlib.import_module("resources.migrations.0002_seed_related_portals")
SEEDED_NAMES = [name for name, _url, _description in SEED.RELATED_PORTALS]

LIST_URL = "/api/resources/"
ALL_ROLES = ["admin_user", "analyst", "reader", "outsider"]
NON_MANAGERS = ["reader", "analyst", "outsider"]


def detail_url(link):
    return f"/api/resources/{link.pk}/"


def seeded(name):
    return ResourceLink.objects.get(name=name)


def snapshot_rows():
    return list(
        ResourceLink.objects.order_by("pk").values_list("pk", "name", "url", "description", "position", "is_hidden")
    )


def resource_entries():
    return ActivityLogEntry.objects.filter(action__startswith="resources.")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_role(api, request):
    """Authenticates the API client as the role fixture named by the test's parameter."""

    def authenticate(role):
        user = request.getfixturevalue(role)
        api.force_authenticate(user=user)
        return user

    return authenticate


@pytest.fixture
def admin_api(api, admin_user):
    api.force_authenticate(user=admin_user)
    return api


# Reading


@pytest.mark.parametrize("role", ALL_ROLES)
def test_it_lists_the_seven_seeded_portals_for_any_signed_in_user(api, as_role, role):
    as_role(role)

    response = api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 7
    assert body["next"] is None
    assert body["previous"] is None
    assert [item["name"] for item in body["results"]] == SEEDED_NAMES
    assert [item["url"] for item in body["results"]] == [url for _name, url, _description in SEED.RELATED_PORTALS]
    assert [item["position"] for item in body["results"]] == list(range(7))
    assert set(body["results"][0]) == {
        "id",
        "name",
        "url",
        "description",
        "position",
        "is_hidden",
        "created_at",
        "updated_at",
    }


def test_it_paginates_the_list_with_limit_and_offset(api, reader):
    api.force_authenticate(user=reader)

    response = api.get(LIST_URL, {"limit": 3, "offset": 3})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert [item["name"] for item in body["results"]] == SEEDED_NAMES[3:6]
    assert "limit=3" in body["next"]
    assert "offset=6" in body["next"]
    assert body["previous"] is not None


def test_it_works_with_a_signed_in_session_as_well(api, reader):
    api.force_login(reader)

    response = api.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 7


def test_it_works_with_a_bearer_token(api, reader):
    _token, secret = api_token_create(user=reader, name="ci")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = api.get(LIST_URL)

    assert response.status_code == 200
    assert response.json()["count"] == 7


def test_it_does_not_list_hidden_portals_to_a_reader(api, reader):
    hidden = seeded(SEEDED_NAMES[2])
    ResourceLink.objects.filter(pk=hidden.pk).update(is_hidden=True)
    api.force_authenticate(user=reader)

    response = api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert SEEDED_NAMES[2] not in [item["name"] for item in body["results"]]
    assert api.get(detail_url(hidden)).status_code == 404


def test_it_lists_hidden_portals_to_an_administrator_marked_as_hidden(admin_api):
    hidden = seeded(SEEDED_NAMES[2])
    ResourceLink.objects.filter(pk=hidden.pk).update(is_hidden=True)

    response = admin_api.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert [item["is_hidden"] for item in body["results"]] == [False, False, True, False, False, False, False]
    detail = admin_api.get(detail_url(hidden))
    assert detail.status_code == 200
    assert detail.json()["is_hidden"] is True


def test_it_answers_one_portal_by_id(api, reader):
    link = seeded("Microsoft 365 Defender portal")
    api.force_authenticate(user=reader)

    response = api.get(detail_url(link))

    assert response.status_code == 200
    assert response.json()["id"] == link.pk
    assert response.json()["name"] == "Microsoft 365 Defender portal"
    assert response.json()["url"] == "https://security.microsoft.com/"


def test_it_answers_404_for_an_unknown_portal(admin_api):
    missing = ResourceLink.objects.order_by("-pk").first().pk + 1000

    assert admin_api.get(f"/api/resources/{missing}/").status_code == 404
    assert admin_api.patch(f"/api/resources/{missing}/", {"name": "Ghost"}, format="json").status_code == 404
    assert admin_api.delete(f"/api/resources/{missing}/").status_code == 404
    assert ResourceLink.objects.count() == 7


# Writing with the manage permission


def test_it_lets_an_administrator_create_a_portal_at_the_end(admin_api, admin_user):
    response = admin_api.post(
        LIST_URL,
        {"name": "Intune admin center", "url": "https://intune.microsoft.com/", "description": "Devices."},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    link = ResourceLink.objects.get(name="Intune admin center")
    assert body["id"] == link.pk
    assert body["position"] == 7
    assert body["is_hidden"] is False
    assert (link.url, link.description, link.position, link.is_hidden) == (
        "https://intune.microsoft.com/",
        "Devices.",
        7,
        False,
    )
    entry = ActivityLogEntry.objects.get(action="resources.resourcelink.created", target_id=str(link.pk))
    assert entry.actor_name == admin_user.username
    assert entry.changes["name"] == {"before": None, "after": "Intune admin center"}
    assert entry.changes["position"] == {"before": None, "after": 7}


def test_it_ignores_a_position_sent_on_create(admin_api):
    response = admin_api.post(
        LIST_URL, {"name": "Jumper", "url": "https://jumper.example/", "position": 0}, format="json"
    )

    assert response.status_code == 201
    assert ResourceLink.objects.get(name="Jumper").position == 7
    assert seeded(SEEDED_NAMES[0]).position == 0


def test_it_creates_a_hidden_portal_when_asked(admin_api, reader):
    response = admin_api.post(
        LIST_URL, {"name": "Secret", "url": "https://secret.example/", "is_hidden": True}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["is_hidden"] is True
    link = ResourceLink.objects.get(name="Secret")
    assert link.is_hidden is True
    assert list(resource_entries().filter(target_id=str(link.pk)).values_list("action", flat=True)) == [
        "resources.resourcelink.hidden",
        "resources.resourcelink.created",
    ]
    reader_api = APIClient()
    reader_api.force_authenticate(user=reader)
    assert "Secret" not in [item["name"] for item in reader_api.get(LIST_URL).json()["results"]]


def test_it_lets_an_administrator_update_a_portal(admin_api, admin_user):
    link = seeded("Azure Active Directory")
    old_url = link.url

    response = admin_api.patch(
        detail_url(link),
        {"name": "Microsoft Entra admin center", "url": "https://entra.microsoft.com/"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Microsoft Entra admin center"
    link.refresh_from_db()
    assert (link.name, link.url, link.position) == ("Microsoft Entra admin center", "https://entra.microsoft.com/", 1)
    entry = ActivityLogEntry.objects.get(action="resources.resourcelink.updated", target_id=str(link.pk))
    assert entry.actor_name == admin_user.username
    assert entry.changes == {
        "name": {"before": "Azure Active Directory", "after": "Microsoft Entra admin center"},
        "url": {"before": old_url, "after": "https://entra.microsoft.com/"},
    }


def test_it_lets_an_administrator_replace_a_portal_with_put(admin_api):
    link = seeded("Azure Active Directory")

    response = admin_api.put(
        detail_url(link),
        {"name": "Entra", "url": "https://entra.microsoft.com/", "description": "", "is_hidden": False},
        format="json",
    )

    assert response.status_code == 200
    link.refresh_from_db()
    assert (link.name, link.url, link.description) == ("Entra", "https://entra.microsoft.com/", "")


def test_it_lets_an_administrator_hide_and_show_a_portal(admin_api, admin_user):
    link = seeded("Azure Information Protection")

    hidden = admin_api.patch(detail_url(link), {"is_hidden": True}, format="json")
    link.refresh_from_db()
    hidden_state = link.is_hidden
    shown = admin_api.patch(detail_url(link), {"is_hidden": False}, format="json")
    link.refresh_from_db()

    assert (hidden.status_code, shown.status_code) == (200, 200)
    assert hidden.json()["is_hidden"] is True
    assert hidden_state is True
    assert link.is_hidden is False
    hide_entry = ActivityLogEntry.objects.get(action="resources.resourcelink.hidden", target_id=str(link.pk))
    show_entry = ActivityLogEntry.objects.get(action="resources.resourcelink.shown", target_id=str(link.pk))
    assert hide_entry.actor_name == show_entry.actor_name == admin_user.username
    assert hide_entry.changes == {"is_hidden": {"before": False, "after": True}}
    assert show_entry.changes == {"is_hidden": {"before": True, "after": False}}
    assert not resource_entries().filter(action="resources.resourcelink.updated").exists()


def test_it_ignores_a_position_sent_on_update(admin_api):
    link = seeded(SEEDED_NAMES[4])

    response = admin_api.patch(detail_url(link), {"position": 0}, format="json")

    assert response.status_code == 200
    assert response.json()["position"] == 4
    link.refresh_from_db()
    assert link.position == 4
    assert not resource_entries().exists()


def test_it_lets_an_administrator_delete_a_portal_and_keeps_positions_dense(admin_api, admin_user):
    link = seeded(SEEDED_NAMES[2])

    response = admin_api.delete(detail_url(link))

    assert response.status_code == 204
    assert not ResourceLink.objects.filter(pk=link.pk).exists()
    remaining = [name for name in SEEDED_NAMES if name != SEEDED_NAMES[2]]
    assert list(ResourceLink.objects.order_by("position").values_list("name", "position")) == [
        (name, position) for position, name in enumerate(remaining)
    ]
    entry = ActivityLogEntry.objects.get(action="resources.resourcelink.deleted", target_id=str(link.pk))
    assert entry.actor_name == admin_user.username
    assert entry.changes["name"] == {"before": SEEDED_NAMES[2], "after": None}
    assert entry.changes["position"] == {"before": 2, "after": None}


# Refusing bad input


@pytest.mark.parametrize("bad_url", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://x"])
def test_it_refuses_to_create_a_portal_whose_url_is_not_a_web_address(admin_api, bad_url):
    before = snapshot_rows()

    response = admin_api.post(LIST_URL, {"name": "Evil", "url": bad_url}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["url"]
    assert "https://" in body["errors"]["url"][0]
    assert body["detail"].startswith("Invalid input. url: ")
    assert snapshot_rows() == before
    assert not resource_entries().exists()


def test_it_refuses_to_change_a_portal_url_to_javascript(admin_api):
    link = seeded("Azure Active Directory")
    before = snapshot_rows()

    response = admin_api.patch(detail_url(link), {"url": "javascript:alert(1)"}, format="json")

    assert response.status_code == 400
    assert "https://" in response.json()["errors"]["url"][0]
    assert snapshot_rows() == before
    assert not resource_entries().exists()


def test_it_refuses_a_second_portal_with_an_existing_name(admin_api):
    before = snapshot_rows()

    response = admin_api.post(LIST_URL, {"name": SEEDED_NAMES[0], "url": "https://dup.example/"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert snapshot_rows() == before


# Refusing people without the manage permission


@pytest.mark.parametrize("role", NON_MANAGERS)
def test_it_forbids_writes_to_people_without_the_manage_permission(api, as_role, role):
    as_role(role)
    link = seeded(SEEDED_NAMES[3])
    before = snapshot_rows()

    created = api.post(LIST_URL, {"name": "Sneaky", "url": "https://sneaky.example/"}, format="json")
    patched = api.patch(detail_url(link), {"name": "Sneaky"}, format="json")
    put = api.put(detail_url(link), {"name": "Sneaky", "url": "https://sneaky.example/"}, format="json")
    deleted = api.delete(detail_url(link))

    assert [r.status_code for r in (created, patched, put, deleted)] == [403, 403, 403, 403]
    assert "resources.change_resourcelink" in created.json()["detail"]
    assert snapshot_rows() == before
    assert not resource_entries().exists()


def test_it_refuses_a_session_write_without_a_csrf_token(admin_user):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(admin_user)
    before = snapshot_rows()

    response = api.post(LIST_URL, {"name": "Forged", "url": "https://forged.example/"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert snapshot_rows() == before


# Anonymous callers


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_it_answers_401_to_anonymous_callers(api, db, method):
    link = seeded(SEEDED_NAMES[0])
    before = snapshot_rows()
    url = LIST_URL if method in ("get", "post") else detail_url(link)

    response = getattr(api, method)(url, {"name": "Anon", "url": "https://anon.example/"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert snapshot_rows() == before


def test_it_answers_401_to_an_unknown_bearer_token(api, db):
    api.credentials(HTTP_AUTHORIZATION="Bearer vgl_not-a-real-token")

    response = api.get(LIST_URL)

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
