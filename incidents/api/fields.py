"""Serializer fields of the security data that more than one API module shows."""

from rest_framework import serializers

from incidents.choices import DeviceRiskScore

__all__ = ("DeviceRiskScoreField",)


class DeviceRiskScoreField(serializers.ChoiceField):
    """
    A device's risk score in Defender's values (none, informational, low, medium, high), or null when no source has
    said it (and for entities other than devices). Null, not an empty string: "none" is a risk score of its own, and
    Graph and Defender for Endpoint clients read a missing value as null.
    """

    def __init__(self, **kwargs):
        super().__init__(choices=DeviceRiskScore.choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None
