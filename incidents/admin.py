from django.contrib import admin

from incidents.models import Alert, Comment, DeviceGroup, Entity, Evidence, Incident


@admin.register(DeviceGroup)
class DeviceGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "created_at"]
    search_fields = ["name"]


@admin.register(Entity)
class EntityAdmin(admin.ModelAdmin):
    list_display = ["display_name", "kind", "key", "device_group", "last_seen"]
    list_filter = ["kind", "device_group"]
    search_fields = ["key", "display_name"]
    list_select_related = ["device_group"]


class EvidenceInline(admin.TabularInline):
    model = Evidence
    fk_name = "alert"
    extra = 0
    fields = ["odata_type", "entity", "roles", "verdict", "remediation_status"]
    raw_id_fields = ["entity"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["title", "severity", "status", "service_source", "incident", "created_at"]
    list_filter = ["severity", "status", "service_source"]
    search_fields = ["title", "provider_alert_id", "graph_id"]
    raw_id_fields = ["incident"]
    inlines = [EvidenceInline]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["display_name", "severity", "status", "assigned_to", "alerts_total", "last_update"]
    list_filter = ["severity", "status", "classification"]
    search_fields = ["display_name", "=id"]
    raw_id_fields = ["redirect_incident"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["author_name", "incident", "alert", "created_at"]
    raw_id_fields = ["incident", "alert", "author"]
