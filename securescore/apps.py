from django.apps import AppConfig


class SecureScoreConfig(AppConfig):
    """Secure score. The section is not built yet, so it registers no navigation entry and serves no page."""

    name = "securescore"
    verbose_name = "Secure score"
