"""
Device groups: the unit of data scoping, and which devices belong to them.

A device joins a group by hand or by the group's name pattern (shell-style, "ws-lon-*", matched without regard to
case against the device's display name or its key). Moving a device changes who may see the alerts and incidents
it appears in: their `device_group_ids` (what scoping filters on) are recomputed in the same transaction, with a
fixed number of statements however many alerts are involved.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal

from incidents.choices import EntityKind
from incidents.models import DeviceGroup, Entity, IncidentEntity
from incidents.services.rollups import incidents_refresh
from portal.services import ActivityEntry, activity_record, activity_record_entries, changes_between, snapshot

__all__ = (
    "DevicesMoved",
    "device_group_add_devices",
    "device_group_apply_pattern",
    "device_group_create",
    "device_group_delete",
    "device_group_deleting",
    "device_group_remove_devices",
    "device_group_save",
    "device_group_set_devices",
    "device_group_update",
    "devices_matching",
    "pattern_matcher",
    "pattern_regex",
)

# A device group about to be deleted (kwargs: device_group, actor): sections that keep something per group let go
# of it, without this app depending on them, and answer a note for the group's log entry ("" for none).
device_group_deleting = Signal()

FIELDS = ("name", "description", "rank", "device_name_pattern")
PATTERN_MAX_LENGTH = 200
# How many device names an activity entry lists; the count is always exact.
NAMES_LOGGED = 50
# Incidents are refreshed this many at a time: one refresh locks its incidents and builds one UPDATE for them all.
REFRESH_CHUNK = 1000


@dataclass(frozen=True)
class DevicesMoved:
    devices: int
    alerts: int
    incidents: int


def pattern_regex(pattern: str) -> str:
    """
    A shell-style pattern as an anchored regular expression that PostgreSQL and Python's `re` read alike: `*` any
    run of characters, `?` one character, `[abc]`, `[a-z]` and `[!abc]` one of (or none of) a set; everything else
    literal, as in fnmatch. The one definition of a match: `devices_matching` runs it in the database, and
    ingestion (`pattern_matcher`) in Python.
    """
    out, i = ["^"], 0
    while i < len(pattern):
        char = pattern[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            start = i + 1 if pattern[i : i + 1] == "!" else i
            end = pattern.find("]", start + 1 if pattern[start : start + 1] == "]" else start)
            if end == -1:
                out.append(r"\[")  # an unclosed bracket is a literal one, as fnmatch has it
                continue
            out.append(_set_regex(pattern[start:end], negate=start > i))
            i = end + 1
        else:
            out.append(re.escape(char))
    out.append("$")
    return "".join(out)


def _set_regex(body: str, *, negate: bool) -> str:
    """
    A `[...]` set. A reversed range ("z-a") is dropped, as fnmatch drops it, rather than left for both regular
    expression engines to refuse; a set left empty matches nothing (or, negated, any one character).
    """
    parts, k = [], 0
    while k < len(body):
        if body[k + 1 : k + 2] == "-" and k + 2 < len(body):
            low, high = body[k], body[k + 2]
            if low <= high:
                parts.append(f"{_set_char(low)}-{_set_char(high)}")
            k += 3
        else:
            parts.append(_set_char(body[k]))
            k += 1
    if not parts:
        return "." if negate else "(?!)"
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _set_char(char: str) -> str:
    # Escaped wherever a set could read it as syntax: backslash, brackets, caret, hyphen, and the doubled `&&`, `||`
    # and `~~` Python reserves for set operations (both engines take `\x` in a set as the character x).
    return "\\" + char if char in "\\[]^-&|~" else char


def pattern_matcher(pattern: str) -> Callable[[str], bool]:
    """`pattern_regex` for Python, compiled once: whether a name matches, whatever the case."""
    regex = re.compile(pattern_regex(pattern), re.IGNORECASE | re.DOTALL)
    return lambda name: regex.fullmatch(name) is not None


def devices_matching(pattern: str) -> QuerySet[Entity]:
    """The devices whose display name or key matches `pattern`, whatever the case."""
    regex = pattern_regex(pattern)
    return Entity.objects.filter(kind=EntityKind.DEVICE).filter(Q(display_name__iregex=regex) | Q(key__iregex=regex))


def _clean(*, name: str, description: str, rank, device_name_pattern: str, group: DeviceGroup | None) -> dict:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "A device group needs a name."
    elif len(name) > DeviceGroup._meta.get_field("name").max_length:
        errors["name"] = "Use at most 100 characters."
    else:
        others = DeviceGroup.objects.filter(name__iexact=name)
        if group is not None:
            others = others.exclude(pk=group.pk)
        if others.exists():
            errors["name"] = f"A device group named {name!r} already exists."
    try:
        rank = int(rank)
    except (TypeError, ValueError):
        rank = -1
    if not 0 <= rank <= 2_147_483_647:
        errors["rank"] = "The rank is a whole number from 0 up."
    pattern = (device_name_pattern or "").strip()
    if len(pattern) > PATTERN_MAX_LENGTH:
        errors["device_name_pattern"] = f"Use at most {PATTERN_MAX_LENGTH} characters."
    if errors:
        raise ValidationError(errors)
    return {"name": name, "description": (description or "").strip(), "rank": rank, "device_name_pattern": pattern}


@transaction.atomic
def device_group_create(*, name: str, description: str = "", rank: int = 0, device_name_pattern: str = "", actor):
    values = _clean(name=name, description=description, rank=rank, device_name_pattern=device_name_pattern, group=None)
    group = DeviceGroup.objects.create(**values)
    activity_record(
        actor=actor,
        action="incidents.devicegroup.created",
        target=group,
        changes={field: {"before": None, "after": value} for field, value in snapshot(group, FIELDS).items()},
    )
    return group


@transaction.atomic
def device_group_update(
    *, device_group: DeviceGroup, name: str, description: str, rank: int, device_name_pattern: str, actor
) -> DeviceGroup:
    group = DeviceGroup.objects.select_for_update().get(pk=device_group.pk)
    values = _clean(name=name, description=description, rank=rank, device_name_pattern=device_name_pattern, group=group)
    before = snapshot(group, FIELDS)
    for field, value in values.items():
        setattr(group, field, value)
    changes = changes_between(before, snapshot(group, FIELDS))
    if changes:
        group.save(update_fields=list(changes))
        activity_record(actor=actor, action="incidents.devicegroup.changed", target=group, changes=changes)
    return group


@transaction.atomic
def device_group_save(
    *, device_group: DeviceGroup | None, apply_pattern: bool = False, actor, **values
) -> tuple[DeviceGroup, DevicesMoved | None]:
    """
    Create (`device_group` None) or update a group and, when asked and it has a pattern, move the devices matching
    it; what moved, or None when nothing was applied. One transaction: saved settings whose devices failed to move
    would mislead.
    """
    if device_group is None:
        group = device_group_create(actor=actor, **values)
    else:
        group = device_group_update(device_group=device_group, actor=actor, **values)
    moved = None
    if apply_pattern and group.device_name_pattern:
        moved = device_group_apply_pattern(device_group=group, actor=actor)
    return group, moved


@transaction.atomic
def device_group_delete(*, device_group: DeviceGroup, actor) -> None:
    """
    Delete an empty device group. What other sections keep per group (Permissions & roles: role assignments scoped
    to it and their django-guardian rows) is theirs to let go of, in this transaction: they hear of it through
    `device_group_deleting`, and the group's log entry carries their notes.
    """
    group = DeviceGroup.objects.select_for_update().get(pk=device_group.pk)
    devices = group.devices.count()
    if devices:
        raise ValidationError(
            f"{group.name} still has {devices} device{'s' if devices != 1 else ''}; move them to another group "
            "or out of it first."
        )
    notes = [note for _, note in device_group_deleting.send(sender=DeviceGroup, device_group=group, actor=actor)]
    activity_record(
        actor=actor,
        action="incidents.devicegroup.deleted",
        target=group,
        changes={field: {"before": value, "after": None} for field, value in snapshot(group, FIELDS).items()},
        message=" ".join(note for note in notes if note),
    )
    group_id = group.pk
    group.delete()
    with connection.cursor() as cursor:
        # No device is in the group, so nothing should name it; an array left stale by an earlier writer would
        # otherwise keep pointing at an id a future group could never reuse but scoping would still compare.
        for table in ("incidents_alert", "incidents_incident"):
            cursor.execute(
                f"UPDATE {table} SET device_group_ids = array_remove(device_group_ids, %s) "  # noqa: S608 - fixed names
                "WHERE device_group_ids && ARRAY[%s]::bigint[]",
                [group_id, group_id],
            )


@transaction.atomic
def device_group_apply_pattern(*, device_group: DeviceGroup, actor) -> DevicesMoved:
    """Every device whose name matches the group's pattern joins the group (from no group or another one)."""
    if not device_group.device_name_pattern:
        raise ValidationError({"device_name_pattern": "This group has no name pattern to apply."})
    ids = list(devices_matching(device_group.device_name_pattern).values_list("pk", flat=True))
    return _devices_move(
        device_ids=ids, group=device_group, actor=actor, how=f"by the pattern {device_group.device_name_pattern}"
    )


