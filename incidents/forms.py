"""
The forms of the Incidents & alerts pages. They read what a person sent; the rules of the domain (what may change,
what a determination must fit) are the services', which the views call with the values a form gives.
"""

from django import forms
from django.core.exceptions import ValidationError

from incidents.choices import AlertStatus, Classification, Determination, IncidentStatus
from incidents.models import Alert
from incidents.services.incidents import ASSIGNEE_MAX_LENGTH

__all__ = ("AlertManageForm", "AlertMoveForm", "IncidentManageForm")


class IncidentManageForm(forms.Form):
    """
    The incident page's manage pane: a field left out of the request is left unchanged, so each form on the pane
    (Assign to me, the details) sends only what it shows.
    """

    FIELDS = ("display_name", "severity", "status", "classification", "determination", "assigned_to")

    def changes(self, user) -> dict:
        """The values `incident_update` takes, for the fields sent."""
        data = self.data
        if data.get("assign_to_me"):
            return {"assigned_to": user.get_username()}
        values = {field: data.get(field, "") for field in self.FIELDS if field in data}
        if "custom_tags" in data:
            values["custom_tags"] = [tag.strip() for tag in data.get("custom_tags", "").split(",")]
        if data.get("status") == IncidentStatus.RESOLVED or data.get("resolving_comment"):
            values["resolving_comment"] = data.get("resolving_comment", "")
        return values


class AlertManageForm(forms.Form):
    status = forms.ChoiceField(choices=AlertStatus.choices)
    assigned_to = forms.CharField(max_length=ASSIGNEE_MAX_LENGTH, required=False)
    classification = forms.ChoiceField(choices=Classification.choices)
    determination = forms.ChoiceField(choices=Determination.choices)

    def changes(self, alert: Alert, user) -> dict:
        """The fields that differ from the alert; classification and determination always travel together."""
        data = dict(self.cleaned_data)
        if self.data.get("assign_to_me"):
            data["assigned_to"] = user.get_username()
        values = {name: data[name] for name in ("status", "assigned_to") if data[name] != getattr(alert, name)}
        if (data["classification"], data["determination"]) != (alert.classification, alert.determination):
            values.update(classification=data["classification"], determination=data["determination"])
        return values


class AlertMoveForm(forms.Form):
    destination = forms.ChoiceField(
        choices=[("existing", "An existing incident"), ("new", "A new incident")],
        error_messages={"required": "Choose where to move the alert."},
    )
    incident = forms.CharField(required=False, max_length=20)
    reason = forms.CharField(
        max_length=1000, error_messages={"required": "Say why the alert belongs elsewhere; the activity log keeps it."}
    )

    def clean_incident(self):
        value = self.cleaned_data["incident"].strip().lstrip("#").strip()
        if not value:
            return None
        if not value.isdecimal():
            raise ValidationError("Give the incident's number, for example 42.")
        return int(value)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("destination") == "existing" and not cleaned.get("incident") and "incident" not in self.errors:
            self.add_error("incident", "Give the number of the incident to move the alert to.")
        return cleaned
