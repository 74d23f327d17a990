"""
The Graph-compatible security API under /v1.0/security/: incidents and alerts_v2, one and many, their changes and
comments, as Microsoft Graph answers them (so that tools written for Graph, and Microsoft's own SDKs, work here).

Thin views: reads come from the scoped selectors (incidents.graph.selectors), writes go through the incident
services (same rules, same activity log, same scope as the portal), and every error is a Graph error body
(incidents.graph.errors).
"""

import re
from functools import partial
from urllib.parse import quote, urlencode

from rest_framework import permissions
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.graph import openapi
from incidents.graph.changes import alert_changes, comment_text, incident_changes
from incidents.graph.errors import InvalidQuery, graph_exception_handler
from incidents.graph.odata import ListQuery, ListSpec, item_options, list_query, no_options
from incidents.graph.paging import page_of
from incidents.graph.properties import ALERT_PROPERTIES, INCIDENT_PROPERTIES
from incidents.graph.selectors import graph_alert_comments, graph_alerts, graph_incident_comments, graph_incidents
from incidents.graph.serializers import GraphContext, alert_json, comment_json, incident_json
from incidents.services.incidents import alert_update, comment_add, incident_update, incident_version
from permissions.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA

__all__ = (
    "AlertCommentsView",
    "AlertListView",
    "AlertView",
    "IncidentCommentsView",
    "IncidentListView",
    "IncidentView",
)

INCIDENTS = ListSpec(
    noun="incidents",
    properties=INCIDENT_PROPERTIES,
    default_ordering=(("lastUpdateDateTime", True),),
    expandable=frozenset({"alerts"}),
)
ALERTS = ListSpec(noun="alerts", properties=ALERT_PROPERTIES, default_ordering=(("createdDateTime", True),))
GRAPH_ID = re.compile(r"^[0-9]{1,18}$")


class SecurityDataAccess(permissions.BasePermission):
    """Reading needs the right to view security data, changing also the right to manage incidents (in any scope)."""

    def has_permission(self, request, view):
        if not request.user.has_perm(VIEW_SECURITY_DATA):
            self.message = f"Reading incidents and alerts requires the {VIEW_SECURITY_DATA} permission."
            return False
        if request.method not in permissions.SAFE_METHODS and not request.user.has_perm(MANAGE_INCIDENTS):
            self.message = f"Changing incidents and alerts requires the {MANAGE_INCIDENTS} permission."
            return False
        return True


