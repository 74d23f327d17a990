from django.apps import AppConfig


class ResourcesConfig(AppConfig):
    name = "resources"
    verbose_name = "More resources"

    def ready(self):
        from portal.navigation import Section, register_section

        register_section(Section(label="More resources", url_name="resources:list", order=90, icon="links"))
