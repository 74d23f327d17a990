"""Clients of the native API for tests, signed in or bearing a token, and the ids a list answer shows."""

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from permissions.services import api_token_create

__all__ = ("api_for", "bearer", "bearer_for", "fresh_user", "listed_ids")


def fresh_user(user):
    """The user as the next request sees them: what a person holds is cached on the user object once read."""
    return get_user_model().objects.get(pk=user.pk)


def api_for(user) -> APIClient:
    """A client signed in as `user`, read afresh so that it holds the roles given or taken since."""
    client = APIClient()
    client.force_authenticate(user=fresh_user(user))
    return client


def bearer(secret: str) -> APIClient:
    """A client that sends `secret` as its bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def bearer_for(user) -> APIClient:
    """A client with a new API token of `user`."""
    _, secret = api_token_create(user=user, name="Test client")
    return bearer(secret)


def listed_ids(response) -> list[int]:
    """The ids of a list answer's rows, in order; the answer must be a 200."""
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]
