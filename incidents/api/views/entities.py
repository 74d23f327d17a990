"""
/api/entities/: the devices, users, files, addresses, ... the caller may see (incidents.selectors.entities_for): a
device by its device group, anything else by the alerts in scope it appears in.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from incidents.api import examples
from incidents.api.serializers import EntitySerializer
from incidents.api.views.base import SecurityDataViewSet
from incidents.filters import EntityFilterSet
from incidents.models import Entity
from portal.api.pagination import ListPagination

__all__ = ("EntityViewSet",)


@extend_schema_view(
    list=extend_schema(
        operation_id="entities_list",
        summary="List entities",
        description="The entities the caller may see, by kind and name.",
        responses={200: EntitySerializer(many=True)},
        examples=[examples.ENTITY],
    ),
    retrieve=extend_schema(
        operation_id="entities_retrieve",
        summary="Read an entity",
        responses={200: EntitySerializer},
        examples=[examples.ENTITY],
    ),
)
@extend_schema(tags=["entities"])
class EntityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SecurityDataViewSet):
    serializer_class = EntitySerializer
    filterset_class = EntityFilterSet
    pagination_class = ListPagination
    scoped_model = Entity

    def scoped_rows(self, rows):
        return rows.order_by("kind", "display_name", "id")
