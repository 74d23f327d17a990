"""
Alerts for the Graph-compatible API tests: they come in as Graph JSON (`ingest_alerts`) and are correlated into
incidents, as in production.
"""

from incidents.models import Alert
from tests.incidents import graph_samples as g
from tests.incidents.alert_builders import correlate, store


def ingest(payload: dict) -> Alert:
    """One Graph alert stored and correlated into its incident, fresh from the database."""
    (alert,) = correlate(*store(payload))
    return alert


def powershell_alert(device_name: str, group: str = "Finance") -> dict:
    """
    A Graph alert on a workstation of `group` with one evidence item of every common subtype (device, user, mailbox,
    file, process, ip, url, cloud application, registry key and value, e-mail message and cluster, Kubernetes pod).
    """
    device = g.device(device_name, rbacGroupName=group)
    return g.alert(
        title="Suspicious PowerShell command line",
        severity="high",
        evidence=[device, *g.every_core_evidence(device_name)[1:], g.kubernetes_pod()],
    )
