from django import forms
from django.core.validators import URLValidator

from resources.models import ResourceLink

__all__ = ("ResourceLinkForm",)

http_url = URLValidator(
    schemes=["http", "https"],
    message="Enter a web address that starts with https:// or http:// (other kinds of link are not allowed).",
)


class ResourceLinkForm(forms.ModelForm):
    url = forms.CharField(label="URL", max_length=2048, validators=[http_url])

    class Meta:
        model = ResourceLink
        fields = ["name", "url", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_url(self):
        return self.cleaned_data["url"].strip()
