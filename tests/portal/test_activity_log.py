"""The activity log: what `activity_record` stores, and that neither Django nor raw SQL can rewrite it."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import ProgrammingError, connection, transaction

from incidents.models import Incident
from portal.models import ActivityLogEntry
from portal.services import SYSTEM, activity_record, changes_between
from tests.factories import IncidentFactory, ResourceLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(admin_user):
    link = ResourceLinkFactory(name="Threat intelligence portal")
    return activity_record(
        actor=admin_user,
        action="resources.resourcelink.updated",
        target=link,
        changes={"name": {"before": "TI portal", "after": "Threat intelligence portal"}},
    )


def test_activity_record_stores_who_did_what_to_which_object(admin_user):
    link = ResourceLinkFactory(name="Threat intelligence portal")
    changes = {"name": {"before": "TI portal", "after": "Threat intelligence portal"}}

    recorded = activity_record(
        actor=admin_user,
        action="resources.resourcelink.updated",
        target=link,
        changes=changes,
        message="Renamed after the reorganisation.",
    )

    stored = ActivityLogEntry.objects.get(pk=recorded.pk)
    assert stored.actor_id == admin_user.pk
    assert stored.actor_name == "admin"
    assert stored.action == "resources.resourcelink.updated"
    assert stored.target_type == ContentType.objects.get(app_label="resources", model="resourcelink")
    assert stored.target_id == str(link.pk)
    assert stored.target_repr == "Threat intelligence portal"
    assert stored.changes == changes
    assert stored.message == "Renamed after the reorganisation."
    assert stored.occurred_at is not None


def test_activity_record_keeps_the_actor_name_after_the_actor_is_renamed(analyst):
    incident = IncidentFactory()
    entry = activity_record(actor=analyst, action="incidents.incident.assigned", target=incident)

    analyst.username = "analyst-renamed"
    analyst.save()

    entry = ActivityLogEntry.objects.get(pk=entry.pk)
    assert entry.actor_name == "analyst"
    assert entry.actor_id == analyst.pk
    assert entry.changes == {}


def test_a_system_change_names_the_subsystem_instead_of_a_person():
    incident = IncidentFactory(display_name="Multi-stage incident on ws1")

    recorded = activity_record(
        actor=SYSTEM,
        system_name="correlation",
        action="incidents.incident.created",
        target=incident,
        message="Created for alert da1.",
    )

    stored = ActivityLogEntry.objects.get(pk=recorded.pk)
    assert stored.actor is None
    assert stored.actor_id is None
    assert stored.actor_name == "correlation"
    assert stored.target_type == ContentType.objects.get_for_model(Incident)
    assert stored.target_id == str(incident.pk)
    assert stored.target_repr == f"#{incident.pk} Multi-stage incident on ws1"


def test_a_system_change_without_a_subsystem_name_is_attributed_to_the_system():
    incident = IncidentFactory()

    recorded = activity_record(actor=None, action="incidents.incident.updated", target=incident)

    assert ActivityLogEntry.objects.get(pk=recorded.pk).actor_name == "system"


def test_activity_record_cuts_the_target_description_to_300_characters():
    incident = IncidentFactory(display_name="y" * 400)

    recorded = activity_record(actor=None, action="incidents.incident.updated", target=incident)

    stored = ActivityLogEntry.objects.get(pk=recorded.pk)
    assert len(stored.target_repr) == 300
    assert stored.target_repr == f"#{incident.pk} {'y' * 400}"[:300]


# --- Append-only in the model -------------------------------------------------------------------------------------


def test_the_model_refuses_to_save_an_existing_entry(entry):
    entry.action = "resources.resourcelink.deleted"

    with pytest.raises(ValueError, match="append-only"):
        entry.save()

    assert ActivityLogEntry.objects.get(pk=entry.pk).action == "resources.resourcelink.updated"


def test_the_model_refuses_to_delete_an_entry(entry):
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()

    assert ActivityLogEntry.objects.filter(pk=entry.pk).exists()


# --- Append-only in the database (the trigger) -------------------------------------------------------------------


def test_the_database_refuses_a_queryset_update_of_an_entry(entry):
    with pytest.raises(ProgrammingError, match=r"append-only \(UPDATE refused\)"), transaction.atomic():
        ActivityLogEntry.objects.filter(pk=entry.pk).update(actor_name="somebody else")

    assert ActivityLogEntry.objects.get(pk=entry.pk).actor_name == "admin"


def test_the_database_refuses_a_queryset_delete_of_an_entry(entry):
    with pytest.raises(ProgrammingError, match=r"append-only \(DELETE refused\)"), transaction.atomic():
        ActivityLogEntry.objects.filter(pk=entry.pk).delete()

    assert ActivityLogEntry.objects.filter(pk=entry.pk).exists()


def test_the_database_refuses_raw_sql_that_rewrites_the_log(entry):
    table = ActivityLogEntry._meta.db_table

    with (
        pytest.raises(ProgrammingError, match="append-only") as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET changes = '{{}}'::jsonb")  # noqa: S608 - fixed table name

    # psycopg2 raises InsufficientPrivilege (SQLSTATE 42501), which Django re-raises as its ProgrammingError.
    assert refused.value.__cause__.pgcode == "42501"
    assert ActivityLogEntry.objects.get(pk=entry.pk).changes == {
        "name": {"before": "TI portal", "after": "Threat intelligence portal"}
    }


def test_the_database_still_accepts_new_entries(entry, analyst):
    second = activity_record(actor=analyst, action="incidents.incident.assigned", target=IncidentFactory())

    assert set(ActivityLogEntry.objects.values_list("pk", flat=True)) == {entry.pk, second.pk}


# --- changes_between ----------------------------------------------------------------------------------------------


def test_changes_between_reports_only_the_fields_that_changed():
    before = {"name": "TI portal", "url": "https://ti.example/", "position": 3, "is_hidden": False}
    after = {"name": "Threat intelligence", "url": "https://ti.example/", "position": 3, "is_hidden": True}

    assert changes_between(before, after) == {
        "name": {"before": "TI portal", "after": "Threat intelligence"},
        "is_hidden": {"before": False, "after": True},
    }


def test_changes_between_reports_fields_present_only_before_as_deleted():
    before = {"name": "TI portal", "url": "https://ti.example/"}

    assert changes_between(before, {}) == {
        "name": {"before": "TI portal", "after": None},
        "url": {"before": "https://ti.example/", "after": None},
    }


def test_changes_between_reports_fields_present_only_after_as_created():
    assert changes_between({"name": "TI portal"}, {"name": "TI portal", "description": "Feeds"}) == {
        "description": {"before": None, "after": "Feeds"},
    }


def test_changes_between_reports_nothing_when_nothing_changed():
    values = {"name": "TI portal", "tags": ["a", "b"], "position": 0}

    assert changes_between(values, dict(values)) == {}
