"""
/api/activity/: the activity log, newest first, for holders of `portal.view_activitylogentry` (the Security
administrator). The log is append-only and grows forever, so it is paged by keyset (portal.api.pagination) and its
filters are those its indexes serve: the target (type and id), the actor, and the time.
"""

import django_filters
from django import forms
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated

from portal.api.access import permission_required
from portal.api.pagination import KeysetPagination
from portal.api.serializers import ActivityLogEntrySerializer
from portal.filters import IdFilter, TimeFilter
from portal.models import ActivityLogEntry
from portal.selectors import activity_seen_by

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Described as one of the models' names, not as the foreign key's integer; drf-spectacular takes the
        # description from here too. Made with the FilterSet, once the apps (and so their models) are loaded.
        types = sorted(f"{model._meta.app_label}.{model._meta.model_name}" for model in apps.get_models())
        extend_schema_field(
            {
                "type": "string",
                "enum": types,
                "description": "Changes to objects of this type, as `app_label.model`: `incidents.incident`.",
            }
        )(self)


class ActivityFilterSet(django_filters.FilterSet):
    action = django_filters.CharFilter(help_text="Exactly this action, e.g. `permissions.role.created`.")
    action_prefix = django_filters.CharFilter(
        field_name="action",
        lookup_expr="startswith",
        help_text="Actions starting with this, e.g. `permissions.` for everything done in Permissions & roles.",
    )
    actor = IdFilter(field_name="actor_id", help_text="Changes made by the user with this id.")
    actor_name = django_filters.CharFilter(
        help_text="Changes made by this user name (as it was then), or by this part of the system (`correlation`)."
    )
    target_type = ContentTypeFilter(field_name="target_type")
    target_id = django_filters.CharFilter(help_text="Changes to the object with this id (with `target_type`).")
    since = TimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="Changes at or after this time (ISO 8601)."
    )
    until = TimeFilter(field_name="occurred_at", lookup_expr="lt", help_text="Changes before this time (ISO 8601).")

    class Meta:
        model = ActivityLogEntry
        fields = ()


class ActivityPagination(KeysetPagination):
    orderings = {"-occurred_at": ("-occurred_at", "-id")}
    default_ordering = "-occurred_at"


class ActivityLogView(ListAPIView):
    serializer_class = ActivityLogEntrySerializer
    permission_classes = [IsAuthenticated, permission_required(VIEW_ACTIVITY, doing="Reading the activity log")]
    filterset_class = ActivityFilterSet
    pagination_class = ActivityPagination

    def get_queryset(self):
        # Ordered by the pagination, newest first; a person scoped to device groups reads their entries only.
        return activity_seen_by(self.request.user)

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
