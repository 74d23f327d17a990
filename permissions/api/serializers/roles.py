"""The serializers of /api/roles/ (permissions.api.views.roles)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.fields import NonBlankField, StrictBooleanField, StrictCharField
from portal.catalogue import catalogue, catalogue_by_category

__all__ = ("CatalogueEntrySerializer", "RoleSerializer", "RoleWriteSerializer")


def held_permissions(role) -> list[str]:
    """The role's permissions as sorted "app_label.codename", from the rows prefetched with it."""
    return sorted(
        f"{permission.content_type.app_label}.{permission.codename}" for permission in role.group.permissions.all()
    )


class PermissionCategorySerializer(serializers.Serializer):
    category = serializers.CharField()
    permissions = serializers.ListField(child=serializers.CharField())


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="group.name")
    description = serializers.CharField()
    is_builtin = serializers.BooleanField(help_text="Built-in roles keep their name and permissions.")
    require_two_factor = serializers.BooleanField(
        help_text="Holders must sign in with an authenticator app code as well as their password."
    )
    permissions = serializers.SerializerMethodField(
        help_text="Every permission the role holds. The built-in Security administrator also holds the model "
        "permissions the Django admin asks for, outside the catalogue."
    )
    categories = serializers.SerializerMethodField(
        help_text="The role's catalogue permissions in the catalogue's categories, every category listed."
    )
    user_count = serializers.IntegerField(help_text="Users the role is assigned to.")
    group_count = serializers.IntegerField(help_text="Groups of people the role is assigned to.")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_permissions(self, role) -> list[str]:
        return held_permissions(role)

    @extend_schema_field(PermissionCategorySerializer(many=True))
    def get_categories(self, role) -> list[dict]:
        held = set(held_permissions(role))
        return [
            {"category": category, "permissions": [entry.permission for entry in entries if entry.permission in held]}
            for category, entries in catalogue_by_category()
        ]


class CataloguePermissionsField(serializers.ListField):
    """Permissions named as in the catalogue; the service checks them, and names those that are not."""

    def __init__(self, **kwargs):
        super().__init__(child=StrictCharField(max_length=255), **kwargs)
        # Read when the serializer is made, not when this module is imported: sections register their permissions
        # as their apps become ready.
        permissions = [entry.permission for entry in catalogue()]
        extend_schema_field({"type": "array", "items": {"type": "string", "enum": permissions}, "minItems": 1})(self)


class RoleWriteSerializer(serializers.Serializer):
    # The service checks names (unique, not blank) and permissions (from the catalogue, at least one).
    # Sent as is: the service trims the name, and says why one of spaces only is refused.
    name = NonBlankField(max_length=150, trim_whitespace=False)
    description = StrictCharField(allow_blank=True, default="")
    permissions = CataloguePermissionsField(help_text='Catalogue permissions, e.g. "incidents.view_security_data".')
    require_two_factor = StrictBooleanField(default=False)


class CatalogueEntrySerializer(serializers.Serializer):
    permission = serializers.CharField(help_text='What roles are made of: "app_label.codename".')
    category = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    level = serializers.ChoiceField(choices=["read", "manage"])
    scoped = serializers.BooleanField(
        help_text="True when an assignment's device groups limit it (security data); false when it holds tenant-wide."
    )
