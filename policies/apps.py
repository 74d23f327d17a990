from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    """Policies & rules. The section is not built yet, so it registers no navigation entry and serves no page."""

    name = "policies"
    verbose_name = "Policies & rules"
