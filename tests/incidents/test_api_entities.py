"""/api/entities/: the devices, users, files and addresses the caller may see, by kind and by key or name."""

import pytest
from rest_framework.test import APIClient

from tests.api_clients import api_for, listed_ids
from tests.factories import AlertFactory, DeviceGroupFactory, EntityFactory, EvidenceFactory

pytestmark = pytest.mark.django_db

LIST = "/api/entities/"


@pytest.fixture
def api(reader) -> APIClient:
    return api_for(reader)


@pytest.fixture
def estate():
    group = DeviceGroupFactory(name="Servers")
    return {
        "server": EntityFactory(
            kind="device", key="srv-db01.corp.example", device_group=group, os_platform="WindowsServer2022"
        ),
        "laptop": EntityFactory(kind="device", key="lt-alice.corp.example"),
        "alice": EntityFactory(kind="user", key="alice@corp.example", display_name="Alice Ward"),
        "address": EntityFactory(kind="ip", key="203.0.113.7"),
    }


def test_it_lists_entities_by_kind_then_name(api, estate):
    listed = listed_ids(api.get(LIST))

    assert listed == [estate[name].pk for name in ("laptop", "server", "address", "alice")]


def test_it_shows_an_entity_with_its_device_group_and_page(api, estate):
    server = estate["server"]

    response = api.get(f"{LIST}{server.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["key"], body["display_name"]) == ("device", "srv-db01.corp.example", server.display_name)
    assert body["device_group"] == server.device_group_id
    assert body["os_platform"] == "WindowsServer2022"
    assert body["url"] == f"http://testserver/entities/{server.pk}/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=user", ["alice"]),
        ("kind=device&kind=ip", ["laptop", "server", "address"]),
        ("q=ALICE@corp.example", ["alice"]),
        ("q=ward", ["alice"]),
        ("q=203.0.113.7", ["address"]),
        ("q=db01", ["server"]),
        ("q=nothing-like-it", []),
    ],
)
def test_it_filters_by_kind_and_searches_keys_and_names(api, estate, query, expected):
    assert listed_ids(api.get(f"{LIST}?{query}")) == [estate[name].pk for name in expected]


def test_an_unknown_kind_answers_400(api, estate):
    response = api.get(f"{LIST}?kind=spaceship")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["kind"]


def test_a_missing_entity_answers_404(api):
    assert api.get(f"{LIST}987654321/").status_code == 404


@pytest.mark.parametrize("page_size", [3, 30])
def test_the_list_costs_the_same_queries_whatever_the_page_size(reader, django_assert_num_queries, page_size):
    group = DeviceGroupFactory()
    alert = AlertFactory(device_group_ids=[group.pk])
    for n in range(15):
        EntityFactory(kind="device", key=f"ws{n}.corp.example", device_group=group)
        EvidenceFactory(alert=alert, entity=EntityFactory(kind="user", key=f"user{n}@corp.example"))
    client = api_for(reader)

    # What the reader holds, the count and the page.
    with django_assert_num_queries(3):
        response = client.get(f"{LIST}?limit={page_size}")

    assert len(response.json()["results"]) == page_size
