"""Serializer fields the settings API shares: people named as they sign in."""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

__all__ = ("ActiveUserField",)


@extend_schema_field(OpenApiTypes.STR)
class ActiveUserField(serializers.RelatedField):
    """A user by user name (any case), as the pages take it; only active users can be given anything."""

    default_error_messages = {
        "does_not_exist": "No active user named {name!r}.",
        "incorrect_type": "A user name is a string.",
        "null_characters": "Null characters are not allowed.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_user_model().objects.filter(is_active=True))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("incorrect_type")
        if "\x00" in data:  # PostgreSQL cannot compare text holding one
            self.fail("null_characters")
        user = self.get_queryset().filter(username__iexact=data.strip()).first()
        if user is None:
            self.fail("does_not_exist", name=data)
        return user

    def to_representation(self, value):
        return value.get_username()
