from django.urls import path

from incidents.api.ingest import AlertIngestView

app_name = "incidents-api"

urlpatterns = [
    path("ingest/alerts", AlertIngestView.as_view(), name="ingest-alerts"),
]
