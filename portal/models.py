from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

__all__ = ("ActivityLogEntry", "HomeCard", "UserPreference")


class ActivityLogEntry(models.Model):
    """
    One change made by a person or by the system: who, what, before, after, when.

    Append-only: the model refuses updates and deletes, and a database trigger (migration 0002) refuses them
    for any other writer too, so the log can be trusted as an audit trail.
    """

    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The actor's id is kept without a foreign-key constraint so that deleting a user never rewrites the log;
    # actor_name keeps who it was. System changes have no actor and name the subsystem ("correlation", ...).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,  # indexed by activity_actor_recent
    )
    actor_name = models.CharField(max_length=150)
    # A dotted verb: "resources.portallink.created", "incidents.incident.merged", ...
    action = models.CharField(max_length=100)
    # Indexed by activity_target_recent (target type first).
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=300)
    # {field: {"before": ..., "after": ...}}; empty for creations and deletions that carry `snapshot` instead.
    changes = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    # The alert an entry on an incident is about (linked, moved, the one it was created for): someone whose scope
    # holds the incident but not that alert does not see the entry, which names it.
    about_alert_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = "activity log entry"
        verbose_name_plural = "activity log"
        indexes = [
            # An object's history, newest first (incident page Activity tab, resource history).
            models.Index(fields=["target_type", "target_id", "-occurred_at"], name="activity_target_recent"),
            # "What did this person do" (Permissions & roles, audit reviews).
            models.Index(fields=["actor", "-occurred_at"], name="activity_actor_recent"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Activity log entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Activity log entries are append-only.")


class UserPreference(models.Model):
    """A choice a person made in the portal and expects to find again (queue columns, ...), one row per key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    key = models.CharField(max_length=100)
    value = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="userpreference_unique")]

    def __str__(self):
        return f"{self.user} {self.key}"


class HomeCard(models.Model):
    """
    A card the Home page can show. Which roles see it is a django-guardian `view_homecard` object permission
    held by the role's group; what it shows comes from the card registry (`home.cards`) under `key`.
    """

    key = models.SlugField(max_length=50, unique=True)
    title = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    # Display order on the Home page (and in the Home cards matrix).
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title
