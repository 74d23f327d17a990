"""
/api/roles/: roles and the permissions they are made of, for holders of `permissions.manage_roles`.

Permissions are named as in the catalogue, "app_label.codename" ("incidents.view_security_data"); a custom role is
made from catalogue permissions only. Built-in roles keep their name and permissions: only whether they require a
second factor may change, and the service refuses anything else (400). `GET /api/roles/catalogue/` lists what a
role can be made of.
"""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from permissions import selectors, services
from permissions.api.serializers.roles import CatalogueEntrySerializer, RoleSerializer, RoleWriteSerializer
from portal.api.access import permission_required
from portal.api.pagination import ListPagination
from portal.api.schema import error_response, refusal_example
from portal.api.viewsets import ReadBackMixin
from portal.catalogue import MANAGE_ROLES, catalogue

__all__ = ("RoleViewSet",)


# --- Examples ---------------------------------------------------------------------------------------------------------

ROLE = {
    "id": 7,
    "name": "Tier 1 analyst",
    "description": "Triage: reads security data and manages alerts and incidents.",
    "is_builtin": False,
    "require_two_factor": True,
    "permissions": ["incidents.manage_incidents", "incidents.view_security_data"],
    "categories": [
        {
            "category": "Security operations",
            "permissions": ["incidents.view_security_data", "incidents.manage_incidents"],
        },
        {"category": "Security posture", "permissions": []},
        {"category": "Authorization and settings", "permissions": []},
    ],
    "user_count": 4,
    "group_count": 1,
}
ROLE_EXAMPLE = OpenApiExample("A custom role", value=ROLE, response_only=True)
NEW_ROLE = OpenApiExample(
    "A custom role",
    value={
        "name": "Tier 1 analyst",
        "description": "Triage: reads security data and manages alerts and incidents.",
        "permissions": ["incidents.view_security_data", "incidents.manage_incidents"],
        "require_two_factor": True,
    },
    request_only=True,
)
BUILTIN_REFUSED = refusal_example(
    "Refused: a built-in role", "Built-in roles cannot be changed or deleted; make a custom role instead."
)

REFUSED_CHANGE = error_response(
    "Invalid input, a change to a built-in role's name or permissions, or nobody left able to manage roles."
)
BUILTIN_CHANGE = "A built-in role only takes a change of `require_two_factor`; anything else is refused (400)."


@extend_schema_view(
    list=extend_schema(
        operation_id="roles_list",
        summary="Roles",
        description="Built-in roles first, then custom ones by name, each with its permissions and holder counts.",
        examples=[ROLE_EXAMPLE],
    ),
    retrieve=extend_schema(operation_id="roles_retrieve", summary="A role", examples=[ROLE_EXAMPLE]),
    create=extend_schema(
        operation_id="roles_create",
        summary="Create a custom role",
        request=RoleWriteSerializer,
        responses={201: RoleSerializer, 400: error_response("Invalid input: a name in use, no permission, ...")},
        examples=[NEW_ROLE, ROLE_EXAMPLE],
    ),
    update=extend_schema(
        operation_id="roles_update",
        summary="Replace a role",
        description=BUILTIN_CHANGE,
        request=RoleWriteSerializer,
        responses={200: RoleSerializer, 400: REFUSED_CHANGE},
        examples=[NEW_ROLE, ROLE_EXAMPLE, BUILTIN_REFUSED],
    ),
    partial_update=extend_schema(
        operation_id="roles_partial_update",
        summary="Change some of a role",
        description=BUILTIN_CHANGE,
        request=RoleWriteSerializer,
        responses={200: RoleSerializer, 400: REFUSED_CHANGE},
        examples=[
            OpenApiExample("Require a second factor", value={"require_two_factor": True}, request_only=True),
            ROLE_EXAMPLE,
            BUILTIN_REFUSED,
        ],
    ),
    destroy=extend_schema(
        operation_id="roles_destroy",
        summary="Delete a custom role",
        description="Its holders lose what it gave them. Refused (400) for a built-in role, and when nobody would be "
        "left able to manage roles.",
        responses={204: None, 400: error_response("A built-in role, or nobody would be left able to manage roles.")},
        examples=[BUILTIN_REFUSED],
    ),
)
class RoleViewSet(ReadBackMixin, viewsets.ModelViewSet):
    serializer_class = RoleSerializer
    permission_classes = [IsAuthenticated, permission_required(MANAGE_ROLES, doing="Managing roles")]
    pagination_class = ListPagination

    def get_queryset(self):
        return selectors.roles_with_holders_and_permissions()

    def _role_values(self, request, *, partial: bool = False) -> dict:
        serializer = RoleWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request, *args, **kwargs):
        role = services.role_create(actor=request.user, **self._role_values(request))
        return self.read_back(role, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        role = self.get_object()
        # A partial update keeps what it does not name: a built-in role's `require_two_factor` alone, say.
        values = {**selectors.role_values(role), **self._role_values(request, partial=kwargs.get("partial", False))}
        role = services.role_update(role=role, actor=request.user, **values)
        return self.read_back(role)

    def destroy(self, request, *args, **kwargs):
        services.role_delete(role=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="roles_catalogue",
        summary="The permission catalogue",
        description="Every permission a custom role can be made of, in the catalogue's order.",
        responses={200: CatalogueEntrySerializer(many=True)},
        examples=[
            OpenApiExample(
                "One entry",
                value={
                    "permission": "incidents.view_security_data",
                    "category": "Security operations",
                    "label": "View security data",
                    "description": "Incidents, alerts, entities, evidence and their comments and activity.",
                    "level": "read",
                    "scoped": True,
                },
                response_only=True,
            )
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def catalogue(self, request):
        return Response(CatalogueEntrySerializer([asdict(entry) for entry in catalogue()], many=True).data)
