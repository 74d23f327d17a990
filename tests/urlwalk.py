"""
Walking every URL pattern of the project (django.urls.get_resolver()), for the tests that must cover them all: the
sign-in requirement (tests/portal/test_login_required.py) and the permission matrix
(tests/permissions/test_permission_matrix.py).
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

__all__ = ("API_PREFIXES", "WalkedURL", "concrete", "walk", "walk_project")

API_PREFIXES = ("/api/", "/v1.0/")
CONVERTER_VALUES = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000001"}
ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
REGEX_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")


@dataclass(frozen=True)
class WalkedURL:
    path: str  # a concrete path the pattern matches (1 for int parameters, x for str ones)
    entry: URLPattern
    # "namespace:name" as reverse() takes it ("incidents:detail", "login"); None for an unnamed pattern.
    name: str | None
    # The namespaces it is under, outermost first ("admin", "incidents", ...).
    namespaces: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """How tables refer to the URL: its name, or its concrete path when it has none."""
        return self.name or self.path


def concrete(pattern) -> str:
    """A path that the pattern matches: 1 for int parameters, x for str ones (and regex groups get 1)."""
    if isinstance(pattern, RoutePattern):
        return ROUTE_PARAMETER.sub(lambda m: CONVERTER_VALUES[m.group("converter") or "str"], str(pattern))
    if isinstance(pattern, RegexPattern):
        return REGEX_GROUP.sub("1", str(pattern).removeprefix("^").removesuffix("$").replace("\\", ""))
    raise TypeError(f"Unknown pattern type {type(pattern)!r}")


def walk(patterns, prefix="/", namespaces=(), *, include_admin=False):
    """Every URLPattern under `patterns`, depth first, as WalkedURLs; the Django admin only when asked."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            # The Django admin keeps its own login page and staff check.
            if entry.app_name == "admin" and not include_admin:
                continue
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from walk(entry.url_patterns, prefix + concrete(entry.pattern), inner, include_admin=include_admin)
        elif isinstance(entry, URLPattern):
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield WalkedURL(prefix + concrete(entry.pattern), entry, name, tuple(namespaces))


def walk_project(*, include_admin=False) -> list[WalkedURL]:
    return list(walk(get_resolver().url_patterns, include_admin=include_admin))
