"""
The incident page: the attack story, its alerts, assets, evidence, a summary along the ATT&CK tactics and the
activity log, with a manage pane. Tabs load through htmx (and work as plain links); every change goes through
`incident_update`, `comment_add` or the merge services, so the domain rules and the audit trail apply.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.choices import Classification, Determination, IncidentStatus, Severity
from incidents.forms import IncidentManageForm
from incidents.naming import category_label, sort_categories
from incidents.selectors import BeyondScope, OutOfScope, incidents_for
from incidents.selectors.alert_pages import visible_entity_ids
from incidents.selectors.incident_pages import (
    incident_activity,
    incident_alerts,
    incident_entities,
    incident_evidence,
    incident_graph_data,
    incident_rights,
    known_tags,
    similar_incidents,
)
from incidents.selectors.seen import incidents_as_seen, is_partly_visible
from incidents.services.incidents import comment_add, determinations_offered, incident_update
from portal.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.errors import validation_messages
from portal.htmx import htmx_partial
from portal.pagination import BoundedPaginator

__all__ = ("incident_comment", "incident_detail", "incident_graph", "incident_manage", "incident_tags")

TABS = {
    "story": "Attack story",
    "alerts": "Alerts",
    "assets": "Assets",
    "evidence": "Evidence and response",
    "summary": "Summary",
    "activity": "Activity",
}
ACTIVITY_PAGE_SIZE = 100
view_required = permission_required(VIEW_SECURITY_DATA, raise_exception=True)
change_required = permission_required(MANAGE_INCIDENTS, raise_exception=True)


def _incident(user, pk: int, *, action: str = "view"):
    """The incident as `user` sees it (incidents_as_seen): for showing, never for saving."""
    incident = incidents_for(user, action=action).filter(pk=pk).first()
    if incident is None:
        raise Http404("No such incident.")
    return incidents_as_seen(user, [incident])[0]


@require_GET
@view_required
def incident_detail(request, pk: int):
    incident = _incident(request.user, pk)
    if incident.status == IncidentStatus.REDIRECTED:
        return render(request, "incidents/redirected.html", {"incident": incident}, status=200)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "story"
    tab_context = _tab_context(request.user, incident, tab, page=request.GET.get("page"))
    # The manage pane: the right to manage, over a scope holding this incident and all of its alerts; the activity
    # tab's comment form: over a scope holding the incident.
    can_comment, can_change = incident_rights(request.user, incident)
    context = {
        "incident": incident,
        "tab": tab,
        "tabs": TABS,
        "can_change": can_change,
        "can_comment": can_comment,
        "partly_visible": is_partly_visible(incident),
        **tab_context,
    }
    if htmx_partial(request, "incident-tab"):
        return render(request, f"incidents/tabs/{tab}.html", context)
    context.update(_manage_context(request.user, incident, can_change=can_change))
    return render(request, "incidents/detail.html", context)


def _tab_context(user, incident, tab: str, page=None) -> dict:
    if tab == "story":
        graph = incident_graph_data(user, incident)
        return {"alerts": incident_alerts(user, incident), "graph": _graph_layout(graph)}
    if tab == "alerts":
        return {"alerts": incident_alerts(user, incident)}
    if tab == "assets":
        return {"entities_by_kind": _by_kind(incident_entities(user, incident))}
    if tab == "evidence":
        evidence = list(incident_evidence(user, incident))
        return {"evidence": evidence, "visible_entities": visible_entity_ids(user, evidence)}
    if tab == "summary":
        return {
            "tactics": [category_label(c) for c in sort_categories(incident.categories)],
            "similar": similar_incidents(user, incident),
        }
    entries, comments = incident_activity(user, incident)
    return {"entries": BoundedPaginator(entries, ACTIVITY_PAGE_SIZE).get_page(page), "comments": comments}


def _by_kind(entities) -> list[tuple[str, list]]:
    grouped: dict[str, list] = {}
    for entity in entities:
        grouped.setdefault(entity.get_kind_display(), []).append(entity)
    return list(grouped.items())


def _manage_context(user, incident, *, can_change: bool, errors=None, values=None) -> dict:
    return {
        "can_change": can_change,
        "severities": [choice for choice in Severity.choices if choice[0] != Severity.UNKNOWN],
        "statuses": [
            (IncidentStatus.ACTIVE, "New"),
            (IncidentStatus.IN_PROGRESS, "In progress"),
            (IncidentStatus.RESOLVED, "Resolved"),
        ],
        "classifications": Classification.choices,
        # Every determination, each with the classifications it fits; the page shows only those that fit the chosen one.
        "determinations": [
            (
                value,
                label,
                [c for c in Classification if (value, label) in determinations_offered(c, incident.determination)],
            )
            for value, label in Determination.choices
        ],
        "errors": errors or {},
        "values": values or {},
    }


@require_GET
@view_required
def incident_tags(request):
    """The tag field's type-ahead, loaded when the field is first focused so that the page never waits for it."""
    return render(request, "incidents/partials/known_tags.html", {"known_tags": known_tags(request.user)})


