"""
/api/role-assignments/: who holds which role over which data, for holders of `permissions.manage_roles`.

An assignment gives one role to one user (by user name) or one group of people (by name), over all data or over
some device groups (by id). Its role and holder are fixed once made: an update changes the scope only. Removing the
last way anyone could manage roles is refused (400) and changes nothing.
"""

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from permissions import selectors, services
from permissions.api.serializers.assignments import AssignmentCreateSerializer, AssignmentSerializer, ScopeSerializer
from permissions.models import RoleAssignment
from portal.api.access import permission_required
from portal.api.pagination import ListPagination
from portal.api.schema import error_response, refusal_example
from portal.api.viewsets import ReadBackMixin
from portal.catalogue import MANAGE_ROLES
from portal.filters import IdFilter

__all__ = ("AssignmentViewSet",)

# Refused rather than guessed: either reading (all data, or just these groups) could be what the caller meant.


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
