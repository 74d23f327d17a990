"""
Ingesting while PostgreSQL aborts the transaction because of a concurrent one (a deadlock with correlation, a
serialisation failure): the batch is stored again, once, or the caller is told to send it later; never a 500,
never half a batch. The real concurrency is in tests/integration/test_ingest_deadlock.py.
"""

import json

import pytest
from django.db import OperationalError, connection, transaction
from rest_framework.test import APIClient

from incidents import tasks
from incidents.models import Alert, Evidence, Incident
from incidents.services import ingestion
from incidents.services.ingestion import ingest_alerts
from portal import retry
from portal.retry import StillConflicting
from tests.api_clients import bearer_for
from tests.incidents import graph_samples as g

pytestmark = pytest.mark.django_db
URL = "/api/ingest/alerts"
DEADLOCK = "40P01"
SERIALISATION_FAILURE = "40001"


def _abort_in_postgres(pgcode: str) -> None:
    """Make PostgreSQL abort the transaction with this SQLSTATE, as it does a deadlock victim's."""
    # In a savepoint: the test's own transaction stays usable, as a real caller's does once the attempt's
    # transaction is rolled back.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'concurrent update' USING ERRCODE = '{pgcode}'; END $$")


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch):
    monkeypatch.setattr(retry, "FIRST_PAUSE_SECONDS", 0)


@pytest.fixture
def collisions(monkeypatch):
    """
    `collisions(times, pgcode)`: the first `times` attempts write their alerts and evidence, then are aborted.
    Returns the list of attempts made.
    """

    def arrange(times: int, pgcode: str = DEADLOCK) -> list[int]:
        attempts = []
        store_evidence = ingestion._store_evidence

        def store_evidence_then_collide(*args):
            attempts.append(len(attempts) + 1)
            store_evidence(*args)
            if len(attempts) <= times:
                _abort_in_postgres(pgcode)

        monkeypatch.setattr(ingestion, "_store_evidence", store_evidence_then_collide)
        return attempts

    return arrange


@pytest.fixture
def api(admin_user) -> APIClient:
    return bearer_for(admin_user)


def _post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


def _batch():
    return [
        g.alert(evidence=[g.device("ws1.corp.example"), g.user("alice@corp.example")]),
        g.alert(evidence=[g.device("ws2.corp.example")]),
    ]


# The service


@pytest.mark.parametrize("pgcode", [DEADLOCK, SERIALISATION_FAILURE])
def test_it_stores_a_batch_once_when_the_first_attempt_is_aborted(
    collisions, pgcode, django_capture_on_commit_callbacks
):
    attempts = collisions(1, pgcode)
    batch = _batch()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ingest_alerts(batch, source="tests")

    assert attempts == [1, 2]
    assert result.updated == [] and result.rejected == []
    assert sorted(result.accepted) == sorted(Alert.objects.values_list("pk", flat=True))
    assert sorted(Alert.objects.values_list("provider_alert_id", "repeat_count")) == sorted(
        (alert["providerAlertId"], 0) for alert in batch
    )
    assert Evidence.objects.count() == 3
    # Correlation is enqueued by the attempt that committed, not by the one rolled back.
    assert len(callbacks) == 1


def test_a_re_send_aborted_once_counts_the_repeat_once(collisions):
    (sent,) = ingest_alerts([g.alert(evidence=[g.device("ws1.corp.example")])], source="tests").accepted
    collisions(1)

    result = ingest_alerts([{**Alert.objects.get(pk=sent).payload, "title": "Renamed"}], source="tests")

    assert result.updated == [sent] and result.accepted == []
    alert = Alert.objects.get()
    assert (alert.title, alert.repeat_count) == ("Renamed", 1)
    assert Evidence.objects.filter(alert=alert).count() == 1


def test_it_gives_up_after_three_aborted_attempts_and_stores_nothing(collisions, django_capture_on_commit_callbacks):
    attempts = collisions(3)

    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(StillConflicting):
        ingest_alerts(_batch(), source="tests")

    assert attempts == [1, 2, 3]
    assert not Alert.objects.exists()
    assert not Evidence.objects.exists()
    assert callbacks == []


def test_it_does_not_retry_an_error_that_is_not_a_conflict(collisions):
    attempts = collisions(1, pgcode="53100")  # disk full

    with pytest.raises(OperationalError):
        ingest_alerts(_batch(), source="tests")

    assert attempts == [1]
    assert not Alert.objects.exists()


# The API


def test_the_api_answers_202_when_a_retry_stored_the_batch(api, collisions):
    collisions(2)
    batch = _batch()

    response = _post(api, batch)

    assert response.status_code == 202
    assert sorted(response.json()["accepted"]) == sorted(Alert.objects.values_list("pk", flat=True))
    assert Alert.objects.count() == len(batch)


def test_the_api_answers_503_with_retry_after_when_every_attempt_collides(api, collisions):
    collisions(3)

    response = _post(api, _batch())

    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "nothing was stored" in body["detail"]
    assert set(body) == {"detail", "code"}
    assert not Alert.objects.exists()
    assert not Evidence.objects.exists()


def test_the_forwarder_s_retry_after_a_503_stores_the_batch_once(api, collisions):
    collisions(3)
    batch = _batch()
    assert _post(api, batch).status_code == 503

    response = _post(api, batch)

    assert response.status_code == 202
    assert len(response.json()["accepted"]) == len(batch)
    assert sorted(Alert.objects.values_list("repeat_count", flat=True)) == [0, 0]


# Correlation, which the batch hands off to


def test_the_correlation_task_runs_again_when_postgres_aborts_it(monkeypatch):
    (alert_id,) = ingest_alerts([g.alert(evidence=[g.device("ws1.corp.example")])], source="tests").accepted
    attempts = []
    correlate = tasks.alerts_correlate

    def correlate_after_a_deadlock(**kwargs):
        attempts.append(kwargs)
        if len(attempts) == 1:
            _abort_in_postgres(DEADLOCK)
        return correlate(**kwargs)

    monkeypatch.setattr(tasks, "alerts_correlate", correlate_after_a_deadlock)

    result = tasks.correlate_alerts.apply(args=[[alert_id]])

    assert result.successful()
    assert len(attempts) == 2
    assert Alert.objects.get(pk=alert_id).incident == Incident.objects.get()
