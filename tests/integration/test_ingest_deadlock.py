"""
Ingestion and correlation at once on the same alerts: a forwarder re-sends alerts while correlation merges the
incidents they are in. Both paths lock rows of incidents_alert; whatever PostgreSQL does about it, no request may
answer 500 and no batch may be lost or stored twice.

These tests commit for real (transactional database), so that each thread, with its own connection, sees the
others' rows.
"""

import json
import random
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from incidents.choices import IncidentStatus
from incidents.models import Alert, Incident
from incidents.services import ingestion
from incidents.services.correlation import alerts_correlate
from incidents.services.ingestion import ingest_alerts
from incidents.tasks import correlate_alerts
from permissions.services import api_token_create
from tests.incidents.alert_builders import T0, device, graph_alert, user
from tests.integration.threads import run_in_threads

URL = "/api/ingest/alerts"
ROUNDS = 30
ALERTS_PER_INCIDENT = 30
# A forwarder gives up on a batch after this many answers; every batch here must be stored well before.
FORWARDER_ATTEMPTS = 5


@pytest.fixture
def no_messages(monkeypatch):
    """The test correlates by hand; ingestion's on-commit hook would enqueue tasks besides."""
    monkeypatch.setattr(ingestion, "_enqueue", lambda alert_ids, incident_ids: None)


@pytest.fixture
def forwarder_secret(admin_user) -> str:
    _, secret = api_token_create(user=admin_user, name="graph forwarder")
    return secret


def _alert(*evidence, at):
    # Ids as Defender's look: in no particular order, so that the order of the unique key is not the order of the
    # primary key.
    alert_id = f"da{uuid.uuid4().int % 10**18:018d}_{random.randint(-(10**9), 10**9)}"
    return graph_alert(*evidence, at=at, alert_id=alert_id)


def _story(upn: str, host_prefix: str, at) -> list[dict]:
    # Stored in an order that is not the order things happened: the order of the incident's alerts by activity is
    # then not the order of their ids.
    minutes = random.sample(range(ALERTS_PER_INCIDENT), ALERTS_PER_INCIDENT)
    return [
        _alert(user(upn), device(f"{host_prefix}{n}.corp.example"), at=at + timedelta(minutes=minute))
        for n, minute in enumerate(minutes)
    ]


def _store_and_correlate(payloads) -> int:
    result = ingest_alerts(payloads, source="tests")
    assert result.rejected == []
    (incident_id,) = set(alerts_correlate(alert_ids=result.accepted).values())
    return incident_id


class Forwarder:
    """Posts a batch as a forwarder does: again, after Retry-After, while the portal answers 503."""

    def __init__(self, secret: str):
        self.secret = secret
        self.answers: list[int] = []
        self.delivered: Counter = Counter()  # provider alert id → how many times a 202 stored it

    def send(self, payloads: list[dict]) -> None:
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.secret}")
        body = json.dumps(random.sample(payloads, len(payloads)))
        for _ in range(FORWARDER_ATTEMPTS):
            response = client.post(URL, data=body, content_type="application/json")
            self.answers.append(response.status_code)
            if response.status_code != 503:
                break
            assert int(response["Retry-After"]) >= 1
            time.sleep(0.2)  # the header's seconds, shortened for the test
        if response.status_code == 202:
            self.delivered.update(payload["providerAlertId"] for payload in payloads)


