from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.ingestion.document import DocumentRefused, too_large_body
from incidents.services.ingestion import ingest_alert_document
from portal.api.access import permission_required
from portal.api.schema import error_response
from portal.catalogue import INGEST_ALERTS
from portal.retry import StillConflicting

__all__ = ("AlertIngestView",)


class RawJSONParser(BaseParser):
    """Lets the view read the body itself, so that the size limit is checked before the body is read."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream


def _error(message: str, status_code: int) -> Response:
    # The native API's error body (portal.api.errors), for the refusals this view makes before DRF parses anything.
    code = "too_large" if status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE else "parse_error"
    return Response({"detail": message, "code": code}, status=status_code)


# Whatever a list holds is answered: an item that is not an alert is reported in `rejected`, by its index.
_ALERTS = {
    "type": "array",
    "items": {"description": "An alert in alerts_v2 JSON."},
    "maxItems": settings.INGEST_MAX_ALERTS,
}
# A Graph page is "value" with nothing beside it but Graph's own annotations; with anything else it is one alert.
_PAGE_KEYS = ("value", "@odata.context", "@odata.nextLink", "@odata.count")
_PAGE_SHAPE = {"required": ["value"], "properties": {key: {} for key in _PAGE_KEYS}, "additionalProperties": False}
INGEST_BODY = {
    "description": f"One alert, a list of alerts or a Graph page of them, at most {settings.INGEST_MAX_ALERTS} "
    f"alerts and {settings.INGEST_MAX_BODY_BYTES} bytes (413 beyond).",
    "oneOf": [
        {"type": "object", "description": "One alert in alerts_v2 JSON.", "not": _PAGE_SHAPE},
        _ALERTS,
        {
            **_PAGE_SHAPE,
            "type": "object",
            "description": 'A Graph page: {"value": [...]}.',
            "properties": {**_PAGE_SHAPE["properties"], "value": _ALERTS},
        },
    ],
}

ResultSerializer = inline_serializer(
    "IngestResult",
    {
        "accepted": serializers.ListField(child=serializers.IntegerField(), help_text="ids of new alerts"),
        "updated": serializers.ListField(child=serializers.IntegerField(), help_text="ids of re-sent alerts"),
        "rejected": serializers.ListField(
            child=inline_serializer(
                "IngestRejection",
                {"index": serializers.IntegerField(), "errors": serializers.DictField(child=serializers.CharField())},
            )
        ),
    },
)


class AlertIngestView(APIView):
    """
    Push alerts in Microsoft Graph alerts_v2 JSON: one alert, a list, or a Graph page {"value": [...]}.

    Good items are stored, bad ones are reported by index; re-sending an alert (same serviceSource and
    providerAlertId, or id) updates it.
    """

    permission_classes = [permissions.IsAuthenticated, permission_required(INGEST_ALERTS, doing="Pushing alerts")]
    parser_classes = [RawJSONParser]

    @extend_schema(
        operation_id="alerts_ingest",
        tags=["alerts"],
        request={"application/json": INGEST_BODY},
        parameters=[
            OpenApiParameter(
                "Retry-After",
                location=OpenApiParameter.HEADER,
                response=[503],
                type=int,
                description="Seconds to wait before sending the batch again.",
            )
        ],
        responses={
            202: ResultSerializer,
            413: error_response("More alerts, or more bytes, than one request may carry."),
            503: error_response(
                "The batch kept colliding with concurrent work (correlation merging the incidents of the same "
                "alerts) and nothing of it was stored; send it again after Retry-After seconds."
            ),
        },
        examples=[
            OpenApiExample(
                "One alert",
                request_only=True,
                value={
                    "id": "da637551227677560813_-961444813",
                    "providerAlertId": "da637551227677560813_-961444813",
                    "serviceSource": "microsoftDefenderForEndpoint",
                    "detectionSource": "antivirus",
                    "title": "Suspicious execution of hidden file",
                    "severity": "medium",
                    "category": "DefenseEvasion",
                    "mitreTechniques": ["T1564.001"],
                    "createdDateTime": "2026-11-20T08:05:54.9906667Z",
                    "evidence": [
                        {
                            "@odata.type": "#microsoft.graph.security.deviceEvidence",
                            "deviceDnsName": "ws1.corp.example",
                            "mdeDeviceId": "73e7e2de709dff64ef64b1d0c30e67fab63279db",
                            "roles": [],
                        }
                    ],
                },
            )
        ],
    )
    def post(self, request):
        # The declared length is refused before the body is read, and no more than the limit is ever read.
        limit = settings.INGEST_MAX_BODY_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return _error(str(too_large_body()), 413)
        try:
            result = ingest_alert_document(
                request._request.read(limit + 1), source=f"api:{request.user.get_username()}"
            )
        except DocumentRefused as error:
            return _error(str(error), 413 if error.too_large else 400)
        except StillConflicting as error:
            # Nothing of the batch was stored: the forwarder's retry stores it whole.
            return Response(
                {"detail": f"{error} Send the batch again.", "code": "service_unavailable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(error.retry_after)},
            )
        return Response(
            {"accepted": result.accepted, "updated": result.updated, "rejected": result.rejected},
            status=status.HTTP_202_ACCEPTED,
        )
