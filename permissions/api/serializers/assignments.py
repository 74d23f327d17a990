"""The serializers of /api/role-assignments/ (permissions.api.views.assignments)."""

from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import DeviceGroup
from permissions.api.fields import ActiveUserField
from permissions.models import Role
from portal.api.fields import StrictBooleanField, StrictIntegerField
from portal.api.schema import RulesInSchema

__all__ = ("AssignmentCreateSerializer", "AssignmentSerializer", "ScopeSerializer")


ALL_DATA_WITH_GROUPS = "An all-data assignment has no device groups: leave them out, or set all_data to false."


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
