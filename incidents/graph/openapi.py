"""
The OpenAPI description of the Graph-compatible API (it appears in /api/schema/ beside the native API, tagged
"Graph security API"): Graph's shapes as documentation-only serializers, the OData query options as parameters, one
example per operation, and the Graph error body for every error status; what the serializers cannot say about the
bodies (required, closed, at least one change) is added by document_graph_bodies, a postprocessing hook.

The serializers here only describe; the bodies are built by incidents.graph.serializers.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers

from incidents.api.views.base import if_match_parameter
from incidents.choices import (
    DETERMINATION_ALIASES,
    AlertStatus,
    Classification,
    DetectionSource,
    Determination,
    EvidenceRemediationStatus,
    EvidenceVerdict,
    IncidentStatus,
    ServiceSource,
    Severity,
)
from incidents.graph.changes import ALERT_CHANGES, INCIDENT_CHANGES
from incidents.graph.properties import ALERT_PROPERTIES, DETERMINATION_OUT, INCIDENT_PROPERTIES, UNKNOWN_FUTURE_VALUE
from incidents.graph.serializers import NS
from incidents.models import COMMENT_MAX_LENGTH
from portal.api.fields import NonBlankField
from portal.graph.filtering import MAX_FILTER_LENGTH
from portal.graph.odata import DEFAULT_TOP, MAX_ORDER_KEYS, MAX_SKIP, MAX_TOP

__all__ = ("alert_comments", "alert_item", "alert_list", "incident_comments", "incident_item", "incident_list")

TAG = "Graph security API"
# OData's expression syntaxes, which no JSON Schema pattern can hold: named formats, described in the parameters.
FILTER_FORMAT = "odata-filter"
ORDERBY_FORMAT = "odata-orderby"


def _enum_field(values, **kwargs) -> serializers.Field:
    """
    A string field documented as an inline enum. The enum sits inside an allOf so that drf-spectacular's enum hook
    leaves it inline: Graph's sets (with unknownFutureValue, Graph's determination spellings) differ from the native
    API's enums of the same property names, and would otherwise collide with them as shared components.
    """
    schema = {"type": "string", "allOf": [{"enum": list(dict.fromkeys(values))}]}

    @extend_schema_field(schema)
    class EnumField(serializers.CharField):
        pass

    return EnumField(**kwargs)


def _text(**kwargs):
    return serializers.CharField(allow_null=True, **kwargs)


def _datetime(**kwargs):
    return serializers.DateTimeField(allow_null=True, **kwargs)


def _strings(**kwargs):
    return serializers.ListField(child=serializers.CharField(), **kwargs)


def _described(name: str, doc: str, fields: dict) -> type[serializers.Serializer]:
    """A documentation serializer; its field names may be Graph's (`@odata.type`), which are not Python names."""
    return type(name, (serializers.Serializer,), {"__doc__": doc, **fields})


def _with_unknown(values):
    return [*values, UNKNOWN_FUTURE_VALUE]


DETERMINATIONS_OUT = [DETERMINATION_OUT.get(value, value) for value in Determination.values]
DETERMINATIONS_IN = [*Determination.values, *DETERMINATION_ALIASES]

# --- Shapes -------------------------------------------------------------------------------------------------------

GraphErrorDetail = _described(
    "GraphErrorDetail",
    "One invalid value: its message and the property it is about.",
    {"code": serializers.CharField(), "message": serializers.CharField(), "target": serializers.CharField()},
)
GraphInnerError = _described(
    "GraphInnerError",
    "When the error happened, the id of the request, and the client's own request id when it sent one.",
    {
        "date": serializers.CharField(),
        "request-id": serializers.CharField(),
        "client-request-id": serializers.CharField(allow_null=True),
    },
)
GraphMainError = _described(
    "GraphMainError",
    "Graph's error: a code (BadRequest, Unauthenticated, Forbidden, NotFound, PreconditionFailed, ...) and a message.",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "details": GraphErrorDetail(many=True, required=False),
        "innerError": GraphInnerError(),
    },
)
GraphError = _described("GraphError", "Microsoft Graph's error body.", {"error": GraphMainError()})

