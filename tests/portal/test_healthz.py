"""/healthz: anonymous, JSON, 200 while PostgreSQL and Redis answer, 503 naming what is down otherwise."""

import pytest

pytestmark = pytest.mark.django_db

HEALTHZ_URL = "/healthz"


def test_healthz_answers_ok_to_an_anonymous_client_when_everything_is_up(client):
    response = client.get(HEALTHZ_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


def test_healthz_is_never_cached(client):
    response = client.get(HEALTHZ_URL)

    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_healthz_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get(HEALTHZ_URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("down")
    assert body["checks"]["redis"] == "down: ConnectionError"


def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr("portal.views.check_database", lambda: "OperationalError")

    response = client.get(HEALTHZ_URL)

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "down: OperationalError", "redis": "ok"},
    }


def test_healthz_refuses_a_post(client):
    response = client.post(HEALTHZ_URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET"
