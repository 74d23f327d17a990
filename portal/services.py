"""Writes to the activity log. Every service that changes something a person cares about calls `activity_record`."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from psycopg2.extras import Json, execute_values

from portal.models import ActivityLogEntry, UserPreference

__all__ = (
    "SYSTEM",
    "ActivityEntry",
    "activity_record",
    "activity_record_entries",
    "activity_record_many",
    "changes_between",
    "preference_set",
    "snapshot",
)

_MISSING = object()
SYSTEM = None  # Pass as `actor` for changes the system makes; `system_name` then says which part of it.


@dataclass(frozen=True)
class ActivityEntry:
    """One change to one object, for `activity_record_entries`."""

    action: str
    target: models.Model
    changes: Mapping[str, Mapping[str, Any]] | None = None
    message: str = ""
    # The alert an entry on another object is about (ActivityLogEntry.about_alert_id).
    about_alert_id: int | None = None


def activity_record(
    *,
    actor,
    action: str,
    target: models.Model,
    changes=None,
    message: str = "",
    system_name="system",
    about_alert_id: int | None = None,
):
    return activity_record_many(
        actor=actor,
        action=action,
        targets=[(target, changes)],
        message=message,
        system_name=system_name,
        about_alert_id=about_alert_id,
    )[0]


def activity_record_many(
    *,
    actor,
    action: str,
    targets: list[tuple[models.Model, Mapping[str, Mapping[str, Any]] | None]],
    message: str = "",
    system_name: str = "system",
    about_alert_id: int | None = None,
) -> list[ActivityLogEntry]:
    """The same action on several objects, each with its own changes, in one INSERT."""
    actor_name = actor.get_username() if actor is not None else system_name
    return ActivityLogEntry.objects.bulk_create(
        ActivityLogEntry(
            actor=actor,
            actor_name=actor_name,
            action=action,
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
            target_id=str(target.pk),
            target_repr=str(target)[:300],
            changes=dict(changes or {}),
            message=message,
            about_alert_id=about_alert_id,
        )
        for target, changes in targets
    )


def activity_record_entries(*, entries: list[ActivityEntry], actor=None, system_name: str = "system") -> None:
    """
    Several changes by one actor, in one INSERT.

    Written with one multi-row statement rather than `bulk_create`: correlation logs every alert it links, and
    building thousands of model instances per batch cost more than the rest of the batch.
    """
    if not entries:
        return
    actor_name = actor.get_username() if actor is not None else system_name
    actor_id = actor.pk if actor is not None else None
    content_types = ContentType.objects.get_for_models(
        *{type(entry.target) for entry in entries}, for_concrete_models=False
    )
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            """
            INSERT INTO portal_activitylogentry
                (occurred_at, actor_id, actor_name, action, target_type_id, target_id, target_repr, changes, message,
                 about_alert_id)
            VALUES %s
            """,
            [
                (
                    actor_id,
                    actor_name,
                    entry.action,
                    content_types[type(entry.target)].pk,
                    str(entry.target.pk),
                    str(entry.target)[:300],
                    Json(dict(entry.changes or {})),
                    entry.message,
                    entry.about_alert_id,
                )
                for entry in entries
            ],
            template="(statement_timestamp(), %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            page_size=len(entries),
        )


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-safe values of `fields`, to compare before and after a change."""
    return {name: _json_value(getattr(instance, name)) for name in fields}


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in {**before, **after}
        if before.get(name, _MISSING) != after.get(name, _MISSING)
    }


def _json_value(value):
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def preference_set(*, user, key: str, value) -> None:
    """Remember a person's choice; a personal setting, so it is not in the activity log."""
    UserPreference.objects.update_or_create(user=user, key=key, defaults={"value": value})
