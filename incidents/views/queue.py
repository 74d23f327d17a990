"""
The incident queue: filters, sort and page live in the URL; htmx swaps the results without a full reload, and the
same URL serves the whole page. Bulk actions and merges go through the services, one incident at a time, so every
rule and every activity-log entry applies as on the incident page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from incidents.choices import Classification, Determination, IncidentStatus
from incidents.filters import FILTER_MARKER
from incidents.incident_selectors import incident_queue, queue_timeline
from incidents.models import Incident
from incidents.queue_columns import COLUMNS, PREFERENCE_KEY, columns_from, reorder, rows_of
from incidents.selectors import OutOfScope, incidents_for
from incidents.services.incidents import determinations_offered, incident_update
from incidents.services.merge import MAX_MANUAL_MERGE, incidents_merge
from permissions.selectors import device_groups_for
from portal.errors import validation_messages
from portal.pagination import BoundedPaginator
from portal.selectors import preference_get
from portal.services import preference_set

__all__ = ("incident_bulk", "incident_columns", "incident_merge", "incident_queue_view", "incident_timeline")

PAGE_SIZE = 50
COUNT_CAP = 10_000  # past this the queue says "10,000+" (see BoundedPaginator)
view_required = permission_required("incidents.view_security_data", raise_exception=True)
change_required = permission_required("incidents.manage_incidents", raise_exception=True)


def _results_only(request) -> bool:
    return bool(request.htmx) and request.htmx.target == "incident-results"


@require_GET
@view_required
def incident_queue_view(request):
    filterset, sort, rows = incident_queue(request.user, request.GET)
    paginator = BoundedPaginator(rows, PAGE_SIZE, count_cap=COUNT_CAP, count_short_first_page=True)
    page = paginator.get_page(request.GET.get("page"))
    columns = columns_from(preference_get(request.user, PREFERENCE_KEY))
    context = {
        "rows": rows_of(page.object_list, columns),
        "filterset": filterset,
        "form": filterset.form,
        "page": page,
        "sort": sort,
        "columns": columns,
        "all_columns": COLUMNS.values(),
        "filter_marker": FILTER_MARKER,
        "statuses": [(IncidentStatus.ACTIVE, "New"), (IncidentStatus.IN_PROGRESS, "In progress")],
        "classifications": Classification.choices,
        "determinations": _determination_choices(),
        "max_merge": MAX_MANUAL_MERGE,
        "can_change": request.user.has_perm("incidents.manage_incidents"),
        "next": request.get_full_path(),
    }
    if _results_only(request):
        return render(request, "incidents/partials/queue_results.html", context)
    context["device_group_choices"] = list(
        device_groups_for(request.user).order_by("rank", "name").values_list("pk", "name")
    )
    return render(request, "incidents/queue.html", context)


def _determination_choices():
    return [
        (classification, determinations_offered(classification))
        for classification in Classification
        if classification != Classification.UNKNOWN
    ]


def _back(request):
    target = request.POST.get("next") or reverse("incidents:queue")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("incidents:queue")
    return target


def _redirect(request, url):
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _selected(request) -> list[int]:
    ids = []
    for value in request.POST.getlist("incident"):
        if value.isdigit():
            ids.append(int(value))
    return list(dict.fromkeys(ids))


BULK_ACTIONS = {
    "assign_me": lambda request: {"assigned_to": request.user.get_username()},
    "unassign": lambda request: {"assigned_to": ""},
    "assign": lambda request: {"assigned_to": request.POST.get("assigned_to", "").strip()},
    "status": lambda request: {
        "status": request.POST.get("status", ""),
        **(
            {"resolving_comment": request.POST.get("resolving_comment", "")}
            if request.POST.get("status") == IncidentStatus.RESOLVED
            else {}
        ),
    },
    "classify": lambda request: {
        "classification": request.POST.get("classification", ""),
        "determination": request.POST.get("determination") or Determination.UNKNOWN,
    },
}


@require_POST
@change_required
def incident_bulk(request):
    """
    Apply one change to every selected incident; each is its own transaction, and failures are listed. Incidents
    outside the person's scope are reported as not found, exactly like ids that do not exist.
    """
    action = request.POST.get("action", "")
    ids = _selected(request)
    if not ids:
        messages.error(request, "Select at least one incident first.")
        return _redirect(request, _back(request))
    if action not in BULK_ACTIONS and action not in ("tag_add", "tag_remove"):
        messages.error(request, "Choose what to do with the selected incidents.")
        return _redirect(request, _back(request))
    incidents = {i.pk: i for i in incidents_for(request.user, action="change").filter(pk__in=ids)}
    done, failed = 0, []
    for incident_id in ids:
        incident = incidents.get(incident_id)
        if incident is None:
            failed.append(f"#{incident_id}: not found")
            continue
        try:
            incident_update(incident_id=incident_id, actor=request.user, **_bulk_values(request, action, incident))
            done += 1
        except OutOfScope:
            failed.append(f"#{incident_id}: not found")
        except ValidationError as error:
            failed.append(f"#{incident_id}: {' '.join(validation_messages(error))}")
    if done:
        messages.success(request, f"Updated {done} incident{'s' if done != 1 else ''}.")
    if failed:
        messages.error(request, "Not updated: " + "; ".join(failed))
    return _redirect(request, _back(request))


def _bulk_values(request, action: str, incident: Incident) -> dict:
    if action in ("tag_add", "tag_remove"):
        tag = request.POST.get("tag", "").strip()
        if not tag:
            raise ValidationError("Give the tag to add or remove.")
        tags = [t for t in incident.custom_tags if t != tag]
        return {"custom_tags": [*tags, tag] if action == "tag_add" else tags}
    return BULK_ACTIONS[action](request)


@require_POST
@change_required
def incident_merge(request):
    """Merge the selected incidents (up to five) into the oldest of them, and go to it."""
    ids = sorted(_selected(request))
    visible = set(incidents_for(request.user, action="change").filter(pk__in=ids).values_list("pk", flat=True))
    if len(ids) < 2 or set(ids) - visible:
        messages.error(request, "Select two to five incidents you may change to merge them.")
        return _redirect(request, _back(request))
    try:
        target = incidents_merge(
            target_id=ids[0], source_ids=ids[1:], actor=request.user, reason=request.POST.get("reason", "")
        )
    except OutOfScope:
        messages.error(request, "Select two to five incidents you may change to merge them.")
        return _redirect(request, _back(request))
    except ValidationError as error:
        messages.error(request, " ".join(validation_messages(error)))
        return _redirect(request, _back(request))
    messages.success(request, f"Merged {len(ids) - 1} incident{'s' if len(ids) > 2 else ''} into this one.")
    return _redirect(request, reverse("incidents:detail", args=[target.pk]))


@require_GET
@view_required
def incident_timeline(request):
    """The queue's last 24 hours, loaded after the table so that the table never waits for the chart."""
    return render(request, "incidents/partials/timeline.html", {"timeline": queue_timeline(request.user)})


@require_POST
@view_required
def incident_columns(request):
    """Show, hide or move the queue's columns; the choice is remembered for this person."""
    current = [column.key for column in columns_from(preference_get(request.user, PREFERENCE_KEY))]
    move = request.POST.get("move", "")
    if ":" in move:
        key, direction = move.split(":", 1)
        chosen = reorder(current, key, direction)
    else:
        shown = set(request.POST.getlist("column"))
        chosen = [key for key in current if key in shown] + [
            key for key in COLUMNS if key in shown and key not in current
        ]
    preference_set(user=request.user, key=PREFERENCE_KEY, value=[key for key in chosen if key in COLUMNS])
    return _redirect(request, _back(request))
