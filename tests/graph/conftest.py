"""
Fixtures of the Graph-compatible API tests: clients holding a real bearer token (as Graph clients authenticate), and
an estate of alerts that came in as Graph JSON and were correlated into incidents, as in production.
"""

from dataclasses import dataclass

import pytest

from incidents.models import Alert, DeviceGroup, Incident
from tests.api_clients import bearer_for
from tests.conftest import assign_role
from tests.factories import UserFactory
from tests.graph.support import ingest, powershell_alert
from tests.incidents import graph_samples as g


@pytest.fixture
def graph_as():
    return bearer_for


@pytest.fixture
def admin_api(admin_user):
    return bearer_for(admin_user)


@pytest.fixture
def analyst_api(analyst):
    return bearer_for(analyst)


@dataclass
class Estate:
    """Two stories, each on its own device group: a workstation in Finance and a server in Servers."""

    finance: DeviceGroup
    servers: DeviceGroup
    finance_alert: Alert
    finance_incident: Incident
    server_alert: Alert
    server_incident: Incident


@pytest.fixture
def estate(db) -> Estate:
    finance_alert = ingest(powershell_alert("ws-fin-042.corp.example"))
    server_alert = ingest(
        g.alert(
            title="Credential dumping on a database server",
            severity="medium",
            category="CredentialAccess",
            mitreTechniques=["T1003.001"],
            evidence=[g.device("srv-db-01.corp.example", rbacGroupName="Servers"), g.user("svc-sql@corp.example")],
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
