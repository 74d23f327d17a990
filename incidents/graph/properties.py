"""
What the Graph-compatible API knows about incidents and alerts: their Graph property names, the model field each
stands for, its type, and how a Graph enum value maps to what Vigil stores. `$filter`, `$orderby` and the
representations all read this one catalogue, so a property is spelled the same everywhere.
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from django.db.models import Value
from django.db.models.functions import Coalesce

from incidents.choices import (
    DETERMINATION_ALIASES,
    AlertStatus,
    Classification,
    DetectionSource,
    Determination,
    EvidenceRemediationStatus,
    IncidentStatus,
    ServiceSource,
    Severity,
)
from portal.graph.properties import UNKNOWN_FUTURE_VALUE, GraphProperty, Kind, enum_as_sent

__all__ = (
    "ALERT_PROPERTIES",
    "DETERMINATION_OUT",
    "EVOLVABLE",
    "INCIDENT_PROPERTIES",
    "SEEN_INCIDENT_PROPERTIES",
    "UNKNOWN_FUTURE_VALUE",
    "GraphProperty",
    "Kind",
    "graph_enum",
)

# The members Graph lists after unknownFutureValue in each evolvable enum: a client sees them only when it sends
# `Prefer: include-unknown-enum-members`, and unknownFutureValue in their place otherwise, so that a client built
# before they existed never meets a value it cannot parse.
EVOLVABLE: Mapping[str, frozenset[str]] = {
    "incidentStatus": frozenset({IncidentStatus.AWAITING_ACTION}),
    "serviceSource": frozenset(
        {ServiceSource.DEFENDER_FOR_CLOUD, ServiceSource.SENTINEL, ServiceSource.THREAT_INTELLIGENCE}
    ),
    "detectionSource": frozenset(
        DetectionSource.values[DetectionSource.values.index(DetectionSource.DEFENDER_FOR_CLOUD) :]
    ),
    "evidenceRemediationStatus": frozenset(
        EvidenceRemediationStatus.values[EvidenceRemediationStatus.values.index(EvidenceRemediationStatus.ACTIVE) :]
    ),
}

# Vigil stores the determination spellings of Graph's v1.0 property lists; Graph's own metadata (and so every Graph
# SDK, which is generated from it) knows only the newer spellings of four of them, and reads the others as nothing.
# The API therefore answers with the metadata's spelling, and accepts both.
DETERMINATION_OUT: Mapping[str, str] = {stored: graph for graph, stored in DETERMINATION_ALIASES.items()}


def graph_enum(enum: str, value: str, *, include_unknown_members: bool) -> str:
    """A stored value of one of these enums as a client sees it (portal.graph.properties.enum_as_sent)."""
    return enum_as_sent(value, EVOLVABLE.get(enum, ()), include_unknown_members=include_unknown_members)


def _enum_values(choices, *, enum: str | None = None, aliases: Mapping[str, str] | None = None):
    values = {value: (value,) for value in choices.values}
    for alias, stored in (aliases or {}).items():
        values[alias] = (stored,)
    values[UNKNOWN_FUTURE_VALUE] = tuple(sorted(EVOLVABLE.get(enum, ())))
    return values


def _string(name, model_field):
    return GraphProperty(name, model_field, Kind.STRING, order_by=model_field)


def _enum(name, model_field, choices, *, enum=None, aliases=None):
    values = _enum_values(choices, enum=enum, aliases=aliases)
    return GraphProperty(name, model_field, Kind.ENUM, values=values, order_by=model_field)


def _datetime(name, model_field):
    return GraphProperty(name, model_field, Kind.DATETIME, order_by=model_field, order_type=datetime)


def _catalogue(*properties: GraphProperty) -> Mapping[str, GraphProperty]:
    return {prop.name: prop for prop in properties}


_SHARED = (
    GraphProperty("id", "id", Kind.ID, order_by="id", order_type=int),
    _string("assignedTo", "assigned_to"),
    _enum("classification", "classification", Classification),
    _enum("determination", "determination", Determination, aliases=DETERMINATION_ALIASES),
    # Severity sorts by rank (unknown .. high), not alphabetically.
    GraphProperty(
        "severity",
        "severity",
        Kind.ENUM,
        values=_enum_values(Severity),
        order_by="severity_rank",
        order_type=int,
    ),
    _datetime("createdDateTime", "created_at"),
    _datetime("lastUpdateDateTime", "last_update"),
)

INCIDENT_PROPERTIES = _catalogue(
    *_SHARED,
    _enum("status", "status", IncidentStatus, enum="incidentStatus"),
    _string("displayName", "display_name"),
    GraphProperty("customTags", "custom_tags", Kind.TAGS),
)

# For a reader scoped to device groups, what an incident derives from its alerts is filtered and sorted as they see
# it (incidents.selectors.with_seen_rollups annotates the queryset with these fields).
SEEN_INCIDENT_PROPERTIES = {
    **INCIDENT_PROPERTIES,
    "severity": replace(INCIDENT_PROPERTIES["severity"], field="seen_severity", order_by="seen_severity_rank"),
    "displayName": replace(INCIDENT_PROPERTIES["displayName"], field="seen_display_name", order_by="seen_display_name"),
}

ALERT_PROPERTIES = _catalogue(
    *_SHARED,
    _enum("status", "status", AlertStatus),
    _enum("serviceSource", "service_source", ServiceSource, enum="serviceSource"),
    _enum("detectionSource", "detection_source", DetectionSource, enum="detectionSource"),
    # Alerts without an incident sort as 0, before (ascending) or after (descending) every incident's alerts.
    GraphProperty(
        "incidentId",
        "incident_id",
        Kind.ID,
        order_by="graph_incident_order",
        order_expression=Coalesce("incident_id", Value(0)),
        order_type=int,
        nullable=True,
    ),
    _string("category", "category"),
    _string("title", "title"),
)
