"""What the settings API's viewsets over services share."""

from rest_framework import status
from rest_framework.response import Response

__all__ = ("ReadBackMixin",)


# No class docstring: drf-spectacular describes the operations of a viewset that lists this mixin first with it.
class ReadBackMixin:
    def read_back(self, instance, status_code: int = status.HTTP_200_OK) -> Response:
        """
        The answer to a write: the object read again through the viewset's queryset. A service returns the row it
        wrote, without what the list adds to it (counts, prefetched relations), and the answer shows it as a GET.
        """
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data, status=status_code)
