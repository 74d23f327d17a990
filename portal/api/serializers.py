"""The activity log's entries as the native API shows them: in the whole log and in one object's log alike."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.models import ActivityLogEntry

__all__ = ("ActivityLogEntrySerializer",)


class ActivityLogEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(
        source="actor_id",
        allow_null=True,
        read_only=True,
        help_text="The user's id; null for a change the system made.",
    )
    actor_name = serializers.CharField(
        read_only=True, help_text="The user name as it was then, or the part of the system."
    )
    target_type = serializers.SerializerMethodField(help_text="The changed object's type, as `app_label.model`.")
    changes = serializers.DictField(read_only=True, help_text='What changed: {"field": {"before": ..., "after": ...}}.')

    class Meta:
        model = ActivityLogEntry
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_name",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "changes",
            "message",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_target_type(self, entry) -> str:
        return f"{entry.target_type.app_label}.{entry.target_type.model}"