@pytest.mark.django_db(transaction=True)
def test_re_sending_alerts_while_correlation_merges_their_incidents_never_fails_or_loses_a_batch(
    no_messages, forwarder_secret
):
    started = time.monotonic()
    forwarder = Forwarder(forwarder_secret)
    sent: Counter = Counter()
    stories = []
    for round_number in range(ROUNDS):
        at = T0 + timedelta(hours=round_number)
        older = _story(f"alice{round_number}@corp.example", f"ws{round_number}-", at)
        younger = _story(f"bob{round_number}@corp.example", f"srv{round_number}-", at + timedelta(minutes=1))
        older_id = _store_and_correlate(older)
        younger_id = _store_and_correlate(younger)
        assert older_id != younger_id
        bridge = _alert(user(f"alice{round_number}@corp.example"), user(f"bob{round_number}@corp.example"), at=at)
        (bridge_id,) = ingest_alerts([bridge], source="tests").accepted
        stories.append((older_id, younger_id, [*older, *younger, bridge]))
        # One request re-sends both incidents' alerts (the rows the merge moves); another also re-sends the alert
        # that ties them together (the row correlation holds from its start).
        resent = [older + younger, [*younger, *older[:5], bridge]]
        for batch in resent:
            sent.update(payload["providerAlertId"] for payload in batch)

        correlations = []
        errors = run_in_threads(
            # Through the Celery task, as a worker runs it: a deadlock victim is retried, not dropped.
            lambda bridge_id=bridge_id, correlations=correlations: correlations.append(
                correlate_alerts.apply(args=[[bridge_id]])
            ),
            *(lambda batch=batch: forwarder.send(batch) for batch in resent),
        )
        assert errors == []
        assert [result.state for result in correlations] == ["SUCCESS"]

    assert time.monotonic() - started < 60
    assert 500 not in forwarder.answers
    assert set(forwarder.answers) <= {202, 503}
    # Every batch was stored in the end (a 503 is answered with nothing stored, and the forwarder sends again).
    assert forwarder.delivered == sent
    for older_id, younger_id, payloads in stories:
        ids = [payload["providerAlertId"] for payload in payloads]
        alerts = Alert.objects.filter(provider_alert_id__in=ids)
        # Once each, with every re-send counted exactly once.
        assert sorted(alerts.values_list("provider_alert_id", flat=True)) == sorted(ids)
        assert {a.provider_alert_id: a.repeat_count for a in alerts} == {i: sent[i] for i in ids}
        # And the merge happened: the whole story is in the older incident.
        assert set(alerts.values_list("incident_id", flat=True)) == {older_id}
        assert Incident.objects.get(pk=younger_id).status == IncidentStatus.REDIRECTED


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _one_merge_apart():
    """
    An older incident and a younger one of six alerts, and a stored alert that ties them together: correlating it
    merges the younger into the older. Returns (older incident, younger incident, the younger's alert ids in order,
    their payloads, the tie and its id).
    """
    older_id = _store_and_correlate([graph_alert(user("alice@corp.example"), device("ws1.corp.example"), at=T0)])
    # The younger incident's alerts happened in the reverse of the order they were stored in: moving them in the
    # order of their activity would not be the order of their ids.
    younger = [
        graph_alert(user("bob@corp.example"), device(f"srv{n}.corp.example"), at=T0 + timedelta(minutes=10 - n))
        for n in range(6)
    ]
    younger_id = _store_and_correlate(younger)
    tie = graph_alert(user("alice@corp.example"), user("bob@corp.example"), at=T0)
    (tie_id,) = ingest_alerts([tie], source="tests").accepted
    alert_ids = sorted(Alert.objects.filter(incident_id=younger_id).values_list("pk", flat=True))
    return older_id, younger_id, alert_ids, younger, tie, tie_id


def _one_waiting_on_the_other(*, first, then, holding: int) -> list[BaseException]:
    """
    Run `first` while another transaction holds alert `holding`, so that it stops there having taken the rows it
    takes before that one; then `then`, once `first` waits; then let both go on once `then` waits too.
    """
    held, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT id FROM incidents_alert WHERE id = %s FOR NO KEY UPDATE", [holding])
            held.set()
            assert release.wait(timeout=20)

    def run_first():
        assert held.wait(timeout=10)
        first()

    def run_then():
        _until(lambda: _waiting_for_locks() >= 1)
        then()

    def let_go():
        _until(lambda: _waiting_for_locks() >= 2)
        release.set()

    return run_in_threads(hold, run_first, run_then, let_go)


def _retries(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "portal.retry"]


@pytest.mark.django_db(transaction=True)
def test_a_merge_waits_for_a_re_send_of_the_alerts_it_moves_without_deadlocking(no_messages, caplog):
    older_id, younger_id, alert_ids, younger, _, tie_id = _one_merge_apart()

    errors = _one_waiting_on_the_other(
        # The re-send takes the first two alerts, then waits; the merge then waits for the re-send.
        first=lambda: ingest_alerts(younger, source="tests"),
        then=lambda: alerts_correlate(alert_ids=[tie_id]),
        holding=alert_ids[2],
    )

    assert errors == []
    # PostgreSQL chose no deadlock victim: nothing had to be done again.
    assert _retries(caplog) == []
    assert set(Alert.objects.filter(pk__in=alert_ids).values_list("incident_id", "repeat_count")) == {(older_id, 1)}
    assert Incident.objects.get(pk=younger_id).status == IncidentStatus.REDIRECTED


@pytest.mark.django_db(transaction=True)
def test_a_re_send_waits_for_a_merge_of_the_alerts_it_sends_without_deadlocking(no_messages, caplog):
    older_id, _, alert_ids, younger, tie, tie_id = _one_merge_apart()

    errors = _one_waiting_on_the_other(
        # The merge holds the tie and takes the first two alerts it moves, then waits; the re-send, of the tie and
        # the last alerts, then waits for the merge.
        first=lambda: alerts_correlate(alert_ids=[tie_id]),
        then=lambda: ingest_alerts([*younger[3:], tie], source="tests"),
        holding=alert_ids[2],
    )

    assert errors == []
    assert _retries(caplog) == []
    assert Alert.objects.get(pk=tie_id).incident_id == older_id
    assert set(Alert.objects.filter(pk__in=alert_ids).values_list("incident_id", flat=True)) == {older_id}
    assert sorted(Alert.objects.filter(pk__in=[*alert_ids, tie_id]).values_list("repeat_count", flat=True)) == [
        0,
        0,
        0,
        1,
        1,
        1,
        1,
    ]
