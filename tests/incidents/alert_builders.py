"""
Graph alerts_v2 builders for correlation tests, and the two steps every such test takes: store the alerts through
`ingest_alerts`, then correlate them as one batch the way the Celery task does.
"""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from incidents.models import Alert
from incidents.services.correlation import alerts_correlate
from incidents.services.ingestion import ingest_alerts

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def device(dns_name, *, group="Servers"):
    return {
        "@odata.type": "#microsoft.graph.security.deviceEvidence",
        "deviceDnsName": dns_name,
        "mdeDeviceId": hashlib.sha256(dns_name.lower().encode()).hexdigest()[:40],
        "rbacGroupName": group,
        "osPlatform": "Windows11",
        "roles": [],
    }


def user(upn):
    return {
        "@odata.type": "#microsoft.graph.security.userEvidence",
        "userAccount": {"userPrincipalName": upn, "accountName": upn.split("@", 1)[0]},
    }


def ip(address):
    return {"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": address}


def graph_alert(
    *evidence,
    at=T0,
    lasting=timedelta(minutes=5),
    title=None,
    severity="medium",
    status="new",
    category="Execution",
    service_source="microsoftDefenderForEndpoint",
    detection_source="microsoftDefenderForEndpoint",
    mitre=(),
    alert_id=None,
):
    number = next(_numbers)
    alert_id = alert_id or f"da{number:018d}"
    return {
        "id": alert_id,
        "providerAlertId": alert_id,
        "title": title or f"Suspicious activity {number}",
        "severity": severity,
        "status": status,
        "category": category,
        "serviceSource": service_source,
        "detectionSource": detection_source,
        "mitreTechniques": list(mitre),
        "createdDateTime": (at + lasting).isoformat(),
        "firstActivityDateTime": at.isoformat(),
        "lastActivityDateTime": (at + lasting).isoformat(),
        "evidence": list(evidence),
    }


def store(*payloads) -> list[Alert]:
    """Ingest the payloads and return their alerts in the order given."""
    result = ingest_alerts(list(payloads), source="tests")
    assert result.rejected == []
    by_id = {
        (a.service_source, a.provider_alert_id): a
        for a in Alert.objects.filter(pk__in=result.accepted + result.updated)
    }
    return [by_id[(p["serviceSource"], p["providerAlertId"])] for p in payloads]


def correlate(*alerts: Alert) -> list[Alert]:
    """Correlate the alerts as one batch (as the Celery task does) and return them fresh from the database."""
    alerts_correlate(alert_ids=[a.pk for a in alerts])
    return [Alert.objects.get(pk=a.pk) for a in alerts]


def ingest_and_correlate(*payloads) -> list[Alert]:
    return correlate(*store(*payloads))
