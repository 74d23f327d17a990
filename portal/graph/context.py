"""
What a Graph representation needs from its request: the service's absolute URLs (the `@odata.context` metadata, the
portal's pages an object links to) and the client's preference for enum members newer than its SDK.
"""

from dataclasses import dataclass
from functools import cached_property

from django.urls import get_script_prefix, reverse

__all__ = ("GraphContext",)

INCLUDE_UNKNOWN_ENUM_MEMBERS = "include-unknown-enum-members"
# A number no URL of the portal contains otherwise, reversed once per route and replaced by each object's id.
PK_PLACEHOLDER = 987654321987


@dataclass(frozen=True)
class GraphContext:
    """What a representation needs from the request: absolute URLs, and the client's enum preference."""

    request: object

    @cached_property
    def service_root(self) -> str:
        """The absolute /v1.0/ this API answers under."""
        return self.request.build_absolute_uri(f"{get_script_prefix()}v1.0/")

    def metadata(self, fragment: str) -> str:
        """An `@odata.context` URL: the service's metadata document and the fragment naming what the body holds."""
        return f"{self.service_root}$metadata#{fragment}"

    @cached_property
    def include_unknown_members(self) -> bool:
        preferences = self.request.headers.get("Prefer", "")
        return any(p.strip().lower() == INCLUDE_UNKNOWN_ENUM_MEMBERS for p in preferences.split(","))

    @cached_property
    def origin(self) -> str:
        """Scheme and host of the request (http://vigil.corp.example), to make the portal's paths absolute."""
        return self.request.build_absolute_uri("/").removesuffix("/")

    @cached_property
    def _page_urls(self) -> dict[str, tuple[str, str]]:
        return {}

    def page_url(self, route: str, pk: int) -> str:
        """The absolute URL of a portal page about one object (one reverse() per route and request, not per row)."""
        if route not in self._page_urls:
            url = self.origin + reverse(route, args=[PK_PLACEHOLDER])
            head, _, tail = url.rpartition(str(PK_PLACEHOLDER))
            self._page_urls[route] = (head, tail)
        head, tail = self._page_urls[route]
        return f"{head}{pk}{tail}"
