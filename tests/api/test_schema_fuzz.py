"""
Fuzzing the API from its own OpenAPI description: schemathesis generates requests for every operation of
/api/schema/, valid ones (from the schemas and examples) and invalid ones (each breaking one thing the description
says), sends them as an authenticated administrator, and checks that the API does what the description says: no
answer is a 5xx, every answer matches what the description promises (status code, content type, headers, body
schema), every invalid request is refused and every valid one accepted, unless what makes it acceptable is the
estate's to decide rather than the description's (REFUSED_FOR_THE_ESTATE: an id of an object that does not exist,
a cursor the list did not hand out, a built-in role).

The description is generated in-process, as /api/schema/ serves it, and the requests go through the WSGI
application in the test's own transaction, each in a savepoint rolled back after it, so that every request meets the
same small estate and the run leaves nothing behind. Generation is derandomized and bounded per operation, so a run
is repeatable and takes a bounded time.
"""

import json
from dataclasses import dataclass

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.jsonschema import make_validator
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from incidents.graph.openapi import FILTER_FORMAT, ORDERBY_FORMAT
from permissions.services import api_token_create
from portal.graph.paging import SKIPTOKEN_REFUSED
from tests.api import odata
from tests.conftest import assign_role
from tests.factories import (
    AlertFactory,
    DeviceGroupFactory,
    EntityFactory,
    EvidenceFactory,
    IncidentFactory,
    UserFactory,
)

EXAMPLES_PER_OPERATION = 50
ESTATE_ID = 7_340_033
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# Valid requests the API may still refuse (400), because what makes them acceptable is the estate, which no schema
# can say: the ids and names of other objects (a role, a user, device groups, incidents), the cursors a list hands
# out for its next page, the state of the object a change is made to (a built-in role cannot be changed). The
# refusal must name only these fields; anything else a valid request is refused for fails the test.
REFUSED_FOR_THE_ESTATE = {
    "GET /api/activity/": {"cursor"},
    "GET /api/alerts/": {"cursor"},
    "GET /api/incidents/": {"cursor"},
    "GET /api/incidents/{id}/alerts/": {"cursor"},
    "POST /api/alerts/{id}/move/": {"incident"},
    "POST /api/device-groups/{id}/devices/add/": {"devices"},
    "POST /api/device-groups/{id}/devices/remove/": {"devices"},
    "POST /api/incidents/merge/": {"incidents"},
    "POST /api/role-assignments/": {"role", "user", "group", "device_groups"},
    # A request made with an API token creates tokens expiring no later than that token.
    "POST /api/tokens/": {"user", "expires_at"},
    # The built-in roles (the data migration's first ids) keep their name and permissions.
    "PUT /api/roles/{id}/": {"non_field_errors"},
    "PATCH /api/roles/{id}/": {"non_field_errors"},
    "DELETE /api/roles/{id}/": {"non_field_errors"},
    # The estate's administrator is the last one able to manage roles.
    "PUT /api/role-assignments/{id}/": {"device_groups", "non_field_errors"},
    "PATCH /api/role-assignments/{id}/": {"device_groups", "non_field_errors"},
    "DELETE /api/role-assignments/{id}/": {"non_field_errors"},
}

# OData's syntaxes, which the description names by format: valid values come from the property catalogue.
schemathesis.openapi.format(FILTER_FORMAT, odata.filters)
schemathesis.openapi.format(ORDERBY_FORMAT, odata.orderings)

CONFIG = SchemathesisConfig.from_dict(
    {
        # PostgreSQL text cannot hold NUL: every string the API takes refuses it, which the description does not
        # repeat for each of them. The credentials are the fixture's, not generated ones.
        "generation": {"allow-x00": False, "with-security-parameters": False},
        # schemathesis's refusals, and 413 (Content Too Large) for too many alerts in one push.
        "checks": {"negative_data_rejection": {"expected-statuses": [*REFUSALS, "413"]}},
    }
)


