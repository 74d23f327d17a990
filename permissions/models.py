from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

__all__ = ("ApiToken", "Capability", "Role", "RoleAssignment")


class Role(models.Model):
    """A role is a Django Group plus what it is for; built-in roles cannot be edited or deleted."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="role")
    description = models.TextField(blank=True)
    is_builtin = models.BooleanField(default=False)
    # Holders of this role must sign in with a second factor (TOTP) as well as their password.
    require_two_factor = models.BooleanField(default=False)

    class Meta:
        ordering = ["group__name"]

    def __str__(self):
        return self.group.name

    @property
    def name(self) -> str:
        return self.group.name


class RoleAssignment(models.Model):
    """
    A role given to one user or one group, over all data or over chosen device groups.

    `device_groups` is what an admin chose; the grants the permission checks read are django-guardian object
    permissions on those DeviceGroup rows, kept equal to the assignments by `permissions.grants`.
    """

    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments")
    all_data = models.BooleanField(default=True)
    device_groups = models.ManyToManyField("incidents.DeviceGroup", blank=True, related_name="role_assignments")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role__group__name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, group__isnull=True)
                | models.Q(user__isnull=True, group__isnull=False),
                name="roleassignment_one_principal",
            ),
            models.UniqueConstraint(fields=["role", "user"], name="roleassignment_role_user_unique"),
            models.UniqueConstraint(fields=["role", "group"], name="roleassignment_role_group_unique"),
        ]

    def __str__(self):
        return f"{self.role} → {self.principal_name}"

    @property
    def principal_name(self) -> str:
        return self.user.get_username() if self.user_id else f"group {self.group.name}"


class Capability(models.Model):
    """
    Holds the catalogue's tenant-wide permissions that belong to no one model (posture, authorization and
    settings); `portal.catalogue` describes them. No table: the model exists for its permissions.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_secure_score", "View secure score"),
            ("manage_secure_score", "Manage secure score"),
            ("view_threat_analytics", "View threat analytics"),
            ("manage_threat_analytics", "Manage threat analytics"),
            ("manage_roles", "Manage roles and assignments"),
            ("manage_rules", "Manage rules and detection tuning"),
            ("manage_settings", "Manage system settings"),
        ]

    def __str__(self):
        return "Vigil"


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
