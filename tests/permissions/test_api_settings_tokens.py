"""
/api/tokens/: API tokens over the REST API. Everyone manages their own; a role manager sees and revokes everyone's
and may make one for someone else. The secret is in the creating answer only, and works as a bearer token until
the token is revoked; the digest is never shown.
"""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from permissions.models import ApiToken
from permissions.services import api_token_create
from portal.models import ActivityLogEntry
from tests.api_clients import api_for, bearer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/tokens/"
TOKEN_FIELDS = {
    "id",
    "name",
    "prefix",
    "user",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "is_usable",
}


def url(token, suffix="") -> str:
    return f"/api/tokens/{token.pk}/{suffix}"


def token_entries():
    return ActivityLogEntry.objects.filter(action__startswith="permissions.apitoken.")


def tokens_snapshot():
    return list(ApiToken.objects.order_by("pk").values_list("pk", "user_id", "name", "revoked_at"))


# --- Creating ---------------------------------------------------------------------------------------------------------


def test_creating_a_token_answers_its_secret_once_and_stores_only_its_digest(analyst):
    response = api_for(analyst).post(LIST_URL, {"name": "SIEM forwarder", "expires_in_days": 30}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == TOKEN_FIELDS | {"secret"}
    token = ApiToken.objects.get(pk=body["id"])
    secret = body["secret"]
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and body["prefix"] == token.prefix
    assert (body["name"], body["user"], body["is_usable"], body["revoked_at"]) == (
        "SIEM forwarder",
        "analyst",
        True,
        None,
    )
    assert token.digest not in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    entry = token_entries().get()
    assert (entry.action, entry.target_id, entry.actor_id) == (
        "permissions.apitoken.created",
        str(token.pk),
        analyst.pk,
    )
    assert secret not in str(entry.changes)


def test_the_secret_is_never_shown_again_but_works_as_a_bearer_token(analyst):
    secret = api_for(analyst).post(LIST_URL, {"name": "Script"}, format="json").json()["secret"]
    token = ApiToken.objects.get(user=analyst, name="Script")

    listed = bearer(secret).get(LIST_URL)
    one = bearer(secret).get(url(token))

    assert (listed.status_code, one.status_code) == (200, 200)
    for answer in (listed, one):
        text = answer.content.decode()
        assert secret not in text
        assert token.digest not in text
        assert "secret" not in text and "digest" not in text
    assert [t["name"] for t in listed.json()["results"]] == ["Script"]
    assert set(one.json()) == TOKEN_FIELDS
    assert one.json()["last_used_at"] is not None


def test_a_token_lasts_90_days_unless_told_otherwise(reader):
    response = api_for(reader).post(LIST_URL, {"name": "Default"}, format="json")

    token = ApiToken.objects.get(pk=response.json()["id"])
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "Long", "expires_in_days": 366}, {"expires_in_days": ["A token lasts at most 365 days."]}),
        ({"name": "Short", "expires_in_days": 0}, {"expires_in_days": ["A token lasts at least 1 day."]}),
        ({"name": "Odd", "expires_in_days": "soon"}, {"expires_in_days": ["A valid integer is required."]}),
        ({"name": "  "}, {"name": ["Say what the token is for, e.g. 'SIEM forwarder'."]}),
        ({"name": "x" * 101}, {"name": ["Use at most 100 characters."]}),
        ({"name": "Taken"}, {"name": ["reader already has a token named 'Taken'; choose another."]}),
        ({}, {"name": ["This field is required."]}),
    ],
)
def test_a_bad_token_request_is_refused_and_nothing_is_created(reader, data, errors):
    api_token_create(user=reader, name="Taken")
    before = tokens_snapshot()

    response = api_for(reader).post(LIST_URL, data, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert "secret" not in response.json()
    assert tokens_snapshot() == before
    assert token_entries().count() == 1  # "Taken"'s creation


def test_a_role_manager_makes_a_token_for_someone_else(admin_user, analyst):
    response = api_for(admin_user).post(LIST_URL, {"name": "Forwarder", "user": "ANALYST"}, format="json")

    assert response.status_code == 201
    assert response.json()["user"] == "analyst"
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.user == analyst
    entry = token_entries().get()
    assert entry.actor_id == admin_user.pk
    assert entry.changes["user"] == {"before": None, "after": "analyst"}
    assert bearer(response.json()["secret"]).get(LIST_URL).json()["results"][0]["user"] == "analyst"


def test_a_token_for_an_unknown_or_inactive_user_is_refused(admin_user):
    UserFactory(username="retired", is_active=False)

    response = api_for(admin_user).post(LIST_URL, {"name": "Forwarder", "user": "retired"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"user": ["No active user named 'retired'."]}
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "reader", "outsider"])
def test_only_a_role_manager_makes_a_token_for_someone_else(request, admin_user, role):
    person = request.getfixturevalue(role)

    response = api_for(person).post(LIST_URL, {"name": "Borrowed", "user": "admin"}, format="json")
    own = api_for(person).post(LIST_URL, {"name": "Mine", "user": person.username.upper()}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Creating a token for someone else requires the permissions.manage_roles permission."
    )
    assert own.status_code == 201
    assert list(ApiToken.objects.values_list("user__username", "name")) == [(person.username, "Mine")]