@transaction.atomic
def device_group_add_devices(*, device_group: DeviceGroup, devices, actor) -> DevicesMoved:
    return _devices_move(device_ids=_device_ids(devices), group=device_group, actor=actor, how="by hand")


@transaction.atomic
def device_group_remove_devices(*, device_group: DeviceGroup, devices, actor) -> DevicesMoved:
    ids = list(device_group.devices.filter(pk__in=_device_ids(devices)).values_list("pk", flat=True))
    return _devices_move(device_ids=ids, group=None, actor=actor, how="by hand")


@transaction.atomic
def device_group_set_devices(*, device_group: DeviceGroup, devices, actor) -> DevicesMoved:
    """Make the group's devices exactly `devices`: the others leave it for no group."""
    wanted = set(_device_ids(devices))
    leaving = list(device_group.devices.exclude(pk__in=wanted).values_list("pk", flat=True))
    removed = _devices_move(device_ids=leaving, group=None, actor=actor, how="by hand")
    added = _devices_move(device_ids=sorted(wanted), group=device_group, actor=actor, how="by hand")
    return DevicesMoved(
        devices=removed.devices + added.devices,
        alerts=removed.alerts + added.alerts,
        incidents=removed.incidents + added.incidents,
    )


def _device_ids(devices) -> list[int]:
    return sorted({device if isinstance(device, int) else device.pk for device in devices})


