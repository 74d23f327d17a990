"""
/api/incidents/: the incidents in the caller's scope, one incident (with its ETag), changing it (If-Match
required), its comments, alerts and activity log, and merging incidents. Reads go through incidents.selectors,
writes through the same services as the incident page, so the rules and the activity log are the same.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from incidents.api import examples
from incidents.api.pagination import AlertPagination, IncidentPagination
from incidents.api.serializers import (
    ALERT_UNSHOWN_FIELDS,
    AlertSerializer,
    IncidentChangeSerializer,
    IncidentMergeSerializer,
    IncidentSerializer,
)
from incidents.api.views.base import (
    SecurityDataAPI,
    SecurityDataViewSet,
    VersionedRetrieveMixin,
    etag_parameter,
    if_match_of,
    if_match_parameter,
    sub_list_action,
)
from incidents.api.views.comments import comments_action
from incidents.filters import AlertFilterSet, IncidentFilterSet
from incidents.models import Alert, Incident
from incidents.selectors import OutOfScope, incidents_for
from incidents.selectors.seen import with_seen_severity
from incidents.services.incidents import incident_update, incident_version
from incidents.services.merge import MAX_MANUAL_MERGE, incidents_merge
from portal.api.schema import error_response
from portal.api.serializers import ActivityLogEntrySerializer
from portal.selectors import activity_seen_by

__all__ = ("IncidentAlertList", "IncidentViewSet")

# A missing id and one out of scope read alike, so that the answer never tells whether the other exists.
MERGE_SELECTION = f"Give two to {MAX_MANUAL_MERGE} incidents that exist and that you may change."

ETAG = etag_parameter("incident")
IF_MATCH = if_match_parameter("incident", required=True)


@extend_schema_view(
    list=extend_schema(
        operation_id="incidents_list",
        summary="List incidents",
        description="Every incident in the caller's scope (redirected ones included), newest update first unless "
        "`ordering` says otherwise; the same filters as the incident queue, without its default view.",
        responses={200: IncidentSerializer(many=True)},
        examples=[examples.INCIDENT],
    ),
    retrieve=extend_schema(
        operation_id="incidents_retrieve",
        summary="Read an incident",
        parameters=[ETAG],
        responses={200: IncidentSerializer},
        examples=[examples.INCIDENT],
    ),
)
@extend_schema(tags=["incidents"])
class IncidentViewSet(VersionedRetrieveMixin, mixins.ListModelMixin, SecurityDataViewSet):
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    pagination_class = IncidentPagination
    version_of = staticmethod(incident_version)
    scoped_model = Incident

    def scoped_rows(self, rows):
        return with_seen_severity(self.request.user, rows)

    @extend_schema(
        operation_id="incidents_partial_update",
        summary="Change an incident",
        description="Change what a person may change on an incident; only the fields sent change. Resolving "
        "resolves its active alerts, assigning assigns them; a determination must belong to the classification.",
        parameters=[IF_MATCH, ETAG],
        request=IncidentChangeSerializer,
        responses={
            200: IncidentSerializer,
            412: error_response("The incident changed since it was read; nothing was changed."),
            428: error_response("No If-Match header."),
        },
        examples=[examples.INCIDENT_CHANGE, examples.INCIDENT_RESOLVE, examples.INCIDENT, examples.STALE],
    )
    def partial_update(self, request, *args, **kwargs):
        incident = self.get_object()
        if_match = if_match_of(request)
        change = IncidentChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        incident_update(incident_id=incident.pk, actor=request.user, if_match=if_match, **change.validated_data)
        return self.versioned_response(self.get_object())

    comments = comments_action("incident")

    @extend_schema(
        operation_id="incidents_activity_list",
        summary="Read an incident's activity log",
        description="Every change to the incident by a person or the system, newest first.",
        responses={200: ActivityLogEntrySerializer(many=True)},
        examples=[examples.ACTIVITY_ENTRY],
    )
    @sub_list_action(ActivityLogEntrySerializer)
    def activity(self, request, *args, **kwargs):
        return self.page_of(activity_seen_by(request.user, self.get_object()))

    @extend_schema(
        operation_id="incidents_merge",
        summary="Merge incidents",
        description=f"Merge two to {MAX_MANUAL_MERGE} incidents into the oldest of them (the lowest id): their alerts "
        "and tags move to it and the others become redirected to it. They must all be incidents you may change, "
        "none already merged, with equal or empty assignee, classification and determination.",
        request=IncidentMergeSerializer,
        parameters=[ETAG],
        responses={200: IncidentSerializer},
        examples=[examples.INCIDENT_MERGE, examples.INCIDENT],
    )
    @action(detail=False, methods=["post"], serializer_class=IncidentSerializer, filterset_class=None)
    def merge(self, request, *args, **kwargs):
        body = IncidentMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = sorted(set(body.validated_data["incidents"]))
        try:
            target = incidents_merge(
                target_id=ids[0], source_ids=ids[1:], actor=request.user, reason=body.validated_data["reason"]
            )
        except OutOfScope as error:
            raise ValidationError({"incidents": [MERGE_SELECTION]}) from error
        return self.versioned_response(incidents_for(request.user).get(pk=target.pk))


@extend_schema(tags=["incidents"])
class IncidentAlertList(SecurityDataAPI, generics.ListAPIView):
    """/api/incidents/{id}/alerts/: its own view, because its rows, filters and cursor are the alert list's."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = AlertPagination

    scoped_model = Alert

    def scoped_rows(self, rows):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI description reads the model only
            return rows.none()
        incident = get_object_or_404(incidents_for(self.request.user), pk=self.kwargs["pk"])
        return rows.filter(incident=incident).defer(*ALERT_UNSHOWN_FIELDS)  # ordered by the pagination

    @extend_schema(
        operation_id="incidents_alerts_list",
        summary="List an incident's alerts",
        description="The incident's alerts in the caller's scope, with the alert list's filters, ordering and paging.",
        responses={200: AlertSerializer(many=True)},
        examples=[examples.ALERT],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
