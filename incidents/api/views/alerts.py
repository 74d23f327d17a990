"""
/api/alerts/: the alerts in the caller's scope, one alert, changing it, its comments and evidence, and moving it to
another (or a new) incident. Reads go through incidents.selectors, writes through the same services as the alert
page, so the rules and the activity log are the same.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from incidents.api import examples
from incidents.api.pagination import AlertPagination
from incidents.api.serializers import (
    ALERT_UNSHOWN_FIELDS,
    AlertChangeSerializer,
    AlertMoveSerializer,
    AlertSerializer,
    EvidenceSerializer,
)
from incidents.api.views.base import (
    SecurityDataViewSet,
    VersionedRetrieveMixin,
    etag_parameter,
    if_match_parameter,
    sub_list_action,
)
from incidents.api.views.comments import comments_action
from incidents.filters import AlertFilterSet
from incidents.models import Alert
from incidents.selectors import OutOfScope, evidence_of
from incidents.services.incidents import alert_update, alert_version
from incidents.services.merge import alert_move
from portal.api.schema import error_response

__all__ = ("AlertViewSet",)

ETAG = etag_parameter("alert")


@extend_schema_view(
    list=extend_schema(
        operation_id="alerts_list",
        summary="List alerts",
        description="Every alert in the caller's scope, newest first unless `ordering` says otherwise; the same "
        "filters as the alert queue, without its default view.",
        responses={200: AlertSerializer(many=True)},
        examples=[examples.ALERT],
    ),
    retrieve=extend_schema(
        operation_id="alerts_retrieve",
        summary="Read an alert",
        parameters=[ETAG],
        responses={200: AlertSerializer},
        examples=[examples.ALERT],
    ),
)
@extend_schema(tags=["alerts"])
class AlertViewSet(VersionedRetrieveMixin, mixins.ListModelMixin, SecurityDataViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = AlertPagination
    version_of = staticmethod(alert_version)
    scoped_model = Alert

    def scoped_rows(self, rows):
        return rows.defer(*ALERT_UNSHOWN_FIELDS)

    @extend_schema(
        operation_id="alerts_partial_update",
        summary="Change an alert",
        description="Change an alert's status, classification, determination or assignee; only the fields sent "
        "change. Its incident's counts follow.",
        parameters=[if_match_parameter("alert", required=False), ETAG],
        request=AlertChangeSerializer,
        responses={
            200: AlertSerializer,
            412: error_response("The alert changed since it was read (If-Match); nothing was changed."),
        },
        examples=[examples.ALERT_CHANGE, examples.ALERT],
    )
    def partial_update(self, request, *args, **kwargs):
        alert = self.get_object()
        change = AlertChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        if_match = request.headers.get("If-Match")
        alert_update(alert_id=alert.pk, actor=request.user, if_match=if_match, **change.validated_data)
        return self.versioned_response(self.get_object())

    comments = comments_action("alert")

    @extend_schema(
        operation_id="alerts_evidence_list",
        summary="List an alert's evidence",
        description="Each entity the alert names, with the roles, verdict and remediation status the alert gave it.",
        responses={200: EvidenceSerializer(many=True)},
        examples=[examples.EVIDENCE],
    )
    @sub_list_action(EvidenceSerializer)
    def evidence(self, request, *args, **kwargs):
        alert = self.get_object()
        return self.page_of(evidence_of(request.user, alert))

    @extend_schema(
        operation_id="alerts_move",
        summary="Move an alert to another incident",
        description="Move the alert to an incident you may change, or to a new incident of its own (`incident` "
        "null). Both incidents' activity logs keep the reason.",
        request=AlertMoveSerializer,
        responses={200: AlertSerializer},
        examples=[examples.ALERT_MOVE, examples.ALERT],
    )
    @action(detail=True, methods=["post"], serializer_class=AlertSerializer, filterset_class=None)
    def move(self, request, *args, **kwargs):
        alert = self.get_object()
        body = AlertMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert_move(
                alert_id=alert.pk,
                actor=request.user,
                reason=body.validated_data["reason"],
                incident_id=body.validated_data["incident"],
            )
        except OutOfScope as error:
            # The alert itself out of reach is a 404 (the error handler's); the target is a wrong value in the body.
            if error.model is Alert:
                raise
            raise ValidationError({"incident": [str(error)]}) from error
        return Response(self.get_serializer(self.get_object()).data)
