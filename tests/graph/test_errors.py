"""Every error of the Graph-compatible API is a Graph error body: {"error": {"code", "message", ...}}."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from incidents.models import Incident
from permissions.models import ApiToken
from permissions.services import api_token_create
from portal.graph.errors import graph_exception_handler
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db

INCIDENTS = "/v1.0/security/incidents"
ALERTS = "/v1.0/security/alerts_v2"


def graph_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert set(body["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    return body["error"]


@pytest.mark.parametrize("path", [INCIDENTS, f"{INCIDENTS}/1", f"{ALERTS}/1/comments"])
def test_an_anonymous_call_answers_401_unauthenticated_with_a_bearer_challenge(client, db, path):
    response = client.get(path)

    error = graph_error(response, 401, "Unauthenticated")
    assert error["message"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_bad_expired_or_revoked_token_answers_401_invalid_authentication_token(analyst):
    _, secret = api_token_create(user=analyst, name="Expiring")
    ApiToken.objects.filter(name="Expiring").update(expires_at=timezone.now() - timedelta(minutes=1))
    _, revoked = api_token_create(user=analyst, name="Revoked")
    ApiToken.objects.filter(name="Revoked").update(revoked_at=timezone.now())
    api = APIClient()

    for token, message in [
        ("not-a-token", "Invalid token."),
        (secret, "This token has expired."),
        (revoked, "This token has been revoked."),
    ]:
        response = api.get(INCIDENTS, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert graph_error(response, 401, "InvalidAuthenticationToken")["message"] == message


@pytest.mark.parametrize("given", ["abc", "-1", "1.5", "1e3", "99999999999999999999", "%E2%91%A0"])
def test_an_id_that_is_not_a_number_answers_404_not_found_naming_what_was_asked_for(admin_user, graph_as, given):
    api = graph_as(admin_user)

    incident = api.get(f"{INCIDENTS}/{given}")
    alert = api.patch(f"{ALERTS}/{given}", {"status": "inProgress"}, format="json")
    comment = api.post(f"{INCIDENTS}/{given}/comments", {"comment": "Hi."}, format="json")

    assert graph_error(incident, 404, "NotFound")["message"].startswith("There is no incident with the id '")
    assert graph_error(alert, 404, "NotFound")["message"].startswith("There is no alert with the id '")
    assert graph_error(comment, 404, "NotFound")["message"].startswith("There is no incident with the id '")


def test_a_missing_id_answers_404_naming_it(admin_user, graph_as):
    response = graph_as(admin_user).get(f"{ALERTS}/424242")

    assert graph_error(response, 404, "NotFound")["message"] == "There is no alert with the id 424242."


def test_a_method_a_resource_does_not_take_answers_405_with_the_methods_it_does(admin_user, graph_as):
    api = graph_as(admin_user)
    incident = IncidentFactory()

    deleted = api.delete(f"{INCIDENTS}/{incident.pk}")
    posted = api.post(INCIDENTS, {"displayName": "New"}, format="json")
    options = api.options(INCIDENTS)

    assert graph_error(deleted, 405, "MethodNotAllowed")["message"] == 'Method "DELETE" not allowed.'
    assert deleted["Allow"] == "GET, PATCH, HEAD"
    graph_error(posted, 405, "MethodNotAllowed")
    graph_error(options, 405, "MethodNotAllowed")
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_it_echoes_the_clients_request_id_for_its_logs(admin_user, graph_as):
    api = graph_as(admin_user)

    echoed = api.get(f"{ALERTS}/1", headers={"client-request-id": "5d3b1e0c-3c0a-4b1e-9d8f-0a1b2c3d4e5f"})
    refused = api.get(f"{ALERTS}/1", headers={"client-request-id": "<script>"})

    assert echoed.json()["error"]["innerError"]["client-request-id"] == "5d3b1e0c-3c0a-4b1e-9d8f-0a1b2c3d4e5f"
    assert refused.json()["error"]["innerError"]["client-request-id"] is None


def test_it_answers_json_whatever_the_client_accepts(admin_user, graph_as):
    response = graph_as(admin_user).get(INCIDENTS, headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["OData-Version"] == "4.0"


def test_a_throttled_call_answers_429_too_many_requests_saying_when_to_retry(rf):
    request = rf.get(INCIDENTS)

    response = graph_exception_handler(Throttled(wait=30), {"request": request, "view": None})

    assert response.status_code == 429
    assert response.data["error"]["code"] == "TooManyRequests"
    assert response.data["error"]["message"] == "Request was throttled. Expected available in 30 seconds."
    assert response["Retry-After"] == "30"
