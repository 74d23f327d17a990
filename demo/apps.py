from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo estate `make run` serves (seed_demo) and the command that runs the portal with it (run_portal)."""

    name = "demo"
    verbose_name = "Demo estate"
