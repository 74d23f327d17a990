from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal.home import cards  # noqa: F401 - registers the built-in Home cards
        from portal.navigation import Section, register_section

        register_section(Section(label="Home", url_name="portal:home", order=10, icon="home"))
