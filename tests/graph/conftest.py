"""
Fixtures of the Graph-compatible API tests: clients holding a real bearer token, and an estate of alerts that came
in as Graph JSON (`ingest_alerts`) and were correlated into incidents, as in production.
"""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from incidents.models import Alert, DeviceGroup, Incident
from permissions.services import api_token_create
from tests.conftest import assign_role
from tests.factories import UserFactory
from tests.incidents import graph_samples as g
from tests.incidents.alert_builders import correlate, store


def bearer_client(user) -> APIClient:
    """A client that authenticates as `user` with a bearer token, as a Graph client does."""
    _, secret = api_token_create(user=user, name=f"Graph client of {user.username}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def graph_as():
    return bearer_client


@dataclass
class Estate:
    """Two stories, each on its own device group: a workstation in Finance and a server in Servers."""

    finance: DeviceGroup
    servers: DeviceGroup
    finance_alert: Alert
    finance_incident: Incident
    server_alert: Alert
    server_incident: Incident


def ingest(payload: dict) -> Alert:
    (alert,) = correlate(*store(payload))
    return alert


@pytest.fixture
def estate(db) -> Estate:
    ws = g.device("ws-fin-042.corp.example", rbacGroupName="Finance")
    finance_alert = ingest(
        g.alert(
            title="Suspicious PowerShell command line",
            severity="high",
            evidence=[
                ws,
                g.user("alice@corp.example"),
                g.file(),
                g.process(4242, ws["mdeDeviceId"]),
                g.ip("198.51.100.24"),
                g.url("https://contoso-payments.example/invoice/0412"),
                g.kubernetes_pod(),
            ],
        )
    )
    server = g.device("srv-db-01.corp.example", rbacGroupName="Servers")
    server_alert = ingest(
        g.alert(
            title="Credential dumping on a database server",
            severity="medium",
            category="CredentialAccess",
            mitreTechniques=["T1003.001"],
            evidence=[server, g.user("svc-sql@corp.example")],
        )
    )
    return Estate(
        finance=DeviceGroup.objects.get(name="Finance"),
        servers=DeviceGroup.objects.get(name="Servers"),
        finance_alert=finance_alert,
        finance_incident=finance_alert.incident,
        server_alert=server_alert,
        server_incident=server_alert.incident,
    )


@pytest.fixture
def finance_operator(estate):
    """A Security operator over the Finance device group only."""
    user = UserFactory(username="finance-operator")
    assign_role(user, "Security operator", device_groups=[estate.finance])
    return user
