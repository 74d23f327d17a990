"""
The API takes what its OpenAPI description says and refuses the rest, found by the fuzzing of test_schema_fuzz and
pinned here one by one: values of another JSON type than the described one are refused rather than converted, a
paging value it cannot use is refused rather than read as the default, an empty query value is the parameter left
out, a device's unknown risk score is null, a list of incidents to merge names each once, and Graph's `$filter`
takes a one-value list after `in`.
"""

import pytest

from incidents.models import Incident
from portal.catalogue import VIEW_SECURITY_DATA
from tests.api_clients import api_for, bearer_for, listed_ids
from tests.factories import DeviceGroupFactory, EntityFactory, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin_user):
    return api_for(admin_user)


def _refused_field(response) -> list[str]:
    assert response.status_code == 400, response.content
    return list(response.json()["errors"])


# --- JSON types -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/resources/", {"name": 0, "url": "https://zero.example/"}, "name"),
        ("/api/resources/", {"name": "Zero", "url": "https://zero.example/", "is_hidden": 0}, "is_hidden"),
        ("/api/resources/", {"name": "Zero", "url": "https://zero.example/", "description": 0}, "description"),
        ("/api/roles/", {"name": 7, "permissions": [VIEW_SECURITY_DATA]}, "name"),
        (
            "/api/roles/",
            {"name": "Seven", "permissions": [VIEW_SECURITY_DATA], "require_two_factor": 1},
            "require_two_factor",
        ),
        ("/api/device-groups/", {"name": 0}, "name"),
        ("/api/device-groups/", {"name": "Zero", "rank": "5"}, "rank"),
        ("/api/device-groups/", {"name": "Zero", "apply_pattern": "true"}, "apply_pattern"),
        ("/api/tokens/", {"name": 0}, "name"),
        ("/api/tokens/", {"name": "Thirty", "expires_in_days": "30"}, "expires_in_days"),
        ("/api/role-assignments/", {"role": "1", "user": "admin"}, "role"),
        ("/api/role-assignments/", {"role": 1, "user": "admin", "all_data": "yes"}, "all_data"),
    ],
)
def test_a_value_of_another_json_type_than_described_is_refused_not_converted(api, path, body, field):
    assert _refused_field(api.post(path, body, format="json")) == [field]


def test_a_merge_names_incidents_by_their_integer_ids(api):
    first, second = IncidentFactory(), IncidentFactory()

    response = api.post(
        "/api/incidents/merge/", {"incidents": [str(first.pk), str(second.pk)], "reason": "One story."}, format="json"
    )

    assert _refused_field(response) == ["incidents.0", "incidents.1"]
    assert not Incident.objects.filter(redirect_incident__isnull=False).exists()


def test_a_merge_that_names_an_incident_twice_is_refused(api):
    first, second = IncidentFactory(), IncidentFactory()

    response = api.post(
        "/api/incidents/merge/", {"incidents": [first.pk, first.pk, second.pk], "reason": "One story."}, format="json"
    )

    assert response.json()["errors"] == {"incidents": ["Name each incident once."]}
    assert not Incident.objects.filter(redirect_incident__isnull=False).exists()


def test_a_comment_is_text(api):
    incident = IncidentFactory()

    assert _refused_field(api.post(f"/api/incidents/{incident.pk}/comments/", {"text": 5}, format="json")) == ["text"]


# --- Query strings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=ten", "limit"),
        ("limit=0", "limit"),
        ("limit=%C2%B2", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
    ],
)
def test_a_limit_or_offset_the_list_cannot_use_is_refused_not_read_as_the_default(api, query, field):
    assert _refused_field(api.get(f"/api/resources/?{query}")) == [field]


def test_a_limit_beyond_the_ceiling_reads_as_the_ceiling(api):
    for number in range(3):
        DeviceGroupFactory(name=f"Group {number}")

    body = api.get("/api/device-groups/?limit=100000&offset=1").json()

    assert len(body["results"]) == body["count"] - 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/incidents/?cursor=&page_size=&ordering=&since=&until=&range=",
        "/api/alerts/?cursor=&page_size=",
        "/api/activity/?cursor=&actor=&target_type=&since=",
        "/api/resources/?limit=&offset=",
        "/api/role-assignments/?role=&limit=",
        "/api/tokens/?whose=",
    ],
)
def test_a_query_parameter_sent_empty_is_the_parameter_left_out(api, path):
    IncidentFactory()
    without = path.split("?", 1)[0]

    response = api.get(path)

    assert response.status_code == 200, response.content
    assert response.json()["results"] == api.get(without).json()["results"]


def test_an_empty_cursor_is_the_first_page(api):
    incidents = [IncidentFactory() for _ in range(3)]

    assert listed_ids(api.get("/api/incidents/?cursor=&page_size=2&ordering=created_at")) == [
        incident.pk for incident in incidents[:2]
    ]


def test_the_description_says_which_query_parameters_may_be_sent_empty(api):
    description = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {p["name"]: p for p in description["paths"]["/api/incidents/"]["get"]["parameters"]}

    assert parameters["since"].get("allowEmptyValue") is True
    assert parameters["page_size"].get("allowEmptyValue") is True
    assert parameters["ordering"].get("allowEmptyValue") is True
    assert "allowEmptyValue" not in parameters["severity"]  # a list: `severity=` is an invalid value


# --- What answers hold ------------------------------------------------------------------------------------------


def test_a_device_no_source_rated_has_a_null_risk_score_in_both_device_lists(api):
    group = DeviceGroupFactory(name="Unrated")
    device = EntityFactory(kind="device", key="ws-unrated.corp.example", device_group=group, risk_score="")
    rated = EntityFactory(kind="device", key="ws-rated.corp.example", device_group=group, risk_score="low")

    in_group = {
        row["id"]: row["risk_score"] for row in api.get(f"/api/device-groups/{group.pk}/devices/").json()["results"]
    }

    assert in_group == {device.pk: None, rated.pk: "low"}
    assert api.get(f"/api/entities/{device.pk}/").json()["risk_score"] is None


# --- Graph ------------------------------------------------------------------------------------------------------


def test_graph_filters_take_a_one_value_list_after_in(admin_user):
    active, _resolved = IncidentFactory(status="active"), IncidentFactory(status="resolved")
    graph = bearer_for(admin_user)

    response = graph.get("/v1.0/security/incidents", {"$filter": "status in ('active')"})

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["value"]] == [str(active.pk)]
    spaced = graph.get(
        "/v1.0/security/incidents", {"$filter": f"not (status in ( 'resolved' )) and id in ('{active.pk}')"}
    )
    assert [item["id"] for item in spaced.json()["value"]] == [str(active.pk)]
