import pytest
from django.test import RequestFactory

from incidents.filters import AlertFilterSet, IncidentFilterSet
from incidents.models import Alert, Incident
from incidents.services.correlation import alerts_correlate
from incidents.services.ingestion import ingest_alerts

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_incidents():
    device = "#microsoft.graph.security.deviceEvidence"
    result = ingest_alerts(
        [
            {
                "id": "da-filter-1",
                "title": "Credential theft",
                "severity": "high",
                "serviceSource": "microsoftDefenderForEndpoint",
                "category": "CredentialAccess",
                "evidence": [{"@odata.type": device, "deviceDnsName": "ws-a.corp.example", "rbacGroupName": "HQ"}],
            },
            {
                "id": "ad-filter-2",
                "title": "Risky sign-in",
                "severity": "low",
                "serviceSource": "azureAdIdentityProtection",
                "category": "InitialAccess",
                "evidence": [
                    {
                        "@odata.type": "#microsoft.graph.security.userEvidence",
                        "userAccount": {"userPrincipalName": "bob@corp.example"},
                    }
                ],
            },
        ],
        source="test",
    )
    ids = alerts_correlate(alert_ids=result.accepted)
    high = Incident.objects.get(alerts__provider_alert_id="da-filter-1")
    low = Incident.objects.get(alerts__provider_alert_id="ad-filter-2")
    assert len(set(ids.values())) == 2
    return high, low


def _incidents(query, user):
    # The filters look up device groups and entities in the user's scope, so they always filter for someone.
    request = RequestFactory().get("/incidents/", query)
    request.user = user
    return set(IncidentFilterSet(request.GET, queryset=Incident.objects.all(), request=request).qs)


def test_it_filters_incidents_by_severity_source_category_and_group(two_incidents, analyst):
    high, low = two_incidents
    assert _incidents({"severity": ["high"]}, analyst) == {high}
    assert _incidents({"severity": ["high", "low"]}, analyst) == {high, low}
    assert _incidents({"service_source": ["azureAdIdentityProtection"]}, analyst) == {low}
    assert _incidents({"category": "CredentialAccess"}, analyst) == {high}
    assert _incidents({"device_group": [high.device_group_ids[0]]}, analyst) == {high}


def test_it_finds_incidents_by_name_id_and_impacted_entity(two_incidents, analyst):
    high, low = two_incidents
    assert _incidents({"q": "ws-a.corp.example"}, analyst) == {high}
    assert _incidents({"q": "BOB@corp.example"}, analyst) == {low}
    assert _incidents({"q": str(low.pk)}, analyst) == {low}
    assert _incidents({"q": "Risky"}, analyst) == {low}


def test_it_filters_by_assignee(two_incidents, analyst):
    high, low = two_incidents
    Incident.objects.filter(pk=high.pk).update(assigned_to="analyst")
    assert _incidents({"assigned": "me"}, analyst) == {high}
    assert _incidents({"assigned": "unassigned"}, analyst) == {low}


def test_it_filters_alerts_by_status_and_search(two_incidents, analyst):
    request = RequestFactory().get("/alerts/", {"status": ["new"], "q": "ad-filter-2"})
    request.user = analyst
    found = AlertFilterSet(request.GET, queryset=Alert.objects.all(), request=request).qs
    assert [alert.provider_alert_id for alert in found] == ["ad-filter-2"]