def test_naming_someone_else_tells_others_nothing_of_who_has_an_account(analyst, admin_user):
    UserFactory(username="retired", is_active=False)
    api = api_for(analyst)

    answers = [
        api.post(LIST_URL, {"name": "Probe", "user": name}, format="json") for name in ("admin", "retired", "ghost")
    ]

    assert [response.status_code for response in answers] == [403, 403, 403]
    assert len({response.content for response in answers}) == 1
    assert not ApiToken.objects.exists()


# --- Listing ----------------------------------------------------------------------------------------------------------


def test_everyone_lists_their_own_tokens_newest_first(analyst, reader):
    api_token_create(user=analyst, name="Older")
    api_token_create(user=analyst, name="Newer")
    api_token_create(user=reader, name="Not mine")

    response = api_for(analyst).get(LIST_URL)

    assert response.status_code == 200
    assert [t["name"] for t in response.json()["results"]] == ["Newer", "Older"]


def test_a_role_manager_lists_everyones_tokens_when_asked(admin_user, analyst, reader):
    api_token_create(user=analyst, name="Analyst's")
    api_token_create(user=reader, name="Reader's")
    api = api_for(admin_user)

    own = api.get(LIST_URL)
    everyone = api.get(LIST_URL, {"whose": "everyone"})

    assert own.json()["count"] == 0
    assert [(t["user"], t["name"]) for t in everyone.json()["results"]] == [
        ("reader", "Reader's"),
        ("analyst", "Analyst's"),
    ]


def test_only_a_role_manager_lists_everyones_tokens(analyst):
    response = api_for(analyst).get(LIST_URL, {"whose": "everyone"})

    assert response.status_code == 403
    assert response.json()["detail"] == "Listing everyone's tokens requires the permissions.manage_roles permission."


def test_whose_tokens_is_own_or_everyone(analyst):
    response = api_for(analyst).get(LIST_URL, {"whose": "theirs"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"whose": ["Either own or everyone."]}


def test_the_list_costs_the_same_queries_whatever_the_page_size(admin_user, django_assert_num_queries):
    for n in range(30):
        api_token_create(user=UserFactory(), name=f"Token {n}")
    first, second = api_for(admin_user), api_for(admin_user)

    with django_assert_num_queries(3) as few:  # permissions, count, page
        assert len(first.get(LIST_URL, {"whose": "everyone", "limit": 2}).json()["results"]) == 2
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(second.get(LIST_URL, {"whose": "everyone", "limit": 30}).json()["results"]) == 30


# --- Revoking ---------------------------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_from_then_on_and_the_revocation_is_logged(analyst):
    token, secret = api_token_create(user=analyst, name="Script")
    assert bearer(secret).get(LIST_URL).status_code == 200

    response = api_for(analyst).post(url(token, "revoke/"))

    assert response.status_code == 200
    assert response.json()["is_usable"] is False and response.json()["revoked_at"] is not None
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = bearer(secret).get(LIST_URL)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "This token has been revoked.", "code": "authentication_failed"}
    entry = token_entries().get(action="permissions.apitoken.revoked")
    assert (entry.target_id, entry.actor_id) == (str(token.pk), analyst.pk)


def test_deleting_a_token_revokes_it_and_keeps_it_listed(analyst):
    token, secret = api_token_create(user=analyst, name="Script")

    response = api_for(analyst).delete(url(token))

    assert response.status_code == 204
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert bearer(secret).get(LIST_URL).status_code == 401
    listed = api_for(analyst).get(LIST_URL).json()["results"]
    assert [(t["name"], t["is_usable"]) for t in listed] == [("Script", False)]
    assert token_entries().filter(action="permissions.apitoken.revoked").count() == 1


def test_revoking_twice_changes_nothing_the_second_time(analyst):
    token, _ = api_token_create(user=analyst, name="Script")
    api = api_for(analyst)
    first = api.post(url(token, "revoke/")).json()["revoked_at"]

    second = api.post(url(token, "revoke/"))

    assert second.status_code == 200
    assert second.json()["revoked_at"] == first
    assert token_entries().filter(action="permissions.apitoken.revoked").count() == 1


@pytest.mark.parametrize("role", ["analyst", "reader", "outsider"])
def test_someone_elses_token_does_not_exist_for_all_but_a_role_manager(request, admin_user, role):
    token, secret = api_token_create(user=admin_user, name="Admin's")
    api = api_for(request.getfixturevalue(role))

    answers = [api.get(url(token)), api.post(url(token, "revoke/")), api.delete(url(token))]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert bearer(secret).get(LIST_URL).status_code == 200
    assert not token_entries().filter(action="permissions.apitoken.revoked").exists()


def test_a_role_manager_revokes_someone_elses_token(admin_user, analyst):
    token, secret = api_token_create(user=analyst, name="Leaked")

    response = api_for(admin_user).post(url(token, "revoke/"))

    assert response.status_code == 200
    assert response.json()["user"] == "analyst"
    assert bearer(secret).get(LIST_URL).status_code == 401
    entry = token_entries().get(action="permissions.apitoken.revoked")
    assert entry.actor_id == admin_user.pk


def test_an_anonymous_caller_is_asked_to_authenticate(db):
    assert APIClient().post(LIST_URL, {"name": "Anon"}, format="json").status_code == 401
    assert not ApiToken.objects.exists()
