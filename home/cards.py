"""
The Home card registry: what each card shows, whose data it needs, and how it is drawn.

A card is a `Card` registered under its key; the HomeCard row with the same key (created by a data migration) is
what admins grant to roles in the Home cards matrix, and what orders the page. Sections built later (action center,
secure score, threat analytics) register their cards from their AppConfig.ready() with `register_card`, and seed
their HomeCard rows and default grants in a data migration of their own (see portal/migrations/0006_home_cards.py).

A card's `context` takes the signed-in user and returns its template's context; it reads only through scoped
selectors (home.selectors), so every count and list stays inside the user's data scope.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from home import selectors
from incidents.choices import EntityKind, Severity
from incidents.filters import FILTER_MARKER
from portal.catalogue import VIEW_SECURITY_DATA
from portal.models import HomeCard

__all__ = (
    "Card",
    "VisibleCard",
    "card_for",
    "register_card",
    "visible_card",
    "visible_cards",
)


@dataclass(frozen=True)
class Card:
    key: str
    # The name its section's seed migration gives the card's HomeCard row; the page and the Home cards matrix show
    # the row's title and description.
    title: str
    # The template that draws the card's body from `context(user)`.
    template: str
    context: Callable[[Any], dict]
    # A Django permission ("app_label.codename") the user needs to see the card's data, or None.
    permission: str | None = None


@dataclass(frozen=True)
class VisibleCard:
    """A card a person may see: its row (title and place) and its registry entry (its data)."""

    row: HomeCard
    card: Card

    @property
    def key(self) -> str:
        return self.row.key

    @property
    def title(self) -> str:
        return self.row.title


_registry: dict[str, Card] = {}


def register_card(card: Card) -> None:
    _registry[card.key] = card


def card_for(key: str) -> Card | None:
    return _registry.get(key)


def visible_cards(user) -> list[VisibleCard]:
    """
    The Home cards `user` sees, in display order: one of their roles holds `view_homecard` on the card's row, and
    they may see the card's data. A row whose section is not installed (no registry entry) is skipped.
    """
    return _with_data_permission(user, selectors.granted_cards(user))


def visible_card(user, key: str) -> VisibleCard | None:
    found = _with_data_permission(user, selectors.granted_cards(user, key=key))
    return found[0] if found else None


def _with_data_permission(user, rows) -> list[VisibleCard]:
    visible = []
    for row in rows:
        card = _registry.get(row.key)
        if card is None or (card.permission and not user.has_perm(card.permission)):
            continue
        visible.append(VisibleCard(row=row, card=card))
    return visible


# Links into the queues: the filter marker makes the queue apply exactly these filters instead of its defaults, so
# the queue lists what the card counted.


def _queue_url(url_name: str, *params: tuple[str, str]) -> str:
    return f"{reverse(url_name)}?{urlencode([(FILTER_MARKER, '1'), *params])}"


def _statuses(values) -> list[tuple[str, str]]:
    return [("status", str(value)) for value in values]


OPEN_INCIDENTS = _statuses(selectors.OPEN_INCIDENT_STATUSES)
UNRESOLVED_ALERTS = _statuses(selectors.UNRESOLVED_ALERT_STATUSES)
SHOWN_SEVERITIES = (Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL)


def active_incidents_context(user) -> dict:
    counts = selectors.open_incidents_by_severity(user)
    # Unknown severity is rare (a source that sent none): shown only when there is some.
    shown = [*SHOWN_SEVERITIES, *([Severity.UNKNOWN] if counts.get(Severity.UNKNOWN) else [])]
    return {
        "total": sum(counts.values()),
        "total_url": _queue_url("incidents:queue", *OPEN_INCIDENTS),
        "severities": [
            {
                "value": severity.value,
                "label": severity.label,
                "count": counts.get(severity.value, 0),
                "url": _queue_url("incidents:queue", *OPEN_INCIDENTS, ("severity", severity.value)),
            }
            for severity in shown
        ],
    }


def assigned_to_me_context(user) -> dict:
    count, incidents = selectors.assigned_incidents(user)
    return {
        "count": count,
        "incidents": incidents,
        "all_url": _queue_url("incidents:queue", *OPEN_INCIDENTS, ("assigned", "me")),
    }


# The chart's geometry, in SVG user units: seven bars in a 280 by 124 box, bars at most 90 high above the day labels.
CHART_DAY_WIDTH = 40
CHART_BAR_WIDTH = 26
CHART_BASELINE = 108
CHART_BAR_MAX = 90
# Stacked bottom to top; informational and unknown share one segment.
CHART_SEGMENTS = (
    ("high", (Severity.HIGH,)),
    ("medium", (Severity.MEDIUM,)),
    ("low", (Severity.LOW,)),
    ("other", (Severity.INFORMATIONAL, Severity.UNKNOWN)),
)


def alerts_last_7_days_context(user) -> dict:
    start, counts = selectors.alerts_per_day(user, days=7)
    days = []
    for n in range(7):
        day_start = start + timedelta(days=n)
        date = day_start.date()
        by_segment = [
            (name, sum(counts.get((date, severity.value), 0) for severity in severities))
            for name, severities in CHART_SEGMENTS
        ]
        days.append(
            {
                "date": date,
                "total": sum(count for _, count in by_segment),
                "by_segment": by_segment,
                # The day's alerts in the alert queue: from its midnight to the last instant before the next one.
                "url": _queue_url(
                    "incidents:alert_queue",
                    ("since", day_start.isoformat()),
                    ("until", (day_start + timedelta(days=1, microseconds=-1)).isoformat()),
                ),
            }
        )
    peak = max([day["total"] for day in days] + [1])
    for n, day in enumerate(days):
        x = n * CHART_DAY_WIDTH + (CHART_DAY_WIDTH - CHART_BAR_WIDTH) / 2
        top = CHART_BASELINE
        day["segments"] = []
        for name, count in day["by_segment"]:
            if not count:
                continue
            height = round(CHART_BAR_MAX * count / peak, 1)
            top = round(top - height, 1)
            day["segments"].append({"name": name, "count": count, "x": x, "y": top, "height": height})
        day["x"] = x
        day["middle"] = n * CHART_DAY_WIDTH + CHART_DAY_WIDTH / 2
        day["count_y"] = top - 3
    return {
        "days": days,
        "total": sum(day["total"] for day in days),
        "total_url": _queue_url("incidents:alert_queue", ("since", start.isoformat())),
        "bar_width": CHART_BAR_WIDTH,
        "baseline": CHART_BASELINE,
        "width": CHART_DAY_WIDTH * 7,
    }


def _entities_context(user, kind: str) -> dict:
    entities = selectors.entities_at_risk(user, kind)
    return {
        "entities": [
            {
                "entity": entity,
                "url": reverse("incidents:entity", args=[entity.pk]),
                "severity": Severity.values[entity.top_severity_rank],
                "open_alerts": entity.open_alerts,
            }
            for entity in entities
        ],
        "kind": kind,
    }


def devices_at_risk_context(user) -> dict:
    return _entities_context(user, EntityKind.DEVICE)


def users_at_risk_context(user) -> dict:
    return _entities_context(user, EntityKind.USER)


def latest_high_severity_alerts_context(user) -> dict:
    return {
        "alerts": selectors.latest_high_severity_alerts(user),
        "all_url": _queue_url("incidents:alert_queue", *UNRESOLVED_ALERTS, ("severity", Severity.HIGH.value)),
    }


ACTIVITY_PAGES = {"incident": "incidents:detail", "alert": "incidents:alert_detail"}


ACTIVITY_SHOWN = 8


def recent_activity_context(user) -> dict:
    # Correlation writes one entry per alert it links, so the log often repeats itself: consecutive entries by the
    # same actor doing the same thing to the same object show as one line with a count.
    groups: list[dict] = []
    for entry in selectors.recent_security_activity(user, limit=ACTIVITY_SHOWN * 6):
        last = groups[-1] if groups else None
        same = (entry.actor_name, entry.action, entry.target_type_id, entry.target_id)
        if last is not None and last["same"] == same:
            last["times"] += 1
            continue
        if len(groups) == ACTIVITY_SHOWN:
            break
        page = ACTIVITY_PAGES.get(entry.target_type.model)
        groups.append(
            {
                "entry": entry,
                "same": same,
                "times": 1,
                # "incidents.incident.updated" reads "incident updated".
                "what": " ".join(entry.action.split(".")[1:]) or entry.action,
                "url": reverse(page, args=[int(entry.target_id)]) if page and entry.target_id.isdigit() else "",
            }
        )
    return {"entries": groups}


for _card in (
    Card(
        key="active-incidents",
        title="Active incidents",
        template="home/cards/active_incidents.html",
        context=active_incidents_context,
        permission=VIEW_SECURITY_DATA,
    ),
    Card(
        key="assigned-to-me",
        title="Incidents assigned to me",
        template="home/cards/assigned_to_me.html",
        context=assigned_to_me_context,
        permission=VIEW_SECURITY_DATA,
    ),
    Card(
        key="alerts-last-7-days",
        title="Alerts over the last 7 days",
        template="home/cards/alerts_last_7_days.html",
        context=alerts_last_7_days_context,
        permission=VIEW_SECURITY_DATA,
    ),
    Card(
        key="devices-at-risk",
        title="Devices at risk",
        template="home/cards/entities_at_risk.html",
        context=devices_at_risk_context,
        permission=VIEW_SECURITY_DATA,
    ),
    Card(
        key="users-at-risk",
        title="Users at risk",
        template="home/cards/entities_at_risk.html",
        context=users_at_risk_context,
        permission=VIEW_SECURITY_DATA,
    ),
    Card(
        key="latest-high-severity-alerts",
        title="Latest high-severity alerts",
        template="home/cards/latest_high_severity_alerts.html",
        context=latest_high_severity_alerts_context,
        permission=VIEW_SECURITY_DATA,
    ),
    Card(
        key="recent-activity",
        title="Recent activity",
        template="home/cards/recent_activity.html",
        context=recent_activity_context,
        permission=VIEW_SECURITY_DATA,
    ),
):
    register_card(_card)