def _devices_move(*, device_ids: list[int], group: DeviceGroup | None, actor, how: str) -> DevicesMoved:
    target_id = group.pk if group is not None else None
    # Locked in id order, so that two admins moving overlapping sets of devices never deadlock.
    moving = list(
        Entity.objects.select_for_update()
        .filter(pk__in=device_ids, kind=EntityKind.DEVICE)
        .exclude(device_group_id=target_id)
        .order_by("pk")
        .values_list("pk", "display_name", "device_group_id")
    )
    if not moving:
        return DevicesMoved(devices=0, alerts=0, incidents=0)
    ids = [pk for pk, _, _ in moving]
    Entity.objects.filter(pk__in=ids).update(device_group_id=target_id)
    alert_rows = _alerts_regroup(ids)
    incident_ids = {incident_id for _, incident_id in alert_rows if incident_id is not None}
    incident_ids.update(IncidentEntity.objects.filter(entity_id__in=ids).values_list("incident_id", flat=True))
    ordered = sorted(incident_ids)
    for start in range(0, len(ordered), REFRESH_CHUNK):
        # Entities are unchanged (only their group is): no need to rebuild the incidents' entity links.
        incidents_refresh(incident_ids=ordered[start : start + REFRESH_CHUNK], sync_entities=False)
    _log_move(moving, group=group, actor=actor, how=how)
    return DevicesMoved(devices=len(ids), alerts=len(alert_rows), incidents=len(ordered))


def _alerts_regroup(device_ids: list[int]) -> list[tuple[int, int | None]]:
    """
    Recompute `device_group_ids` of every alert that has one of these devices as evidence, in one statement, and
    return the (alert id, incident id) of those that changed.

    Affected alerts are found through `evidence.entity_id` (indexed). A device that evidence only links to (the
    `device` of a process or file) is always evidence of the same alert in its own right too: ingestion links only
    to devices the alert carries as deviceEvidence. The recomputation reads both, as ingestion does.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE incidents_alert a SET device_group_ids = g.ids
            FROM (
                SELECT af.alert_id, ARRAY(
                    SELECT DISTINCT e.device_group_id
                    FROM incidents_evidence ev JOIN incidents_entity e ON e.id IN (ev.entity_id, ev.device_id)
                    WHERE ev.alert_id = af.alert_id AND e.kind = %(device)s AND e.device_group_id IS NOT NULL
                    ORDER BY 1
                ) AS ids
                FROM (SELECT DISTINCT alert_id FROM incidents_evidence WHERE entity_id = ANY(%(devices)s)) af
            ) g
            WHERE a.id = g.alert_id AND a.device_group_ids IS DISTINCT FROM g.ids
            RETURNING a.id, a.incident_id
            """,
            {"devices": device_ids, "device": EntityKind.DEVICE.value},
        )
        return cursor.fetchall()


def _log_move(moving, *, group: DeviceGroup | None, actor, how: str) -> None:
    entries = []
    if group is not None:
        names = sorted(name for _, name, _ in moving)
        entries.append(
            ActivityEntry(
                action="incidents.devicegroup.devices_added",
                target=group,
                changes={"devices": {"before": None, "after": names[:NAMES_LOGGED]}},
                message=f"{_count(len(names))} joined {how}.",
            )
        )
    leaving: dict[int, list[str]] = {}
    for _, name, source_id in moving:
        if source_id is not None:
            leaving.setdefault(source_id, []).append(name)
    for source in DeviceGroup.objects.filter(pk__in=leaving).order_by("pk"):
        names = sorted(leaving[source.pk])
        where = f"for {group.name}" if group is not None else "to no group"
        entries.append(
            ActivityEntry(
                action="incidents.devicegroup.devices_removed",
                target=source,
                changes={"devices": {"before": names[:NAMES_LOGGED], "after": None}},
                message=f"{_count(len(names))} left {where} {how}.",
            )
        )
    activity_record_entries(entries=entries, actor=actor)


def _count(n: int) -> str:
    return f"{n} device{'s' if n != 1 else ''}"
