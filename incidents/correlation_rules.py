"""
Correlation's decisions, apart from its SQL (incidents.services.correlation stores them): which of the incidents
sharing keys with an alert may take it, whether to join one, open a new one or merge several, and the reason each
link records. Pure: they read the incidents and keys given and the correlation settings, nothing else, so they are
tested without a database.
"""

from dataclasses import dataclass

from django.conf import settings

from incidents.choices import IncidentStatus
from incidents.merge_rule import merge_conflict
from incidents.models import Incident

__all__ = (
    "CorrelationKey",
    "decide",
    "entity_count",
    "is_candidate",
    "key_list",
    "may_merge_automatically",
    "window_text",
)


@dataclass(frozen=True)
class CorrelationKey:
    entity_id: int
    kind: str
    key: str
    display_name: str

    def describe(self) -> str:
        label = {"cloudApplication": "app", "ip": "IP", "url": "URL"}.get(self.kind, self.kind)
        return f"{label} {self.display_name if self.kind != 'device' else self.key}"


def is_candidate(incident: Incident, at) -> bool:
    """
    Whether an incident sharing a key with an alert active at `at` may take it: not redirected, active within the
    window of it, and below the alert and entity caps (a full incident makes the next alert open a new one).
    """
    window = settings.CORRELATION_WINDOW
    return (
        incident.status != IncidentStatus.REDIRECTED
        and incident.last_activity >= at - window
        and incident.first_activity <= at + window
        and incident.alerts_total < settings.CORRELATION_MAX_ALERTS_PER_INCIDENT
        and entity_count(incident) < settings.CORRELATION_MAX_ENTITIES_PER_INCIDENT
    )


def window_text() -> str:
    hours = settings.CORRELATION_WINDOW.total_seconds() / 3600
    return f"{hours:g} h"


def key_list(keys: list[CorrelationKey]) -> str:
    described = [key.describe() for key in keys[:4]]
    more = f" and {len(keys) - 4} more" if len(keys) > 4 else ""
    return ", ".join(described[:-1]) + (" and " if len(described) > 1 else "") + described[-1] + more


def entity_count(incident: Incident) -> int:
    return sum(incident.impacted_assets.values()) if incident.impacted_assets else 0


def decide(candidates: list[tuple[Incident, list[CorrelationKey]]]):
    """(target incident or None, incidents to merge into it, the reason)."""
    if not candidates:
        return None, [], ""
    if len(candidates) == 1:
        incident, shared = candidates[0]
        return incident, [], f"shares {key_list(shared)}"
    oldest, oldest_shared = min(candidates, key=lambda c: (c[0].created_at, c[0].pk))
    mergeable = [
        (incident, shared)
        for incident, shared in candidates
        if incident.pk != oldest.pk and may_merge_automatically(oldest, incident)
    ]
    if mergeable:
        total_alerts = oldest.alerts_total + sum(incident.alerts_total for incident, _ in mergeable)
        total_entities = entity_count(oldest) + sum(entity_count(incident) for incident, _ in mergeable)
        if (
            total_alerts < settings.CORRELATION_MAX_ALERTS_PER_INCIDENT
            and total_entities < settings.CORRELATION_MAX_ENTITIES_PER_INCIDENT
        ):
            all_shared = {key for _, shared in [(oldest, oldest_shared), *mergeable] for key in shared}
            return (
                oldest,
                [incident for incident, _ in mergeable],
                f"shares {key_list(sorted(all_shared, key=lambda k: k.entity_id))}",
            )
    # No merge possible: the incident sharing most keys, preferring open ones, then the oldest.
    incident, shared = min(
        candidates,
        key=lambda c: (-len(c[1]), c[0].status == IncidentStatus.RESOLVED, c[0].created_at, c[0].pk),
    )
    return incident, [], f"shares {key_list(shared)}"


def may_merge_automatically(target: Incident, source: Incident) -> bool:
    """The merge rule people follow too (merge_conflict), for open incidents, within the device-group setting."""
    if IncidentStatus.RESOLVED in (target.status, source.status) or merge_conflict([target, source]):
        return False
    return not (
        settings.CORRELATION_MERGE_SAME_DEVICE_GROUP_ONLY
        and set(target.device_group_ids) != set(source.device_group_ids)
    )
