"""
Keyset pagination for lists that only grow, newest first: the activity log.

A page starts where the previous one ended, (timestamp, id) strictly below the last row shown, rather than at an
offset: every page costs the same single query however deep it is, and rows added meanwhile never shift the pages
a client is reading. The position travels as an opaque `cursor`; lists paged this way go forward only, by `next`.
"""

import base64
import binascii
from datetime import datetime

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

__all__ = ("KeysetPagination",)


class KeysetPagination(BasePagination):
    """Pages of `limit` rows ordered by (`ordering_field`, id) descending."""

    ordering_field = "occurred_at"
    default_limit = 50
    max_limit = 200
    limit_query_param = "limit"
    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        limit = self._limit(request)
        position = self._position(request)
        field = self.ordering_field
        queryset = queryset.order_by(f"-{field}", "-pk")
        if position is not None:
            at, pk = position
            queryset = queryset.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk}))
        # One row more than the page says whether there is a next one, without a count.
        rows = list(queryset[: limit + 1])
        page = rows[:limit]
        self.next_position = (getattr(page[-1], field), page[-1].pk) if len(rows) > limit else None
        return page

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_next_link(self):
        if self.next_position is None:
            return None
        at, pk = self.next_position
        cursor = base64.urlsafe_b64encode(f"{at.isoformat()}|{pk}".encode()).decode()
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if limit < 1:
            raise ValidationError({self.limit_query_param: [f"A whole number from 1 to {self.max_limit}."]})
        return min(limit, self.max_limit)

    def _position(self, request) -> tuple[datetime, int] | None:
        raw = request.query_params.get(self.cursor_query_param)
        if not raw:
            return None
        try:
            at, pk = base64.urlsafe_b64decode(raw.encode()).decode().split("|")
            position = datetime.fromisoformat(at), int(pk)
            if position[0].tzinfo is None:
                raise ValueError("a cursor's time always has its offset")
        except (binascii.Error, UnicodeError, ValueError) as error:
            raise ValidationError(
                {self.cursor_query_param: ["Not a cursor this list gave out: follow `next` or start without one."]}
            ) from error
        return position

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last one.",
                    "example": "https://vigil.example/api/activity/?cursor=MjAyNi0xMS0yMFQwODowNTo1NC4xMjM0NTYrMDA6MDB8NDI%3D",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: the cursor in the previous page's `next` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, {self.default_limit} unless given, at most {self.max_limit}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]
