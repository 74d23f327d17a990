"""Thin Celery tasks: they take ids and call a service. Correlation is idempotent, so redelivery is safe."""

from celery import shared_task
from django.db import DatabaseError

from incidents.services.correlation import alerts_correlate, pending_alert_ids
from incidents.services.rollups import incident_refresh, stale_incident_ids

RETRY = {
    # Deadlocks and serialisation failures are transient: PostgreSQL chose a victim; try again.
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 8,
    # Acknowledge after the work: a worker that dies mid-task leaves the message for another one.
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(name="incidents.correlate_alerts", **RETRY)
def correlate_alerts(alert_ids: list[int]) -> None:
    alerts_correlate(alert_ids=alert_ids)


@shared_task(name="incidents.refresh_incidents", **RETRY)
def refresh_incidents(incident_ids: list[int]) -> None:
    for incident_id in sorted(set(incident_ids)):
        incident_refresh(incident_id=incident_id)


@shared_task(name="incidents.correlate_pending", **RETRY)
def correlate_pending() -> None:
    """The sweep: alerts whose correlation message was lost, and incidents whose rollups were left stale."""
    alert_ids = pending_alert_ids()
    if alert_ids:
        alerts_correlate(alert_ids=alert_ids)
    for incident_id in stale_incident_ids():
        incident_refresh(incident_id=incident_id)
