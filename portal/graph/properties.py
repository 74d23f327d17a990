"""
What a Graph resource's properties are, for `$filter`, `$orderby` and its representation: each property's Graph name,
the model field it stands for, its type, and how a Graph enum value maps to what is stored. A resource lists its
properties (GraphProperty) in a catalogue of its own (incidents.graph.properties for incidents and alerts).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from django.db.models import Expression

__all__ = ("UNKNOWN_FUTURE_VALUE", "GraphProperty", "Kind", "enum_as_sent")

UNKNOWN_FUTURE_VALUE = "unknownFutureValue"


def enum_as_sent(value: str, newer_members, *, include_unknown_members: bool) -> str:
    """
    A stored enum value as a client sees it: Graph's members listed after unknownFutureValue (`newer_members`) reach
    only a client that sent `Prefer: include-unknown-enum-members`, and read as unknownFutureValue otherwise, so that
    a client built before they existed never meets a value it cannot parse.
    """
    if not include_unknown_members and value in newer_members:
        return UNKNOWN_FUTURE_VALUE
    return value


class Kind(Enum):
    STRING = "string"
    ENUM = "enum"
    DATETIME = "datetime"
    ID = "id"
    TAGS = "tags"


@dataclass(frozen=True)
class GraphProperty:
    name: str
    # The model field `$filter` compares.
    field: str
    kind: Kind
    # ENUM: every value a client may send (stored values, aliases, unknownFutureValue) → the stored values it means.
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # What `$orderby` sorts by; None when it cannot be sorted by.
    order_by: str | None = None
    # When `order_by` names an annotation rather than a field: the expression to annotate it with.
    order_expression: Expression | None = None
    # The Python type of the sort value (a $skiptoken carries it from one page to the next).
    order_type: type = str
    # ID: whether the property can be null (an alert without an incident).
    nullable: bool = False
