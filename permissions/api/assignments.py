"""
/api/role-assignments/: who holds which role over which data, for holders of `permissions.manage_roles`.

An assignment gives one role to one user (by user name) or one group of people (by name), over all data or over
some device groups (by id). Its role and holder are fixed once made: an update changes the scope only. Removing the
last way anyone could manage roles is refused (400) and changes nothing.
"""

import django_filters
from django.contrib.auth.models import Group
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from incidents.models import DeviceGroup
from permissions import selectors, services
from permissions.api.fields import ActiveUserField
from permissions.models import Role, RoleAssignment
from portal.api.access import permission_required
from portal.api.fields import StrictBooleanField, StrictIntegerField
from portal.api.pagination import ListPagination
from portal.api.schema import RulesInSchema, error_response, refusal_example
from portal.api.viewsets import ReadBackMixin
from portal.catalogue import MANAGE_ROLES
from portal.filters import IdFilter

__all__ = ("AssignmentViewSet",)

# Refused rather than guessed: either reading (all data, or just these groups) could be what the caller meant.
ALL_DATA_WITH_GROUPS = "An all-data assignment has no device groups: leave them out, or set all_data to false."


class AssignmentFilterSet(django_filters.FilterSet):
    role = IdFilter(field_name="role_id", help_text="Assignments of the role with this id.")
    user = django_filters.CharFilter(
        field_name="user__username",
        lookup_expr="iexact",
        help_text="Assignments to the user with this user name (not those reaching them through a group).",
    )
    group = django_filters.CharFilter(
        field_name="group__name", lookup_expr="iexact", help_text="Assignments to the group with this name."
    )

    class Meta:
        model = RoleAssignment
        fields = ()


# --- Serializers ------------------------------------------------------------------------------------------------------


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.IntegerField(source="role_id")
    role_name = serializers.CharField(source="role.group.name")
    user = serializers.CharField(source="user.username", allow_null=True, help_text="User name, or null.")
    group = serializers.CharField(source="group.name", allow_null=True, help_text="Group name, or null.")
    all_data = serializers.BooleanField()
    device_groups = serializers.SerializerMethodField(
        help_text="Ids of the device groups the role holds over; empty for all data."
    )
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_device_groups(self, assignment) -> list[int]:
        return [group.pk for group in assignment.device_groups.all()]  # prefetched with the assignment


# The scope is all data with no device group, or some device groups (at least one) and not all data, or left out:
# all data for a new assignment, the current scope for a change. (The enums sit in an allOf, where drf-spectacular's
# enum hook does not take them for choice sets of their own.)
SCOPE_RULES = {
    "anyOf": [
        {
            "required": ["all_data"],
            "properties": {"all_data": {"allOf": [{"enum": [True]}]}, "device_groups": {"maxItems": 0}},
        },
        {
            "required": ["device_groups"],
            "properties": {"all_data": {"allOf": [{"enum": [False]}]}, "device_groups": {"minItems": 1}},
        },
        {"not": {"anyOf": [{"required": ["all_data"]}, {"required": ["device_groups"]}]}},
    ]
}


class ScopeSerializer(RulesInSchema, serializers.Serializer):
    """
    The data scope. `all_data` defaults to whether `device_groups` is left out: naming device groups limits the
    assignment to them, naming none gives all data. A partial update keeps what it leaves out.
    """

    schema_rules = SCOPE_RULES

    all_data = StrictBooleanField(required=False, help_text="Over all data (true) or some device groups.")
    device_groups = serializers.ListField(
        child=StrictIntegerField(min_value=1), required=False, help_text="Ids of device groups."
    )

    def validate_device_groups(self, ids: list[int]) -> list[DeviceGroup]:
        groups = list(DeviceGroup.objects.filter(pk__in=set(ids)).order_by("pk"))
        missing = sorted(set(ids) - {group.pk for group in groups})
        if missing:
            raise serializers.ValidationError(f"No device group with id {', '.join(map(str, missing))}.")
        return groups

    def validate(self, data):
        current = self.instance
        if self.partial and current is not None and "all_data" not in data and "device_groups" not in data:
            return {"all_data": current.all_data, "device_groups": list(current.device_groups.all())}
        all_data = data.get("all_data", "device_groups" not in data)
        if all_data:
            if data.get("device_groups"):
                raise serializers.ValidationError({"device_groups": ALL_DATA_WITH_GROUPS})
            return {"all_data": True, "device_groups": []}
        if "device_groups" not in data and current is not None:
            return {"all_data": False, "device_groups": list(current.device_groups.all())}
        return {"all_data": False, "device_groups": data.get("device_groups", [])}


