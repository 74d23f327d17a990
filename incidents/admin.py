"""
The Django admin for the shared security model, scoped like the portal: a staff user reaches only the incidents,
alerts, entities, evidence and comments in their data scope (incidents.selectors). Out of scope, a change page
answers 404, links to other objects (an alert's incident, evidence's entity) offer only objects in scope, and a
save that would take an object out of scope is refused (the admin's save is one transaction).

Evidence has no admin page of its own; it shows inline on the alert, whose page is already scoped.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404

from incidents.models import Alert, Comment, DeviceGroup, Entity, Evidence, Incident
from incidents.selectors import alerts_for, comments_for, entities_for, incidents_for

# The scoped selector of each model: it serves the model's admin list and the pickers of foreign keys to it.
SCOPED = {Incident: incidents_for, Alert: alerts_for, Entity: entities_for, Comment: comments_for}


class ScopedRelationsMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        selector = SCOPED.get(db_field.related_model)
        if selector is not None:
            kwargs["queryset"] = selector(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedAdmin(ScopedRelationsMixin, admin.ModelAdmin):
    """A ModelAdmin whose rows come from its model's scoped selector (SCOPED)."""

    def scoped(self, user):
        return SCOPED[self.model](user)

    def get_queryset(self, request):
        # The scoped selector, with the admin's own ordering on top.
        queryset = self.scoped(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_object(self, request, object_id, from_field=None):
        # Django's admin redirects to its index for a missing object; out of scope must answer 404 like the portal.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Re-read through the scope inside the admin's transaction: an edit that moves the object out of the
        # user's scope (or adds one outside it) is rolled back.
        if not self.scoped(request.user).filter(pk=obj.pk).exists():
            raise PermissionDenied("The object would be outside your data scope.")


@admin.register(DeviceGroup)
class DeviceGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "created_at"]
    search_fields = ["name"]


@admin.register(Entity)
class EntityAdmin(ScopedAdmin):
    list_display = ["display_name", "kind", "key", "device_group", "last_seen"]
    list_filter = ["kind", "device_group"]
    search_fields = ["key", "display_name"]
    list_select_related = ["device_group"]


class EvidenceInline(ScopedRelationsMixin, admin.TabularInline):
    model = Evidence
    fk_name = "alert"
    extra = 0
    fields = ["odata_type", "entity", "roles", "verdict", "remediation_status"]
    # Evidence names what a sensor saw; it is never re-pointed at another entity by hand.
    readonly_fields = ["entity"]

    def get_queryset(self, request):
        # The alert is in scope (its page is); an alert may also name a device of a group outside the person's
        # scope, whose evidence is left out here as it is on the alert page.
        return super().get_queryset(request).filter(entity__in=entities_for(request.user))


@admin.register(Alert)
class AlertAdmin(ScopedAdmin):
    list_display = ["title", "severity", "status", "service_source", "incident", "created_at"]
    list_filter = ["severity", "status", "service_source"]
    search_fields = ["title", "provider_alert_id", "graph_id"]
    raw_id_fields = ["incident"]
    inlines = [EvidenceInline]


@admin.register(Incident)
class IncidentAdmin(ScopedAdmin):
    list_display = ["display_name", "severity", "status", "assigned_to", "alerts_total", "last_update"]
    list_filter = ["severity", "status", "classification"]
    search_fields = ["display_name", "=id"]
    raw_id_fields = ["redirect_incident"]


@admin.register(Comment)
class CommentAdmin(ScopedAdmin):
    list_display = ["author_name", "incident", "alert", "created_at"]
    raw_id_fields = ["incident", "alert", "author"]
