from django.urls import path
from rest_framework.routers import SimpleRouter

from incidents.api.views.alerts import AlertViewSet
from incidents.api.views.entities import EntityViewSet
from incidents.api.views.incidents import IncidentAlertList, IncidentViewSet
from incidents.api.views.ingest import AlertIngestView

app_name = "incidents-api"

router = SimpleRouter(use_regex_path=False)
router.register("incidents", IncidentViewSet, basename="incident")
router.register("alerts", AlertViewSet, basename="alert")
router.register("entities", EntityViewSet, basename="entity")

urlpatterns = [
    path("ingest/alerts", AlertIngestView.as_view(), name="ingest-alerts"),
    path("incidents/<int:pk>/alerts/", IncidentAlertList.as_view(), name="incident-alerts"),
    *router.urls,
]