class AssignmentCreateSerializer(ScopeSerializer):
    # One holder: a user, or a group of people (the other left out or null).
    schema_rules = {
        "allOf": [
            SCOPE_RULES,
            {
                "oneOf": [
                    {"required": ["user"], "properties": {"user": {"type": "string"}}},
                    {"required": ["group"], "properties": {"group": {"type": "string"}}},
                ]
            },
        ]
    }

    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.select_related("group"),
        pk_field=StrictIntegerField(),
        error_messages={"does_not_exist": "No role with id {pk_value}."},
    )
    user = ActiveUserField(required=False, allow_null=True, help_text="The user name of who gets the role.")
    group = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Group.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": "No group named {value!r}."},
        help_text="Or the name of the group of people who get it.",
    )

    def validate(self, data):
        principal = {key: data[key] for key in ("role", "user", "group") if data.get(key) is not None}
        return {**super().validate(data), **principal}


# --- Examples ---------------------------------------------------------------------------------------------------------

ASSIGNMENT = {
    "id": 12,
    "role": 3,
    "role_name": "Security reader",
    "user": "alice",
    "group": None,
    "all_data": False,
    "device_groups": [4, 6],
    "created_at": "2026-11-02T09:30:00Z",
}
ASSIGNMENT_EXAMPLE = OpenApiExample("Scoped to two device groups", value=ASSIGNMENT, response_only=True)
LAST_MANAGER = refusal_example(
    "Refused: nobody could manage roles any more",
    "This would leave nobody able to manage roles and assignments: give that right to someone else first.",
)


@extend_schema_view(
    list=extend_schema(
        operation_id="role_assignments_list",
        summary="Role assignments",
        description="By role name, then oldest first.",
        examples=[ASSIGNMENT_EXAMPLE],
    ),
    retrieve=extend_schema(
        operation_id="role_assignments_retrieve", summary="A role assignment", examples=[ASSIGNMENT_EXAMPLE]
    ),
    create=extend_schema(
        operation_id="role_assignments_create",
        summary="Assign a role",
        description="To one user or one group, over all data or some device groups. A role is assigned once per "
        "holder: change that assignment's scope instead.",
        request=AssignmentCreateSerializer,
        responses={201: AssignmentSerializer, 400: error_response("Invalid input, or the role is already theirs.")},
        examples=[
            OpenApiExample(
                "To a user over two device groups",
                value={"role": 3, "user": "alice", "device_groups": [4, 6]},
                request_only=True,
            ),
            OpenApiExample("To a group over all data", value={"role": 3, "group": "SOC Tier 1"}, request_only=True),
            ASSIGNMENT_EXAMPLE,
        ],
    ),
    update=extend_schema(
        operation_id="role_assignments_update",
        summary="Set an assignment's data scope",
        request=ScopeSerializer,
        responses={200: AssignmentSerializer, 400: error_response("An invalid scope.")},
        examples=[OpenApiExample("All data", value={"all_data": True}, request_only=True), ASSIGNMENT_EXAMPLE],
    ),
    partial_update=extend_schema(
        operation_id="role_assignments_partial_update",
        summary="Change an assignment's data scope",
        request=ScopeSerializer,
        responses={200: AssignmentSerializer, 400: error_response("An invalid scope.")},
        examples=[
            OpenApiExample("Two device groups", value={"device_groups": [4, 6]}, request_only=True),
            ASSIGNMENT_EXAMPLE,
        ],
    ),
    destroy=extend_schema(
        operation_id="role_assignments_destroy",
        summary="Take a role away",
        description="Refused (400) when nobody would be left able to manage roles.",
        responses={204: None, 400: error_response("Nobody would be left able to manage roles.")},
        examples=[LAST_MANAGER],
    ),
)
class AssignmentViewSet(ReadBackMixin, viewsets.ModelViewSet):
    serializer_class = AssignmentSerializer
    permission_classes = [IsAuthenticated, permission_required(MANAGE_ROLES, doing="Managing role assignments")]
    filterset_class = AssignmentFilterSet
    pagination_class = ListPagination

    def get_queryset(self):
        return selectors.assignments_all()

    def create(self, request, *args, **kwargs):
        serializer = AssignmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_create(actor=request.user, **serializer.validated_data)
        return self.read_back(assignment, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        assignment = self.get_object()
        serializer = ScopeSerializer(assignment, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        assignment = services.assignment_update(assignment=assignment, actor=request.user, **serializer.validated_data)
        return self.read_back(assignment)

    def destroy(self, request, *args, **kwargs):
        services.assignment_delete(assignment=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
