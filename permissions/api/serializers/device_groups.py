"""The serializers of /api/device-groups/ (permissions.api.views.device_groups)."""

from rest_framework import serializers

from incidents.api.fields import DeviceRiskScoreField
from incidents.models import DeviceGroup, Entity
from incidents.selectors import devices_to_group
from incidents.services import device_groups as services
from portal.api.fields import NonBlankField, StrictBooleanField, StrictCharField, StrictIntegerField

__all__ = ("DeviceGroupSerializer", "DeviceIdsSerializer", "DeviceSerializer", "DevicesMovedSerializer")


NAME_MAX_LENGTH = DeviceGroup._meta.get_field("name").max_length


RANK_MAX = 2_147_483_647


RANK_REFUSED = "The rank is a whole number from 0 up."


MAX_DEVICES_PER_CALL = 1000


class DeviceGroupSerializer(serializers.Serializer):
    # The service checks names (not blank, at most 100 characters, unique) and says what is wrong; the fields check
    # types, ranks and pattern lengths, in the service's words.
    id = serializers.IntegerField(read_only=True)
    name = NonBlankField(
        longest=NAME_MAX_LENGTH, trim_whitespace=False, help_text="Unique whatever the case, at most 100 characters."
    )
    description = StrictCharField(allow_blank=True, default="")
    rank = StrictIntegerField(
        default=0,
        min_value=0,
        max_value=RANK_MAX,
        error_messages={"min_value": RANK_REFUSED, "max_value": RANK_REFUSED},
        help_text="Lower ranks are listed (and matched) first; from 0 up.",
    )
    device_name_pattern = StrictCharField(
        allow_blank=True,
        default="",
        max_length=services.PATTERN_MAX_LENGTH,
        error_messages={"max_length": f"Use at most {services.PATTERN_MAX_LENGTH} characters."},
        help_text="Shell-style, any case: * any characters, ? one character, [a-c] one of a set; matched against "
        "device names and keys, e.g. ws-lon-*. Empty when devices are chosen by hand. At most 200 characters.",
    )
    apply_pattern = StrictBooleanField(
        write_only=True,
        default=False,
        help_text="Also move the devices that match the pattern into the group now, in the same transaction.",
    )
    device_count = serializers.IntegerField(read_only=True)
    assignment_count = serializers.IntegerField(
        read_only=True, help_text="Role assignments limited to this group (among others)."
    )
    created_at = serializers.DateTimeField(read_only=True)


class DeviceSerializer(serializers.ModelSerializer):
    risk_score = DeviceRiskScoreField()

    class Meta:
        model = Entity
        fields = ["id", "display_name", "key", "os_platform", "risk_score", "is_isolated", "last_seen"]
        read_only_fields = fields


class DeviceIdsSerializer(serializers.Serializer):
    devices = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        allow_empty=False,
        max_length=MAX_DEVICES_PER_CALL,
        error_messages={"empty": "Name at least one device."},
        help_text=f"Ids of devices (device entities), at most {MAX_DEVICES_PER_CALL}.",
    )

    def validate_devices(self, ids: list[int]) -> list[int]:
        ids = sorted(set(ids))
        found = set(devices_to_group().filter(pk__in=ids).values_list("pk", flat=True))
        missing = [str(pk) for pk in ids if pk not in found]
        if missing:
            raise serializers.ValidationError(f"No device with id {', '.join(missing)}.")
        return ids


class DevicesMovedSerializer(serializers.Serializer):
    devices = serializers.IntegerField(help_text="Devices that changed group.")
    alerts = serializers.IntegerField(help_text="Alerts whose device groups (and so who may see them) changed.")
    incidents = serializers.IntegerField(help_text="Incidents whose device groups changed.")
