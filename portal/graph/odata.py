"""
The OData query options of a Graph request, read and checked: `$filter`, `$orderby`, `$top`, `$skip`, `$count`,
`$expand` and `$skiptoken` on lists, `$expand` on one incident. An option the endpoint does not support, given twice,
or with a value it cannot apply answers 400 saying so, rather than being ignored: a client that asked for a filter
must never receive everything.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Q

from portal.graph.errors import BadRequest
from portal.graph.filtering import filter_q
from portal.graph.paging import OrderKey, decode_skiptoken
from portal.graph.properties import GraphProperty

__all__ = ("DEFAULT_TOP", "MAX_SKIP", "MAX_TOP", "ListQuery", "ListSpec", "item_options", "list_query", "no_options")

DEFAULT_TOP = 50
MAX_TOP = 1000
MAX_SKIP = 500
MAX_ORDER_KEYS = 5
ORDER_ITEM = re.compile(r"^\s*([A-Za-z]+)(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ListSpec:
    """What one list endpoint supports."""

    noun: str  # "incidents", "alerts"
    properties: Mapping[str, GraphProperty]
    default_ordering: tuple[tuple[str, bool], ...]  # (property, descending)
    expandable: frozenset[str] = frozenset()

    @property
    def options(self) -> frozenset[str]:
        supported = {"$filter", "$orderby", "$top", "$skip", "$count", "$skiptoken"}
        return frozenset(supported | ({"$expand"} if self.expandable else set()))


@dataclass(frozen=True)
class ListQuery:
    filter: Q
    ordering: tuple[OrderKey, ...]
    top: int
    skip: int
    count: bool
    expand: frozenset[str]
    # The sort values of the last row of the previous page ($skiptoken), or None on the first page.
    after: tuple | None


def list_query(params, spec: ListSpec) -> ListQuery:
    """The query options of a list request (a QueryDict), checked against what the endpoint supports."""
    options = _options(params, spec.options, spec.noun)
    ordering = _ordering(options.get("$orderby"), spec)
    token = options.get("$skiptoken")
    return ListQuery(
        filter=filter_q(options["$filter"], spec.properties, noun=spec.noun) if "$filter" in options else Q(),
        ordering=ordering,
        top=_bounded_integer(options, "$top", DEFAULT_TOP, MAX_TOP),
        skip=_bounded_integer(options, "$skip", 0, MAX_SKIP),
        count=_boolean(options, "$count"),
        expand=_expand(options.get("$expand"), spec),
        after=decode_skiptoken(token, ordering) if token is not None else None,
    )


def item_options(params, spec: ListSpec) -> frozenset[str]:
    """The $expand of a request for one object: the only query option one object takes (when it can expand)."""
    supported = frozenset({"$expand"}) if spec.expandable else frozenset()
    return _expand(_options(params, supported, f"one of the {spec.noun}").get("$expand"), spec)


def no_options(params, spec: ListSpec) -> None:
    """Changes take no query option."""
    _options(params, frozenset(), f"changes to {spec.noun}")


def _options(params, supported: frozenset[str], noun: str) -> dict[str, str]:
    options = {}
    for name in params:
        if not name.startswith("$"):
            continue  # custom query options, which OData leaves to the service: none is used here
        if name not in supported:
            listed = ", ".join(sorted(supported)) or "none"
            raise BadRequest(f"The query option {name} is not supported for {noun}; supported: {listed}.")
        values = params.getlist(name)
        if len(values) > 1:
            raise BadRequest(f"The query option {name} is given more than once.")
        options[name] = values[0]
    return options


def _bounded_integer(options: dict, name: str, default: int, maximum: int) -> int:
    if name not in options:
        return default
    text = options[name].strip()
    if not text.isascii() or not text.isdigit() or int(text) > maximum:
        raise BadRequest(f"The value of {name} must be a whole number from 0 to {maximum}.")
    return int(text)


def _boolean(options: dict, name: str) -> bool:
    value = options.get(name, "false").strip().lower()
    if value not in ("true", "false"):
        raise BadRequest(f"The value of {name} must be true or false.")
    return value == "true"


def _expand(value: str | None, spec: ListSpec) -> frozenset[str]:
    if value is None:
        return frozenset()
    expandable = ", ".join(sorted(spec.expandable)) or "nothing"
    # Nested options hold commas of their own (alerts($top=1;$select=id,title)): split the list only outside them.
    if "(" in value:
        raise BadRequest(f"Options inside $expand ({value[:60]}) are not supported; expand {expandable} whole.")
    names = [name.strip() for name in value.split(",")]
    for name in names:
        if not name:
            raise BadRequest(f"$expand names what to expand: {expandable}.")
        if name not in spec.expandable:
            raise BadRequest(f"$expand={name} is not supported for {spec.noun}; it can expand {expandable}.")
    return frozenset(names)


def _ordering(value: str | None, spec: ListSpec) -> tuple[OrderKey, ...]:
    """The $orderby keys (the endpoint's default without one), always ending with the id as the tie-break."""
    if value is None:
        pairs = list(spec.default_ordering)
    else:
        items = value.split(",")
        if len(items) > MAX_ORDER_KEYS:
            raise BadRequest(f"$orderby takes at most {MAX_ORDER_KEYS} properties.")
        pairs = []
        for item in items:
            match = ORDER_ITEM.match(item)
            if not match:
                raise BadRequest(f"'{item.strip()}' in $orderby is not a property name followed by asc or desc.")
            pairs.append((match.group(1), (match.group(2) or "asc").lower() == "desc"))
    keys, seen = [], set()
    for name, descending in pairs:
        prop = spec.properties.get(name)
        if prop is None or prop.order_by is None:
            sortable = ", ".join(sorted(n for n, p in spec.properties.items() if p.order_by))
            raise BadRequest(f"{spec.noun.capitalize()} cannot be sorted by {name}; use one of: {sortable}.")
        if name in seen:
            raise BadRequest(f"{name} is given more than once in $orderby.")
        seen.add(name)
        keys.append(OrderKey(prop, descending))
    if "id" not in seen:
        keys.append(OrderKey(spec.properties["id"], keys[0].descending if keys else True))
    return tuple(keys)
