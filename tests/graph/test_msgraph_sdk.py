"""
Microsoft's own Graph SDK for Python (msgraph-sdk), pointed at Vigil's live server with a Vigil API token: what a
tool written for Microsoft Graph does, it does here. Every answer the SDK parses is checked against the database.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.db import connections
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.security.alert import Alert as GraphAlert
from msgraph.generated.models.security.alert_classification import AlertClassification
from msgraph.generated.models.security.alert_comment import AlertComment
from msgraph.generated.models.security.alert_determination import AlertDetermination
from msgraph.generated.models.security.alert_status import AlertStatus as GraphAlertStatus
from msgraph.generated.models.security.analyzed_message_evidence import AnalyzedMessageEvidence
from msgraph.generated.models.security.cloud_application_evidence import CloudApplicationEvidence
from msgraph.generated.models.security.device_evidence import DeviceEvidence
from msgraph.generated.models.security.file_evidence import FileEvidence
from msgraph.generated.models.security.incident import Incident as GraphIncident
from msgraph.generated.models.security.incident_status import IncidentStatus as GraphIncidentStatus
from msgraph.generated.models.security.ip_evidence import IpEvidence
from msgraph.generated.models.security.kubernetes_pod_evidence import KubernetesPodEvidence
from msgraph.generated.models.security.mail_cluster_evidence import MailClusterEvidence
from msgraph.generated.models.security.mailbox_evidence import MailboxEvidence
from msgraph.generated.models.security.process_evidence import ProcessEvidence
from msgraph.generated.models.security.registry_key_evidence import RegistryKeyEvidence
from msgraph.generated.models.security.registry_value_evidence import RegistryValueEvidence
from msgraph.generated.models.security.url_evidence import UrlEvidence
from msgraph.generated.models.security.user_evidence import UserEvidence
from msgraph.generated.security.alerts_v2.alerts_v2_request_builder import Alerts_v2RequestBuilder
from msgraph.generated.security.incidents.incidents_request_builder import IncidentsRequestBuilder
from msgraph_core import PageIterator

from incidents.models import Alert, Comment, DeviceGroup, Incident
from incidents.services import ingestion
from permissions.services import api_token_create
from permissions.signals import sync_builtin_role_permissions
from portal.models import ActivityLogEntry
from tests.conftest import assign_role
from tests.factories import UserFactory
from tests.graph.support import ingest, powershell_alert
from tests.incidents import graph_samples as g

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _roles_from_migrations(transactional_db):
    """Live-server tests run in databases emptied after each test: put back the built-in roles the migrations make."""
    import_module("permissions.migrations.0002_builtin_roles").create_builtin_roles(apps, None)
    import_module("permissions.migrations.0004_more_builtin_roles_and_assignments").create_roles_and_assignments(
        apps, None
    )
    sync_builtin_role_permissions()


@pytest.fixture(autouse=True)
def _server_connections_closed_after_each_request(monkeypatch):
    # The live server answers each request in a thread of its own: a persistent connection would outlive the thread
    # and keep the test database from being dropped at the end of the run.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture(autouse=True)
def _no_correlation_messages(monkeypatch):
    # These tests correlate synchronously; the Celery messages ingestion sends after commit have no worker here.
    monkeypatch.setattr(ingestion, "_enqueue", lambda *args: None)


class VigilToken(AccessTokenProvider):
    """Hands the SDK a Vigil API token, for the live server's host only."""

    def __init__(self, secret: str, host: str):
        self.secret = secret
        self.hosts = AllowedHostsValidator([host])

    async def get_authorization_token(self, uri, additional_authentication_context=None) -> str:
        return self.secret if self.hosts.is_url_host_valid(uri) else ""

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self.hosts


def graph_client(live_server, user) -> GraphServiceClient:
    _, secret = api_token_create(user=user, name="msgraph-sdk")
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(VigilToken(secret, urlparse(live_server.url).hostname))
    )
    adapter.base_url = live_server.url + "/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def run(coroutine):
    """
    The SDK's coroutine to its end, on an event loop of its own in a thread of its own: the browser tests' Playwright
    keeps an event loop running in the main thread for the whole session, where asyncio.run() refuses to start.
    """
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def ingest_story(device_name: str, group: str, *, title: str, severity: str) -> Alert:
    return ingest(g.alert(title=title, severity=severity, evidence=[g.device(device_name, rbacGroupName=group)]))


