"""API tokens: how they are stored, how bearer authentication treats them, and the management command."""

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from permissions.models import ApiToken
from permissions.services import TOKEN_PREFIX, api_token_create, api_token_revoke
from portal.models import ActivityLogEntry
from resources.models import ResourceLink
from tests.factories import ResourceLinkFactory

pytestmark = pytest.mark.django_db

RESOURCES_URL = "/api/resources/"
NEW_LINK = {"name": "X", "url": "https://x.example/"}


def _bearer(secret):
    # Token requests are checked for CSRF exactly as a browser's would be: only the session may not skip it.
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


# --- Creation and storage ------------------------------------------------------------------------------------------


def test_api_token_create_stores_only_the_sha256_digest_of_the_secret(analyst):
    token, secret = api_token_create(user=analyst, name="SIEM forwarder")

    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM permissions_apitoken WHERE id = %s", [token.pk])
        row = cursor.fetchone()
    assert row is not None
    assert all(secret not in str(value) for value in row)
    assert hashlib.sha256(secret.encode()).hexdigest() in row


def test_api_token_create_never_writes_the_secret_to_the_activity_log(analyst):
    token, secret = api_token_create(user=analyst, name="SIEM forwarder")

    entry = ActivityLogEntry.objects.get(target_id=str(token.pk), action="permissions.apitoken.created")
    for value in (entry.actor_name, entry.target_repr, str(entry.changes), entry.message):
        assert secret not in value


def test_the_prefix_is_the_start_of_the_secret(analyst):
    token, secret = api_token_create(user=analyst, name="SIEM forwarder")

    assert secret.startswith(TOKEN_PREFIX)
    assert secret.startswith(token.prefix)
    assert token.prefix == secret[: len(TOKEN_PREFIX) + 6]
    assert len(secret) > len(token.prefix) + 32
    assert ApiToken.objects.get(pk=token.pk).prefix == token.prefix


def test_api_token_create_writes_an_activity_log_entry(analyst, admin_user):
    token, _ = api_token_create(user=analyst, name="SIEM forwarder", actor=admin_user)

    entry = ActivityLogEntry.objects.get(action="permissions.apitoken.created")
    assert entry.actor_id == admin_user.pk
    assert entry.actor_name == "admin"
    assert entry.target_id == str(token.pk)
    assert entry.target_type.model_class() is ApiToken
    assert entry.changes["user"] == {"before": None, "after": "analyst"}
    assert entry.changes["expires_at"]["after"] == token.expires_at.isoformat()


def test_a_token_created_without_an_actor_is_attributed_to_its_user_and_expires_in_90_days(analyst):
    token, _ = api_token_create(user=analyst, name="SIEM forwarder")

    entry = ActivityLogEntry.objects.get(action="permissions.apitoken.created", target_id=str(token.pk))
    assert entry.actor_id == analyst.pk
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert token.is_usable


# --- Bearer authentication -----------------------------------------------------------------------------------------


def test_a_valid_token_lists_resources_and_records_when_it_was_used(reader):
    token, secret = api_token_create(user=reader, name="Dashboard")
    assert token.last_used_at is None

    response = _bearer(secret).get(RESOURCES_URL)

    assert response.status_code == 200
    assert "results" in response.json()
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_a_token_used_again_within_a_minute_does_not_rewrite_last_used_at(reader):
    token, secret = api_token_create(user=reader, name="Dashboard")
    _bearer(secret).get(RESOURCES_URL)
    token.refresh_from_db()
    first_use = token.last_used_at

    assert _bearer(secret).get(RESOURCES_URL).status_code == 200

    token.refresh_from_db()
    assert token.last_used_at == first_use


def test_a_token_last_used_over_a_minute_ago_records_the_new_use(reader):
    token, secret = api_token_create(user=reader, name="Dashboard")
    long_ago = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)

    assert _bearer(secret).get(RESOURCES_URL).status_code == 200

    token.refresh_from_db()
    assert token.last_used_at > long_ago + timedelta(minutes=4)


def test_a_token_sees_what_its_user_sees(admin_user, reader):
    ResourceLinkFactory(name="Hidden portal", is_hidden=True)
    _, admin_secret = api_token_create(user=admin_user, name="Admin script")
    _, reader_secret = api_token_create(user=reader, name="Reader script")

    admin_names = {link["name"] for link in _bearer(admin_secret).get(RESOURCES_URL, {"limit": 500}).json()["results"]}
    reader_names = {
        link["name"] for link in _bearer(reader_secret).get(RESOURCES_URL, {"limit": 500}).json()["results"]
    }

    assert "Hidden portal" in admin_names
    assert "Hidden portal" not in reader_names


def _assert_refused(response, detail_fragment):
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert detail_fragment in response.json()["detail"]


def test_it_refuses_an_expired_token(reader):
    token, secret = api_token_create(user=reader, name="Dashboard", expires_at=timezone.now() - timedelta(seconds=1))

    response = _bearer(secret).get(RESOURCES_URL)

    _assert_refused(response, "expired")
    token.refresh_from_db()
    assert token.last_used_at is None


def test_it_refuses_a_revoked_token(reader, admin_user):
    token, secret = api_token_create(user=reader, name="Dashboard")
    assert _bearer(secret).get(RESOURCES_URL).status_code == 200

    api_token_revoke(token=token, actor=admin_user)
    response = _bearer(secret).get(RESOURCES_URL)

    _assert_refused(response, "revoked")
    token.refresh_from_db()
    assert token.revoked_at is not None
    revoked = ActivityLogEntry.objects.get(action="permissions.apitoken.revoked")
    assert (revoked.actor_id, revoked.target_id) == (admin_user.pk, str(token.pk))


