"""
What every view of the Graph-compatible API shares: who may call it, what it reads and answers (JSON only, whatever
the Accept header says), its error bodies (portal.graph.errors), and how it answers a page of a list and one
object (`@odata.context`, `@odata.count`, `@odata.nextLink`, OData-Version).
"""

import re
from urllib.parse import quote, urlencode

from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.graph.context import GraphContext
from portal.graph.errors import graph_exception_handler
from portal.graph.odata import ListQuery
from portal.graph.paging import page_of

__all__ = ("GraphView", "graph_pk", "graph_response")

GRAPH_ID = re.compile(r"^[0-9]{1,18}$")


class JSONAlways(DefaultContentNegotiation):
    """Graph answers JSON whatever the Accept header says; a client asking for HTML still gets a Graph answer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class GraphView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONAlways
    context_class = GraphContext
    # Model fields a service may name in its errors → the Graph property the client wrote, where not camelCase.
    property_names: dict[str, str] = {}
    # OPTIONS is not part of Graph: it answers 405 like any other method a resource does not take.
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "trace"]

    def get_exception_handler(self):
        return graph_exception_handler

    def graph_context(self) -> GraphContext:
        return self.context_class(self.request)

    def rows_as_seen(self, rows: list) -> list:
        """A page's rows as the caller may see them; a resource whose rows derive from others says how."""
        return rows

    def page_answer(self, query: ListQuery, queryset, representation, fragment: str) -> Response:
        """One page of the scoped `queryset` as a Graph collection: context, count, values and the next page's link."""
        page = page_of(
            queryset.filter(query.filter),
            ordering=query.ordering,
            top=query.top,
            skip=query.skip,
            after=query.after,
            count=query.count,
        )
        context = self.graph_context()
        body = {"@odata.context": context.metadata(fragment)}
        if page.count is not None:
            body["@odata.count"] = page.count
        body["value"] = [representation(row, context) for row in self.rows_as_seen(page.rows)]
        if page.next_token:
            body["@odata.nextLink"] = _next_link(self.request, page.next_token)
        return graph_response(body, context)


def graph_pk(value: str, noun: str) -> int:
    """The primary key a Graph id names; 404 for anything that cannot be one (Graph ids are strings)."""
    if not GRAPH_ID.match(value):
        raise NotFound(f"There is no {noun} with the id {value[:40]!r}.")
    return int(value)


def graph_response(body, context: GraphContext, *, etag: str | None = None) -> Response:
    response = Response(body)
    response["OData-Version"] = "4.0"
    if context.include_unknown_members:
        response["Preference-Applied"] = "include-unknown-enum-members"
    if etag:
        response["ETag"] = etag
    return response


def _next_link(request, token: str) -> str:
    """The request again, absolute, with the next page's $skiptoken in place of $skip and any earlier token."""
    pairs = [
        (name, value)
        for name, values in request.query_params.lists()
        if name not in ("$skip", "$skiptoken")
        for value in values
    ]
    pairs.append(("$skiptoken", token))
    return request.build_absolute_uri(request.path) + "?" + urlencode(pairs, quote_via=quote, safe="$")
