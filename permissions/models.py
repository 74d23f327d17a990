from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

__all__ = ("ApiToken", "Role")


class Role(models.Model):
    """A role is a Django Group plus what it is for; built-in roles cannot be edited or deleted."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="role")
    description = models.TextField(blank=True)
    is_builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["group__name"]

    def __str__(self):
        return self.group.name


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """
    A bearer token for API clients. It acts with its user's permissions and data scope.

    Only a SHA-256 digest of the secret is stored: the secret carries 256 random bits, so a fast hash is as safe
    as a slow one and keeps authentication to one indexed lookup. `prefix` lets people tell tokens apart.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    # Authentication looks the token up by this digest (the unique index serves it).
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="apitoken_user_name_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
