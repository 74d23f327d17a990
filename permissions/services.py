import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from permissions.models import ApiToken
from portal.services import activity_record

__all__ = ("TOKEN_PREFIX", "api_token_create", "api_token_digest", "api_token_revoke")

TOKEN_PREFIX = "vgl_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)


def api_token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str, expires_at: datetime | None = None, actor=None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret; the secret is never stored and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=api_token_digest(secret),
        expires_at=expires_at or timezone.now() + DEFAULT_TOKEN_LIFETIME,
    )
    activity_record(
        actor=actor or user,
        action="permissions.apitoken.created",
        target=token,
        changes={
            "user": {"before": None, "after": user.get_username()},
            "expires_at": {"before": None, "after": token.expires_at.isoformat()},
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        activity_record(actor=actor, action="permissions.apitoken.revoked", target=token)
    return token
