"""
The left navigation, built from the sections that exist.

Each section app registers its entry in its AppConfig.ready(); a section that is not built yet registers
nothing, so the navigation never shows a page that does not exist.
"""

from dataclasses import dataclass

__all__ = ("Section", "register_section", "sections_for")


@dataclass(frozen=True)
class Section:
    label: str
    url_name: str
    # Sections sort by this number, in the order Defender's navigation uses.
    order: int
    # A Django permission the user needs to see the entry ("app_label.codename"), or None for everyone signed in.
    permission: str | None = None
    icon: str = "circle"


_registry: dict[str, Section] = {}


def register_section(section: Section) -> None:
    _registry[section.url_name] = section


def sections_for(user) -> list[Section]:
    visible = (s for s in _registry.values() if s.permission is None or user.has_perm(s.permission))
    return sorted(visible, key=lambda s: s.order)