GraphAlertComment = _described(
    "GraphAlertComment",
    "A comment on an incident or an alert (microsoft.graph.security.alertComment).",
    {
        "@odata.type": serializers.CharField(),
        "comment": serializers.CharField(),
        "createdByDisplayName": serializers.CharField(),
        "createdDateTime": serializers.DateTimeField(),
    },
)
GraphAlertCommentList = _described(
    "GraphAlertCommentList",
    "Every comment of the incident or alert, oldest first.",
    {"@odata.context": serializers.CharField(), "value": GraphAlertComment(many=True)},
)
GraphAlertEvidence = _described(
    "GraphAlertEvidence",
    "An alertEvidence: the base properties below, and the properties of its subtype, named by @odata.type "
    "(#microsoft.graph.security.deviceEvidence, userEvidence, fileEvidence, processEvidence, ipEvidence, ...), "
    "as the source sent them.",
    {
        "@odata.type": serializers.CharField(),
        "createdDateTime": _datetime(),
        "verdict": _enum_field(EvidenceVerdict.values),
        "remediationStatus": _enum_field(_with_unknown(EvidenceRemediationStatus.values)),
        "remediationStatusDetails": _text(),
        "roles": _strings(),
        "detailedRoles": _strings(),
        "tags": _strings(),
    },
)
GraphAlert = _described(
    "GraphAlert",
    "An alert (microsoft.graph.security.alert, alerts_v2).",
    {
        "@odata.context": serializers.CharField(required=False, help_text="Only on a single alert."),
        "@odata.type": serializers.CharField(),
        "id": serializers.CharField(),
        "providerAlertId": _text(),
        "incidentId": _text(),
        "status": _enum_field(_with_unknown(AlertStatus.values)),
        "severity": _enum_field(_with_unknown(Severity.values)),
        "classification": _enum_field(_with_unknown(Classification.values)),
        "determination": _enum_field(_with_unknown(DETERMINATIONS_OUT)),
        "serviceSource": _enum_field(_with_unknown(ServiceSource.values)),
        "detectionSource": _enum_field(_with_unknown(DetectionSource.values)),
        "productName": _text(),
        "detectorId": _text(),
        "tenantId": _text(),
        "title": serializers.CharField(),
        "description": _text(),
        "recommendedActions": _text(),
        "category": _text(),
        "assignedTo": _text(),
        "alertWebUrl": serializers.URLField(),
        "incidentWebUrl": serializers.URLField(allow_null=True),
        "actorDisplayName": _text(),
        "threatDisplayName": _text(),
        "threatFamilyName": _text(),
        "mitreTechniques": _strings(),
        "createdDateTime": serializers.DateTimeField(),
        "lastUpdateDateTime": serializers.DateTimeField(),
        "resolvedDateTime": _datetime(),
        "firstActivityDateTime": _datetime(),
        "lastActivityDateTime": _datetime(),
        "comments": GraphAlertComment(many=True),
        "evidence": GraphAlertEvidence(many=True),
        "systemTags": _strings(),
        "additionalData": serializers.DictField(),
        "alertPolicyId": _text(help_text="Always null: Vigil does not keep it."),
        "customDetails": serializers.DictField(allow_null=True, help_text="Always null: Vigil does not keep it."),
        "investigationState": _text(help_text="Always null: Vigil does not keep it."),
    },
)
GraphIncident = _described(
    "GraphIncident",
    "An incident (microsoft.graph.security.incident).",
    {
        "@odata.context": serializers.CharField(required=False, help_text="Only on a single incident."),
        "@odata.type": serializers.CharField(),
        "id": serializers.CharField(),
        "tenantId": _text(),
        "status": _enum_field(_with_unknown(IncidentStatus.values)),
        "incidentWebUrl": serializers.URLField(),
        "redirectIncidentId": _text(),
        "displayName": serializers.CharField(),
        "description": _text(),
        "summary": _text(),
        "severity": _enum_field(_with_unknown(Severity.values)),
        "classification": _enum_field(_with_unknown(Classification.values)),
        "determination": _enum_field(_with_unknown(DETERMINATIONS_OUT)),
        "assignedTo": _text(),
        "createdDateTime": serializers.DateTimeField(),
        "lastUpdateDateTime": serializers.DateTimeField(),
        "lastModifiedBy": _text(),
        "resolvingComment": _text(),
        "customTags": _strings(),
        "systemTags": _strings(),
        "comments": GraphAlertComment(many=True),
        "priorityScore": serializers.IntegerField(allow_null=True, help_text="Always null: Vigil does not keep it."),
        "alerts": GraphAlert(many=True, required=False, help_text="Only with $expand=alerts."),
    },
)


