"""How the incident pages name things: asset counts, categories and sources in words, not in Graph's camelCase."""

from django import template

from incidents.choices import DetectionSource, EntityKind, ServiceSource
from incidents.naming import category_label, sort_categories

register = template.Library()

# Kind → (one, many), for "2 devices, 1 mailbox, 3 processes".
ASSET_NOUNS = {
    EntityKind.DEVICE: ("device", "devices"),
    EntityKind.USER: ("user", "users"),
    EntityKind.MAILBOX: ("mailbox", "mailboxes"),
    EntityKind.FILE: ("file", "files"),
    EntityKind.PROCESS: ("process", "processes"),
    EntityKind.IP: ("IP", "IPs"),
    EntityKind.URL: ("URL", "URLs"),
    EntityKind.CLOUD_APPLICATION: ("cloud app", "cloud apps"),
    EntityKind.REGISTRY_KEY: ("registry key", "registry keys"),
    EntityKind.REGISTRY_VALUE: ("registry value", "registry values"),
    "analyzedMessage": ("message", "messages"),
    "mailCluster": ("mail cluster", "mail clusters"),
}
SERVICE_LABELS = dict(ServiceSource.choices)
DETECTION_LABELS = dict(DetectionSource.choices)


@register.filter
def asset_counts(assets: dict | None) -> str:
    """{"device": 2, "process": 3} → "2 devices, 3 processes"."""
    if not assets:
        return "—"
    parts = []
    for kind, count in assets.items():
        one, many = ASSET_NOUNS.get(kind, (kind, f"{kind}s"))
        parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


@register.filter
def categories_text(categories) -> str:
    return ", ".join(category_label(c) for c in sort_categories(categories or [])) or "—"


@register.filter
def service_sources_text(sources) -> str:
    """The products that raised the alerts: "Defender for Endpoint", "Defender for Office 365"."""
    return ", ".join(SERVICE_LABELS.get(source, source) for source in sources or []) or "—"


@register.filter
def detection_sources_text(sources) -> str:
    """The detection technologies: "EDR", "Antivirus", "Custom detection"."""
    return ", ".join(DETECTION_LABELS.get(source, source) for source in sources or []) or "—"
