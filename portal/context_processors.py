from django.urls import reverse

from portal.navigation import sections_for

__all__ = ("navigation",)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    current = request.path
    entries = []
    for section in sections_for(user):
        url = reverse(section.url_name)
        active = current == url or (url != "/" and current.startswith(url))
        entries.append({"section": section, "url": url, "active": active})
    return {"navigation": entries}
