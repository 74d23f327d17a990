"""
The native API's representations of security data, in snake_case with Graph's enum values, and the bodies of its
writes. Representations are read-only; what a person may change travels in the `*Change` serializers, whose
values go to the services unchanged (the services hold the rules: classification and determination, resolving,
redirected incidents).

A change serializer's OpenAPI component shares its resource's name (PatchedIncidentRequest beside Incident), so
that each resource's enums are named after it (IncidentStatusEnum, AlertStatusEnum) rather than after a hash.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from incidents.api.fields import DeviceRiskScoreField
from incidents.choices import (
    DETERMINATION_ALIASES,
    AlertStatus,
    Classification,
    Determination,
    IncidentStatus,
    Severity,
)
from incidents.models import COMMENT_MAX_LENGTH, Alert, Comment, Entity, Evidence, Incident
from incidents.selectors.seen import incidents_as_seen
from incidents.services.incidents import ASSIGNEE_MAX_LENGTH, incident_version
from incidents.services.merge import MAX_MANUAL_MERGE
from portal.api.fields import DistinctListField, NonBlankField, StrictCharField, StrictIntegerField
from portal.api.schema import RulesInSchema

__all__ = (
    "ALERT_UNSHOWN_FIELDS",
    "AlertChangeSerializer",
    "AlertMoveSerializer",
    "AlertSerializer",
    "CommentSerializer",
    "EntitySerializer",
    "EvidenceSerializer",
    "IncidentChangeSerializer",
    "IncidentMergeSerializer",
    "IncidentSerializer",
)

# The largest id PostgreSQL's bigint holds: a larger one in a body is an invalid value, not a database error.
MAX_ID = 2**63 - 1
REASON_MAX_LENGTH = 1000


# --- Fields -------------------------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.URI)
class PortalPageField(serializers.Field):
    """The object's page in the portal (the URL named `url_name`), absolute when the request is known."""

    def __init__(self, url_name: str, **kwargs):
        self.url_name = url_name
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, instance) -> str:
        path = reverse(self.url_name, args=[instance.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class DeviceGroupIdsField(serializers.ListField):
    """The ids of the device groups of an incident's or an alert's devices: what its scoping compares."""

    def __init__(self, **kwargs):
        super().__init__(source="device_group_ids", child=serializers.IntegerField(), read_only=True, **kwargs)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "enum": list(Determination.values)},
            {
                "type": "string",
                "enum": list(DETERMINATION_ALIASES),
                "description": "Graph's newer spellings, stored as compromisedUser, clean, insufficientData and "
                "confirmedUserActivity.",
            },
        ]
    }
)
class DeterminationField(serializers.ChoiceField):
    """A determination as Graph spells it, its newer aliases (compromisedAccount, notMalicious, ...) included."""

    def __init__(self, **kwargs):
        super().__init__(choices=[*Determination.values, *DETERMINATION_ALIASES], **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return str(DETERMINATION_ALIASES.get(value, value))


class _ChangeSerializer(RulesInSchema, serializers.Serializer):
    """A partial change: only the fields sent are changed, and a field that cannot be changed is refused."""

    schema_rules = {"additionalProperties": False}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                allowed = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {name: [f"This field cannot be changed here; send only {allowed}."] for name in unknown}
                )
        return super().to_internal_value(data)


# --- Incidents ----------------------------------------------------------------------------------------------------


class IncidentListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        # A page of incidents as the caller sees them, in the same few queries whatever the page size.
        return super().to_representation(incidents_as_seen(self.context["request"].user, data))


class IncidentSerializer(serializers.ModelSerializer):
    """
    An incident as the caller sees it: when some of its alerts are outside their scope, what it derives from its
    alerts (severity, name, counts, sources, categories, techniques, assets, device groups, activity times) is
    derived from the alerts they may see (incidents.selectors.seen).
    """

    device_groups = DeviceGroupIdsField(help_text="Ids of the device groups of the incident's devices.")
    alerts_visible = serializers.IntegerField(
        read_only=True,
        help_text="How many of its alerts the caller may see: fewer than alerts_total when some are outside their "
        "device groups, and then the incident's rollups describe the visible ones only.",
    )
    impacted_assets = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text='Impacted entities by kind: {"device": 2, ...}.'
    )
    url = PortalPageField("incidents:detail", help_text="The incident's page in the portal.")
    etag = serializers.SerializerMethodField(help_text="The incident's version: send it as If-Match to change it.")

    class Meta:
        model = Incident
        fields = [
            "id",
            "display_name",
            "description",
            "summary",
            "severity",
            "status",
            "classification",
            "determination",
            "assigned_to",
            "custom_tags",
            "system_tags",
            "redirect_incident",
            "resolving_comment",
            "last_modified_by",
            "first_activity",
            "last_activity",
            "created_at",
            "last_update",
            "alerts_total",
            "alerts_visible",
            "alerts_active",
            "impacted_assets",
            "service_sources",
            "detection_sources",
            "categories",
            "mitre_techniques",
            "device_groups",
            "url",
            "etag",
        ]
        read_only_fields = fields
        list_serializer_class = IncidentListSerializer

    def to_representation(self, incident):
        if not hasattr(incident, "alerts_visible"):
            incident = incidents_as_seen(self.context["request"].user, [incident])[0]
        return super().to_representation(incident)

    def get_etag(self, incident: Incident) -> str:
        return incident_version(incident)


