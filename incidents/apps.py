from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """The shared security model and the Incidents & alerts pages."""

    name = "incidents"
    verbose_name = "Incidents & alerts"

    def ready(self):
        from incidents.selectors import activity_visible_to
        from portal.catalogue import VIEW_SECURITY_DATA
        from portal.navigation import Section, register_section
        from portal.scoping import register_activity_rule

        register_activity_rule(activity_visible_to)
        register_section(
            Section(label="Incidents", url_name="incidents:queue", order=20, permission=VIEW_SECURITY_DATA)
        )
        register_section(
            Section(label="Alerts", url_name="incidents:alert_queue", order=21, permission=VIEW_SECURITY_DATA)
        )