def _collection(name: str, item) -> type[serializers.Serializer]:
    return _described(
        name,
        "One page of the collection; @odata.nextLink, when present, is the next page's URL.",
        {
            "@odata.context": serializers.CharField(),
            "@odata.count": serializers.IntegerField(required=False, help_text="Only with $count=true."),
            "value": item(many=True),
            "@odata.nextLink": serializers.URLField(required=False),
        },
    )


GraphIncidentCollection = _collection("GraphIncidentCollection", GraphIncident)
GraphAlertCollection = _collection("GraphAlertCollection", GraphAlert)


def _odata_type(graph_type: str) -> serializers.Field:
    """The @odata.type a body may name: its type, with or without the leading #."""
    return _enum_field(
        [graph_type, graph_type.lstrip("#")], required=False, allow_null=True, help_text=f"{graph_type}, or left out."
    )


GraphIncidentChanges = _described(
    "GraphIncidentChanges",
    "The properties to change, at least one; the others keep their values. Resolving needs a resolvingComment.",
    {
        "@odata.type": _odata_type(NS + "incident"),
        "assignedTo": serializers.CharField(
            allow_null=True, allow_blank=True, required=False, help_text="null unassigns."
        ),
        "classification": _enum_field(Classification.values, required=False),
        "determination": _enum_field(DETERMINATIONS_IN, required=False),
        "status": _enum_field(
            [IncidentStatus.ACTIVE, IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED], required=False
        ),
        "severity": _enum_field(Severity.values, required=False),
        "displayName": NonBlankField(required=False),
        "customTags": _strings(required=False),
        "resolvingComment": serializers.CharField(allow_null=True, allow_blank=True, required=False),
        "summary": serializers.CharField(allow_null=True, allow_blank=True, required=False),
    },
)
GraphAlertChanges = _described(
    "GraphAlertChanges",
    "The properties to change, at least one; the others keep their values.",
    {
        "@odata.type": _odata_type(NS + "alert"),
        "assignedTo": serializers.CharField(
            allow_null=True, allow_blank=True, required=False, help_text="null unassigns."
        ),
        "classification": _enum_field(Classification.values, required=False),
        "determination": _enum_field(DETERMINATIONS_IN, required=False),
        "status": _enum_field([AlertStatus.NEW, AlertStatus.IN_PROGRESS, AlertStatus.RESOLVED], required=False),
    },
)
GraphNewComment = _described(
    "GraphNewComment",
    "A comment to add. msgraph-sdk sends it as a list of one, which is accepted too.",
    {
        "@odata.type": _odata_type(NS + "alertComment"),
        "comment": NonBlankField(longest=COMMENT_MAX_LENGTH),
    },
)

# --- Parameters ---------------------------------------------------------------------------------------------------


def _filter(properties) -> OpenApiParameter:
    return OpenApiParameter(
        "$filter",
        {"type": "string", "format": FILTER_FORMAT, "maxLength": MAX_FILTER_LENGTH},
        OpenApiParameter.QUERY,
        description=(
            "An OData filter over "
            + ", ".join(sorted(properties))
            + ": eq, ne, gt, ge, lt, le, in, and, or, not, startswith(), endswith(), contains() (text, any case), "
            "customTags/any(t: t eq 'x'); dates in ISO 8601, e.g. createdDateTime ge 2026-11-20T08:05:54.9906667Z."
        ),
    )


