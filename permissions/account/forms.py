from django import forms

from permissions.account.services import totp_token

__all__ = ("TotpCodeForm",)


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "pattern": r"[0-9 ]*"}
        ),
        help_text="The 6-digit code your authenticator app shows now.",
    )

    def clean_code(self):
        code = self.cleaned_data["code"]
        if totp_token(code) is None:
            raise forms.ValidationError("Enter the 6-digit code from your authenticator app.")
        return code