def _description() -> dict:
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_description(), config=CONFIG)
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


@dataclass(frozen=True)
class Estate:
    token: str  # an administrator's
    device_group: int


@pytest.fixture
def estate(db, in_test_transaction) -> Estate:
    """
    A small estate: a device group, a device, an incident with an alert, and an administrator's token. Its objects
    have ids of their own, far from the ones the sequences hand out by the time this test runs (which depends on the
    tests before it) and from the ones generated, so that the cases meet the same estate in every run.
    """
    group = DeviceGroupFactory(pk=ESTATE_ID, name="Fuzzed")
    device = EntityFactory(pk=ESTATE_ID, kind="device", key="ws-fuzz.corp.example", device_group=group)
    incident = IncidentFactory(pk=ESTATE_ID, display_name="Fuzzed incident", device_group_ids=[group.pk])
    alert = AlertFactory(pk=ESTATE_ID, incident=incident, title="Fuzzed alert", device_group_ids=[group.pk])
    EvidenceFactory(alert=alert, entity=device)
    user = UserFactory(username="fuzzer")
    assign_role(user, "Security administrator")
    _, secret = api_token_create(user=user, name="Fuzzing")
    return Estate(token=secret, device_group=group.pk)


def _naming_the_estate(case, estate: Estate) -> None:
    """
    A valid request filters the incident and alert lists by a device group of the estate rather than a made-up id
    (which is refused, as it should be), so that the lists' other filters are tried with it.
    """
    if case.meta.generation.mode.is_positive and isinstance(case.query, dict) and "device_group" in case.query:
        case.query = {**case.query, "device_group": [estate.device_group]}


def _checks_for(case) -> list:
    """
    The checks of a case. schemathesis makes an invalid body by breaking one branch of a oneOf or anyOf, which can
    make a body another branch takes (an alert ingested alone, broken into a list of alerts): such a body is not
    invalid, and is not expected to be refused.
    """
    meta = case.meta
    only_the_body_is_invalid = meta.is_negative_at(ParameterLocation.BODY) and not any(
        component.mode.is_negative
        for location, component in meta.components.items()
        if location != ParameterLocation.BODY
    )
    body = case.operation.get_body_for_media_type(case.media_type) if case.media_type else None
    # A body of bytes is not JSON at all: invalid whatever the schema.
    if only_the_body_is_invalid and body is not None and not isinstance(case.body, bytes):
        validator = make_validator(body.optimized_schema, case.operation.schema.adapter.jsonschema_validator_cls)
        if validator.is_valid(case.body):
            return [check for check in CHECKS if check is not negative_data_rejection]
    return CHECKS


def _refused_for_the_estate(case, response) -> bool:
    """
    Whether a refusal is the estate's to decide: a change based on a version the object is not at (412, If-Match),
    a 400 naming only the fields of REFUSED_FOR_THE_ESTATE, or Graph's for a $skiptoken it did not hand out.
    """
    if response.status_code == 412:
        return True
    if response.status_code != 400:
        return False
    body = response.json()
    if case.operation.path.startswith("/v1.0/"):
        return body["error"]["message"] == SKIPTOKEN_REFUSED
    # A list's items are named field.index ("device_groups.0").
    fields = {name.split(".", 1)[0] for name in body.get("errors", {})}
    return bool(fields) and fields <= REFUSED_FOR_THE_ESTATE.get(case.operation.label, set())


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_generated_requests_as_described(case, estate):
    _naming_the_estate(case, estate)
    # Each request in a savepoint of its own, rolled back: what one request creates cannot make the next refused.
    with transaction.atomic():
        response = case.call(app=APP, headers={"Authorization": f"Bearer {estate.token}"})
        transaction.set_rollback(True)

    case.validate_response(response, checks=_checks_for(case))
    if not _refused_for_the_estate(case, response):
        case.validate_response(response, checks=[positive_data_acceptance])
