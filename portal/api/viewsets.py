"""What the API's viewsets share: reading a scoped model through its one scoped read, and reading a write back."""

from rest_framework import status
from rest_framework.response import Response

__all__ = ("ReadBackMixin", "ScopedRowsMixin")


# No class docstring: drf-spectacular describes the operations of a viewset that lists this mixin first with it.
class ScopedRowsMixin:
    # A view over a scoped model reads `scoped_model.objects.restrict(user, scope_action)` (portal.scoping
    # .ScopedQuerySet) and nothing else: `get_queryset` does it, so no view has to remember to. `scoped_rows` shapes
    # those rows further for one view (ordering, annotations, deferred columns), never widens them.
    scoped_model = None
    scope_action = "view"

    def get_queryset(self):
        return self.scoped_rows(self.scoped_model.objects.restrict(self.request.user, self.scope_action))

    def scoped_rows(self, rows):
        return rows


# No class docstring: drf-spectacular describes the operations of a viewset that lists this mixin first with it.
class ReadBackMixin:
    def read_back(self, instance, status_code: int = status.HTTP_200_OK) -> Response:
        """
        The answer to a write: the object read again through the viewset's queryset. A service returns the row it
        wrote, without what the list adds to it (counts, prefetched relations), and the answer shows it as a GET.
        """
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data, status=status_code)
