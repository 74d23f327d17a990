"""
Forms of the Permissions & roles pages. They check what a person typed; the services check the rules (unique
names, built-in roles, catalogue membership) and their ValidationErrors are added back to the form.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.forms.forms import NON_FIELD_ERRORS

from incidents.models import DeviceGroup
from incidents.selectors import devices_to_group
from permissions.selectors import groups_assignable
from permissions.services import TOKEN_MAX_LIFETIME_DAYS
from portal.catalogue import catalogue

__all__ = (
    "ApiTokenForm",
    "AssignmentForm",
    "DeviceGroupForm",
    "DevicesForm",
    "RoleForm",
    "ScopeForm",
)

ALL_DATA = "all"
SOME_DEVICE_GROUPS = "device_groups"
SCOPE_CHOICES = [(ALL_DATA, "All data"), (SOME_DEVICE_GROUPS, "Only chosen device groups")]


class PortalForm(forms.Form):
    """Bootstrap classes on the widgets, and `is-invalid` on every field that has an error, however it got it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue  # rendered option by option by the templates
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self._errors or {}:
            if name != NON_FIELD_ERRORS and name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class ActiveUserField(forms.CharField):
    """A user name, cleaned to the active user it names (any case), or None when left empty."""

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=150, **kwargs)

    def clean(self, value):
        username = super().clean(value)  # stripped by CharField
        if not username:
            return None
        user = get_user_model().objects.filter(username__iexact=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"No active user named {username!r}.")
        return user


class RoleForm(PortalForm):
    name = forms.CharField(max_length=150)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    permissions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"required": "Choose at least one permission."},
    )
    require_two_factor = forms.BooleanField(
        required=False,
        label="Requires two-factor sign-in",
        help_text="Holders of this role must sign in with an authenticator app code as well as their password.",
    )

    def __init__(self, *args, builtin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # Read at each form: later sections add their permissions to the catalogue when their apps load.
        self.fields["permissions"].choices = [(entry.permission, entry.label) for entry in catalogue()]
        if builtin:
            # Built-in roles keep their name and permissions (the page shows them read-only); only the
            # second-factor rule is the admin's to set.
            for name in ("name", "description", "permissions"):
                del self.fields[name]

    @property
    def chosen_permissions(self) -> set[str]:
        return set(self["permissions"].value() or ()) if "permissions" in self.fields else set()


class ScopeForm(PortalForm):
    scope = forms.ChoiceField(
        choices=SCOPE_CHOICES,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial=ALL_DATA,
        label="Data scope",
    )
    device_groups = forms.ModelMultipleChoiceField(
        queryset=DeviceGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == SOME_DEVICE_GROUPS and not cleaned.get("device_groups"):
            self.add_error("device_groups", "Choose at least one device group, or all data.")
        return cleaned

    @property
    def scope_kwargs(self) -> dict:
        """The scope as the assignment services take it."""
        return {
            "all_data": self.cleaned_data["scope"] == ALL_DATA,
            "device_groups": self.cleaned_data["device_groups"],
        }


class AssignmentForm(ScopeForm):
    principal = forms.ChoiceField(
        choices=[("user", "A user"), ("group", "A group")],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial="user",
        label="Assign to",
    )
    user = ActiveUserField(label="User name")
    group = forms.ModelChoiceField(
        queryset=groups_assignable(),
        required=False,
        empty_label="Choose a group",
        help_text="Groups of people; roles themselves are not offered.",
    )

    field_order = ["principal", "user", "group", "scope", "device_groups"]

    def clean(self):
        cleaned = super().clean()
        principal = cleaned.get("principal")
        if principal == "user" and not cleaned.get("user") and "user" not in self.errors:
            self.add_error("user", "Enter the user name of the person who gets the role.")
        if principal == "group" and not cleaned.get("group") and "group" not in self.errors:
            self.add_error("group", "Choose the group that gets the role.")
        return cleaned

    @property
    def principal_kwargs(self) -> dict:
        if self.cleaned_data["principal"] == "user":
            return {"user": self.cleaned_data["user"]}
        return {"group": self.cleaned_data["group"]}


class DeviceGroupForm(PortalForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    rank = forms.IntegerField(
        min_value=0, max_value=2_147_483_647, initial=0, help_text="Lower ranks are listed (and matched) first."
    )
    device_name_pattern = forms.CharField(
        required=False,
        max_length=200,
        label="Device name pattern",
        help_text="Shell-style, any case: * any characters, ? one character, [a-c] one of a set. Matched against "
        "device names and keys, e.g. ws-lon-*. Leave empty to choose devices by hand.",
    )
    apply_pattern = forms.BooleanField(
        required=False, initial=True, label="Move the devices that match the pattern into this group now"
    )


class DevicesForm(forms.Form):
    devices = forms.ModelMultipleChoiceField(
        queryset=devices_to_group(),
        error_messages={"required": "Tick at least one device."},
    )


class ApiTokenForm(PortalForm):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'SIEM forwarder'.")
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=TOKEN_MAX_LIFETIME_DAYS,
        initial=90,
        label="Expires in (days)",
        help_text=f"From 1 to {TOKEN_MAX_LIFETIME_DAYS} days.",
    )
    user = ActiveUserField(label="For user", help_text="Leave empty to create the token for yourself.")

    def __init__(self, *args, for_others: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not for_others:
            del self.fields["user"]
