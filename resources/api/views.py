from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import permissions, viewsets
from rest_framework.exceptions import ValidationError

from resources import services
from resources.api.serializers import ResourceLinkSerializer
from resources.selectors import resource_links_for

__all__ = ("ResourceLinkViewSet",)


class ManageResourcesOrReadOnly(permissions.BasePermission):
    message = "Changing More resources requires the resources.change_resourcelink permission."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm("resources.change_resourcelink")


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
