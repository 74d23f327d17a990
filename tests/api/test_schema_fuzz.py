"""
Fuzzing the API from its own OpenAPI description: schemathesis generates requests for every operation of
/api/schema/ (valid ones from the schemas and examples, and invalid ones around them), sends them as an
authenticated administrator, and checks that no answer is a 5xx and that every answer matches what the description
promises (status code, content type, body schema).

The description is generated in-process, as /api/schema/ serves it, and the requests go through the WSGI
application in the test's own transaction, so each run starts from the same small estate and leaves nothing behind.
Generation is derandomized and bounded per operation, so a run is repeatable and takes a bounded time.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from permissions.services import api_token_create
from tests.conftest import assign_role
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    UserFactory,
)

EXAMPLES_PER_OPERATION = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _description() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_description())
APP = get_wsgi_application()


@pytest.fixture
def in_test_transaction():
    """
    Requests share the test's database connection, as Django's test client arranges: the WSGI handler would close it
    at the end of each request (and with it the test's transaction).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(db, in_test_transaction):
    """An administrator's token, over a small estate: a device group, a device, an incident with an alert."""
    group = DeviceGroupFactory(name="Fuzzed")
    device = EntityFactory(kind="device", key="ws-fuzz.corp.example", device_group=group)
    incident = IncidentFactory(display_name="Fuzzed incident", device_group_ids=[group.pk])
    alert = AlertFactory(incident=incident, title="Fuzzed alert", device_group_ids=[group.pk])
    EvidenceFactory(alert=alert, entity=device)
    user = UserFactory(username="fuzzer")
    assign_role(user, "Security administrator")
    _, secret = api_token_create(user=user, name="Fuzzing")
    return secret


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_generated_requests_without_a_5xx_and_as_described(case, fuzz_token):
    response = case.call(app=APP, headers={"Authorization": f"Bearer {fuzz_token}"})

    case.validate_response(response, checks=CHECKS)
