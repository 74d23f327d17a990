"""
Ordering and paging of the Graph lists.

A page is `$top` rows of the filtered, ordered queryset after `$skip` rows; the next page is reached by the
`$skiptoken` of `@odata.nextLink`, which holds the sort values of the page's last row (keyset paging): the next page
starts right after that row, whatever was added before it meanwhile, and costs the same however deep it is (where an
offset would read and drop every row before it, and Graph caps `$skip` at 500). Every ordering ends with the id, so
that the order is total and no row is on two pages.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from portal.api.pagination import keyset_after
from portal.graph.errors import BadRequest
from portal.graph.literals import MAX_ID, literal_moment, literal_text
from portal.graph.properties import GraphProperty

__all__ = ("OrderKey", "Page", "decode_skiptoken", "page_of")

SKIPTOKEN_REFUSED = "The $skiptoken does not belong to this query; start again from the first page."


@dataclass(frozen=True)
class OrderKey:
    prop: GraphProperty
    descending: bool

    @property
    def spelling(self) -> str:
        return f"{self.prop.name} {'desc' if self.descending else 'asc'}"

    @property
    def attribute(self) -> str:
        return self.prop.order_by

    def as_order_by(self) -> str:
        return f"-{self.attribute}" if self.descending else self.attribute


@dataclass(frozen=True)
class Page:
    rows: list
    # The number of rows the filter matches (all pages), when $count=true asked for it.
    count: int | None
    # The $skiptoken of the next page; None on the last one.
    next_token: str | None


def page_of(
    queryset: QuerySet, *, ordering: tuple[OrderKey, ...], top: int, skip: int, after: tuple | None, count: bool
) -> Page:
    """One page of `queryset` (already scoped and filtered): $top rows after $skip rows, after the $skiptoken row."""
    total = queryset.count() if count else None
    annotations = {key.attribute: key.prop.order_expression for key in ordering if key.prop.order_expression}
    ordered = queryset.annotate(**annotations).order_by(*(key.as_order_by() for key in ordering))
    if after is not None:
        ordered = ordered.filter(keyset_after([(key.attribute, key.descending) for key in ordering], after))
    # One row more than the page tells whether there is a next page, in the same query.
    rows = list(ordered[skip : skip + top + 1]) if top else []
    more = len(rows) > top
    rows = rows[:top]
    token = _encode(ordering, tuple(getattr(rows[-1], key.attribute) for key in ordering)) if more else None
    return Page(rows=rows, count=total, next_token=token)


def _signature(ordering: tuple[OrderKey, ...]) -> str:
    return ",".join(key.spelling for key in ordering)


def _encode(ordering: tuple[OrderKey, ...], values: tuple) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    text = json.dumps({"o": _signature(ordering), "v": plain}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_skiptoken(token: str, ordering: tuple[OrderKey, ...]) -> tuple:
    """The sort values a $skiptoken carries, checked against the query's ordering; BadRequest otherwise."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        document = json.loads(text)
        values = document["v"]
        if document["o"] != _signature(ordering) or len(values) != len(ordering):
            raise BadRequest(SKIPTOKEN_REFUSED)
        return tuple(_typed(key, value) for key, value in zip(ordering, values, strict=True))
    # RecursionError: a made-up token may nest its JSON deeper than the parser goes.
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError, RecursionError) as error:
        raise BadRequest(SKIPTOKEN_REFUSED) from error


def _typed(key: OrderKey, value):
    """A token's value as the key's type: an aware date and time, an integer (ids, severity rank) or text."""
    expected = key.prop.order_type
    if expected is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("naive date and time")
        return literal_moment(moment, "A date and time of the $skiptoken")
    if expected is int:
        if type(value) is not int or not 0 <= value <= MAX_ID:
            raise ValueError("not an id")
        return value
    if not isinstance(value, str):
        raise ValueError("not text")
    return literal_text(value, "The $skiptoken")
