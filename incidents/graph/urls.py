"""
The Graph-compatible security API, under /v1.0/security/ (portal.urls). Paths are Graph's own, without a trailing
slash, as Graph clients build them; ids are matched as text so that an id that is not a number answers Graph's 404.
"""

from django.urls import path

from incidents.graph import views

app_name = "graph"

urlpatterns = [
    path("incidents", views.IncidentListView.as_view(), name="incident-list"),
    path("incidents/<str:incident_id>", views.IncidentView.as_view(), name="incident-detail"),
    path("incidents/<str:incident_id>/comments", views.IncidentCommentsView.as_view(), name="incident-comments"),
    path("alerts_v2", views.AlertListView.as_view(), name="alert-list"),
    path("alerts_v2/<str:alert_id>", views.AlertView.as_view(), name="alert-detail"),
    path("alerts_v2/<str:alert_id>/comments", views.AlertCommentsView.as_view(), name="alert-comments"),
]
