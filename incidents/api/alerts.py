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
from incidents.api.base import SecurityDataViewSet
from incidents.api.comments import COMMENT_LIST_SCHEMA, comment_created
from incidents.api.pagination import AlertPagination
from incidents.api.serializers import (
    ALERT_UNSHOWN_FIELDS,
    AlertChangeSerializer,
    AlertMoveSerializer,
    AlertSerializer,
    CommentSerializer,
    EvidenceSerializer,
)
from incidents.filters import AlertFilterSet
from incidents.models import Alert, Evidence
from incidents.selectors import OutOfScope, alerts_for, comments_for
from incidents.services.incidents import alert_update, comment_add
from incidents.services.merge import alert_move
from portal.api.pagination import ListPagination

__all__ = ("AlertViewSet",)


@extend_schema_view(
    list=extend_schema(
        operation_id="alerts_list",
        summary="List alerts",
        description="Every alert in the caller's scope, newest first unless `ordering` says otherwise; the same "
        "filters as the alert queue, without its default view.",
        responses={200: AlertSerializer(many=True)},
        examples=[examples.ALERT_PAGE],
    ),
    retrieve=extend_schema(
        operation_id="alerts_retrieve",
        summary="Read an alert",
        responses={200: AlertSerializer},
        examples=[examples.ALERT],
    ),
)
@extend_schema(tags=["alerts"])
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SecurityDataViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = AlertPagination

    def get_queryset(self):
        return alerts_for(self.request.user).defer(*ALERT_UNSHOWN_FIELDS)

    @extend_schema(
        operation_id="alerts_partial_update",
        summary="Change an alert",
        description="Change an alert's status, classification, determination or assignee; only the fields sent "
        "change. Its incident's counts follow.",
        request=AlertChangeSerializer,
        responses={200: AlertSerializer},
        examples=[examples.ALERT_CHANGE, examples.ALERT],
    )
    def partial_update(self, request, *args, **kwargs):
        alert = self.get_object()
        change = AlertChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        alert_update(alert_id=alert.pk, actor=request.user, **change.validated_data)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        methods=["GET"], operation_id="alerts_comments_list", summary="List an alert's comments", **COMMENT_LIST_SCHEMA
    )
    @extend_schema(
        methods=["POST"],
        operation_id="alerts_comments_create",
        summary="Comment on an alert",
        description="Needs the right to manage the alert. The comment is also in the alert's activity log.",
        request=CommentSerializer,
        responses={201: CommentSerializer},
        examples=[examples.COMMENT_TEXT, examples.COMMENT],
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=CommentSerializer,
        pagination_class=ListPagination,
        filterset_class=None,
    )
    def comments(self, request, *args, **kwargs):
        alert = self.get_object()
        if request.method == "POST":
            return comment_created(request, lambda text: comment_add(actor=request.user, text=text, alert_id=alert.pk))
        return self.page_of(comments_for(request.user).filter(alert=alert).order_by("-created_at", "-id"))

    @extend_schema(
        operation_id="alerts_evidence_list",
        summary="List an alert's evidence",
        description="Each entity the alert names, with the roles, verdict and remediation status the alert gave it.",
        responses={200: EvidenceSerializer(many=True)},
        examples=[examples.EVIDENCE_PAGE],
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=EvidenceSerializer,
        pagination_class=ListPagination,
        filterset_class=None,
    )
    def evidence(self, request, *args, **kwargs):
        alert = self.get_object()
        return self.page_of(Evidence.objects.filter(alert=alert).select_related("entity").order_by("id"))

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
