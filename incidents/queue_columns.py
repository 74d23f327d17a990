"""
The incident queue's columns: what each shows, how it sorts, and which an analyst sees by default.

The analyst chooses and orders them; the choice is kept as a UserPreference under PREFERENCE_KEY. Cells are
rendered here, one small function a column, rather than by a template branching on the column for every cell:
fifty rows of a dozen columns made that branching most of the page's time.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from incidents.templatetags.incident_format import (
    asset_counts,
    categories_text,
    detection_sources_text,
    service_sources_text,
)
from portal.templatetags.vigil import severity_badge, when

__all__ = ("COLUMNS", "DEFAULT_COLUMNS", "PREFERENCE_KEY", "SORTS", "columns_from", "reorder")

PREFERENCE_KEY = "incidents.queue.columns"


def _text(value) -> SafeString:
    return format_html("{}", value)


def _name(incident) -> SafeString:
    return format_html('<a href="{}">{}</a>', reverse("incidents:detail", args=[incident.pk]), incident.display_name)


def _tags(incident) -> SafeString:
    return format_html_join(
        " ", '<span class="badge text-bg-light border">{}</span>', ((t,) for t in incident.custom_tags)
    )


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    render: Callable[..., SafeString]
    sort: str | None = None  # the ?sort= value that orders by this column
    css: str = "small"

    def cell(self, incident) -> SafeString:
        return format_html('<td class="{}">{}</td>', self.css, self.render(incident))


COLUMNS = {
    column.key: column
    for column in (
        Column("name", "Incident name", _name, css="incident-name"),
        Column("id", "Incident id", lambda i: _text(i.pk), css=""),
        Column("tags", "Tags", _tags),
        Column("severity", "Severity", lambda i: severity_badge(i.severity), sort="severity", css=""),
        Column("status", "Status", lambda i: _text(i.get_status_display()), css=""),
        Column("categories", "Categories", lambda i: _text(categories_text(i.categories))),
        Column("assets", "Impacted assets", lambda i: _text(asset_counts(i.impacted_assets))),
        Column("alerts", "Active alerts", lambda i: _text(f"{i.alerts_active}/{i.alerts_total}"), css=""),
        Column("service_sources", "Service sources", lambda i: _text(service_sources_text(i.service_sources))),
        Column("detection_sources", "Detection sources", lambda i: _text(detection_sources_text(i.detection_sources))),
        Column("first_activity", "First activity", lambda i: when(i.first_activity), sort="first_activity"),
        Column("last_activity", "Last activity", lambda i: when(i.last_activity), sort="last_activity"),
        Column("last_update", "Last update", lambda i: when(i.last_update), sort="last_update"),
        Column("assigned_to", "Assigned to", lambda i: _text(i.assigned_to or "Unassigned")),
        Column("classification", "Classification", lambda i: _text(i.get_classification_display())),
        Column("determination", "Determination", lambda i: _text(i.get_determination_display())),
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
    # The severity the reader sees (incidents.selectors.with_seen_severity annotates the queue's rows with it).
    "severity": ("seen_severity_rank", "last_update", "id"),
}
DEFAULT_SORT = "-last_update"


def rows_of(incidents, columns: list[Column]) -> list[tuple]:
    """(incident, its cells as one HTML string) for the queue's table."""
    return [(incident, mark_safe("".join(column.cell(incident) for column in columns))) for incident in incidents]  # noqa: S308 (joined format_html output)


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
