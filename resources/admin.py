from django.contrib import admin

from resources.models import ResourceLink


@admin.register(ResourceLink)
class ResourceLinkAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "position", "is_hidden", "updated_at"]
    list_filter = ["is_hidden"]
    search_fields = ["name", "url"]
