from portal.catalogue import MANAGE_RESOURCES
from resources.models import ResourceLink

__all__ = ("resource_links_for", "user_can_manage_resources")


def user_can_manage_resources(user) -> bool:
    return user.has_perm(MANAGE_RESOURCES)


def resource_links_for(user):
    """Everyone signed in sees the directory; hidden entries only appear to those who manage it."""
    links = ResourceLink.objects.order_by("position", "id")
    if not user_can_manage_resources(user):
        links = links.filter(is_hidden=False)
    return links
