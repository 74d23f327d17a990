"""The security API's views: who may call them, how their fields are named in Graph, their enums (portal.graph)."""

from rest_framework import permissions

from incidents.graph.serializers import SecurityGraphContext
from portal.api.access import permission_required
from portal.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.graph.views import GraphView

__all__ = ("SecurityGraphView",)


class SecurityGraphView(GraphView):
    context_class = SecurityGraphContext
    permission_classes = [
        permissions.IsAuthenticated,
        permission_required(VIEW_SECURITY_DATA, doing="Reading incidents and alerts"),
        permission_required(MANAGE_INCIDENTS, doing="Changing incidents and alerts", writes_only=True),
    ]
    # The fields the services name that Graph calls otherwise than in camelCase.
    property_names = {"redirect_incident": "redirectIncidentId", "text": "comment"}
