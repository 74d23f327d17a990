"""
/api/tokens/: API tokens. Everyone lists, creates and revokes their own; a holder of `permissions.manage_roles`
also lists (`?whose=everyone`) and revokes everyone's and may create one for someone else. Someone else's token
answers 404 to the others, as if it did not exist. A request authenticated with a token creates tokens for that
token's user only, expiring no later than it (the service's rule).

The secret is in the answer to the creating POST and nowhere else (that answer is marked not to be cached); the
digest is never shown. Revoking keeps the token's row, for the record: DELETE revokes, as POST .../revoke/ does.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from permissions import selectors, services
from permissions.api.serializers.tokens import ApiTokenCreatedSerializer, ApiTokenCreateSerializer, ApiTokenSerializer
from permissions.models import ApiToken
from portal.api.access import require_permission
from portal.api.pagination import ListPagination
from portal.api.schema import error_example, error_response
from portal.catalogue import MANAGE_ROLES

__all__ = ("ApiTokenViewSet",)

OWN, EVERYONE = "own", "everyone"

FOR_SOMEONE_ELSE = "Creating a token for someone else"


def _manages_roles(user) -> bool:
    return user.has_perm(MANAGE_ROLES)


# --- Examples ---------------------------------------------------------------------------------------------------------

TOKEN = {
    "id": 21,
    "name": "SIEM forwarder",
    "prefix": "vgl_Q3x9Tb",
    "user": "alice",
    "created_at": "2026-11-20T08:05:54Z",
    "expires_at": "2027-02-18T08:05:54Z",
    "last_used_at": "2026-11-20T09:12:00Z",
    "revoked_at": None,
    "is_usable": True,
}
TOKEN_EXAMPLE = OpenApiExample("A token", value=TOKEN, response_only=True)
REVOKED_EXAMPLE = OpenApiExample(
    "Revoked", value={**TOKEN, "revoked_at": "2026-11-21T10:00:00Z", "is_usable": False}, response_only=True
)

NOT_FOUND = error_example(
    "Someone else's token, to all but a role manager", detail="Not found.", code="not_found", status=404
)


@extend_schema_view(
    list=extend_schema(
        operation_id="tokens_list",
        summary="API tokens",
        description="Your own tokens, newest first; everyone's with `whose=everyone` (role managers only).",
        parameters=[
            OpenApiParameter(
                "whose",
                OpenApiTypes.STR,
                enum=[OWN, EVERYONE],
                description="`own` (the default) or `everyone` (role managers only).",
            )
        ],
        examples=[TOKEN_EXAMPLE],
    ),
    retrieve=extend_schema(operation_id="tokens_retrieve", summary="An API token", examples=[TOKEN_EXAMPLE]),
    create=extend_schema(
        operation_id="tokens_create",
        summary="Create an API token",
        description=(
            "The answer carries the secret: store it now, it cannot be shown again. Asked with an API token, the new "
            "token is for that token's user and expires no later than it; a later expiry or someone else answers 400."
        ),
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer},
        examples=[
            OpenApiExample(
                "For yourself, for 90 days", value={"name": "SIEM forwarder", "expires_in_days": 90}, request_only=True
            ),
            OpenApiExample(
                "The new token and its secret",
                value={**TOKEN, "last_used_at": None, "secret": "vgl_Q3x9TbN0t-a-real-secret-but-shaped-like-one"},
                response_only=True,
            ),
        ],
    ),
    destroy=extend_schema(
        operation_id="tokens_destroy",
        summary="Revoke an API token",
        description="Clients using it are refused from now on. The token stays listed, revoked.",
        responses={204: None, 404: error_response("No such token, or someone else's to all but a role manager.")},
        examples=[NOT_FOUND],
    ),
)
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    pagination_class = ListPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()  # the schema generator asks without a user
        user = self.request.user
        if self.action == "list":
            return selectors.tokens_for(user, everyone=self._whose() == EVERYONE)
        # Someone else's token does not exist for all but a role manager.
        return selectors.tokens_for(user, everyone=_manages_roles(user))

    def _whose(self) -> str:
        whose = self.request.query_params.get("whose") or OWN
        if whose not in (OWN, EVERYONE):
            raise ValidationError({"whose": [f"Either {OWN} or {EVERYONE}."]})
        if whose == EVERYONE:
            require_permission(self.request.user, MANAGE_ROLES, doing="Listing everyone's tokens")
        return whose

    def create(self, request, *args, **kwargs):
        named = request.data.get("user") if isinstance(request.data, dict) else None
        if isinstance(named, str) and named.strip().lower() != request.user.get_username().lower():
            # Refused before the name is looked up: "no such user" would tell anyone who has an account.
            require_permission(request.user, MANAGE_ROLES, doing=FOR_SOMEONE_ELSE)
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        owner = values.get("user") or request.user
        if owner != request.user:
            require_permission(request.user, MANAGE_ROLES, doing=FOR_SOMEONE_ELSE)
        days = values.get("expires_in_days")
        token, secret = services.api_token_create(
            user=owner,
            name=values["name"],
            expires_at=None if days is None else timezone.now() + timedelta(days=days),
            actor=request.user,
            using_token=request.auth if isinstance(request.auth, ApiToken) else None,
        )
        response = Response({**ApiTokenSerializer(token).data, "secret": secret}, status=status.HTTP_201_CREATED)
        add_never_cache_headers(response)
        return response

    def destroy(self, request, *args, **kwargs):
        services.api_token_revoke(token=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="tokens_revoke",
        summary="Revoke an API token",
        description="Clients using it are refused from now on. Revoking a revoked token changes nothing.",
        request=None,
        responses={200: ApiTokenSerializer},
        examples=[REVOKED_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.api_token_revoke(token=self.get_object(), actor=request.user)
        return Response(ApiTokenSerializer(token).data)
