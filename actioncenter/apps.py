from django.apps import AppConfig


class ActionCenterConfig(AppConfig):
    """Action center. The section is not built yet, so it registers no navigation entry and serves no page."""

    name = "actioncenter"
    verbose_name = "Action center"
