"""
Correlation under concurrency (DESIGN.md, Correlation, point 4): two workers never split one story.

These tests commit for real (transactional database), so that other threads, and a real Celery worker started as
a subprocess against the test database and the test Redis, see the rows.
"""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from incidents.choices import IncidentStatus
from incidents.models import Alert, Incident
from incidents.services import ingestion
from incidents.services.correlation import alert_correlate, alerts_correlate
from incidents.services.ingestion import ingest_alerts
from portal.celery import app as celery_app
from tests.incidents.alert_builders import T0, device, graph_alert, user
from tests.integration.threads import run_in_threads


def story(count, *, upn="alice@corp.example", start=0):
    """`count` alerts on different devices, all with the same user: one story."""
    return [
        graph_alert(user(upn), device(f"ws{start + n}.corp.example"), at=T0 + timedelta(minutes=start + n))
        for n in range(count)
    ]


def store(payloads) -> list[int]:
    result = ingest_alerts(payloads, source="tests")
    assert result.rejected == []
    return sorted(result.accepted)


@pytest.fixture
def no_messages(monkeypatch):
    """Ingestion commits here, so its on-commit hook would enqueue tasks; these tests correlate by hand instead."""
    monkeypatch.setattr(ingestion, "_enqueue", lambda alert_ids, incident_ids: None)


# --- Threads ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_puts_a_story_correlated_by_two_workers_at_once_into_one_incident(no_messages):
    alert_ids = store(story(20))

    errors = run_in_threads(
        lambda: alerts_correlate(alert_ids=alert_ids[0::2]),
        lambda: alerts_correlate(alert_ids=alert_ids[1::2]),
    )

    assert errors == []
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.ACTIVE
    assert sorted(incident.alerts.values_list("pk", flat=True)) == alert_ids
    assert not Alert.objects.filter(correlated_at__isnull=True).exists()
    assert incident.alerts_total == 20
    assert incident.impacted_assets == {"device": 20, "user": 1}
    assert incident.rollups_stale is False


@pytest.mark.django_db(transaction=True)
def test_it_never_attaches_an_alert_to_an_incident_that_a_concurrent_merge_redirected(no_messages):
    (on_device,) = store([graph_alert(device("ws1.corp.example"), at=T0)])
    (on_user,) = store([graph_alert(user("bob@corp.example"), device("ws3.corp.example"), at=T0)])
    alerts_correlate(alert_ids=[on_device, on_user])
    older = Alert.objects.get(pk=on_device).incident_id
    younger = Alert.objects.get(pk=on_user).incident_id
    assert older != younger
    (bridge,) = store([graph_alert(device("ws1.corp.example"), user("bob@corp.example"), at=T0)])
    # Shares only ws3, which is in the younger incident until the bridge merges it into the older one.
    (late,) = store([graph_alert(device("ws3.corp.example"), at=T0)])
    merged = threading.Event()

    def merge_and_commit_slowly():
        with transaction.atomic():
            alert_correlate(alert_id=bridge)
            merged.set()
            time.sleep(1.5)

    def correlate_while_the_merge_is_uncommitted():
        assert merged.wait(timeout=10)
        alerts_correlate(alert_ids=[late])

    errors = run_in_threads(merge_and_commit_slowly, correlate_while_the_merge_is_uncommitted)

    assert errors == []
    assert Incident.objects.get(pk=younger).status == IncidentStatus.REDIRECTED
    late_alert = Alert.objects.select_related("incident").get(pk=late)
    assert late_alert.incident.status != IncidentStatus.REDIRECTED
    assert late_alert.incident_id == older
    assert Alert.objects.filter(incident_id=younger).count() == 0


# --- A real Celery worker ---------------------------------------------------------------------------------------


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"], safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db.get("HOST") or "", safe="")  # a socket directory becomes %2F...
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def celery_queue():
    """A queue of this test's own, which `.delay()` routes to while the test runs."""
    queue = f"vigil-test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        yield queue
    finally:
        celery_app.conf.task_default_queue = previous
        with celery_app.connection_for_write() as broker:
            channel = broker.default_channel
            channel.queue_delete(queue)
            # kombu keeps the queue's binding tables; this queue will never be used again.
            channel.client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


@pytest.fixture
def celery_worker(celery_queue):
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
        "SECRET_KEY": os.environ["SECRET_KEY"],
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    with tempfile.TemporaryFile() as output:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter with fixed arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--concurrency=2",
                "--pool=prefork",
                "-Q",
                celery_queue,
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield worker, output
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)


def _worker_log(output) -> str:
    output.seek(0)
    return output.read().decode(errors="replace")[-4000:]


@pytest.mark.django_db(transaction=True)
def test_it_correlates_ingested_alerts_in_a_real_celery_worker(celery_worker):
    worker, output = celery_worker
    # Two requests of one story, then an unrelated alert: each commit enqueues its own correlation task.
    first_batch = store(story(8, start=0))
    second_batch = store(story(8, start=8))
    unrelated = store([graph_alert(user("mallory@corp.example"), device("kiosk.corp.example"))])
    story_ids = sorted(first_batch + second_batch)
    all_ids = [*story_ids, *unrelated]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert worker.poll() is None, f"the Celery worker exited:\n{_worker_log(output)}"
        if (
            not Alert.objects.filter(pk__in=all_ids, correlated_at__isnull=True).exists()
            and not Incident.objects.filter(rollups_stale=True).exists()
        ):
            break
        time.sleep(0.25)
    else:
        pending = Alert.objects.filter(pk__in=all_ids, correlated_at__isnull=True).count()
        pytest.fail(f"{pending} alerts still uncorrelated after 60 s; worker log:\n{_worker_log(output)}")

    assert Incident.objects.count() == 2
    story_incident = Incident.objects.get(alerts__pk=story_ids[0])
    assert sorted(story_incident.alerts.values_list("pk", flat=True)) == story_ids
    assert story_incident.alerts_total == 16
    assert story_incident.impacted_assets == {"device": 16, "user": 1}
    unrelated_incident = Incident.objects.get(alerts__pk=unrelated[0])
    assert unrelated_incident.pk != story_incident.pk
    assert list(unrelated_incident.alerts.values_list("pk", flat=True)) == unrelated
    assert unrelated_incident.alerts_total == 1
    assert not Incident.objects.filter(status=IncidentStatus.REDIRECTED).exists()
