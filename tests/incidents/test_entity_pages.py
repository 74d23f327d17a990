"""The entity pages, through the Django test client."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from incidents.models import Entity, IncidentEntity
from tests.factories import AlertFactory, DeviceGroupFactory, EntityFactory, EvidenceFactory, IncidentFactory
from tests.incidents.alert_builders import device, graph_alert, ingest_and_correlate, ip, user

pytestmark = pytest.mark.django_db


def ago(**delta):
    return timezone.now() - timedelta(**delta)


def entity_url(entity):
    return reverse("incidents:entity", args=[entity.pk])


def alert_links(content: str) -> list[int]:
    rows = re.findall(r'data-testid="entity-alert-row">\s*<td><a href="/alerts/(\d+)/"', content)
    return [int(pk) for pk in rows]


def incident_links(content: str) -> list[int]:
    rows = re.findall(r'data-testid="entity-incident-row">\s*<td><a href="/incidents/(\d+)/"', content)
    return [int(pk) for pk in rows]


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def two_stories():
    """A device seen in two separate incidents (a day apart) and an IP address seen in only the second."""
    first = ingest_and_correlate(
        graph_alert(device("ws-ent.corp.example", group="Workstations"), user("erin@corp.example"), at=ago(days=3)),
    )
    second = ingest_and_correlate(
        graph_alert(
            device("ws-ent.corp.example", group="Workstations"),
            ip("203.0.113.9"),
            at=ago(hours=5),
            title="Connection to a known bad address",
        ),
    )
    return first[0], second[0]


def test_a_device_page_says_what_it_is_and_lists_its_alerts_and_incidents(signed_in, two_stories):
    first, second = two_stories
    assert first.incident_id != second.incident_id
    ws = Entity.objects.get(kind="device", key="ws-ent.corp.example")
    response = signed_in.get(entity_url(ws))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="entity-kind">Device<' in content
    assert 'data-testid="entity-name">ws-ent<' in content
    assert "<code>ws-ent.corp.example</code>" in content
    assert 'data-testid="entity-device-group">Workstations<' in content
    assert "Windows11" in content
    # Newest first, each linked; incidents distinct.
    assert alert_links(content) == [second.pk, first.pk]
    assert sorted(incident_links(content)) == sorted([first.incident_id, second.incident_id])
    assert 'data-testid="entity-alert-count">2<' in content
    assert 'data-testid="entity-incident-count">2<' in content
    # Attributes from the evidence, as a definition list.
    assert "<dt>osPlatform</dt>" in content


def test_an_ip_page_lists_only_the_alerts_naming_it(signed_in, two_stories):
    _, second = two_stories
    address = Entity.objects.get(kind="ip")
    content = signed_in.get(entity_url(address)).content.decode()
    assert alert_links(content) == [second.pk]
    assert incident_links(content) == [second.incident_id]
    assert "Device group" not in content  # only devices have one


def test_an_incident_linked_to_the_entity_counts_once(signed_in):
    entity = EntityFactory(kind="user", key="dave@corp.example", attributes={"userAccount": {"upn": "dave"}})
    incident = IncidentFactory()
    IncidentEntity.objects.create(incident=incident, entity=entity)
    for hours in (1, 2, 3):
        EvidenceFactory(entity=entity, alert=AlertFactory(incident=incident, created_at=ago(hours=hours)))
    content = signed_in.get(entity_url(entity)).content.decode()
    assert incident_links(content) == [incident.pk]
    assert 'data-testid="entity-incident-count">1<' in content
    assert len(alert_links(content)) == 3
    # A nested attribute is shown as JSON, not as a Python repr.
    assert "&quot;upn&quot;: &quot;dave&quot;" in content


def test_the_entity_alerts_are_paginated_newest_first(signed_in):
    entity = EntityFactory()
    alerts = [AlertFactory(created_at=ago(minutes=n)) for n in range(1, 31)]
    for alert in alerts:
        EvidenceFactory(alert=alert, entity=entity)
    first_page = signed_in.get(entity_url(entity)).content.decode()
    assert alert_links(first_page) == [alert.pk for alert in alerts[:25]]
    second = signed_in.get(entity_url(entity), {"page": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="entity-alerts")
    assert "<html" not in second.content.decode()
    assert alert_links(second.content.decode()) == [alert.pk for alert in alerts[25:]]
    # Past the end → the last page, never an error.
    assert alert_links(signed_in.get(entity_url(entity), {"page": "99"}).content.decode()) == [
        alert.pk for alert in alerts[25:]
    ]
    assert signed_in.get(entity_url(entity), {"page": "x"}).status_code == 200


def test_an_entity_with_no_alerts_says_so(signed_in):
    content = signed_in.get(entity_url(EntityFactory())).content.decode()
    assert "No alert you can see names this device." in content
    assert "Not part of any incident you can see." in content


def test_unknown_entities_answer_404(signed_in):
    assert signed_in.get(reverse("incidents:entity", args=[987654])).status_code == 404


def test_a_reader_may_open_entity_pages_and_an_outsider_may_not(client, reader, outsider, two_stories):
    ws = Entity.objects.get(kind="device")
    client.force_login(reader)
    assert client.get(entity_url(ws)).status_code == 200
    client.force_login(outsider)
    assert client.get(entity_url(ws)).status_code == 403


def test_entity_names_on_the_alert_page_lead_here(signed_in, two_stories):
    first, _ = two_stories
    erin = Entity.objects.get(kind="user")
    content = signed_in.get(reverse("incidents:alert_detail", args=[first.pk])).content.decode()
    assert f'href="{entity_url(erin)}">erin@corp.example</a>' in content
    content = signed_in.get(entity_url(erin)).content.decode()
    assert alert_links(content) == [first.pk]


def _entity_with_alerts(count):
    group = DeviceGroupFactory()
    entity = EntityFactory(device_group=group, attributes={"osPlatform": "Windows11"})
    for _ in range(count):
        incident = IncidentFactory()
        IncidentEntity.objects.create(incident=incident, entity=entity)
        EvidenceFactory(entity=entity, alert=AlertFactory(incident=incident))
    return entity


def test_the_entity_page_costs_the_same_queries_for_5_or_30_rows(signed_in, django_assert_num_queries):
    few, many = _entity_with_alerts(5), _entity_with_alerts(30)
    signed_in.get(entity_url(few))  # warm the session and content-type caches
    with django_assert_num_queries(8):
        content = signed_in.get(entity_url(few)).content.decode()
    assert len(alert_links(content)) == 5 and len(incident_links(content)) == 5
    with django_assert_num_queries(8):
        content = signed_in.get(entity_url(many)).content.decode()
    assert len(alert_links(content)) == 25 and len(incident_links(content)) == 30
