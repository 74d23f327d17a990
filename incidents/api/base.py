"""
What the security-data viewsets share: who may call them, how one object is found, how a sub-list pages, and the
If-Match requirement of changes that must not overwrite someone else's.
"""

from django.shortcuts import get_object_or_404
from rest_framework import permissions, status, viewsets
from rest_framework.exceptions import APIException
from rest_framework.parsers import JSONParser

from incidents.api.permissions import SecurityDataPermission

__all__ = ("PreconditionRequired", "SecurityDataAPI", "SecurityDataViewSet", "if_match_of")


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send an If-Match header with the ETag you read (GET the object first), so that your change cannot "
        "overwrite a change made since."
    )
    default_code = "precondition_required"


def if_match_of(request) -> str:
    """The request's If-Match value; PreconditionRequired when it sent none."""
    value = request.headers.get("If-Match", "").strip()
    if not value:
        raise PreconditionRequired()
    return value


class SecurityDataAPI:
    """The settings and helpers of every security-data view (mixed into DRF's generic views)."""

    permission_classes = [permissions.IsAuthenticated, SecurityDataPermission]
    parser_classes = [JSONParser]
    # Ids in paths are integers: anything else is not an object of this API (404 from the resolver, never a 500).
    lookup_value_converter = "int"

    def get_object(self):
        # Filters and cursors are for lists: one object is found by its id alone, in the caller's scope.
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def page_of(self, queryset):
        """The list response of `queryset`, paged by the action's pagination and shown by its serializer."""
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class SecurityDataViewSet(SecurityDataAPI, viewsets.GenericViewSet):
    pass
