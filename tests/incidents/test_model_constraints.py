"""
The database itself refuses rows the Graph API could not emit.

Every write here goes through `Model.objects.create` or `bulk_create`, which skip `full_clean`: what is tested is
the PostgreSQL constraint, not Django validation. Each refusal runs in its own savepoint so the test transaction
stays usable for the assertions that follow.
"""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.choices import (
    AlertStatus,
    Classification,
    EntityKind,
    EvidenceVerdict,
    IncidentStatus,
    ServiceSource,
    Severity,
)
from incidents.models import COMMENT_MAX_LENGTH, Alert, Comment, Entity, Evidence, Incident
from tests.factories import AlertFactory, EntityFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def _entity_values(**overrides):
    now = timezone.now()
    return {
        "kind": EntityKind.DEVICE,
        "key": "ws1.corp.example",
        "display_name": "ws1.corp.example",
        "first_seen": now,
        "last_seen": now,
        **overrides,
    }


def _alert_values(**overrides):
    now = timezone.now()
    return {
        "provider_alert_id": "da637000000000000001",
        "title": "Suspicious PowerShell command line",
        "service_source": ServiceSource.DEFENDER_FOR_ENDPOINT,
        "created_at": now - timedelta(minutes=5),
        "last_update": now,
        **overrides,
    }


@contextmanager
def _refused(constraint_name):
    """Run the body in a savepoint and expect PostgreSQL to refuse it, naming `constraint_name`."""
    with pytest.raises(IntegrityError, match=constraint_name), transaction.atomic():
        yield


# --- Entity -----------------------------------------------------------------------------------------------------


def test_it_refuses_a_second_entity_with_the_same_kind_and_key():
    Entity.objects.create(**_entity_values())

    with _refused("entity_kind_key_unique"):
        Entity.objects.create(**_entity_values(display_name="WS1 again"))

    assert Entity.objects.filter(kind=EntityKind.DEVICE, key="ws1.corp.example").count() == 1


def test_it_refuses_a_duplicate_entity_inside_one_bulk_insert():
    with _refused("entity_kind_key_unique"):
        Entity.objects.bulk_create([Entity(**_entity_values()), Entity(**_entity_values())])

    assert not Entity.objects.filter(key="ws1.corp.example").exists()


def test_it_accepts_the_same_key_under_a_different_entity_kind():
    Entity.objects.create(**_entity_values(kind=EntityKind.DEVICE, key="alice"))
    Entity.objects.create(**_entity_values(kind=EntityKind.USER, key="alice"))

    assert set(Entity.objects.filter(key="alice").values_list("kind", flat=True)) == {"device", "user"}


def test_it_refuses_an_entity_with_an_empty_key():
    with _refused("entity_key_not_empty"):
        Entity.objects.create(**_entity_values(key=""))

    assert not Entity.objects.exists()


# --- Alert deduplication ----------------------------------------------------------------------------------------


def test_it_refuses_a_second_alert_with_the_same_service_source_and_provider_alert_id():
    Alert.objects.create(**_alert_values())

    with _refused("alert_source_provider_id_unique"):
        Alert.objects.create(**_alert_values(title="The same alert sent again"))

    assert Alert.objects.filter(provider_alert_id="da637000000000000001").count() == 1


def test_it_accepts_the_same_provider_alert_id_from_a_different_service_source():
    Alert.objects.create(**_alert_values(service_source=ServiceSource.DEFENDER_FOR_ENDPOINT))
    Alert.objects.create(**_alert_values(service_source=ServiceSource.DEFENDER_FOR_IDENTITY))

    assert set(
        Alert.objects.filter(provider_alert_id="da637000000000000001").values_list("service_source", flat=True)
    ) == {ServiceSource.DEFENDER_FOR_ENDPOINT, ServiceSource.DEFENDER_FOR_IDENTITY}


def test_it_refuses_an_alert_with_an_empty_provider_alert_id():
    with _refused("alert_provider_alert_id_not_empty"):
        Alert.objects.create(**_alert_values(provider_alert_id=""))

    assert not Alert.objects.exists()


