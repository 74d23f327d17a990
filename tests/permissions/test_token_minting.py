"""
Creating API tokens with an API token: the new token expires no later than the one used, so that a leaked token
cannot outlive its own expiry by minting successors, and it is always for the token's own user. A signed-in
person keeps the usual rules (up to 365 days; someone else's token for a role manager).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from permissions.models import ApiToken
from permissions.services import api_token_create
from tests.api_clients import api_for, bearer

pytestmark = pytest.mark.django_db

LIST_URL = "/api/tokens/"


def token_expiring_in(user, days):
    return api_token_create(user=user, name="Rotating client", expires_at=timezone.now() + timedelta(days=days))


def tokens():
    return sorted(ApiToken.objects.values_list("user__username", "name"))


def test_a_token_may_not_create_a_token_that_outlives_it(analyst):
    _, secret = token_expiring_in(analyst, 30)

    response = bearer(secret).post(LIST_URL, {"name": "Successor", "expires_in_days": 365}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["expires_at"]
    assert "no later than the token used to create it" in errors["expires_at"][0]
    assert "sign in" in errors["expires_at"][0]
    assert "secret" not in response.json()
    assert tokens() == [("analyst", "Rotating client")]


def test_a_token_created_with_a_token_expires_with_it_unless_told_otherwise(analyst):
    using, secret = token_expiring_in(analyst, 30)

    response = bearer(secret).post(LIST_URL, {"name": "Successor"}, format="json")

    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).expires_at == using.expires_at


def test_a_token_creates_a_shorter_lived_token_for_its_user(analyst):
    _, secret = token_expiring_in(analyst, 30)

    response = bearer(secret).post(LIST_URL, {"name": "Successor", "expires_in_days": 7}, format="json")

    assert response.status_code == 201
    assert response.json()["user"] == "analyst"
    created = ApiToken.objects.get(pk=response.json()["id"])
    assert abs(created.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_a_role_managers_token_may_not_create_a_token_for_someone_else(admin_user, analyst):
    _, secret = token_expiring_in(admin_user, 30)

    response = bearer(secret).post(
        LIST_URL, {"name": "Forwarder", "user": "analyst", "expires_in_days": 7}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["user"]
    assert "sign in" in response.json()["errors"]["user"][0]
    assert tokens() == [("admin", "Rotating client")]


def test_a_signed_in_role_manager_still_creates_a_year_long_token_for_someone_else(admin_user, analyst):
    response = api_for(admin_user).post(
        LIST_URL, {"name": "Forwarder", "user": "analyst", "expires_in_days": 365}, format="json"
    )

    assert response.status_code == 201
    created = ApiToken.objects.get(pk=response.json()["id"])
    assert created.user == analyst
    assert abs(created.expires_at - (timezone.now() + timedelta(days=365))) < timedelta(minutes=1)
