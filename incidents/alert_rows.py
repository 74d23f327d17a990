"""
The alert queue's rows as HTML, built in Python: fifty rows of template tags (three URL reversals, filters and
branches in each) were most of the queue's time. The markup is the one the template had.
"""

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from portal.templatetags.vigil import severity_badge, when

__all__ = ("alert_rows",)


def alert_rows(alerts, *, can_change: bool, visible_incidents: set[int]) -> list[SafeString]:
    """`visible_incidents`: the ids of the rows' incidents the reader may open (alert_pages.visible_incident_ids)."""
    return [_row(alert, can_change, alert.incident_id in visible_incidents) for alert in alerts]


def _row(alert, can_change: bool, can_view_incident: bool) -> SafeString:
    select = (
        format_html(
            '<td class="select-col"><input class="form-check-input" type="checkbox" name="alert" value="{}" '
            'aria-label="Select alert {}: {}"></td>',
            alert.pk,
            alert.pk,
            alert.title,
        )
        if can_change
        else ""
    )
    category = format_html(" · {}", alert.category_text) if alert.category_text else ""
    classification = format_html("{}", alert.get_classification_display())
    if alert.determination != "unknown":
        classification += format_html('<div class="small text-muted">{}</div>', alert.get_determination_display())
    return format_html(
        '<tr data-testid="alert-row" data-alert-id="{pk}">{select}'
        '<td class="alert-title"><a href="{url}">{title}</a><div class="text-muted">{pk}{category}</div></td>'
        "<td>{severity}</td>"
        '<td><span class="text-nowrap">{status}</span><div class="text-muted">{assignee}</div></td>'
        '<td class="col-source">{service}<div class="text-muted">{detection}</div></td>'
        '<td class="alert-incident">{incident}</td>'
        '<td class="alert-assets">{assets}</td>'
        '<td class="col-time">{first}<div class="text-muted">{last}</div></td>'
        "<td>{classification}</td></tr>",
        pk=alert.pk,
        select=select,
        url=reverse("incidents:alert_detail", args=[alert.pk]),
        title=alert.title,
        category=category,
        severity=severity_badge(alert.severity),
        status=alert.get_status_display(),
        assignee=alert.assigned_to or "Unassigned",
        service=alert.get_service_source_display(),
        detection=alert.get_detection_source_display(),
        incident=_incident(alert, can_view_incident),
        assets=_assets(alert),
        first=when(alert.first_activity),
        last=when(alert.last_activity),
        classification=classification,
    )


def _incident(alert, can_view_incident: bool) -> SafeString:
    if not alert.incident_id:
        return mark_safe('<span class="text-muted">Not yet correlated</span>')
    if not can_view_incident:
        # An incident outside the reader's scope: only that there is one, not its name.
        return format_html("#{}", alert.incident_id)
    name = Truncator(alert.incident.display_name).chars(40)
    return format_html(
        '<a href="{}" title="{}">#{} {}</a>',
        reverse("incidents:detail", args=[alert.incident_id]),
        alert.incident.display_name,
        alert.incident_id,
        name,
    )


def _assets(alert) -> SafeString:
    parts = [
        _asset(label, entities) for label, entities in (("Device", alert.devices), ("User", alert.users)) if entities
    ]
    return mark_safe("".join(parts)) if parts else mark_safe('<span class="text-muted">—</span>')  # noqa: S308


def _asset(label: str, entities) -> SafeString:
    first = entities[0]
    more = format_html(' <span class="small text-muted">+{}</span>', len(entities) - 1) if len(entities) > 1 else ""
    return format_html(
        '<div><span class="text-muted small">{}</span> <a href="{}">{}</a>{}</div>',
        label,
        reverse("incidents:entity", args=[first.pk]),
        first.display_name,
        more,
    )
