"""
How the API's long lists page.

Incidents, alerts and the activity log page with a cursor over a total order (keyset pagination): each page starts
strictly after the last row of the one before, so following `next` to the end meets every row once, however deep,
without an OFFSET to scan past and without a count. The cursor carries the ordering it was made for, which is why
the ordering is chosen here, among orders ending in the primary key, rather than by a free-form sort parameter. Rows
that change their place in the order while someone pages (an incident updated meanwhile) are seen where they were
when read.

The smaller lists (an incident's comments and activity, evidence, entities) page by limit and offset, with a ceiling
on the limit.
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import GeneratedField, Q
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

__all__ = ("KeysetPagination", "ListPagination", "keyset_after")

MAX_PAGE_SIZE = 200


def _whole_number(value: str) -> int | None:
    """The value as a whole number, or None. isdigit() alone also passes digits int() refuses, such as "²"."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _rows_per_page(request, parameter: str, noun: str, default: int, maximum: int) -> int:
    """A page's length from the query: `default` when left out or empty, at most `maximum`, 400 unless from 1."""
    value = request.query_params.get(parameter)
    if not value:
        return default
    size = _whole_number(value)
    if size is None or size < 1:
        raise ValidationError({parameter: [f"{noun} is a whole number from 1."]})
    return min(size, maximum)


class ListPagination(pagination.LimitOffsetPagination):
    """
    DRF's limit and offset, strict about their values: DRF reads a limit or an offset it cannot use as the default,
    so that a client's mistake (`limit=ten`) would go unnoticed; here it answers 400, as `page_size` does. An empty
    value is the default, as an empty filter is no filter.
    """

    default_limit = 50
    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request):
        return _rows_per_page(request, self.limit_query_param, "A limit", self.default_limit, self.max_limit)

    def get_offset(self, request):
        value = request.query_params.get(self.offset_query_param)
        if not value:
            return 0
        offset = _whole_number(value)
        if offset is None:
            raise ValidationError({self.offset_query_param: ["An offset is a whole number from 0."]})
        return offset

    def get_schema_operation_parameters(self, view):
        limit, offset = super().get_schema_operation_parameters(view)
        limit["description"] = (
            f"Rows per page, {self.default_limit} by default; at most {self.max_limit} (a larger value reads as that)."
        )
        limit["schema"] = {"type": "integer", "minimum": 1}
        offset["description"] = "Rows to skip before the first, 0 by default."
        offset["schema"] = {"type": "integer", "minimum": 0}
        return [limit, offset]


