"""
/api/device-groups/: device groups, the unit of data scoping, and which devices belong to them.

Managing them takes `permissions.manage_roles`, as on the Permissions & roles pages. Reading them is open to holders
of `incidents.view_security_data` too, limited to the groups whose data they may see (`device_groups_for`): an API
client filtering incidents by device group needs the groups' ids, and a group outside the caller's scope answers
404 like the data in it. The devices of a group are listed to role managers only, as on the pages.
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from incidents.selectors import device_groups_for
from incidents.services import device_groups as services
from permissions import selectors
from permissions.api.serializers.device_groups import (
    DeviceGroupSerializer,
    DeviceIdsSerializer,
    DeviceSerializer,
    DevicesMovedSerializer,
)
from portal.api.access import missing_permission
from portal.api.pagination import ListPagination
from portal.api.schema import error_response, refusal_example
from portal.api.viewsets import ReadBackMixin
from portal.catalogue import MANAGE_ROLES, VIEW_SECURITY_DATA

__all__ = ("DeviceGroupViewSet",)

READ_ACTIONS = {"list", "retrieve"}

# A rank is a PostgreSQL integer.


# One call moves at most this many devices: a bigger move is a name pattern's job (`apply`), not a list of ids.


class DeviceGroupAccess(BasePermission):
    """Role managers do everything; holders of view_security_data read the groups in their scope."""

    def has_permission(self, request, view):
        if request.user.has_perm(MANAGE_ROLES):
            return True
        if view.action in READ_ACTIONS:
            self.message = missing_permission(f"{VIEW_SECURITY_DATA} or {MANAGE_ROLES}", doing="Reading device groups")
            return request.user.has_perm(VIEW_SECURITY_DATA)
        self.message = missing_permission(MANAGE_ROLES, doing="Managing device groups")
        return False


# --- Examples ---------------------------------------------------------------------------------------------------------

GROUP = {
    "id": 4,
    "name": "London workstations",
    "description": "Laptops and desktops of the London office.",
    "rank": 10,
    "device_name_pattern": "ws-lon-*",
    "device_count": 212,
    "assignment_count": 2,
    "created_at": "2026-11-02T09:30:00Z",
}
GROUP_EXAMPLE = OpenApiExample("A device group", value=GROUP, response_only=True)
NEW_GROUP = OpenApiExample(
    "Made by a name pattern",
    value={"name": "London workstations", "rank": 10, "device_name_pattern": "ws-lon-*", "apply_pattern": True},
    request_only=True,
)
MOVED = OpenApiExample("What moved", value={"devices": 12, "alerts": 40, "incidents": 9}, response_only=True)
DEVICE_IDS = OpenApiExample("Two devices", value={"devices": [311, 318]}, request_only=True)
NOT_EMPTY = refusal_example(
    "Refused: the group still has devices",
    "London workstations still has 212 devices; move them to another group or out of it first.",
)


@extend_schema_view(
    list=extend_schema(
        operation_id="device_groups_list",
        summary="Device groups",
        description="Role managers see every group; holders of view_security_data the groups whose data they may see.",
        examples=[GROUP_EXAMPLE],
    ),
    retrieve=extend_schema(operation_id="device_groups_retrieve", summary="A device group", examples=[GROUP_EXAMPLE]),
    create=extend_schema(
        operation_id="device_groups_create",
        summary="Create a device group",
        examples=[NEW_GROUP, GROUP_EXAMPLE],
    ),
    update=extend_schema(
        operation_id="device_groups_update",
        summary="Replace a device group's settings",
        description="Changing the pattern moves no device unless `apply_pattern` is true.",
        examples=[NEW_GROUP, GROUP_EXAMPLE],
    ),
    partial_update=extend_schema(
        operation_id="device_groups_partial_update",
        summary="Change some of a device group's settings",
        examples=[
            OpenApiExample("A new rank", value={"rank": 5}, request_only=True),
            GROUP_EXAMPLE,
        ],
    ),
    destroy=extend_schema(
        operation_id="device_groups_destroy",
        summary="Delete an empty device group",
        description="Refused (400) while devices are in it. Role assignments limited to it lose it.",
        responses={204: None, 400: error_response("The group still has devices.")},
        examples=[NOT_EMPTY],
    ),
)
class DeviceGroupViewSet(ReadBackMixin, viewsets.ModelViewSet):
    serializer_class = DeviceGroupSerializer
    permission_classes = [IsAuthenticated, DeviceGroupAccess]
    pagination_class = ListPagination

    def get_queryset(self):
        groups = selectors.device_groups_with_counts()
        if self.request.user.has_perm(MANAGE_ROLES):
            return groups
        return groups.filter(pk__in=device_groups_for(self.request.user).values("pk"))

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group, _ = services.device_group_save(device_group=None, actor=request.user, **serializer.validated_data)
        return self.read_back(group, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        group = self.get_object()
        serializer = self.get_serializer(group, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        apply_pattern = values.pop("apply_pattern", False)
        # A partial update keeps what it does not name.
        values = {field: values.get(field, getattr(group, field)) for field in services.FIELDS}
        group, _ = services.device_group_save(
            device_group=group, apply_pattern=apply_pattern, actor=request.user, **values
        )
        return self.read_back(group)

    def destroy(self, request, *args, **kwargs):
        services.device_group_delete(device_group=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="device_groups_apply_pattern",
        summary="Move the devices that match the group's name pattern into it",
        description="Devices join from no group or from another one. Refused (400) for a group without a pattern.",
        request=None,
        responses={200: DevicesMovedSerializer},
        examples=[MOVED],
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        moved = services.device_group_apply_pattern(device_group=self.get_object(), actor=request.user)
        return Response(DevicesMovedSerializer(moved).data)

    @extend_schema(
        operation_id="device_groups_devices_list",
        summary="The devices in a device group",
        responses={200: DeviceSerializer(many=True)},
        examples=[
            OpenApiExample(
                "A device",
                value={
                    "id": 311,
                    "display_name": "ws-lon-002.corp.example",
                    "key": "ws-lon-002.corp.example",
                    "os_platform": "Windows11",
                    "risk_score": "high",
                    "is_isolated": False,
                    "last_seen": "2026-11-20T08:05:54Z",
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"])
    def devices(self, request, pk=None):
        page = self.paginate_queryset(selectors.devices_in(self.get_object()))
        return self.get_paginated_response(DeviceSerializer(page, many=True).data)

    @extend_schema(
        operation_id="device_groups_devices_add",
        summary="Move devices into a device group",
        request=DeviceIdsSerializer,
        responses={200: DevicesMovedSerializer},
        examples=[DEVICE_IDS, MOVED],
    )
    @action(detail=True, methods=["post"], url_path="devices/add", url_name="add-devices")
    def add_devices(self, request, pk=None):
        return self._devices_moved(services.device_group_add_devices)

    @extend_schema(
        operation_id="device_groups_devices_remove",
        summary="Take devices out of a device group",
        description="They are left in no group; named devices that are not in this group are left where they are.",
        request=DeviceIdsSerializer,
        responses={200: DevicesMovedSerializer},
        examples=[DEVICE_IDS, MOVED],
    )
    @action(detail=True, methods=["post"], url_path="devices/remove", url_name="remove-devices")
    def remove_devices(self, request, pk=None):
        return self._devices_moved(services.device_group_remove_devices)

    def _devices_moved(self, move) -> Response:
        """Move the devices the body names with the service `move`, and answer what moved."""
        group = self.get_object()
        body = DeviceIdsSerializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        moved = move(device_group=group, devices=body.validated_data["devices"], actor=self.request.user)
        return Response(DevicesMovedSerializer(moved).data)
