"""
Values a Graph client sends (in `$filter`, in a `$skiptoken`, in a request body), checked so that PostgreSQL can
take them: a value it would refuse must answer the client's 400, never reach the database as a 500.
"""

from datetime import UTC, datetime

from portal.graph.errors import BadRequest

__all__ = ("MAX_ID", "literal_moment", "literal_text")

# The largest bigint: a larger id cannot be compared with an id column.
MAX_ID = 2**63 - 1


def literal_text(value: str, what: str) -> str:
    """A text value that PostgreSQL can store and compare; BadRequest otherwise."""
    if "\x00" in value:
        raise BadRequest(f"{what} contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadRequest(f"{what} is not valid text.") from error
    return value


def literal_moment(moment: datetime, what: str) -> datetime:
    """
    A date and time as UTC (naive ones read as UTC). PostgreSQL refuses the UTC offsets beyond ±15:59 that ISO 8601
    (and so odata-query) allows, and Python cannot represent the UTC time of 9999-12-31T23:00:00-02:00 or
    0001-01-01T00:00:00+01:00: both answer BadRequest.
    """
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError as error:
        raise BadRequest(f"{what} is out of range: dates and times go from year 1 to 9999 in UTC.") from error
