"""
The Graph-compatible security API under /v1.0/security/: incidents and alerts_v2, one and many, their changes and
comments, as Microsoft Graph answers them (so that tools written for Graph, and Microsoft's own SDKs, work here).

Thin views: reads come from the scoped selectors (incidents.graph.selectors), writes go through the incident
services (same rules, same activity log, same scope as the portal), and every error is a Graph error body
(incidents.graph.base.SecurityGraphView over portal.graph).
"""

from dataclasses import replace
from functools import partial

from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from incidents.graph import openapi
from incidents.graph.base import SecurityGraphView
from incidents.graph.changes import alert_changes, comment_text, incident_changes
from incidents.graph.properties import ALERT_PROPERTIES, INCIDENT_PROPERTIES, SEEN_INCIDENT_PROPERTIES
from incidents.graph.selectors import graph_alert_comments, graph_alerts, graph_incident_comments, graph_incidents
from incidents.graph.serializers import alert_json, comment_json, incident_json
from incidents.selectors import sees_all_data
from incidents.selectors.seen import incidents_as_seen
from incidents.services.incidents import (
    alert_update,
    alert_version,
    comment_add,
    incident_update,
    incident_version,
)
from portal.graph.context import GraphContext
from portal.graph.odata import ListSpec, item_options, list_query, no_options
from portal.graph.views import graph_pk, graph_response

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
# A reader scoped to device groups filters and sorts incidents by what they see of them.
SEEN_INCIDENTS = replace(INCIDENTS, properties=SEEN_INCIDENT_PROPERTIES)
ALERTS = ListSpec(noun="alerts", properties=ALERT_PROPERTIES, default_ordering=(("createdDateTime", True),))


def _comments_answer(context: GraphContext, comments) -> Response:
    """What posting a comment answers in Graph: every comment of the object, oldest first, the new one last."""
    body = {
        "@odata.context": context.metadata("Collection(microsoft.graph.security.alertComment)"),
        "value": [comment_json(comment) for comment in comments],
    }
    return graph_response(body, context)


# --- Incidents ----------------------------------------------------------------------------------------------------


def _incidents_fragment(with_alerts: bool) -> str:
    return "security/incidents(alerts())" if with_alerts else "security/incidents"


@openapi.incident_list
class IncidentListView(SecurityGraphView):
    def rows_as_seen(self, rows: list) -> list:
        return incidents_as_seen(self.request.user, rows)

    def get(self, request):
        spec = INCIDENTS if sees_all_data(request.user) else SEEN_INCIDENTS
        query = list_query(request.query_params, spec)
        with_alerts = "alerts" in query.expand
        return self.page_answer(
            query,
            graph_incidents(request.user, with_alerts=with_alerts),
            partial(incident_json, with_alerts=with_alerts),
            _incidents_fragment(with_alerts),
        )


@openapi.incident_item
class IncidentView(SecurityGraphView):
    def get(self, request, incident_id):
        with_alerts = "alerts" in item_options(request.query_params, INCIDENTS)
        return self._answer(graph_pk(incident_id, "incident"), with_alerts=with_alerts)

    def patch(self, request, incident_id):
        no_options(request.query_params, INCIDENTS)
        pk = graph_pk(incident_id, "incident")
        changes = incident_changes(request.data)
        incident_update(incident_id=pk, actor=request.user, if_match=request.headers.get("If-Match"), **changes)
        return self._answer(pk)

    def _answer(self, pk: int, *, with_alerts: bool = False) -> Response:
        incident = graph_incidents(self.request.user, with_alerts=with_alerts).filter(pk=pk).first()
        if incident is None:
            raise NotFound(f"There is no incident with the id {pk}.")
        incident = incidents_as_seen(self.request.user, [incident])[0]
        context = self.graph_context()
        body = {
            "@odata.context": context.metadata(_incidents_fragment(with_alerts) + "/$entity"),
            **incident_json(incident, context, with_alerts=with_alerts),
        }
        return graph_response(body, context, etag=incident_version(incident))


@openapi.incident_comments
class IncidentCommentsView(SecurityGraphView):
    def post(self, request, incident_id):
        no_options(request.query_params, INCIDENTS)
        pk = graph_pk(incident_id, "incident")
        comment_add(actor=request.user, text=comment_text(request.data), incident_id=pk)
        return _comments_answer(self.graph_context(), graph_incident_comments(request.user, pk))


# --- Alerts -------------------------------------------------------------------------------------------------------


@openapi.alert_list
class AlertListView(SecurityGraphView):
    def get(self, request):
        query = list_query(request.query_params, ALERTS)
        return self.page_answer(query, graph_alerts(request.user), alert_json, "security/alerts_v2")


@openapi.alert_item
class AlertView(SecurityGraphView):
    def get(self, request, alert_id):
        item_options(request.query_params, ALERTS)
        return self._answer(graph_pk(alert_id, "alert"))

    def patch(self, request, alert_id):
        no_options(request.query_params, ALERTS)
        pk = graph_pk(alert_id, "alert")
        changes = alert_changes(request.data)
        alert_update(alert_id=pk, actor=request.user, if_match=request.headers.get("If-Match"), **changes)
        return self._answer(pk)

    def _answer(self, pk: int) -> Response:
        alert = graph_alerts(self.request.user).filter(pk=pk).first()
        if alert is None:
            raise NotFound(f"There is no alert with the id {pk}.")
        context = self.graph_context()
        body = {"@odata.context": context.metadata("security/alerts_v2/$entity"), **alert_json(alert, context)}
        return graph_response(body, context, etag=alert_version(alert))


@openapi.alert_comments
class AlertCommentsView(SecurityGraphView):
    def post(self, request, alert_id):
        no_options(request.query_params, ALERTS)
        pk = graph_pk(alert_id, "alert")
        comment_add(actor=request.user, text=comment_text(request.data), alert_id=pk)
        return _comments_answer(self.graph_context(), graph_alert_comments(request.user, pk))
