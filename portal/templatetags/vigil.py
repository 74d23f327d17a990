"""Template helpers shared by every section: times, severities and statuses shown the same way everywhere."""

from datetime import UTC

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

SEVERITY_CLASSES = {
    "high": "text-bg-danger",
    "medium": "text-bg-warning",
    "low": "text-bg-info",
    "informational": "text-bg-secondary",
    "unknown": "text-bg-light border",
}


@register.filter
def when(value):
    """
    A time as `<time>`: the page shows it in the reader's own time zone (static/js/portal.js rewrites the text),
    with UTC on hover; without JavaScript the UTC text stays.
    """
    if not value:
        return mark_safe('<span class="text-muted">—</span>')
    utc = timezone.localtime(value, UTC) if timezone.is_aware(value) else value
    text = utc.strftime("%Y-%m-%d %H:%M UTC")
    return format_html('<time datetime="{}" title="{}">{}</time>', utc.isoformat(), text, text)


@register.filter
def severity_badge(value):
    label = str(value or "unknown").capitalize()
    return format_html(
        '<span class="badge {} severity-badge" data-severity="{}">{}</span>',
        SEVERITY_CLASSES.get(value, "text-bg-light border"),
        value or "unknown",
        label,
    )


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one): links that keep the filters."""
    query = context["request"].GET.copy()
    for name, value in changes.items():
        if value is None or value == "":
            query.pop(name, None)
        else:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