class JSONAlways(DefaultContentNegotiation):
    """Graph answers JSON whatever the Accept header says; a client asking for HTML still gets a Graph answer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class GraphView(APIView):
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    content_negotiation_class = JSONAlways
    permission_classes = [permissions.IsAuthenticated, SecurityDataAccess]
    # OPTIONS is not part of Graph: it answers 405 like any other method a resource does not take.
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "trace"]

    def get_exception_handler(self):
        return graph_exception_handler

    def graph_context(self) -> GraphContext:
        return GraphContext(self.request)

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
        body["value"] = [representation(row, context) for row in page.rows]
        if page.next_token:
            body["@odata.nextLink"] = _next_link(self.request, page.next_token)
        return _graph_response(body, context)


def graph_pk(value: str) -> int:
    """The primary key a Graph id names; 404 for anything that cannot be one (Graph ids are strings)."""
    if not GRAPH_ID.match(value):
        raise NotFound(f"There is no object with the id {value[:40]!r}.")
    return int(value)


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


def _graph_response(body, context: GraphContext, *, etag: str | None = None) -> Response:
    response = Response(body)
    response["OData-Version"] = "4.0"
    if context.include_unknown_members:
        response["Preference-Applied"] = "include-unknown-enum-members"
    if etag:
        response["ETag"] = etag
    return response


def _comments_answer(context: GraphContext, comments) -> Response:
    """What posting a comment answers in Graph: every comment of the object, oldest first, the new one last."""
    body = {
        "@odata.context": context.metadata("Collection(microsoft.graph.security.alertComment)"),
        "value": [comment_json(comment) for comment in comments],
    }
    return _graph_response(body, context)


# --- Incidents ----------------------------------------------------------------------------------------------------


def _incidents_fragment(with_alerts: bool) -> str:
    return "security/incidents(alerts())" if with_alerts else "security/incidents"


@openapi.incident_list
class IncidentListView(GraphView):
    def get(self, request):
        query = list_query(request.query_params, INCIDENTS)
        with_alerts = "alerts" in query.expand
        return self.page_answer(
            query,
            graph_incidents(request.user, with_alerts=with_alerts),
            partial(incident_json, with_alerts=with_alerts),
            _incidents_fragment(with_alerts),
        )


@openapi.incident_item
class IncidentView(GraphView):
    def get(self, request, incident_id):
        with_alerts = "alerts" in item_options(request.query_params, INCIDENTS)
        return self._answer(graph_pk(incident_id), with_alerts=with_alerts)

    def patch(self, request, incident_id):
        no_options(request.query_params, INCIDENTS)
        pk = graph_pk(incident_id)
        changes = incident_changes(request.data)
        incident_update(incident_id=pk, actor=request.user, if_match=request.headers.get("If-Match"), **changes)
        return self._answer(pk)

    def _answer(self, pk: int, *, with_alerts: bool = False) -> Response:
        incident = graph_incidents(self.request.user, with_alerts=with_alerts).filter(pk=pk).first()
        if incident is None:
            raise NotFound(f"There is no incident with the id {pk}.")
        context = self.graph_context()
        body = {
            "@odata.context": context.metadata(_incidents_fragment(with_alerts) + "/$entity"),
            **incident_json(incident, context, with_alerts=with_alerts),
        }
        return _graph_response(body, context, etag=incident_version(incident))


@openapi.incident_comments
class IncidentCommentsView(GraphView):
    def post(self, request, incident_id):
        no_options(request.query_params, INCIDENTS)
        pk = graph_pk(incident_id)
        comment_add(actor=request.user, text=comment_text(request.data), incident_id=pk)
        return _comments_answer(self.graph_context(), graph_incident_comments(request.user, pk))


# --- Alerts -------------------------------------------------------------------------------------------------------


@openapi.alert_list
class AlertListView(GraphView):
    def get(self, request):
        query = list_query(request.query_params, ALERTS)
        return self.page_answer(query, graph_alerts(request.user), alert_json, "security/alerts_v2")


@openapi.alert_item
class AlertView(GraphView):
    def get(self, request, alert_id):
        item_options(request.query_params, ALERTS)
        return self._answer(graph_pk(alert_id))

    def patch(self, request, alert_id):
        no_options(request.query_params, ALERTS)
        if "If-Match" in request.headers:
            # Alerts carry no version to check it against: refusing is safer than ignoring the condition.
            raise InvalidQuery("If-Match is not supported on alerts.")
        pk = graph_pk(alert_id)
        alert_update(alert_id=pk, actor=request.user, **alert_changes(request.data))
        return self._answer(pk)

    def _answer(self, pk: int) -> Response:
        alert = graph_alerts(self.request.user).filter(pk=pk).first()
        if alert is None:
            raise NotFound(f"There is no alert with the id {pk}.")
        context = self.graph_context()
        body = {"@odata.context": context.metadata("security/alerts_v2/$entity"), **alert_json(alert, context)}
        return _graph_response(body, context)


@openapi.alert_comments
class AlertCommentsView(GraphView):
    def post(self, request, alert_id):
        no_options(request.query_params, ALERTS)
        pk = graph_pk(alert_id)
        comment_add(actor=request.user, text=comment_text(request.data), alert_id=pk)
        return _comments_answer(self.graph_context(), graph_alert_comments(request.user, pk))
