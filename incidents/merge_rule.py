"""
The one rule for merging incidents, Defender's, shared by correlation and by people: incidents merge only when their
assignees, classifications and determinations agree or are unset. Pure: it reads the incidents given, nothing else.
"""

from incidents.choices import Classification, Determination

__all__ = ("merge_conflict",)

# (field, the value that means "unset", how a conflict on it reads: "they are ...").
_AGREEING_FIELDS = (
    ("assigned_to", "", "assigned to different people"),
    ("classification", Classification.UNKNOWN, "classified differently"),
    ("determination", Determination.UNKNOWN, "given different determinations"),
)


def merge_conflict(incidents) -> str | None:
    """Why these incidents may not merge ("assigned to different people", ...), or None when they may."""
    for field, unset, conflict in _AGREEING_FIELDS:
        if len({getattr(incident, field) for incident in incidents} - {unset}) > 1:
            return conflict
    return None
