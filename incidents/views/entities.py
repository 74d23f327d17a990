"""
The entity page: what a device, user, mailbox, file, process, address or app is, and every alert and incident it
appears in. The alert list pages through htmx (and as plain links); entities outside the reader's scope answer 404.
"""

import json

from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from incidents.choices import EntityKind, EvidenceVerdict
from incidents.selectors import alert_pages
from incidents.selectors.seen import alerts_with_incidents_as_seen, incidents_as_seen
from portal.catalogue import VIEW_SECURITY_DATA
from portal.htmx import htmx_partial
from portal.pagination import BoundedPaginator

__all__ = ("entity_detail",)

ALERTS_PAGE_SIZE = 25
INCIDENTS_SHOWN = 50
ALERTS_ID = "entity-alerts"


def _attributes(entity) -> list[dict]:
    """The entity's attributes as name/value pairs; nested values (lists, objects) as indented JSON."""
    rows = []
    for name, value in sorted((entity.attributes or {}).items()):
        structured = isinstance(value, dict | list)
        rows.append(
            {
                "name": name,
                "value": json.dumps(value, indent=2, ensure_ascii=False, default=str) if structured else value,
                "structured": structured,
            }
        )
    return rows


@require_GET
@permission_required(VIEW_SECURITY_DATA, raise_exception=True)
def entity_detail(request, pk: int):
    entity = alert_pages.entity_for_page(request.user, pk)
    if entity is None:
        raise Http404("No such entity.")
    alerts_page = BoundedPaginator(alert_pages.entity_alerts(request.user, entity), ALERTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    alerts = alerts_with_incidents_as_seen(request.user, alerts_page.object_list)
    for alert in alerts:
        verdict = alert.entity_verdict
        alert.entity_verdict_label = EvidenceVerdict(verdict).label if verdict in EvidenceVerdict.values else verdict
    context = {
        "entity": entity,
        "alerts_page": alerts_page,
        "alerts": alerts,
        "visible_incidents": alert_pages.visible_incident_ids(request.user, [alert.incident_id for alert in alerts]),
    }
    if htmx_partial(request, ALERTS_ID):
        return render(request, "incidents/entities/partials/alerts.html", context)
    incidents = alert_pages.entity_incidents(request.user, entity)
    context.update(
        {
            "attributes": _attributes(entity),
            "is_device": entity.kind == EntityKind.DEVICE,
            "incidents": incidents_as_seen(request.user, incidents[:INCIDENTS_SHOWN]),
            "incident_count": incidents.count(),
            "incidents_shown": INCIDENTS_SHOWN,
        }
    )
    return render(request, "incidents/entities/detail.html", context)