def _graph_layout(graph: dict) -> dict:
    """Positions for the attack-story graph: alerts down the left in time order, entities down the right by kind."""
    row = 44
    alerts = [{**alert, "x": 20, "y": 30 + index * row} for index, alert in enumerate(graph["alerts"])]
    entities = sorted(graph["entities"], key=lambda entity: (entity["kind"], entity["name"]))
    entities = [{**entity, "x": 420, "y": 30 + index * row} for index, entity in enumerate(entities)]
    alert_y = {alert["id"]: alert["y"] for alert in alerts}
    entity_y = {entity["id"]: entity["y"] for entity in entities}
    edges = [
        {**edge, "y1": alert_y[edge["alert"]], "y2": entity_y[edge["entity"]]}
        for edge in graph["edges"]
        if edge["alert"] in alert_y and edge["entity"] in entity_y
    ]
    height = 40 + row * max(len(alerts), len(entities), 1)
    return {"alerts": alerts, "entities": entities, "edges": edges, "height": height}


@require_GET
@view_required
def incident_graph(request, pk: int):
    """The attack story as JSON: nodes for alerts and entities, and the edges that tie them together."""
    incident = _incident(request.user, pk)
    data = incident_graph_data(request.user, incident)
    for alert in data["alerts"]:
        alert["url"] = reverse("incidents:alert_detail", args=[alert["id"]])
        alert["first_activity"] = alert["first_activity"].isoformat() if alert["first_activity"] else None
    for entity in data["entities"]:
        entity["url"] = reverse("incidents:entity", args=[entity["id"]])
    return JsonResponse({"incident": incident.pk, **data})


@require_POST
@change_required
def incident_manage(request, pk: int):
    incident = _incident(request.user, pk, action="change")
    values = IncidentManageForm(request.POST).changes(request.user)
    try:
        incident_update(incident_id=incident.pk, actor=request.user, **values)
    except OutOfScope as error:
        raise Http404("No such incident.") from error
    except (BeyondScope, ValidationError) as error:
        errors = _errors_of(error)
        incident = _incident(request.user, pk, action="change")
        can_change = not isinstance(error, BeyondScope)
        context = {
            "incident": incident,
            "partly_visible": is_partly_visible(incident),
            **_manage_context(request.user, incident, can_change=can_change, errors=errors, values=request.POST),
        }
        if request.htmx:
            return render(request, "incidents/partials/manage.html", context, status=422)
        messages.error(request, " ".join(message for field in errors.values() for message in field))
        return redirect("incidents:detail", pk=incident.pk)
    messages.success(request, "Incident updated.")
    return _back_to(request, incident.pk, request.POST.get("tab"))


def _errors_of(error: BeyondScope | ValidationError) -> dict[str, list[str]]:
    if isinstance(error, BeyondScope):
        return {"__all__": [str(error)]}
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _back_to(request, pk: int, tab: str | None) -> HttpResponse:
    url = reverse("incidents:detail", args=[pk]) + (f"?tab={tab}" if tab in TABS else "")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
@change_required
def incident_comment(request, pk: int):
    incident = _incident(request.user, pk, action="change")
    try:
        comment_add(actor=request.user, text=request.POST.get("text", ""), incident_id=incident.pk)
    except OutOfScope as error:
        raise Http404("No such incident.") from error
    except ValidationError as error:
        messages.error(request, " ".join(validation_messages(error)))
    else:
        messages.success(request, "Comment added.")
    return _back_to(request, incident.pk, "activity")
