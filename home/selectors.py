"""
Reads for the Home page: which cards a person sees, and the data behind each card.

Every read of security data starts from the scoped selectors (`incidents.selectors`): a card never counts or lists
what its reader could not open. Each function runs a fixed number of queries whatever the size of the estate
(tests/portal/test_home.py pins them).
"""

from datetime import UTC, datetime, timedelta

from django.db.models import CharField, Count, Max
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from guardian.models import GroupObjectPermission

from incidents.choices import AlertStatus, Severity
from incidents.models import Alert, Entity, Incident
from incidents.selectors import alerts_for, entities_for, incidents_for
from incidents.selectors.incident_pages import DEFAULT_FILTERS as INCIDENT_QUEUE_DEFAULTS
from incidents.selectors.seen import incidents_as_seen, with_seen_severity
from permissions.selectors import assignments_of
from portal.models import ActivityLogEntry, HomeCard
from portal.scoping import restrict_activity
from portal.selectors import activity_for

__all__ = (
    "OPEN_INCIDENT_STATUSES",
    "UNRESOLVED_ALERT_STATUSES",
    "alerts_per_day",
    "assigned_incidents",
    "entities_at_risk",
    "granted_cards",
    "latest_high_severity_alerts",
    "open_incidents_by_severity",
    "recent_security_activity",
)

# Open work, as the incident queue's default view counts it, so a number on a card matches the queue it links to.
OPEN_INCIDENT_STATUSES = tuple(INCIDENT_QUEUE_DEFAULTS["status"])
# Everything but resolved: an alert nobody closed still puts its entities at risk.
UNRESOLVED_ALERT_STATUSES = (AlertStatus.UNKNOWN, AlertStatus.NEW, AlertStatus.IN_PROGRESS)


def granted_cards(user, *, key: str | None = None):
    """
    The HomeCard rows one of `user`'s roles holds django-guardian `view_homecard` on (every row for a superuser),
    in display order — one query. Roles are reached through role assignments (to the user or to one of their
    groups), not through group membership, so the grants are read for the roles' groups directly instead of through
    guardian's checker, which follows `user.groups`. Whether the user may also see a card's data is the registry's
    question (`home.cards.visible_cards`).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return HomeCard.objects.none()
    rows = HomeCard.objects.order_by("position", "title")
    if key is not None:
        rows = rows.filter(key=key)
    if user.is_superuser:
        return rows
    granted = GroupObjectPermission.objects.filter(
        group__role__assignments__in=assignments_of(user),
        content_type__app_label="portal",
        content_type__model="homecard",
        permission__codename="view_homecard",
    ).values("object_pk")
    # object_pk is text in guardian's generic table: compare as text (the card table has a handful of rows).
    return rows.annotate(pk_text=Cast("pk", CharField())).filter(pk_text__in=granted)


# Card data. Each takes the user and reads only through the scoped selectors.


def open_incidents_by_severity(user) -> dict[str, int]:
    """How many open incidents the user may see, by the severity they see (one query)."""
    counts = (
        with_seen_severity(user, incidents_for(user).filter(status__in=OPEN_INCIDENT_STATUSES))
        .order_by()
        .values_list("seen_severity_rank")
        .annotate(count=Count("id"))
        .values_list("seen_severity_rank", "count")
    )
    return {Severity.values[rank]: count for rank, count in counts if rank is not None}


def assigned_incidents(user, *, limit: int = 5) -> tuple[int, list[Incident]]:
    """(how many open incidents are assigned to the user, the most recently updated of them) — two queries."""
    mine = incidents_for(user).filter(assigned_to=user.get_username(), status__in=OPEN_INCIDENT_STATUSES)
    return mine.count(), incidents_as_seen(user, mine.order_by("-last_update", "-id")[:limit])


def alerts_per_day(user, *, days: int = 7) -> tuple[datetime, dict]:
    """
    (the first midnight, UTC, of the last `days` calendar days including today; {(date, severity): count}) for the
    alerts the user may see, by the alert's creation time (the time the alert queue filters on) — one query.
    """
    today = timezone.now().astimezone(UTC).date()
    start = datetime.combine(today - timedelta(days=days - 1), datetime.min.time(), tzinfo=UTC)
    rows = (
        alerts_for(user)
        .filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values_list("day", "severity")
        .annotate(count=Count("id"))
        .values_list("day", "severity", "count")
    )
    return start, {(day, severity): count for day, severity, count in rows}


def entities_at_risk(user, kind: str, *, limit: int = 5) -> list[Entity]:
    """
    The entities of `kind` the user may see that appear (through evidence) in unresolved alerts the user may see,
    the highest alert severity first, then the most alerts. Each carries `top_severity_rank` and `open_alerts`.
    One query.
    """
    unresolved = alerts_for(user).filter(status__in=UNRESOLVED_ALERT_STATUSES)
    return list(
        entities_for(user)
        .filter(kind=kind, evidence__alert__in=unresolved)
        # Annotating after filtering on the evidence relation reuses its join: only the unresolved alerts count.
        .annotate(top_severity_rank=Max("evidence__alert__severity_rank"), open_alerts=Count("evidence", distinct=True))
        .order_by("-top_severity_rank", "-open_alerts", "display_name", "pk")[:limit]
    )


def latest_high_severity_alerts(user, *, limit: int = 5):
    """The newest unresolved high-severity alerts the user may see — one query."""
    return list(
        alerts_for(user)
        .filter(severity=Severity.HIGH, status__in=UNRESOLVED_ALERT_STATUSES)
        .order_by("-created_at", "-id")[:limit]
    )


def recent_security_activity(user, *, limit: int = 10) -> list[ActivityLogEntry]:
    """
    The newest activity-log entries about incidents and alerts (changes, comments, correlation, merges) — one query.

    Someone whose role covers all data sees every such entry; someone scoped to device groups sees only entries
    about the incidents and alerts in their scope. Changes to roles, resources and settings are not security data:
    they stay in the audit views of their own sections.
    """
    return list(restrict_activity(activity_for(Incident) | activity_for(Alert), user)[:limit])
