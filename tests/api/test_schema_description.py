"""
The OpenAPI description at /api/schema/ describes every endpoint completely: an operation id, the request body of
every write, a schema for every success answer (but 204), the error answers, and at least one example, so that a
client can be written from the description alone (an operation without a body either way, such as a DELETE
answering 204, needs no example).
"""

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

WRITES = {"post", "put", "patch"}


@pytest.fixture
def description(admin_user, client):
    client.force_login(admin_user)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _operations(description):
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", method, operation


def _has_example(description, operation) -> bool:
    contents = [operation.get("requestBody", {}).get("content", {})]
    contents += [answer.get("content", {}) for answer in operation["responses"].values()]
    inline = any("example" in media or "examples" in media for content in contents for media in content.values())
    parameters = any("example" in p or "examples" in p for p in operation.get("parameters", []))
    return inline or parameters


def test_the_description_is_valid_openapi_3(description):
    validate_schema(description)
    assert description["openapi"].startswith("3.")


def test_it_describes_the_native_api_and_the_graph_compatible_one(description):
    paths = set(description["paths"])

    assert {"/api/incidents/", "/api/alerts/", "/api/ingest/alerts", "/api/resources/"} <= paths
    assert any(path.startswith("/v1.0/security/") for path in paths)


def test_every_operation_is_described_completely(description):
    gaps = []
    for name, method, operation in _operations(description):
        if not operation.get("operationId"):
            gaps.append(f"{name}: no operation id")
        if method in WRITES and "requestBody" not in operation and not operation.get("parameters"):
            gaps.append(f"{name}: a write without a described request")
        successes = {code: answer for code, answer in operation["responses"].items() if code.startswith("2")}
        if not successes:
            gaps.append(f"{name}: no success answer")
        for code, answer in successes.items():
            if code != "204" and not answer.get("content"):
                gaps.append(f"{name}: answer {code} without a schema")
        if not {"401", "403"} <= set(operation["responses"]):
            gaps.append(f"{name}: the refusals (401, 403) are not described")
        # An operation that takes no body and answers none (a DELETE's 204) has nothing to show in an example.
        shows_data = "requestBody" in operation or any(code != "204" for code in successes)
        if shows_data and not _has_example(description, operation):
            gaps.append(f"{name}: no example")

    assert not gaps, "\n".join(gaps)


def test_operations_are_grouped_and_named_by_their_resource_not_by_the_api_prefix(description):
    operations = list(_operations(description))

    assert not [name for name, _, operation in operations if operation.get("tags") in (["api"], ["v1.0"])]
    assert {"resources_list", "incidents_list", "device_groups_list"} <= {op["operationId"] for _, _, op in operations}


def test_every_error_answer_is_described_with_the_error_body_of_its_api(description):
    for name, _, operation in _operations(description):
        expected = "GraphError" if name.split(" ", 1)[1].startswith("/v1.0/") else "Error"
        for code, answer in operation["responses"].items():
            if code.startswith(("4", "5")) and answer.get("content"):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, f"{name} {code}"
