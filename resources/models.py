from django.db import models
from django.db.models import Q

__all__ = ("ResourceLink",)


class ResourceLink(models.Model):
    """An entry of the More resources directory: a related portal and what it is for."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    url = models.URLField(max_length=2048)
    # Display order, ascending; services keep it dense (0, 1, 2, ...).
    position = models.PositiveIntegerField(default=0)
    # Hidden entries stay listed for people who manage the directory, and disappear for everyone else.
    is_hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="resourcelink_name_unique"),
            # Links open from the portal: only web addresses, never javascript:, data: or file: URLs.
            models.CheckConstraint(
                condition=Q(url__istartswith="https://") | Q(url__istartswith="http://"),
                name="resourcelink_url_http",
            ),
        ]

    def __str__(self):
        return self.name
