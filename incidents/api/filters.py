"""
The API lists' filters: the queues' own FilterSets (incidents.filters), so that a filter means the same on a page
and over the API, and the entity list's.

The queue FilterSets are used as they are; the subclasses here only state, for the OpenAPI description, that a
device group is given by its id (django-filter's method filters carry no type of their own).
"""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incidents.choices import EntityKind
from incidents.filters import AlertFilterSet, IncidentFilterSet
from incidents.models import Entity

__all__ = ("AlertListFilterSet", "EntityFilterSet", "IncidentListFilterSet")


class _DeviceGroupIds:
    @extend_schema_field(OpenApiTypes.INT)
    def filter_device_group(self, queryset, name, value):
        return super().filter_device_group(queryset, name, value)


class IncidentListFilterSet(_DeviceGroupIds, IncidentFilterSet):
    pass


class AlertListFilterSet(_DeviceGroupIds, AlertFilterSet):
    pass


class EntityFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=EntityKind.choices, distinct=False)
    q = django_filters.CharFilter(method="filter_search", label="The canonical key, or part of the name (any case)")

    class Meta:
        model = Entity
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Keys are canonical (lowercase names and addresses, hashes); naming every kind lets the (kind, key) index
        # find one, as the incident queue's search does.
        by_key = Q(kind__in=EntityKind.values, key__in={value, value.lower()})
        return queryset.filter(by_key | Q(display_name__icontains=value))
