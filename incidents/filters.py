"""
One FilterSet per queue, shared by the pages and the API, and the API's entity list's. Every value lives in the URL,
so a view can be bookmarked and shared.

The querysets they filter are already scoped; what the filters themselves look up is scoped too: the device groups
offered are the reader's, and the incident search resolves only entities the reader may see (otherwise whether a
name finds nothing or finds incidents by name would tell that an entity out of scope exists).
"""

from datetime import timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incidents.choices import (
    AlertStatus,
    Classification,
    DetectionSource,
    Determination,
    EntityKind,
    IncidentStatus,
    ServiceSource,
    Severity,
)
from incidents.models import Alert, DeviceGroup, Entity, Incident, IncidentEntity
from incidents.selectors import device_groups_for, entities_for
from incidents.selectors.seen import incidents_of_seen_severity, incidents_seen_where
from portal.filters import TimeFilter

__all__ = (
    "FILTER_MARKER",
    "TIME_RANGES",
    "AlertFilterSet",
    "EntityFilterSet",
    "FilterRequest",
    "IncidentFilterSet",
    "with_defaults",
)

# Present when the person submitted a queue's filter form, so that unticking every box means "any", not "default".
FILTER_MARKER = "f"

TIME_RANGES = {
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "6m": timedelta(days=182),
}


class FilterRequest:
    """What the FilterSets read from a request: the user, for "assigned to me"."""

    def __init__(self, user):
        self.user = user


def with_defaults(filterset_class, params, defaults: dict[str, list]) -> tuple:
    """
    (the query string to filter with, whether it is the default view): a queue's defaults apply when the URL names
    no filter and the form was not submitted.
    """
    data = params.copy()
    is_default = FILTER_MARKER not in data and not any(name in data for name in filterset_class.base_filters)
    if is_default:
        for name, values in defaults.items():
            data.setlist(name, [str(value) for value in values])
    return data, is_default


def _multiple(choices):
    # distinct=False: these filter on the row's own columns, and DISTINCT over every column would cost a sort.
    return django_filters.MultipleChoiceFilter(choices=choices, distinct=False)


class _QueueFilterSet(django_filters.FilterSet):
    severity = _multiple(Severity.choices)
    classification = _multiple(Classification.choices)
    determination = _multiple(Determination.choices)
    range = django_filters.ChoiceFilter(
        choices=[(key, key) for key in TIME_RANGES], method="filter_range", label="Time range"
    )
    since = TimeFilter(method="filter_since", label="From")
    until = TimeFilter(method="filter_until", label="To")
    assigned = django_filters.CharFilter(method="filter_assigned", label="Assigned to (me, unassigned or a name)")
    device_group = django_filters.ModelMultipleChoiceFilter(
        queryset=DeviceGroup.objects.all(), method="filter_device_group", distinct=False
    )

    time_field = "created_at"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Device groups out of the reader's scope are not choices: naming one is an invalid value, like a bad id.
        self.filters["device_group"].queryset = device_groups_for(self._user())

    def _user(self):
        return getattr(self.request, "user", None)

    def filter_range(self, queryset, name, value):
        return queryset.filter(**{f"{self.time_field}__gte": timezone.now() - TIME_RANGES[value]})

    def filter_since(self, queryset, name, value):
        return queryset.filter(**{f"{self.time_field}__gte": value})

    def filter_until(self, queryset, name, value):
        return queryset.filter(**{f"{self.time_field}__lte": value})

    def filter_assigned(self, queryset, name, value):
        value = value.strip()
        if value == "unassigned":
            return queryset.filter(assigned_to="")
        if value == "me":
            user = self._user()
            return queryset.filter(assigned_to=user.get_username()) if user else queryset.none()
        return queryset.filter(assigned_to__iexact=value)

    @extend_schema_field(OpenApiTypes.INT)  # the API names device groups by id
    def filter_device_group(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(device_group_ids__overlap=[group.pk for group in value])


class IncidentFilterSet(_QueueFilterSet):
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, method="filter_severity", distinct=False)
    status = _multiple(IncidentStatus.choices)
    service_source = django_filters.MultipleChoiceFilter(
        choices=ServiceSource.choices, method="filter_array", distinct=False
    )
    detection_source = django_filters.MultipleChoiceFilter(
        choices=DetectionSource.choices, method="filter_array", distinct=False
    )
    tag = django_filters.CharFilter(method="filter_tag")
    category = django_filters.CharFilter(method="filter_category")
    q = django_filters.CharFilter(method="filter_search", label="Name, id or impacted entity")

    time_field = "last_update"

    class Meta:
        model = Incident
        fields = []

    # The filters on what an incident derives from its alerts find, for a reader scoped to device groups, the
    # incidents whose alerts in their scope match (incidents.selectors.incidents_seen_where): an incident holding
    # alerts they cannot see is never found by those alerts' severity, sources, categories or titles.

    def filter_severity(self, queryset, name, value):
        if not value:
            return queryset
        return incidents_of_seen_severity(self._user(), queryset, value)

    def filter_array(self, queryset, name, value):
        if not value:
            return queryset
        field = {"service_source": "service_sources", "detection_source": "detection_sources"}[name]
        stored = Q(**{f"{field}__overlap": list(value)})
        return queryset.filter(incidents_seen_where(self._user(), stored=stored, alerts=Q(**{f"{name}__in": value})))

    def filter_tag(self, queryset, name, value):
        return queryset.filter(custom_tags__contains=[value.strip()])

    def filter_category(self, queryset, name, value):
        stored, alerts = Q(categories__contains=[value.strip()]), Q(category=value.strip())
        return queryset.filter(incidents_seen_where(self._user(), stored=stored, alerts=alerts))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # A term that names an entity (its canonical key, or its name in any case) finds the incidents that entity is
        # in; any other term is looked for in incident names. Both ways are index-driven (the (kind, key) index, an
        # index on UPPER(display_name), the links), except the name search, which reads the filtered incidents. Only
        # entities the reader may see count, so that an entity out of scope reads as any other word.
        entity_ids = list(
            entities_for(self._user())
            .filter(Q(kind__in=EntityKind.values, key=value.lower()) | Q(display_name__iexact=value))
            .values_list("pk", flat=True)[:100]
        )
        if entity_ids:
            condition = Q(pk__in=IncidentEntity.objects.filter(entity_id__in=entity_ids).values("incident_id"))
        else:
            # An automatic name is made of its alerts' titles: a scoped reader's search reads the titles they see.
            automatic = incidents_seen_where(
                self._user(), stored=Q(display_name__icontains=value), alerts=Q(title__icontains=value)
            )
            condition = Q(display_name_is_custom=True, display_name__icontains=value) | (
                Q(display_name_is_custom=False) & automatic
            )
        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if value.lstrip("#").isdecimal():
            condition |= Q(pk=int(value.lstrip("#")))
        return queryset.filter(condition)


class AlertFilterSet(_QueueFilterSet):
    status = _multiple(AlertStatus.choices)
    service_source = _multiple(ServiceSource.choices)
    detection_source = _multiple(DetectionSource.choices)
    category = django_filters.CharFilter(field_name="category", lookup_expr="iexact")
    q = django_filters.CharFilter(method="filter_search", label="Title or id")

    class Meta:
        model = Alert
        fields = []

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q(title__icontains=value) | Q(provider_alert_id=value) | Q(graph_id=value)
        if value.isdecimal():
            condition |= Q(pk=int(value))
        return queryset.filter(condition)


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
