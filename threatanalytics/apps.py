from django.apps import AppConfig


class ThreatAnalyticsConfig(AppConfig):
    """Threat analytics. The section is not built yet, so it registers no navigation entry and serves no page."""

    name = "threatanalytics"
    verbose_name = "Threat analytics"
