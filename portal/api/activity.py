"""
/api/activity/: the activity log, newest first, for holders of `portal.view_activitylogentry` (the Security
administrator). The log is append-only and grows forever, so it is paged by keyset (portal.api.pagination) and its
filters are those its indexes serve: the target (type and id), the actor, and the time.
"""

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated

from portal.api.access import permission_required
from portal.api.pagination import KeysetPagination
from portal.models import ActivityLogEntry

__all__ = ("ActivityLogView",)

VIEW_ACTIVITY = "portal.view_activitylogentry"


class ContentTypeField(forms.CharField):
    """A model named "app_label.model" (as the entries show it), cleaned to its ContentType."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        app_label, _, model = value.lower().partition(".")
        try:
            return ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            raise forms.ValidationError(
                f"No such target type {value!r}: use app_label.model as entries show it, e.g. incidents.incident."
            ) from None


class ContentTypeFilter(django_filters.Filter):
    field_class = ContentTypeField


class ActivityFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(help_text="Exactly this action, e.g. `permissions.role.created`.")
    action_prefix = django_filters.CharFilter(
        field_name="action",
        lookup_expr="startswith",
        help_text="Actions starting with this, e.g. `permissions.` for everything done in Permissions & roles.",
    )
    actor = django_filters.NumberFilter(field_name="actor_id", help_text="Changes made by the user with this id.")
    actor_name = django_filters.CharFilter(
        help_text="Changes made by this user name (as it was then), or by this part of the system (`correlation`)."
    )
    target_type = ContentTypeFilter(
        field_name="target_type",
        help_text="Changes to objects of this type, as `app_label.model`: `incidents.incident`.",
    )
    target_id = django_filters.CharFilter(help_text="Changes to the object with this id (with `target_type`).")
    since = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Changes at or after this time (ISO 8601)."
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Changes before this time (ISO 8601)."
    )

    class Meta:
        model = ActivityLogEntry
        fields = ()


class ActivityLogEntrySerializer(serializers.ModelSerializer):
    actor = serializers.IntegerField(
        source="actor_id", allow_null=True, help_text="The user's id; null for a change the system made."
    )
    target_type = serializers.SerializerMethodField(help_text="The changed object's type, as `app_label.model`.")

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


class ActivityPagination(KeysetPagination):
    orderings = {"-occurred_at": ("-occurred_at", "-id")}
    default_ordering = "-occurred_at"


class ActivityLogView(ListAPIView):
    serializer_class = ActivityLogEntrySerializer
    permission_classes = [IsAuthenticated, permission_required(VIEW_ACTIVITY, doing="Reading the activity log")]
    filterset_class = ActivityFilterSet
    pagination_class = ActivityPagination

    def get_queryset(self):
        # The pagination orders it, newest first; the type is read with each entry rather than once per entry.
        return ActivityLogEntry.objects.select_related("target_type")

    @extend_schema(
        operation_id="activity_list",
        summary="The activity log",
        description="Every change made in Vigil, newest first: who, what, on which object, before and after. "
        "Follow `next` for older entries.",
        examples=[
            OpenApiExample(
                "A role created",
                response_only=True,
                value={
                    "id": 4182,
                    "occurred_at": "2026-11-20T08:05:54.123456Z",
                    "actor": 3,
                    "actor_name": "alice",
                    "action": "permissions.role.created",
                    "target_type": "permissions.role",
                    "target_id": "7",
                    "target_repr": "Tier 1 analyst",
                    "changes": {
                        "permissions": {"before": None, "after": ["incidents.view_security_data"]},
                        "require_two_factor": {"before": None, "after": False},
                    },
                    "message": "",
                },
            )
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
