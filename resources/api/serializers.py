from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from portal.api.fields import PYTHON_SPACE, NonBlankField, StrictBooleanField, StrictCharField
from resources.forms import http_url
from resources.models import ResourceLink

__all__ = ("ResourceLinkSerializer",)

URL_MAX_LENGTH = 2048


# A web address the validator takes, as far as a pattern can say it: http(s), a host name of two to four labels (at
# most 249 characters, within DNS's 253), an optional port, and a path without spaces. Stricter than the validator,
# which also takes IP addresses, localhost, capitals and longer names: whatever the pattern allows, it takes.
LABEL = r"[a-z0-9](?:[a-z0-9-]{0,59}[a-z0-9])?"
WEB_ADDRESS = rf"^https?://(?:{LABEL}\.){{1,3}}[a-z]{{2,63}}(?::[0-9]{{1,5}})?(?:[/?#][^{PYTHON_SPACE}]*)?$"


class WebAddressField(StrictCharField):
    """A link of the directory: a web address (resources.forms.http_url), at most 2048 characters."""

    def __init__(self, **kwargs):
        super().__init__(max_length=URL_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        # Validated here rather than as one of the field's validators, which drf-spectacular would describe as
        # `format: uri`: the validator takes addresses that RFC 3986 does not (a `[` in a query string).
        value = super().to_internal_value(data)
        try:
            http_url(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(list(error.messages)) from error
        return value


class WebAddressFieldExtension(OpenApiSerializerFieldExtension):
    """
    The pattern describes what may be sent; a stored link is any address the validator took, which need not be a URI
    to the letter of RFC 3986 (the validator takes a `[` in a query string, as browsers do).
    """

    target_class = WebAddressField

    def map_serializer_field(self, auto_schema, direction):
        schema = {"type": "string", "maxLength": URL_MAX_LENGTH, "description": "A web address: https:// or http://."}
        return {**schema, "pattern": WEB_ADDRESS} if direction == "request" else schema


class ResourceLinkSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }
    # Unique: the service's full_clean says so when it is not.
    name = NonBlankField(max_length=ResourceLink._meta.get_field("name").max_length)
    url = WebAddressField()

    class Meta:
        model = ResourceLink
        fields = ["id", "name", "url", "description", "position", "is_hidden", "created_at", "updated_at"]
        read_only_fields = ["id", "position", "created_at", "updated_at"]