def _orderby(properties, default: str) -> OpenApiParameter:
    sortable = ", ".join(sorted(name for name, prop in properties.items() if prop.order_by))
    return OpenApiParameter(
        "$orderby",
        {"type": "string", "format": ORDERBY_FORMAT},
        OpenApiParameter.QUERY,
        description=f"Up to {MAX_ORDER_KEYS} properties to sort by, separated by commas, each once and optionally "
        f"followed by asc (the default) or desc, among {sortable}. Default: {default}.",
    )


PAGING = [
    OpenApiParameter(
        "$top",
        {"type": "integer", "minimum": 0, "maximum": MAX_TOP},
        OpenApiParameter.QUERY,
        description=f"Rows per page (default {DEFAULT_TOP}, at most {MAX_TOP}).",
    ),
    OpenApiParameter(
        "$skip",
        {"type": "integer", "minimum": 0, "maximum": MAX_SKIP},
        OpenApiParameter.QUERY,
        description=f"Rows to skip before the first (at most {MAX_SKIP}); follow @odata.nextLink to go further.",
    ),
    OpenApiParameter(
        "$count", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="true adds @odata.count, all pages' rows."
    ),
    OpenApiParameter(
        "$skiptoken",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Where the next page starts; set by @odata.nextLink, not written by hand.",
    ),
]
PREFER = OpenApiParameter(
    "Prefer",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="include-unknown-enum-members: also return enum members added after unknownFutureValue "
    "(awaitingAction, newer service and detection sources) instead of unknownFutureValue.",
)
EXPAND = OpenApiParameter(
    "$expand", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["alerts"], description="alerts: each incident's alerts."
)


def _path_id(name: str, noun: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "string", "pattern": "^[0-9]+$"},
        OpenApiParameter.PATH,
        description=f"The {noun}'s id (digits, as Graph ids are text).",
    )


INCIDENT_ID = _path_id("incident_id", "incident")
ALERT_ID = _path_id("alert_id", "alert")


IF_MATCH = if_match_parameter("incident", required=False)
ALERT_IF_MATCH = if_match_parameter("alert", required=False)


def _errors(*statuses: int) -> dict:
    descriptions = {
        400: "Invalid query option or body (BadRequest).",
        401: "No valid token (Unauthenticated, InvalidAuthenticationToken).",
        403: "The permission is missing (Forbidden).",
        404: "No such object in the caller's scope (NotFound).",
        412: "It changed since the If-Match version (PreconditionFailed).",
    }
    return {status: OpenApiResponse(GraphError, description=descriptions[status]) for status in statuses}


# --- Examples -----------------------------------------------------------------------------------------------------

