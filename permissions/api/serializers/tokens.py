"""The serializers of /api/tokens/ (permissions.api.views.tokens)."""

from rest_framework import serializers

from permissions.api.fields import ActiveUserField
from permissions.models import ApiToken
from permissions.services import DEFAULT_TOKEN_LIFETIME, TOKEN_MAX_LIFETIME_DAYS
from portal.api.fields import NonBlankField, StrictIntegerField

__all__ = ("ApiTokenCreateSerializer", "ApiTokenCreatedSerializer", "ApiTokenSerializer")


TOKEN_NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The start of the secret, to tell tokens apart.")
    user = serializers.CharField(source="user.username", help_text="Whose token it is: it acts with their rights.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="To the minute.")
    revoked_at = serializers.DateTimeField(allow_null=True)
    is_usable = serializers.BooleanField(help_text="Neither revoked nor expired.")


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    secret = serializers.CharField(
        help_text="Send it as `Authorization: Bearer <secret>`. Shown in this answer only: it is not stored."
    )


class ApiTokenCreateSerializer(serializers.Serializer):
    # The service checks the name (not blank, at most 100 characters, unique per user) and says what is wrong.
    name = NonBlankField(
        longest=TOKEN_NAME_MAX_LENGTH, trim_whitespace=False, help_text="What the token is for, e.g. 'SIEM forwarder'."
    )
    expires_in_days = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=TOKEN_MAX_LIFETIME_DAYS,
        error_messages={
            "min_value": "A token lasts at least 1 day.",
            "max_value": f"A token lasts at most {TOKEN_MAX_LIFETIME_DAYS} days.",
        },
        help_text=(
            f"From 1 to {TOKEN_MAX_LIFETIME_DAYS} days; {DEFAULT_TOKEN_LIFETIME.days} unless given. Asked with an API "
            "token, the new token expires no later than that token, and with it unless given."
        ),
    )
    user = ActiveUserField(
        required=False,
        allow_null=True,
        help_text="Whose token: the user name of someone else (role managers, signed in); yourself when left out.",
    )
