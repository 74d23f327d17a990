"""Every page needs a signed-in user; the API answers 401/403 instead; signing in and out; the portal shell."""

import re
from urllib.parse import urlencode

import pytest
from django.urls import resolve

from tests.conftest import PASSWORD
from tests.urlwalk import API_PREFIXES, walk_project

# Module-wide so that pytest-django runs these tests before the live-server tests, which empty the database
# (tests that take their user from a parameter would otherwise look database-free and run after them).
pytestmark = pytest.mark.django_db


def _is_public(path, entry) -> bool:
    # DRF marks every API view login_not_required so that the middleware leaves it to DRF's own authentication and
    # permissions; the API is covered below by its 401/403 answers, so only pages are skipped for the marker.
    return not path.startswith(API_PREFIXES) and getattr(entry.callback, "login_required", True) is False


# The Django admin keeps its own login page and staff check, so the walk leaves it out.
ALL_URLS = {url.path: url.entry for url in walk_project()}
PUBLIC = sorted(path for path, entry in ALL_URLS.items() if _is_public(path, entry))
PROTECTED = {path: entry for path, entry in ALL_URLS.items() if not _is_public(path, entry)}
PAGE_URLS = sorted(path for path in PROTECTED if not path.startswith(API_PREFIXES))
API_URLS = sorted(path for path in PROTECTED if path.startswith(API_PREFIXES))


def login_redirect(path):
    return "/login/?" + urlencode({"next": path}, safe="/")


# The walk itself


def test_it_finds_every_page_and_api_url_of_the_project_and_only_skips_the_public_ones():
    assert {
        "/",
        "/logout/",
        "/resources/",
        "/resources/add/",
        "/resources/1/edit/",
        "/resources/1/move/",
        "/resources/1/visibility/",
        "/resources/1/delete/",
    } <= set(PAGE_URLS)
    assert {"/api/resources/", "/api/resources/1/"} <= set(API_URLS)
    assert PUBLIC == ["/healthz", "/login/"]
    assert not any(path.startswith("/admin/") for path in ALL_URLS)


@pytest.mark.parametrize("path", sorted(PROTECTED))
def test_it_builds_a_concrete_path_that_resolves_to_the_walked_view(path):
    assert resolve(path).func == PROTECTED[path].callback


# Anonymous requests


@pytest.mark.parametrize("path", PAGE_URLS)
def test_it_redirects_an_anonymous_visitor_of_every_page_to_the_login_page(client, db, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == login_redirect(path)


@pytest.mark.parametrize("path", PAGE_URLS)
def test_it_redirects_an_anonymous_post_to_every_page_to_the_login_page(client, db, path):
    response = client.post(path, {"name": "Anon", "url": "https://anon.example/", "direction": "up"})

    assert response.status_code == 302
    assert response["Location"] == login_redirect(path)


@pytest.mark.parametrize("path", API_URLS)
def test_it_answers_an_anonymous_api_call_with_401_or_403_instead_of_a_redirect(client, db, path):
    response = client.get(path)

    assert response.status_code in (401, 403)
    assert "Location" not in response


def test_it_answers_an_anonymous_api_call_with_401_and_a_bearer_challenge(client, db):
    response = client.get("/api/resources/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_it_serves_the_api_schema_to_a_signed_in_user(client, reader):
    client.force_login(reader)

    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert "/api/resources/" in response.content.decode()


def test_it_keeps_the_health_check_public(client, db):
    response = client.get("/healthz")

    assert response.status_code in (200, 503)
    assert response.json()["status"] in ("ok", "unavailable")


def test_it_leaves_the_admin_to_its_own_login_page(client, db):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# Signing in and out


def test_it_renders_the_login_page_with_the_portal_look(client, db):
    response = client.get("/login/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign in to Vigil" in body
    assert "<title>Sign in · Vigil</title>" in body
    assert "css/portal.css" in body
    assert 'class="vigil-topbar' in body
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    # Nothing of the signed-in shell before signing in.
    assert 'data-testid="user-menu"' not in body
    assert 'aria-label="Sections"' not in body


def test_it_signs_in_with_the_right_password_and_opens_home(client, reader):
    response = client.post("/login/", {"username": "reader", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(reader.pk)
    home = client.get("/")
    assert home.status_code == 200
    assert home.context["user"] == reader
    assert b'data-card="active-incidents"' in home.content


def test_it_signs_in_and_returns_to_the_page_asked_for(client, reader):
    response = client.post("/login/", {"username": "reader", "password": PASSWORD, "next": "/resources/"})

    assert response.status_code == 302
    assert response["Location"] == "/resources/"


def test_it_never_sends_someone_who_signs_in_to_another_site(client, reader):
    response = client.post(
        "/login/", {"username": "reader", "password": PASSWORD, "next": "https://evil.example/phish"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_shows_an_error_and_stays_on_the_login_page_with_a_wrong_password(client, reader):
    response = client.post("/login/", {"username": "reader", "password": "wrong-horse-battery"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Sign in to Vigil" in body
    assert "Please enter a correct username and password" in body
    assert 'value="reader"' in body
    assert "_auth_user_id" not in client.session
    assert client.get("/resources/")["Location"] == login_redirect("/resources/")


def test_it_refuses_an_unknown_username(client, db):
    response = client.post("/login/", {"username": "nobody", "password": PASSWORD})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_sends_a_signed_in_user_away_from_the_login_page(client, reader):
    client.force_login(reader)

    response = client.get("/login/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_signs_out_with_a_post_to_logout(client, reader):
    client.force_login(reader)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    after = client.get("/resources/")
    assert after.status_code == 302
    assert after["Location"] == login_redirect("/resources/")


def test_it_does_not_sign_out_on_a_get_to_logout(client, reader):
    client.force_login(reader)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(reader.pk)


# The portal shell


@pytest.mark.parametrize("role", ["admin_user", "analyst", "reader", "outsider"])
def test_it_shows_the_left_navigation_and_the_user_menu_to_a_signed_in_user(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)

    response = client.get("/resources/")

    assert response.status_code == 200
    body = response.content.decode()
    nav = re.search(r'<nav class="vigil-nav[^"]*" aria-label="Sections">.*?</nav>', body, re.DOTALL)
    assert nav, "no left navigation"
    assert re.search(
        r'<a class="nav-link active" href="/resources/"\s+aria-current="page">More resources</a>', nav.group(0)
    )
    menu = re.search(r'<button[^>]*data-testid="user-menu"[^>]*>([^<]*)</button>', body)
    assert menu, "no user menu"
    assert menu.group(1).strip() == user.username
    assert f"Signed in as {user.username}" in body
    assert re.search(r'<form method="post" action="/logout/">', body)
    assert ">Sign out</button>" in body
