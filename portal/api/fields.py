"""
Serializer fields that take the JSON type their OpenAPI description names, and only that: DRF's own fields also
take a number for a string (`"name": 0` is the name "0"), 0, 1, "yes" or "off" for a boolean, and "12" or 12.0 for
an integer, which a client reading the description cannot know and should not rely on.
"""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

__all__ = (
    "PYTHON_SPACE",
    "DistinctListField",
    "NonBlankField",
    "StrictBooleanField",
    "StrictCharField",
    "StrictIntegerField",
)


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "A valid integer is required."}

    def to_internal_value(self, data):
        # bool is an int to Python, not to JSON.
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# Python's str.strip() (and so DRF and the services) also strips the separators U+001C to U+001F and the line
# break U+0085, which JSON Schema's regular expressions (ECMA-262's) do not count as white space.
PYTHON_SPACE = r"\s\x1c-\x1f\x85"
SOMETHING_BESIDES_SPACES = rf"[^{PYTHON_SPACE}]"


class NonBlankField(StrictCharField):
    """
    Text with something in it besides spaces (a name, a comment), of at most `max_length` characters, or of at most
    `longest` when a service checks the length (after trimming, in its own words) rather than the field.
    """

    def __init__(self, *, longest: int | None = None, **kwargs):
        super().__init__(**kwargs)
        schema = {"type": "string", "pattern": SOMETHING_BESIDES_SPACES}
        if longest is not None:
            schema["maxLength"] = longest
        # On the instance: the length is the field's, not the class's.
        extend_schema_field(schema)(self)


class DistinctListField(serializers.ListField):
    """A list that names each of its (hashable) items once."""

    default_error_messages = {"duplicates": "Give each value once."}

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if len(set(values)) != len(values):
            self.fail("duplicates")
        return values


class DistinctListFieldExtension(OpenApiSerializerFieldExtension):
    target_class = DistinctListField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "uniqueItems": True}
