"""
The reads of the Graph-compatible API: the scoped selectors (incidents.selectors) with what the Graph
representations read prefetched, so that a page costs the same queries however many rows it holds.

An incident in scope can hold alerts that are not: its expanded alerts come through `alerts_for` too. Comments and
evidence are read as the rows of an incident or alert already in scope (as the incident page reads them), rather
than through `comments_for`, whose test of every comment against the whole scope would cost a page of 50 rows a
scan of every incident and alert of the tenant.
"""

from django.db.models import Prefetch, QuerySet

from incidents.models import Alert, Comment, Incident
from incidents.selectors import alerts_for, evidence_visible_to, incidents_for
from incidents.selectors.seen import with_seen_rollups

__all__ = ("graph_alert_comments", "graph_alerts", "graph_incident_comments", "graph_incidents")


def _oldest_first() -> QuerySet[Comment]:
    return Comment.objects.order_by("created_at", "id")


# Related rows are prefetched into plain lists (to_attr): Django would otherwise build a queryset per row to hold
# them, which for a page of 50 incidents with their alerts, evidence and comments is thousands of querysets and most
# of the page's time.
def graph_alerts(user) -> QuerySet[Alert]:
    """Alerts in scope, each with `graph_evidence` (as the user may see it) and `graph_comments` (oldest first)."""
    # The original payload is the heaviest column and the representation does not read it (evidence keeps its own).
    return (
        alerts_for(user)
        .defer("payload")
        .prefetch_related(
            Prefetch("evidence", queryset=evidence_visible_to(user).order_by("id"), to_attr="graph_evidence"),
            Prefetch("comments", queryset=_oldest_first(), to_attr="graph_comments"),
        )
    )


def graph_incidents(user, *, with_alerts: bool = False) -> QuerySet[Incident]:
    """
    Incidents in scope, each with `graph_comments` (oldest first) and, `with_alerts`, `graph_alerts`; annotated with
    what the user sees of them (`with_seen_rollups`), which `$filter` and `$orderby` read for a scoped reader.
    """
    prefetches = [Prefetch("comments", queryset=_oldest_first(), to_attr="graph_comments")]
    if with_alerts:
        alerts = graph_alerts(user).order_by("created_at", "id")
        prefetches.append(Prefetch("alerts", queryset=alerts, to_attr="graph_alerts"))
    return with_seen_rollups(user, incidents_for(user)).prefetch_related(*prefetches)


def graph_incident_comments(user, incident_id: int) -> QuerySet[Comment]:
    """The comments of the incident, oldest first; none when it is not in the user's scope."""
    return _oldest_first().filter(incident__in=incidents_for(user).filter(pk=incident_id))


def graph_alert_comments(user, alert_id: int) -> QuerySet[Comment]:
    """The comments of the alert, oldest first; none when it is not in the user's scope."""
    return _oldest_first().filter(alert__in=alerts_for(user).filter(pk=alert_id))
