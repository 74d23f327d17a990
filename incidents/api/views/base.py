"""
What the security-data viewsets share: who may call them, how one object is found, how a sub-list pages, and the
If-Match requirement of changes that must not overwrite someone else's.

Who may call them is checked before any object is looked up, as the pages do: reading needs the right to view
security data, writing also the right to manage incidents and alerts. How far each reaches (the device groups) is
the selectors' and services' business: an object outside it answers 404.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from portal.api.access import permission_required
from portal.api.pagination import ListPagination
from portal.api.viewsets import ScopedRowsMixin
from portal.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA

__all__ = (
    "PreconditionRequired",
    "SecurityDataAPI",
    "SecurityDataViewSet",
    "VersionedRetrieveMixin",
    "etag_parameter",
    "if_match_of",
    "if_match_parameter",
    "sub_list_action",
)


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send an If-Match header with the ETag you read (GET the object first), so that your change cannot "
        "overwrite a change made since."
    )
    default_code = "precondition_required"


def etag_parameter(noun: str) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        location=OpenApiParameter.HEADER,
        response=[200],
        type=str,
        description=f"The {noun}'s version, to send as If-Match with a change.",
    )


def if_match_parameter(noun: str, *, required: bool) -> OpenApiParameter:
    without = "A change without it answers 428; a" if required else "Optional; a"
    return OpenApiParameter(
        "If-Match",
        location=OpenApiParameter.HEADER,
        required=required,
        type=str,
        description=f"The ETag of the {noun} as you read it. {without} change to an {noun} changed since answers 412 "
        "and changes nothing.",
    )


def if_match_of(request) -> str:
    """The request's If-Match value; PreconditionRequired when it sent none."""
    value = request.headers.get("If-Match", "").strip()
    if not value:
        raise PreconditionRequired()
    return value


class SecurityDataAPI(ScopedRowsMixin):
    """
    The settings and helpers of every security-data view (mixed into DRF's generic views): who may call it, and its
    rows, `scoped_model.objects.restrict(...)` (ScopedRowsMixin).
    """

    permission_classes = [
        permissions.IsAuthenticated,
        permission_required(VIEW_SECURITY_DATA, doing="Reading security data"),
        permission_required(MANAGE_INCIDENTS, doing="Changing incidents and alerts", writes_only=True),
    ]
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


# GET of one object with its version as the ETag header, which a change sends back as If-Match; `version_of`
# (incident_version, alert_version) says what the version is, and changes answer with `versioned_response` too.
# No class docstring: drf-spectacular would describe the operations of the viewsets that list it first with it.
class VersionedRetrieveMixin:
    version_of = None

    def retrieve(self, request, *args, **kwargs):
        return self.versioned_response(self.get_object())

    def versioned_response(self, instance) -> Response:
        return Response(self.get_serializer(instance).data, headers={"ETag": type(self).version_of(instance)})


def sub_list_action(serializer_class, *, methods=("get",)):
    """
    @action for a list under one object (its comments, evidence, activity): shown by `serializer_class`, paged by
    limit and offset (`page_of`), without the filters of the viewset's own list.
    """
    return action(
        detail=True,
        methods=list(methods),
        serializer_class=serializer_class,
        pagination_class=ListPagination,
        filterset_class=None,
    )
