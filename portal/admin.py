from django.contrib import admin

from portal.models import ActivityLogEntry

__all__ = ("ActivityLogEntryAdmin", "ReadOnlyAdmin")


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that only shows its rows: they are written elsewhere, or never rewritten."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActivityLogEntry)
class ActivityLogEntryAdmin(ReadOnlyAdmin):
    """Read-only: the activity log is append-only."""

    list_display = ["occurred_at", "actor_name", "action", "target_repr"]
    list_filter = ["action"]
    search_fields = ["actor_name", "target_repr", "action"]
    date_hierarchy = "occurred_at"