@pytest.fixture
def stories():
    """Five Finance stories (one with every common evidence type) and two Servers stories, each its own incident."""
    rich = ingest(powershell_alert("ws-fin-001.corp.example"))
    finance = [rich] + [
        ingest_story(f"ws-fin-{n:03d}.corp.example", "Finance", title=f"Finance story {n}", severity="high")
        for n in range(2, 6)
    ]
    servers = [
        ingest_story(f"srv-{n:02d}.corp.example", "Servers", title=f"Server story {n}", severity="low")
        for n in range(1, 3)
    ]
    return {"rich": rich, "finance": finance, "servers": servers}


def test_it_lists_incidents_with_a_filter_their_alerts_and_pages_following_the_next_link(live_server, stories):
    analyst = UserFactory(username="analyst")
    assign_role(analyst, "Security operator")
    client = graph_client(live_server, analyst)
    parameters = IncidentsRequestBuilder.IncidentsRequestBuilderGetQueryParameters(
        filter="severity eq 'high' and status in ('active', 'inProgress')", expand=["alerts"], top=2, count=True
    )

    async def every_page():
        pages = [await client.security.incidents.get(RequestConfiguration(query_parameters=parameters))]
        while pages[-1].odata_next_link:
            pages.append(await client.security.incidents.with_url(pages[-1].odata_next_link).get())
        return pages

    pages = run(every_page())

    assert [len(page.value) for page in pages] == [2, 2, 1]
    assert pages[0].odata_count == 5
    incidents = [incident for page in pages for incident in page.value]
    assert all(isinstance(incident, GraphIncident) for incident in incidents)
    expected = Incident.objects.filter(severity="high").order_by("-last_update", "-id")
    assert [incident.id for incident in incidents] == [str(pk) for pk in expected.values_list("pk", flat=True)]
    first = expected.first()
    assert incidents[0].display_name == first.display_name
    assert incidents[0].status == GraphIncidentStatus.Active
    assert incidents[0].created_date_time == first.created_at
    assert incidents[0].last_update_date_time == first.last_update
    assert incidents[0].incident_web_url == f"{live_server.url}/incidents/{first.pk}/"
    for incident in incidents:
        assert [alert.id for alert in incident.alerts] == [
            str(pk) for pk in Alert.objects.filter(incident_id=int(incident.id)).values_list("pk", flat=True)
        ]
        assert all(isinstance(alert, GraphAlert) for alert in incident.alerts)


def test_it_reads_alerts_with_their_evidence_typed_as_graph_subtypes(live_server, stories):
    reader = UserFactory(username="reader")
    assign_role(reader, "Security reader")
    client = graph_client(live_server, reader)
    rich = stories["rich"]

    async def read():
        alert = await client.security.alerts_v2.by_alert_id(str(rich.pk)).get()
        parameters = Alerts_v2RequestBuilder.Alerts_v2RequestBuilderGetQueryParameters(
            top=3, orderby=["createdDateTime asc"]
        )
        first_page = await client.security.alerts_v2.get(RequestConfiguration(query_parameters=parameters))
        listed = []
        iterator = PageIterator(first_page, client.request_adapter)
        await iterator.iterate(lambda item: listed.append(item) or True)
        return alert, listed

    alert, listed = run(read())

    assert alert.id == str(rich.pk)
    assert alert.title == "Suspicious PowerShell command line"
    assert alert.incident_id == str(rich.incident_id)
    assert alert.status == GraphAlertStatus.New
    assert alert.created_date_time == rich.created_at
    # Evidence comes in storage order (by entity), not necessarily the order the source listed it in.
    by_type = {type(evidence): evidence for evidence in alert.evidence}
    assert len(alert.evidence) == rich.evidence.count() == 13
    assert set(by_type) == {
        DeviceEvidence,
        UserEvidence,
        MailboxEvidence,
        FileEvidence,
        ProcessEvidence,
        IpEvidence,
        UrlEvidence,
        CloudApplicationEvidence,
        RegistryKeyEvidence,
        RegistryValueEvidence,
        AnalyzedMessageEvidence,
        MailClusterEvidence,
        KubernetesPodEvidence,
    }
    device, user, file = by_type[DeviceEvidence], by_type[UserEvidence], by_type[FileEvidence]
    process, ip, url = by_type[ProcessEvidence], by_type[IpEvidence], by_type[UrlEvidence]
    assert device.device_dns_name == "ws-fin-001.corp.example"
    assert device.mde_device_id == g.device_id("ws-fin-001.corp.example")
    assert user.user_account.user_principal_name == "alice@corp.example"
    assert file.file_details.sha256 == g.sha256_of("file:invoice_2026-0412.exe")
    assert process.process_id == 4242
    assert process.process_command_line.startswith("powershell.exe -NoP -W Hidden -Enc")
    assert ip.ip_address == "198.51.100.24"
    assert url.url == "https://contoso-payments.example/invoice/0412"
    assert by_type[MailboxEvidence].primary_address == "alice@corp.example"
    assert by_type[CloudApplicationEvidence].display_name == "Office 365"
    assert by_type[RegistryValueEvidence].mde_device_id == g.device_id("ws-fin-001.corp.example")
    assert by_type[KubernetesPodEvidence].name == "payments-api-7f9c6d5b8-x2k4q"
    assert [a.id for a in listed] == [
        str(pk) for pk in Alert.objects.order_by("created_at", "id").values_list("pk", flat=True)
    ]