# --- Enumerations -----------------------------------------------------------------------------------------------


def _create_incident(**values):
    return Incident.objects.create(display_name="Multi-stage incident", **values)


def _create_alert(**values):
    return Alert.objects.create(**_alert_values(**values))


def _create_evidence(**values):
    return Evidence.objects.create(
        alert=AlertFactory(),
        entity=EntityFactory(),
        odata_type="#microsoft.graph.security.deviceEvidence",
        **values,
    )


def _create_entity(**values):
    return Entity.objects.create(**_entity_values(**values))


BAD_ENUM_VALUES = [
    # (what is created, field, a value Graph never emits, the constraint that refuses it)
    pytest.param(_create_incident, "severity", "critical", "incident_severity_valid", id="incident-severity"),
    pytest.param(_create_incident, "status", "closed", "incident_status_valid", id="incident-status"),
    pytest.param(
        _create_incident, "classification", "TruePositive", "incident_classification_valid", id="incident-class"
    ),
    pytest.param(_create_alert, "status", "active", "alert_status_valid", id="alert-status"),
    pytest.param(_create_alert, "service_source", "splunk", "alert_service_source_valid", id="alert-source"),
    pytest.param(_create_evidence, "verdict", "benign", "evidence_verdict_valid", id="evidence-verdict"),
    pytest.param(_create_entity, "kind", "laptop", "entity_kind_valid", id="entity-kind"),
]


@pytest.mark.parametrize(("create", "field", "bad_value", "constraint"), BAD_ENUM_VALUES)
def test_it_refuses_a_value_outside_the_graph_enumeration(create, field, bad_value, constraint):
    model = {
        _create_incident: Incident,
        _create_alert: Alert,
        _create_evidence: Evidence,
        _create_entity: Entity,
    }[create]
    before = model.objects.count()

    with _refused(constraint):
        create(**{field: bad_value})

    assert model.objects.count() == before
    assert not model.objects.filter(**{field: bad_value}).exists()


GOOD_ENUM_VALUES = [
    pytest.param(_create_incident, "severity", Severity, id="incident-severity"),
    pytest.param(_create_incident, "classification", Classification, id="incident-class"),
    pytest.param(_create_alert, "status", AlertStatus, id="alert-status"),
    pytest.param(_create_evidence, "verdict", EvidenceVerdict, id="evidence-verdict"),
]


@pytest.mark.parametrize(("create", "field", "choices"), GOOD_ENUM_VALUES)
def test_it_accepts_every_value_of_the_graph_enumeration(create, field, choices):
    for index, value in enumerate(choices.values):
        extra = {"provider_alert_id": f"da-{index}"} if create is _create_alert else {}
        row = create(**{field: value}, **extra)
        row.refresh_from_db()
        assert getattr(row, field) == value


def test_it_accepts_every_entity_kind_and_service_source():
    for kind in EntityKind.values:
        _create_entity(kind=kind, key=f"{kind}-key")
    for source in ServiceSource.values:
        _create_alert(service_source=source)

    assert set(Entity.objects.values_list("kind", flat=True)) == set(EntityKind.values)
    assert set(Alert.objects.values_list("service_source", flat=True)) == set(ServiceSource.values)


# --- Incident redirection ---------------------------------------------------------------------------------------


def test_it_refuses_a_redirected_incident_that_does_not_say_where_it_went():
    with _refused("incident_redirect_consistent"):
        Incident.objects.create(display_name="Merged away", status=IncidentStatus.REDIRECTED)

    assert not Incident.objects.filter(display_name="Merged away").exists()


@pytest.mark.parametrize("status", [value for value in IncidentStatus.values if value != IncidentStatus.REDIRECTED])
def test_it_refuses_a_redirect_incident_on_an_incident_that_is_not_redirected(status):
    target = IncidentFactory()

    with _refused("incident_redirect_consistent"):
        Incident.objects.create(display_name="Not merged", status=status, redirect_incident=target)

    assert not Incident.objects.filter(display_name="Not merged").exists()


