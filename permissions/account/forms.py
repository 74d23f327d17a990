from django import forms

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
        digits = "".join(self.cleaned_data["code"].split())
        if not digits.isdigit() or len(digits) not in (6, 8):
            raise forms.ValidationError("Enter the 6-digit code from your authenticator app.")
        return digits