def test_revoking_a_token_twice_records_it_once(reader, admin_user):
    token, _ = api_token_create(user=reader, name="Dashboard")

    api_token_revoke(token=token, actor=admin_user)
    first_revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at
    api_token_revoke(token=token, actor=admin_user)

    assert ApiToken.objects.get(pk=token.pk).revoked_at == first_revoked_at
    assert ActivityLogEntry.objects.filter(action="permissions.apitoken.revoked").count() == 1


def test_it_refuses_a_wrong_secret(reader):
    token, secret = api_token_create(user=reader, name="Dashboard")

    response = _bearer(secret[:-1] + ("A" if secret[-1] != "A" else "B")).get(RESOURCES_URL)

    _assert_refused(response, "Invalid token")
    token.refresh_from_db()
    assert token.last_used_at is None


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b"])
def test_it_refuses_a_malformed_authorization_header(reader, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(RESOURCES_URL)

    _assert_refused(response, "Malformed Authorization header")


def test_it_refuses_a_request_without_credentials_with_a_bearer_challenge(reader):
    response = APIClient().get(RESOURCES_URL)

    # DRF answers 401 (not 403) because the first authenticator names a WWW-Authenticate challenge.
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["detail"] == "Authentication credentials were not provided."


def test_it_refuses_the_token_of_an_inactive_user(reader):
    token, secret = api_token_create(user=reader, name="Dashboard")
    reader.is_active = False
    reader.save()

    response = _bearer(secret).get(RESOURCES_URL)

    _assert_refused(response, "inactive")
    token.refresh_from_db()
    assert token.last_used_at is None


# --- Tokens act with their user's permissions ----------------------------------------------------------------------


def test_a_readers_token_may_not_create_a_resource_link(reader):
    _, secret = api_token_create(user=reader, name="Dashboard")
    before = ResourceLink.objects.count()

    response = _bearer(secret).post(RESOURCES_URL, NEW_LINK, format="json")

    assert response.status_code == 403
    assert "resources.change_resourcelink" in response.json()["detail"]
    assert ResourceLink.objects.count() == before
    assert not ResourceLink.objects.filter(name="X").exists()


def test_an_administrators_token_creates_a_resource_link_without_a_csrf_token(admin_user):
    _, secret = api_token_create(user=admin_user, name="Admin script")

    response = _bearer(secret).post(RESOURCES_URL, NEW_LINK, format="json")

    assert response.status_code == 201
    link = ResourceLink.objects.get(name="X")
    assert link.url == "https://x.example/"
    assert response.json()["id"] == link.pk
    entry = ActivityLogEntry.objects.get(action="resources.resourcelink.created", target_id=str(link.pk))
    assert entry.actor_id == admin_user.pk


def test_the_same_post_over_a_session_without_a_csrf_token_is_refused(admin_user):
    # The contrast that shows the CSRF check is live in these tests: only token requests are exempt from it.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post(RESOURCES_URL, NEW_LINK, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not ResourceLink.objects.filter(name="X").exists()


# --- create_api_token management command ---------------------------------------------------------------------------


def test_the_command_prints_a_secret_that_authenticates(analyst):
    out, err = StringIO(), StringIO()

    call_command("create_api_token", "analyst", "--name", "SIEM forwarder", stdout=out, stderr=err)

    secret = out.getvalue().strip()
    assert secret.startswith(TOKEN_PREFIX)
    assert "\n" not in secret
    assert "Copy the secret now" in err.getvalue()
    token = ApiToken.objects.get(user=analyst, name="SIEM forwarder")
    assert secret.startswith(token.prefix)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=90))) < timedelta(minutes=1)
    assert _bearer(secret).get(RESOURCES_URL).status_code == 200


def test_the_command_sets_the_lifetime_in_days(analyst):
    call_command("create_api_token", "analyst", "--name", "Short", "--days", "7", stdout=StringIO(), stderr=StringIO())

    token = ApiToken.objects.get(user=analyst, name="Short")
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_the_command_refuses_an_unknown_user(analyst):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody", "--name", "SIEM forwarder", stdout=StringIO(), stderr=StringIO())

    assert not ApiToken.objects.exists()


def test_the_command_refuses_a_duplicate_token_name(analyst):
    api_token_create(user=analyst, name="SIEM forwarder")

    with pytest.raises(CommandError, match="already has a token named 'SIEM forwarder'"):
        call_command("create_api_token", "analyst", "--name", "SIEM forwarder", stdout=StringIO(), stderr=StringIO())

    assert ApiToken.objects.filter(user=analyst).count() == 1


def test_the_command_refuses_a_lifetime_under_one_day(analyst):
    with pytest.raises(CommandError, match="--days must be at least 1"):
        call_command("create_api_token", "analyst", "--name", "X", "--days", "0", stdout=StringIO(), stderr=StringIO())

    assert not ApiToken.objects.exists()


def test_a_token_lasts_at_most_a_year_whichever_way_it_is_made(analyst):
    with pytest.raises(ValidationError, match="at most 365 days"):
        api_token_create(user=analyst, name="Forever", expires_at=timezone.now() + timedelta(days=366))
    with pytest.raises(CommandError, match="at most 365 days"):
        call_command("create_api_token", "analyst", "--name", "Forever", "--days", "400", stdout=StringIO())

    assert not ApiToken.objects.filter(name="Forever").exists()