@extend_schema_serializer(component_name="Incident")
class IncidentChangeSerializer(_ChangeSerializer):
    display_name = NonBlankField(max_length=400, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    status = serializers.ChoiceField(
        choices=IncidentStatus.choices,
        required=False,
        help_text="active, inProgress or resolved (resolving needs a resolving_comment, here or already set).",
    )
    classification = serializers.ChoiceField(choices=Classification.choices, required=False)
    determination = DeterminationField(required=False, help_text="Must belong to the classification.")
    assigned_to = StrictCharField(
        max_length=ASSIGNEE_MAX_LENGTH, allow_blank=True, required=False, help_text="A username; empty to unassign."
    )
    custom_tags = serializers.ListField(
        child=StrictCharField(max_length=100, allow_blank=True),
        max_length=100,
        required=False,
        help_text="The whole list of tags (it replaces the current one).",
    )
    resolving_comment = StrictCharField(allow_blank=True, required=False)
    summary = StrictCharField(allow_blank=True, required=False)


class IncidentMergeSerializer(serializers.Serializer):
    incidents = DistinctListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_ID),
        min_length=2,
        max_length=MAX_MANUAL_MERGE,
        error_messages={"duplicates": "Name each incident once."},
        help_text=f"Two to {MAX_MANUAL_MERGE} incident ids; they are merged into the oldest (lowest id).",
    )
    reason = NonBlankField(max_length=REASON_MAX_LENGTH, help_text="Why they are one story; logged.")


# --- Alerts -------------------------------------------------------------------------------------------------------


# The alert's columns no representation shows (the original JSON can be large): lists leave them in the database.
ALERT_UNSHOWN_FIELDS = ("payload", "additional_data")


class AlertSerializer(serializers.ModelSerializer):
    device_groups = DeviceGroupIdsField(help_text="Ids of the device groups of the alert's devices.")
    # A string rather than a URI: empty when the source sent no link.
    alert_web_url = serializers.CharField(read_only=True, help_text="The alert in its source's portal, or empty.")
    url = PortalPageField("incidents:alert_detail", help_text="The alert's page in the portal.")

    class Meta:
        model = Alert
        fields = [
            "id",
            "graph_id",
            "provider_alert_id",
            "incident",
            "title",
            "description",
            "recommended_actions",
            "category",
            "severity",
            "status",
            "classification",
            "determination",
            "assigned_to",
            "service_source",
            "detection_source",
            "detector_id",
            "product_name",
            "actor_display_name",
            "threat_display_name",
            "threat_family_name",
            "mitre_techniques",
            "system_tags",
            "alert_web_url",
            "tenant_id",
            "first_activity",
            "last_activity",
            "created_at",
            "last_update",
            "resolved_at",
            "repeat_count",
            "ingested_at",
            "ingested_via",
            "correlation_reason",
            "device_groups",
            "url",
        ]
        read_only_fields = fields


@extend_schema_serializer(component_name="Alert")
class AlertChangeSerializer(_ChangeSerializer):
    status = serializers.ChoiceField(
        choices=AlertStatus.choices, required=False, help_text="new, inProgress or resolved."
    )
    classification = serializers.ChoiceField(choices=Classification.choices, required=False)
    determination = DeterminationField(required=False, help_text="Must belong to the classification.")
    assigned_to = StrictCharField(
        max_length=ASSIGNEE_MAX_LENGTH, allow_blank=True, required=False, help_text="A username; empty to unassign."
    )


class AlertMoveSerializer(serializers.Serializer):
    incident = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        allow_null=True,
        help_text="The incident to move the alert to, or null for a new incident of its own.",
    )
    reason = NonBlankField(max_length=REASON_MAX_LENGTH, help_text="Why the alert belongs elsewhere; logged.")


# --- Comments -----------------------------------------------------------------------------------------------------


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_name", read_only=True, help_text="Who wrote it, as they were named.")
    text = NonBlankField(max_length=COMMENT_MAX_LENGTH)

    class Meta:
        model = Comment
        fields = ["id", "incident", "alert", "author", "text", "created_at"]
        read_only_fields = ["id", "incident", "alert", "created_at"]


# --- Entities and evidence ----------------------------------------------------------------------------------------


class EntitySerializer(serializers.ModelSerializer):
    attributes = serializers.DictField(read_only=True, help_text="The latest known attributes, from evidence.")
    risk_score = DeviceRiskScoreField(help_text="Devices only; null otherwise, and for a device no source rated.")
    url = PortalPageField("incidents:entity", help_text="The entity's page in the portal.")

    class Meta:
        model = Entity
        fields = [
            "id",
            "kind",
            "key",
            "display_name",
            "attributes",
            "first_seen",
            "last_seen",
            "device_group",
            "os_platform",
            "risk_score",
            "is_isolated",
            "url",
        ]
        read_only_fields = fields


class EvidenceEntitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Entity
        fields = ["id", "kind", "key", "display_name"]
        read_only_fields = fields


class EvidenceSerializer(serializers.ModelSerializer):
    entity = EvidenceEntitySerializer(
        read_only=True, allow_null=True, help_text="The thing the evidence names; null when it names none."
    )
    original = serializers.DictField(
        source="payload", read_only=True, help_text="The evidence object as the source sent it."
    )

    class Meta:
        model = Evidence
        fields = [
            "id",
            "odata_type",
            "entity",
            "roles",
            "detailed_roles",
            "tags",
            "verdict",
            "remediation_status",
            "remediation_status_details",
            "created_at",
            "device",
            "image_file",
            "parent_process",
            "original",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "device": {"help_text": "The device entity a process, file or registry evidence was on."},
            "image_file": {"help_text": "The image file entity of a process."},
            "parent_process": {"help_text": "The parent process entity of a process."},
        }
