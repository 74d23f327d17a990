from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """The shared security model; the Incidents & alerts pages register their navigation entry when they exist."""

    name = "incidents"
    verbose_name = "Incidents & alerts"
