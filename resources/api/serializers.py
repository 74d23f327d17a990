from rest_framework import serializers

from resources.forms import http_url
from resources.models import ResourceLink

__all__ = ("ResourceLinkSerializer",)


class ResourceLinkSerializer(serializers.ModelSerializer):
    url = serializers.CharField(max_length=2048, validators=[http_url])

    class Meta:
        model = ResourceLink
        fields = ["id", "name", "url", "description", "position", "is_hidden", "created_at", "updated_at"]
        read_only_fields = ["id", "position", "created_at", "updated_at"]
