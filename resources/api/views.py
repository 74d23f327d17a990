from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.exceptions import ValidationError

from portal.catalogue import MANAGE_RESOURCES
from resources import services
from resources.api.serializers import ResourceLinkSerializer
from resources.selectors import resource_links_for

__all__ = ("ResourceLinkViewSet",)


class ManageResourcesOrReadOnly(permissions.BasePermission):
    message = "Changing More resources requires the resources.change_resourcelink permission."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm(MANAGE_RESOURCES)


LINK = {
    "id": 3,
    "name": "Microsoft Entra admin center",
    "url": "https://entra.microsoft.com/",
    "description": "Identities, conditional access and sign-in logs.",
    "position": 3,
    "is_hidden": False,
    "created_at": "2026-11-20T08:05:54.990666Z",
    "updated_at": "2026-11-21T10:12:03.120001Z",
}
NEW_LINK = {"name": "Microsoft Entra admin center", "url": "https://entra.microsoft.com/", "description": ""}


def _answer(value):
    return OpenApiExample("A link", value=value, response_only=True)


def _request(value):
    return OpenApiExample("A change", value=value, request_only=True)


@extend_schema_view(
    list=extend_schema(
        examples=[
            OpenApiExample(
                "The directory",
                value={"count": 1, "next": None, "previous": None, "results": [LINK]},
                response_only=True,
            )
        ]
    ),
    retrieve=extend_schema(examples=[_answer(LINK)]),
    create=extend_schema(examples=[_request(NEW_LINK), _answer(LINK)]),
    update=extend_schema(examples=[_request(NEW_LINK), _answer(LINK)]),
    partial_update=extend_schema(examples=[_request({"is_hidden": True}), _answer({**LINK, "is_hidden": True})]),
)
class ResourceLinkViewSet(viewsets.ModelViewSet):
    """The More resources directory: readable by everyone signed in, writable with the change permission."""

    serializer_class = ResourceLinkSerializer
    permission_classes = [permissions.IsAuthenticated, ManageResourcesOrReadOnly]

    def get_queryset(self):
        return resource_links_for(self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = self._call(
            services.resource_link_create,
            actor=self.request.user,
            name=data["name"],
            url=data["url"],
            description=data.get("description", ""),
        )
        if data.get("is_hidden"):
            serializer.instance = services.resource_link_set_hidden(
                actor=self.request.user, link=serializer.instance, hidden=True
            )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        hidden = data.pop("is_hidden", None)
        link = self._call(services.resource_link_update, actor=self.request.user, link=serializer.instance, **data)
        if hidden is not None:
            link = services.resource_link_set_hidden(actor=self.request.user, link=link, hidden=hidden)
        serializer.instance = link

    def perform_destroy(self, instance):
        services.resource_link_delete(actor=self.request.user, link=instance)

    @staticmethod
    def _call(service, **kwargs):
        try:
            return service(**kwargs)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
