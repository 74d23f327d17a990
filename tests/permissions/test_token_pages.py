"""The API tokens page: everyone manages their own tokens, a role manager everyone's; the secret is shown once."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from permissions.models import ApiToken
from permissions.services import api_token_create
from portal.models import ActivityLogEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKENS = "/permissions/tokens/"
NEW = "/permissions/tokens/new/"


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def revoke_url(token) -> str:
    return f"/permissions/tokens/{token.pk}/revoke/"


@pytest.mark.parametrize("fixture", ["outsider", "reader", "analyst", "admin_user"])
def test_every_signed_in_person_may_open_the_page(request, fixture):
    response = client_for(request.getfixturevalue(fixture)).get(TOKENS)

    assert response.status_code == 200
    assert "You have no API tokens yet." in response.content.decode()


def test_the_user_menu_links_to_the_page(outsider):
    response = client_for(outsider).get(TOKENS)

    assert '<a class="dropdown-item" href="/permissions/tokens/">API tokens</a>' in response.content.decode()


def test_the_secret_is_shown_once_and_only_its_digest_is_stored(outsider):
    client = client_for(outsider)

    response = client.post(NEW, {"name": "SIEM forwarder", "expires_in_days": "30"})

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=outsider, name="SIEM forwarder")
    secret = response.context["secret"]
    assert f'value="{secret}"' in response.content.decode()
    assert secret.startswith(token.prefix)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert secret not in str(list(ApiToken.objects.values_list()))
    assert secret not in str(list(ActivityLogEntry.objects.values_list()))
    # A client session does not keep it either.
    assert secret not in str(dict(client.session))

    again = client.get(TOKENS).content.decode()
    assert secret not in again
    assert "SIEM forwarder" in again and f"{token.prefix}…" in again


def test_the_list_shows_prefix_dates_last_use_and_state(outsider):
    active, _ = api_token_create(user=outsider, name="Active one")
    used, _ = api_token_create(user=outsider, name="Used one")
    ApiToken.objects.filter(pk=used.pk).update(last_used_at=timezone.now())
    api_token_create(user=outsider, name="Old one", expires_at=timezone.now() - timedelta(days=1))
    revoked, _ = api_token_create(user=outsider, name="Gone one")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    api_token_create(user=UserFactory(), name="Someone else's")

    page = client_for(outsider).get(TOKENS).content.decode()

    assert page.count('data-testid="token-row"') == 4
    assert "Someone else" not in page
    assert page.count("Never") == 3
    for state in ("Active", "Expired", "Revoked"):
        assert f">{state}</span>" in page
    assert f"<code>{active.prefix}…</code>" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "expires_in_days": "30"}, "This field is required."),
        ({"name": "X", "expires_in_days": "0"}, "greater than or equal to 1"),
        ({"name": "X", "expires_in_days": "366"}, "less than or equal to 365"),
        ({"name": "X", "expires_in_days": "soon"}, "Enter a whole number."),
        ({"name": "Taken", "expires_in_days": "30"}, "already has a token named &#x27;Taken&#x27;"),
    ],
)
def test_a_bad_token_form_answers_422_and_creates_nothing(outsider, data, message):
    api_token_create(user=outsider, name="Taken")

    response = client_for(outsider).post(NEW, data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert ApiToken.objects.filter(user=outsider).count() == 1
    assert "secret" not in response.context or response.context["secret"] is None


def test_revoking_a_token_on_the_page_makes_the_api_refuse_it(outsider):
    token, secret = api_token_create(user=outsider, name="Script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/resources/").status_code == 200

    response = client_for(outsider).post(revoke_url(token))

    assert response.status_code == 302 and response["Location"] == TOKENS
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/resources/").status_code == 401
    assert ActivityLogEntry.objects.filter(action="permissions.apitoken.revoked", target_id=str(token.pk)).exists()


def test_someone_elses_token_is_not_found_for_a_non_manager(outsider, reader):
    token, _ = api_token_create(user=reader, name="Reader's")

    assert client_for(outsider).post(revoke_url(token)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_non_manager_never_sees_everyones_tokens_and_cannot_create_one_for_someone_else(outsider, reader):
    api_token_create(user=reader, name="Reader's")
    client = client_for(outsider)

    page = client.get(f"{TOKENS}?whose=everyone").content.decode()
    assert "Reader&#x27;s" not in page and 'name="user"' not in page

    client.post(NEW, {"name": "Mine", "expires_in_days": "7", "user": "reader"})
    assert ApiToken.objects.get(name="Mine").user == outsider


def test_a_role_manager_sees_and_revokes_everyones_tokens(admin_user, reader):
    token, _ = api_token_create(user=reader, name="Reader's script")
    client = client_for(admin_user)

    assert "Reader&#x27;s script" not in client.get(TOKENS).content.decode()
    page = client.get(f"{TOKENS}?whose=everyone").content.decode()
    assert "Reader&#x27;s script" in page and "<td>reader</td>" in page

    response = client.post(revoke_url(token), {"whose": "everyone"})

    assert response.status_code == 302 and response["Location"] == f"{TOKENS}?whose=everyone"
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = ActivityLogEntry.objects.get(action="permissions.apitoken.revoked", target_id=str(token.pk))
    assert entry.actor_name == "admin"


def test_everyones_tokens_cost_the_same_queries_however_many_there_are(admin_user, django_assert_num_queries):
    client = client_for(admin_user)
    url = f"{TOKENS}?whose=everyone"
    api_token_create(user=UserFactory(), name="First")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)

    for n in range(20):
        api_token_create(user=UserFactory(), name=f"Token {n}")

    with django_assert_num_queries(len(few)):
        page = client.get(url).content.decode()
    assert page.count('data-testid="token-row"') == 21


def test_a_role_manager_may_create_a_token_for_someone_else(admin_user, reader):
    response = client_for(admin_user).post(NEW, {"name": "For the reader", "expires_in_days": "14", "user": "reader"})

    assert response.status_code == 201
    token = ApiToken.objects.get(name="For the reader")
    assert token.user == reader
    assert "for reader" in response.content.decode()
    entry = ActivityLogEntry.objects.get(action="permissions.apitoken.created", target_id=str(token.pk))
    assert entry.actor_name == "admin" and entry.changes["user"]["after"] == "reader"


def test_a_token_for_an_unknown_user_answers_422(admin_user):
    response = client_for(admin_user).post(NEW, {"name": "X", "expires_in_days": "14", "user": "nobody"})

    assert response.status_code == 422
    assert "No active user named" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_twice_is_harmless(outsider):
    token, _ = api_token_create(user=outsider, name="Script")
    client = client_for(outsider)
    client.post(revoke_url(token))
    client.post(revoke_url(token))

    assert ActivityLogEntry.objects.filter(action="permissions.apitoken.revoked").count() == 1


def test_the_token_pages_only_answer_the_methods_they_serve(outsider):
    token, _ = api_token_create(user=outsider, name="Script")
    client = client_for(outsider)

    assert client.get(NEW).status_code == 405
    assert client.get(revoke_url(token)).status_code == 405
