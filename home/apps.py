from django.apps import AppConfig


class HomeConfig(AppConfig):
    """Home: the cards a person's roles show them, each loading on its own."""

    name = "home"
    verbose_name = "Home"

    def ready(self):
        from home import cards  # noqa: F401 - registers the built-in Home cards
        from portal.navigation import Section, register_section

        register_section(Section(label="Home", url_name="home:home", order=10, icon="home"))
