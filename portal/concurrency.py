"""
Optimistic concurrency for writes through the API: an object's version is its ETag, and a write that names the
version it was based on (HTTP If-Match) is refused when the object changed since, so that two people editing the
same incident cannot silently overwrite each other.
"""

from datetime import datetime

__all__ = ("StaleVersion", "version_matches", "version_of")


class StaleVersion(Exception):
    """The object changed since the version the write was based on; the API answers 412 Precondition Failed."""

    def __init__(self, current: str):
        self.current = current
        super().__init__(
            f"The object changed since you read it (it is now at version {current}); read it again and re-apply "
            "your change."
        )


def version_of(pk, updated_at: datetime) -> str:
    """A strong ETag (quoted) from the object's id and its last-update time, to the microsecond."""
    return f'"{pk}-{int(updated_at.timestamp() * 1_000_000)}"'


def version_matches(if_match: str, current: str) -> bool:
    """Whether an If-Match header value (one or more ETags, or *) names the current version (RFC 9110 13.1.1)."""
    candidates = [tag.strip() for tag in if_match.split(",")]
    # A weak tag (W/"...") never matches in If-Match: a write needs the exact representation.
    return "*" in candidates or current in candidates