_COMMENT = {
    "@odata.type": "#microsoft.graph.security.alertComment",
    "comment": "Isolated the device; the user's password was reset.",
    "createdByDisplayName": "alice",
    "createdDateTime": "2026-11-20T09:12:31.4430000Z",
}
_EVIDENCE = {
    "@odata.type": "#microsoft.graph.security.deviceEvidence",
    "createdDateTime": "2026-11-20T08:05:54.9906660Z",
    "verdict": "suspicious",
    "remediationStatus": "none",
    "remediationStatusDetails": None,
    "roles": [],
    "detailedRoles": ["PrimaryDevice"],
    "tags": [],
    "deviceDnsName": "ws-fin-042.corp.example",
    "mdeDeviceId": "73e7e2de709dff64ef64b1d0c30e67fab63279db",
    "osPlatform": "Windows11",
    "rbacGroupName": "Finance",
}
_ALERT = {
    "@odata.type": "#microsoft.graph.security.alert",
    "id": "118",
    "providerAlertId": "da637551227677560813_-961444813",
    "incidentId": "42",
    "status": "new",
    "severity": "high",
    "classification": "unknown",
    "determination": "unknown",
    "serviceSource": "microsoftDefenderForEndpoint",
    "detectionSource": "antivirus",
    "productName": "Microsoft Defender for Endpoint",
    "detectorId": "7f1c3609-a3ff-40e2-995b-c01770161d68",
    "tenantId": "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c",
    "title": "Suspicious PowerShell command line",
    "description": "A suspicious PowerShell activity was observed on the machine.",
    "recommendedActions": "Examine the PowerShell command line.",
    "category": "Execution",
    "assignedTo": None,
    "alertWebUrl": "https://vigil.corp.example/alerts/118/",
    "incidentWebUrl": "https://vigil.corp.example/incidents/42/",
    "actorDisplayName": None,
    "threatDisplayName": None,
    "threatFamilyName": None,
    "mitreTechniques": ["T1059.001"],
    "createdDateTime": "2026-11-20T08:05:54.9906660Z",
    "lastUpdateDateTime": "2026-11-20T08:07:10.1000000Z",
    "resolvedDateTime": None,
    "firstActivityDateTime": "2026-11-20T08:01:12.0000000Z",
    "lastActivityDateTime": "2026-11-20T08:04:40.0000000Z",
    "comments": [],
    "evidence": [_EVIDENCE],
    "systemTags": [],
    "additionalData": {},
    "alertPolicyId": None,
    "customDetails": None,
    "investigationState": None,
}
_INCIDENT = {
    "@odata.type": "#microsoft.graph.security.incident",
    "id": "42",
    "tenantId": None,
    "status": "inProgress",
    "incidentWebUrl": "https://vigil.corp.example/incidents/42/",
    "redirectIncidentId": None,
    "displayName": "Execution incident on one endpoint",
    "description": None,
    "summary": None,
    "severity": "high",
    "classification": "truePositive",
    "determination": "malware",
    "assignedTo": "alice",
    "createdDateTime": "2026-11-20T08:06:01.2000000Z",
    "lastUpdateDateTime": "2026-11-20T09:12:31.4430000Z",
    "lastModifiedBy": "alice",
    "resolvingComment": None,
    "customTags": ["Finance"],
    "systemTags": [],
    "comments": [_COMMENT],
    "priorityScore": None,
}
INCIDENT_PAGE = OpenApiExample(
    "Incidents with their alerts",
    response_only=True,
    value={
        "@odata.context": "https://vigil.corp.example/v1.0/$metadata#security/incidents(alerts())",
        "@odata.count": 51,
        "value": [{**_INCIDENT, "alerts": [_ALERT]}],
        "@odata.nextLink": "https://vigil.corp.example/v1.0/security/incidents?$expand=alerts&$top=1"
        "&$skiptoken=eyJvIjoibGFzdFVwZGF0ZURhdGVUaW1lIGRlc2MsaWQgZGVzYyIsInYiOlsiMjAyNi0xMS0yMFQwOToxMjozMSswMDowMCIsNDJdfQ",
    },
)
INCIDENT = OpenApiExample(
    "An incident",
    response_only=True,
    value={"@odata.context": "https://vigil.corp.example/v1.0/$metadata#security/incidents/$entity", **_INCIDENT},
)
INCIDENT_CHANGE = OpenApiExample(
    "Classify and assign",
    request_only=True,
    value={"status": "inProgress", "classification": "truePositive", "determination": "malware", "assignedTo": "alice"},
)
ALERT_PAGE = OpenApiExample(
    "Alerts",
    response_only=True,
    value={"@odata.context": "https://vigil.corp.example/v1.0/$metadata#security/alerts_v2", "value": [_ALERT]},
)
ALERT = OpenApiExample(
    "An alert",
    response_only=True,
    value={"@odata.context": "https://vigil.corp.example/v1.0/$metadata#security/alerts_v2/$entity", **_ALERT},
)
ALERT_CHANGE = OpenApiExample(
    "Resolve as a false positive",
    request_only=True,
    value={"status": "resolved", "classification": "falsePositive", "determination": "notMalicious"},
)
NEW_COMMENT = OpenApiExample(
    "A comment",
    request_only=True,
    value={"@odata.type": "microsoft.graph.security.alertComment", "comment": "Isolated the device."},
)

# --- Operations ---------------------------------------------------------------------------------------------------

