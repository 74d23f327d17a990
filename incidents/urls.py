"""The Incidents & alerts section: the two queues, the incident and alert pages, and the entity pages."""

from django.urls import path

from incidents.views import alerts, entities, incident, queue

app_name = "incidents"

urlpatterns = [
    path("incidents/", queue.incident_queue_view, name="queue"),
    path("incidents/columns", queue.incident_columns, name="columns"),
    path("incidents/timeline", queue.incident_timeline, name="timeline"),
    path("incidents/bulk", queue.incident_bulk, name="bulk"),
    path("incidents/merge", queue.incident_merge, name="merge"),
    path("incidents/tags", incident.incident_tags, name="tags"),
    path("incidents/<int:pk>/", incident.incident_detail, name="detail"),
    path("incidents/<int:pk>/manage", incident.incident_manage, name="manage"),
    path("incidents/<int:pk>/comments", incident.incident_comment, name="comment"),
    path("incidents/<int:pk>/graph.json", incident.incident_graph, name="graph"),
    path("alerts/", alerts.alert_queue, name="alert_queue"),
    path("alerts/bulk", alerts.alert_bulk, name="alert_bulk"),
    path("alerts/<int:pk>/", alerts.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/manage", alerts.alert_manage, name="alert_manage"),
    path("alerts/<int:pk>/comments", alerts.alert_comment, name="alert_comment"),
    path("alerts/<int:pk>/move", alerts.alert_move_view, name="alert_move"),
    path("entities/<int:pk>/", entities.entity_detail, name="entity"),
]
