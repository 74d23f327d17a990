"""Graph enum values as sources send them: camelCase as Graph defines, PascalCase as older APIs do."""

from django.db import models

__all__ = ("normalize_enum",)


def normalize_enum(value, choices: type[models.TextChoices], *, aliases=None) -> str:
    """The stored value for `value`, or ValueError with the accepted values."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, one of: {', '.join(choices.values)}")
    lookup = _lookup(choices)
    candidate = lookup.get(value.strip().lower())
    if candidate is None and aliases:
        candidate = {alias.lower(): target for alias, target in aliases.items()}.get(value.strip().lower())
    if candidate is None:
        # The start of the value is enough to recognise it; a broken source may send thousands of characters.
        shown = repr(value) if len(value) <= 40 else f"{value[:40]!r}…"
        raise ValueError(f"{shown} is not one of: {', '.join(choices.values)}")
    return str(candidate)


_lookups: dict[type, dict[str, str]] = {}


def _lookup(choices) -> dict[str, str]:
    # Case-insensitive: "inProgress", "InProgress" and "inprogress" are the same value.
    if choices not in _lookups:
        _lookups[choices] = {value.lower(): value for value in choices.values}
    return _lookups[choices]
