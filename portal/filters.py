"""
Query-parameter filters the FilterSets of the pages and the API share, strict about their values: an id is a whole
number, and a time is one PostgreSQL can compare (a bad value answers 400 rather than reaching the database).
"""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

__all__ = ("IdFilter", "TimeFilter")


class IdFilter(django_filters.Filter):
    """An object's id. Not django-filter's NumberFilter: it takes decimals, and `1.5` finds the object with id 1."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # On the instance, with its help text: drf-spectacular describes an annotated filter by the annotation alone.
        extend_schema_field({"type": "integer", "description": self.extra.get("help_text", "")})(self)


class UtcIsoDateTimeField(IsoDateTimeField):
    default_error_messages = {"out_of_range": "This time is out of range once converted to UTC."}

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        # PostgreSQL refuses UTC offsets beyond ±15:59 that ISO 8601 (and Python) accept: compare in UTC.
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


class TimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time, with any UTC offset, compared in UTC."""

    field_class = UtcIsoDateTimeField