class KeysetPagination(pagination.BasePagination):
    # "?ordering=" value → the order, as order_by takes it; each ends in "-id" or "id" so that it is total.
    orderings: dict[str, tuple[str, ...]] = {}
    default_ordering = ""
    page_size = 50
    max_page_size = MAX_PAGE_SIZE
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    ordering_query_param = "ordering"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.ordering = self._ordering(request)
        size = self._page_size(request)
        # An empty cursor is the first page, as an empty filter is no filter.
        cursor = request.query_params.get(self.cursor_query_param) or None
        backwards = False
        fields = self.orderings[self.ordering]
        if cursor is not None:
            values, backwards = self._decode(cursor, queryset)
            queryset = queryset.filter(self._beyond(values, backwards=backwards))
        if backwards:
            fields = tuple(name[1:] if name.startswith("-") else f"-{name}" for name in fields)
        rows = list(queryset.order_by(*fields)[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        # Going forwards there is a page before whenever a cursor brought us here; going backwards, one after.
        self.next_cursor = self._encode(rows[-1], backwards=False) if rows and (more or backwards) else None
        self.previous_cursor = (
            self._encode(rows[0], backwards=True) if rows and (more if backwards else cursor is not None) else None
        )
        return rows

    def get_paginated_response(self, data):
        return Response(
            {"next": self._link(self.next_cursor), "previous": self._link(self.previous_cursor), "results": data}
        )

    # --- the order and the page size ---------------------------------------------------------------------------

    def _ordering(self, request) -> str:
        value = request.query_params.get(self.ordering_query_param) or self.default_ordering
        if value not in self.orderings:
            choices = ", ".join(self.orderings)
            raise ValidationError({self.ordering_query_param: [f"{value!r} is not an ordering; use one of {choices}."]})
        return value

    def _page_size(self, request) -> int:
        return _rows_per_page(request, self.page_size_query_param, "A page size", self.page_size, self.max_page_size)

    def _keys(self) -> list[tuple[str, bool]]:
        """(field, descending) of the current ordering."""
        return [(name.lstrip("-"), name.startswith("-")) for name in self.orderings[self.ordering]]

    def _beyond(self, values: list, *, backwards: bool) -> Q:
        """The rows strictly after (before, going backwards) the row with these values in the ordering."""
        return keyset_after([(name, descending != backwards) for name, descending in self._keys()], values)

    # --- cursors -----------------------------------------------------------------------------------------------

    def _encode(self, row, *, backwards: bool) -> str:
        values = [getattr(row, name) for name, _ in self._keys()]
        document = {
            "o": self.ordering,
            "v": [value.isoformat() if hasattr(value, "isoformat") else value for value in values],
            "b": backwards,
        }
        return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode().rstrip("=")

    def _decode(self, cursor: str, queryset) -> tuple[list, bool]:
        invalid = ValidationError({self.cursor_query_param: ["This cursor is not one this list gave out."]})
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            document = json.loads(raw)
            ordering, values, backwards = document["o"], document["v"], document["b"]
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError, RecursionError) as error:
            raise invalid from error
        if not isinstance(ordering, str):
            raise invalid
        if ordering != self.ordering:
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        f"This cursor pages the {ordering!r} ordering; keep the ordering it came with."
                    ]
                }
            )
        keys = self._keys()
        if not isinstance(values, list) or len(values) != len(keys) or not isinstance(backwards, bool):
            raise invalid
        try:
            parsed = [_key_value(queryset, name, value) for (name, _), value in zip(keys, values, strict=True)]
        except (DjangoValidationError, TypeError, ValueError, OverflowError) as error:
            raise invalid from error
        if any(value is None for value in parsed):
            raise invalid
        return parsed, backwards

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(remove_query_param(url, self.cursor_query_param), self.cursor_query_param, cursor)

    # --- OpenAPI -----------------------------------------------------------------------------------------------

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Where the page starts: the cursor of a `next` or `previous` link, as given; empty "
                "or left out for the first page.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page, {self.page_size} by default; at most {self.max_page_size} "
                "(a larger value reads as that).",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.ordering_query_param,
                "in": "query",
                "required": False,
                "description": "The order of the rows, each ending with the id so that paging never skips or repeats "
                "a row: "
                + "; ".join(f"`{key}` = {', '.join(fields)}" for key, fields in self.orderings.items())
                + f". Default `{self.default_ordering}`.",
                "schema": {"type": "string", "enum": list(self.orderings), "default": self.default_ordering},
            },
        ]

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    **link,
                    "description": "The next page, or null on the last one.",
                    "example": "https://vigil.example/api/incidents/?cursor=eyJvIjoiLWxhc3RfdXBkYXRlIn0",
                },
                "previous": {**link, "description": "The page before, or null on the first one.", "example": None},
                "results": schema,
            },
        }


def _key_value(queryset, name: str, value):
    """
    A cursor's value for the key `name`, as the model field stores it (a generated column or an annotation of the
    queryset as its output field). Times carry their offset, as cursors are made, and are compared in UTC:
    PostgreSQL refuses the offsets beyond ±15:59 that a forged cursor may carry.
    """
    annotation = queryset.query.annotations.get(name)
    field = annotation.output_field if annotation is not None else queryset.model._meta.get_field(name)
    value = (field.output_field if isinstance(field, GeneratedField) else field).to_python(value)
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise ValueError("a time without its UTC offset")
    return value.astimezone(UTC)


def keyset_after(keys: list[tuple[str, bool]], values: list | tuple) -> Q:
    """
    The rows strictly after the row with these `values` in the order of `keys`, (field, descending) pairs ending in
    a unique one: equal on the first keys and beyond on the next, for each key in turn. The bound on the first key
    alone lets PostgreSQL read the matching index from that point.
    """
    steps = []
    for position, (name, descending) in enumerate(keys):
        equal = {keys[i][0]: values[i] for i in range(position)}
        steps.append(Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[position]}))
    first, descending = keys[0]
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]}) & reduce(or_, steps)