def test_it_changes_an_incident_and_comments_on_it_and_on_an_alert(live_server, stories):
    analyst = UserFactory(username="analyst")
    assign_role(analyst, "Security operator")
    client = graph_client(live_server, analyst)
    incident = stories["finance"][1].incident
    alert = stories["finance"][1]

    async def change():
        changed = await client.security.incidents.by_incident_id(str(incident.pk)).patch(
            GraphIncident(
                status=GraphIncidentStatus.InProgress,
                classification=AlertClassification.TruePositive,
                determination=AlertDetermination.CompromisedAccount,
                assigned_to="analyst@corp.example",
            )
        )
        # msgraph-sdk 1.65 has no request builder for an incident's comments: the request goes through its adapter.
        request = RequestInformation(Method.POST, "{+baseurl}/security/incidents/{id}/comments", {"id": incident.pk})
        request.headers.try_add("Accept", "application/json")
        request.set_content_from_parsable(client.request_adapter, "application/json", AlertComment(comment="Owned."))
        # "XXX" is Kiota's key for every error status: any of them raises ODataError, as the generated builders do.
        incident_comments = await client.request_adapter.send_primitive_async(request, "bytes", {"XXX": ODataError})
        await client.security.alerts_v2.by_alert_id(str(alert.pk)).comments.post([AlertComment(comment="Seen it.")])
        alert_after = await client.security.alerts_v2.by_alert_id(str(alert.pk)).get()
        return changed, json.loads(incident_comments), alert_after

    changed, incident_comments, alert_after = run(change())

    incident.refresh_from_db()
    assert (incident.status, incident.classification, incident.determination, incident.assigned_to) == (
        "inProgress",
        "truePositive",
        "compromisedUser",
        "analyst@corp.example",
    )
    assert changed.status == GraphIncidentStatus.InProgress
    assert changed.determination == AlertDetermination.CompromisedAccount
    assert changed.assigned_to == "analyst@corp.example"
    assert changed.last_update_date_time == incident.last_update
    assert ActivityLogEntry.objects.filter(action="incidents.incident.updated", target_id=str(incident.pk)).exists()
    assert Comment.objects.get(incident=incident).text == "Owned."
    assert [c["comment"] for c in incident_comments["value"]] == ["Owned."]
    assert Comment.objects.get(alert=alert).text == "Seen it."
    assert [(c.comment, c.created_by_display_name) for c in alert_after.comments] == [("Seen it.", "analyst")]
    # Assigning the incident assigned its alert, as in the portal.
    assert alert_after.assigned_to == "analyst@corp.example"


def test_a_token_scoped_to_one_device_group_sees_and_changes_only_that_group(live_server, stories):
    operator = UserFactory(username="finance-operator")
    assign_role(operator, "Security operator", device_groups=[DeviceGroup.objects.get(name="Finance")])
    client = graph_client(live_server, operator)
    server_incident = stories["servers"][0].incident

    async def try_both():
        listed = await client.security.incidents.get()
        with pytest.raises(ODataError) as refused:
            await client.security.incidents.by_incident_id(str(server_incident.pk)).patch(
                GraphIncident(status=GraphIncidentStatus.InProgress)
            )
        return listed, refused.value

    listed, refused = run(try_both())

    assert {incident.id for incident in listed.value} == {str(a.incident_id) for a in stories["finance"]}
    assert refused.response_status_code == 404
    assert refused.error.code == "NotFound"
    server_incident.refresh_from_db()
    assert server_incident.status == "active"