incident_list = extend_schema_view(
    get=extend_schema(
        operation_id="graph_incidents_list",
        summary="List incidents",
        tags=[TAG],
        parameters=[
            _filter(INCIDENT_PROPERTIES),
            _orderby(INCIDENT_PROPERTIES, "lastUpdateDateTime desc"),
            EXPAND,
            *PAGING,
            PREFER,
        ],
        responses={200: GraphIncidentCollection, **_errors(400, 401, 403)},
        examples=[INCIDENT_PAGE],
    )
)
incident_item = extend_schema_view(
    get=extend_schema(
        operation_id="graph_incidents_get",
        summary="Get an incident",
        tags=[TAG],
        parameters=[INCIDENT_ID, EXPAND, PREFER],
        responses={200: GraphIncident, **_errors(400, 401, 403, 404)},
        examples=[INCIDENT],
    ),
    patch=extend_schema(
        operation_id="graph_incidents_update",
        summary="Update an incident",
        tags=[TAG],
        parameters=[INCIDENT_ID, IF_MATCH, PREFER],
        request=GraphIncidentChanges,
        responses={200: GraphIncident, **_errors(400, 401, 403, 404, 412)},
        examples=[INCIDENT_CHANGE, INCIDENT],
    ),
)
incident_comments = extend_schema_view(
    post=extend_schema(
        operation_id="graph_incidents_comments_create",
        summary="Comment on an incident",
        tags=[TAG],
        parameters=[INCIDENT_ID],
        request=GraphNewComment,
        responses={200: GraphAlertCommentList, **_errors(400, 401, 403, 404)},
        examples=[NEW_COMMENT],
    )
)
alert_list = extend_schema_view(
    get=extend_schema(
        operation_id="graph_alerts_list",
        summary="List alerts",
        tags=[TAG],
        parameters=[
            _filter(ALERT_PROPERTIES),
            _orderby(ALERT_PROPERTIES, "createdDateTime desc"),
            *PAGING,
            PREFER,
        ],
        responses={200: GraphAlertCollection, **_errors(400, 401, 403)},
        examples=[ALERT_PAGE],
    )
)
alert_item = extend_schema_view(
    get=extend_schema(
        operation_id="graph_alerts_get",
        summary="Get an alert",
        tags=[TAG],
        parameters=[ALERT_ID, PREFER],
        responses={200: GraphAlert, **_errors(400, 401, 403, 404)},
        examples=[ALERT],
    ),
    patch=extend_schema(
        operation_id="graph_alerts_update",
        summary="Update an alert",
        tags=[TAG],
        parameters=[ALERT_ID, ALERT_IF_MATCH, PREFER],
        request=GraphAlertChanges,
        responses={200: GraphAlert, **_errors(400, 401, 403, 404, 412)},
        examples=[ALERT_CHANGE, ALERT],
    ),
)
alert_comments = extend_schema_view(
    post=extend_schema(
        operation_id="graph_alerts_comments_create",
        summary="Comment on an alert",
        tags=[TAG],
        parameters=[ALERT_ID],
        request=GraphNewComment,
        responses={200: GraphAlertCommentList, **_errors(400, 401, 403, 404)},
        examples=[NEW_COMMENT],
    )
)


# --- What drf-spectacular cannot say from the serializers -------------------------------------------------------

# operationId → the properties its body can change.
CHANGES_OF = {"graph_incidents_update": INCIDENT_CHANGES, "graph_alerts_update": ALERT_CHANGES}
COMMENT_OPERATIONS = {"graph_incidents_comments_create", "graph_alerts_comments_create"}


def document_graph_bodies(result, generator, request, public):
    """
    drf-spectacular postprocessing hook: the Graph API's bodies are required, and hold nothing but their properties
    (incidents.graph.changes refuses an unknown or read-only property rather than dropping it); a change names at
    least one property it changes, and a comment is one object or, as msgraph-sdk sends it, a list of one.
    """
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            operation_id = operation.get("operationId")
            if operation_id not in CHANGES_OF and operation_id not in COMMENT_OPERATIONS:
                continue
            body = operation["requestBody"]
            body["required"] = True
            media_type = body["content"]["application/json"]
            reference = media_type["schema"]
            component = schemas[reference["$ref"].rsplit("/", 1)[-1]]
            component["additionalProperties"] = False
            if operation_id in CHANGES_OF:
                component["anyOf"] = [{"required": [name]} for name in CHANGES_OF[operation_id]]
            else:
                media_type["schema"] = {
                    "oneOf": [reference, {"type": "array", "items": reference, "minItems": 1, "maxItems": 1}]
                }
    return result
