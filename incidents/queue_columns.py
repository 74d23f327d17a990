"""
The incident queue's columns: what each shows, how it sorts, and which an analyst sees by default.

The analyst chooses and orders them; the choice is kept as a UserPreference under PREFERENCE_KEY.
"""

from dataclasses import dataclass

__all__ = ("COLUMNS", "DEFAULT_COLUMNS", "PREFERENCE_KEY", "SORTS", "columns_from", "reorder")

PREFERENCE_KEY = "incidents.queue.columns"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # the ?sort= value that orders by this column


COLUMNS = {
    column.key: column
    for column in (
        Column("name", "Incident name"),
        Column("id", "Incident id"),
        Column("tags", "Tags"),
        Column("severity", "Severity", sort="severity"),
        Column("status", "Status"),
        Column("categories", "Categories"),
        Column("assets", "Impacted assets"),
        Column("alerts", "Active alerts"),
        Column("service_sources", "Service sources"),
        Column("detection_sources", "Detection sources"),
        Column("first_activity", "First activity", sort="first_activity"),
        Column("last_activity", "Last activity", sort="last_activity"),
        Column("last_update", "Last update", sort="last_update"),
        Column("assigned_to", "Assigned to"),
        Column("classification", "Classification"),
        Column("determination", "Determination"),
    )
}
DEFAULT_COLUMNS = [
    "name",
    "id",
    "severity",
    "status",
    "categories",
    "assets",
    "alerts",
    "service_sources",
    "last_activity",
    "last_update",
    "assigned_to",
    "classification",
]
# ?sort= value → ORDER BY; the newest update first by default. The id breaks ties so that pages never overlap.
SORTS = {
    "last_update": ("last_update", "id"),
    "first_activity": ("first_activity", "id"),
    "last_activity": ("last_activity", "id"),
    "created": ("created_at", "id"),
    "severity": ("severity_rank", "last_update", "id"),
}
DEFAULT_SORT = "-last_update"


def columns_from(keys) -> list[Column]:
    """The known columns among `keys`, in their order; the defaults when none is known."""
    chosen = [COLUMNS[key] for key in dict.fromkeys(keys or []) if key in COLUMNS]
    return chosen or [COLUMNS[key] for key in DEFAULT_COLUMNS]


def reorder(keys: list[str], key: str, direction: str) -> list[str]:
    """Move one shown column a place left ("up") or right ("down")."""
    keys = list(keys)
    if key not in keys:
        return keys
    index = keys.index(key)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(keys):
        keys[index], keys[other] = keys[other], keys[index]
    return keys


def order_by(sort: str | None) -> tuple[str, list[str]]:
    """The effective ?sort= value and its ORDER BY; an unknown value falls back to the default."""
    value = sort if sort and sort.lstrip("-") in SORTS else DEFAULT_SORT
    descending = value.startswith("-")
    fields = SORTS[value.lstrip("-")]
    return value, [f"-{field}" if descending else field for field in fields]
