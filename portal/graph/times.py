"""Graph's DateTimeOffset: ISO 8601 in UTC with seven fraction digits and a Z (2026-11-20T08:05:54.9906667Z)."""

from datetime import UTC, datetime

__all__ = ("graph_datetime",)


def graph_datetime(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # PostgreSQL keeps microseconds: the seventh digit is always 0, as when Graph's own times are stored here.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