def test_it_accepts_a_redirected_incident_with_its_redirect_incident():
    target = IncidentFactory()

    source = Incident.objects.create(display_name="Merged", status=IncidentStatus.REDIRECTED, redirect_incident=target)

    source.refresh_from_db()
    assert source.status == IncidentStatus.REDIRECTED
    assert source.redirect_incident_id == target.pk


def test_it_refuses_to_clear_the_redirect_incident_of_a_redirected_incident_with_a_raw_update():
    target = IncidentFactory()
    source = IncidentFactory(status=IncidentStatus.REDIRECTED, redirect_incident=target)

    with _refused("incident_redirect_consistent"):
        Incident.objects.filter(pk=source.pk).update(redirect_incident=None)

    source.refresh_from_db()
    assert source.redirect_incident_id == target.pk


# --- Comments ---------------------------------------------------------------------------------------------------


def test_it_refuses_a_comment_on_neither_an_incident_nor_an_alert():
    with _refused("comment_on_incident_or_alert"):
        Comment.objects.create(author_name="analyst", text="Looks like a false positive.")

    assert not Comment.objects.exists()


def test_it_refuses_a_comment_on_both_an_incident_and_an_alert():
    incident = IncidentFactory()
    alert = AlertFactory(incident=incident)

    with _refused("comment_on_incident_or_alert"):
        Comment.objects.create(incident=incident, alert=alert, author_name="analyst", text="Both at once.")

    assert not Comment.objects.exists()


def test_it_accepts_a_comment_on_exactly_one_of_an_incident_or_an_alert():
    incident = IncidentFactory()
    alert = AlertFactory()

    Comment.objects.create(incident=incident, author_name="analyst", text="On the incident.")
    Comment.objects.create(alert=alert, author_name="analyst", text="On the alert.")

    assert incident.comments.get().text == "On the incident."
    assert alert.comments.get().text == "On the alert."


def test_it_refuses_a_comment_longer_than_30000_characters():
    incident = IncidentFactory()

    with _refused("comment_text_length"):
        Comment.objects.create(incident=incident, author_name="analyst", text="x" * (COMMENT_MAX_LENGTH + 1))

    assert not Comment.objects.exists()


def test_it_accepts_a_comment_of_exactly_30000_characters():
    incident = IncidentFactory()

    comment = Comment.objects.create(incident=incident, author_name="analyst", text="x" * COMMENT_MAX_LENGTH)

    comment.refresh_from_db()
    assert COMMENT_MAX_LENGTH == 30_000
    assert len(comment.text) == 30_000


def test_it_refuses_an_empty_comment():
    incident = IncidentFactory()

    with _refused("comment_text_length"):
        Comment.objects.create(incident=incident, author_name="analyst", text="")

    assert not Comment.objects.exists()


# --- Generated severity rank -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "rank"),
    [("unknown", 0), ("informational", 1), ("low", 2), ("medium", 3), ("high", 4)],
)
def test_the_database_computes_the_incident_severity_rank(severity, rank):
    incident = Incident.objects.create(display_name="Ranked", severity=severity)
    incident.severity_rank = None

    incident.refresh_from_db()

    assert incident.severity_rank == rank


def test_the_severity_rank_follows_a_raw_update_of_the_severity():
    incident = IncidentFactory(severity=Severity.UNKNOWN)
    alert = AlertFactory(severity=Severity.UNKNOWN)

    Incident.objects.filter(pk=incident.pk).update(severity=Severity.HIGH)
    Alert.objects.filter(pk=alert.pk).update(severity=Severity.HIGH)

    incident.refresh_from_db()
    alert.refresh_from_db()
    assert incident.severity_rank == 4
    assert alert.severity_rank == 4


def test_the_queue_orders_incidents_by_severity_rank():
    for severity in ("low", "high", "unknown", "medium", "informational"):
        IncidentFactory(severity=severity)

    ordered = list(Incident.objects.order_by("-severity_rank").values_list("severity", flat=True))

    assert ordered == ["high", "medium", "low", "informational", "unknown"]
