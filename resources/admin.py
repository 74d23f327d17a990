from django.contrib import admin

from resources import services
from resources.models import ResourceLink


@admin.register(ResourceLink)
class ResourceLinkAdmin(admin.ModelAdmin):
    """Saves go through the services, so admin changes are audited and keep positions dense like page edits."""

    list_display = ["name", "url", "position", "is_hidden", "updated_at"]
    list_filter = ["is_hidden"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "description", "is_hidden"]
    actions = None

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data[field] for field in ("name", "url", "description")}
        if change:
            link = services.resource_link_update(actor=request.user, link=obj, **values)
        else:
            link = services.resource_link_create(actor=request.user, **values)
        link = services.resource_link_set_hidden(actor=request.user, link=link, hidden=form.cleaned_data["is_hidden"])
        obj.pk = link.pk

    def delete_model(self, request, obj):
        services.resource_link_delete(actor=request.user, link=obj)
