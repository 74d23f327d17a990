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

from incidents.choices import Classification, IncidentStatus
from incidents.filters import FILTER_MARKER
from incidents.queue_columns import COLUMNS, PREFERENCE_KEY, columns_from, reorder, rows_of
from incidents.selectors import BeyondScope, OutOfScope
from incidents.selectors.incident_pages import incident_queue, queue_timeline
from incidents.selectors.seen import incidents_as_seen
from incidents.services.incidents import bulk_apply, determinations_offered, incident_tag, incident_update
from incidents.services.merge import MAX_MANUAL_MERGE, incidents_merge
from incidents.views.bulk import selected_ids, shared_values
from portal.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.errors import validation_messages
from portal.htmx import htmx_partial
from portal.pagination import BoundedPaginator
from portal.selectors import preference_get
from portal.services import preference_set

__all__ = ("incident_bulk", "incident_columns", "incident_merge", "incident_queue_view", "incident_timeline")

PAGE_SIZE = 50
COUNT_CAP = 10_000  # past this the queue says "10,000+" (see BoundedPaginator)
# Too few incidents, or one that is missing or out of scope: the same words, so that none tells which.
MERGE_SELECTION = "Select two to five incidents you may change to merge them."
view_required = permission_required(VIEW_SECURITY_DATA, raise_exception=True)
change_required = permission_required(MANAGE_INCIDENTS, raise_exception=True)


@require_GET
@view_required
def incident_queue_view(request):
    filterset, sort, rows = incident_queue(request.user, request.GET)
    paginator = BoundedPaginator(rows, PAGE_SIZE, count_cap=COUNT_CAP, count_short_first_page=True)
    page = paginator.get_page(request.GET.get("page"))
    columns = columns_from(preference_get(request.user, PREFERENCE_KEY))
    context = {
        "rows": rows_of(incidents_as_seen(request.user, page.object_list), columns),
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
        "can_change": request.user.has_perm(MANAGE_INCIDENTS),
        "next": request.get_full_path(),
    }
    if htmx_partial(request, "incident-results"):
        return render(request, "incidents/partials/queue_results.html", context)
    # The filter's own choices, which the FilterSet scopes to the reader.
    device_groups = filterset.form.fields["device_group"].queryset
    context["device_group_choices"] = list(device_groups.order_by("rank", "name").values_list("pk", "name"))
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


def _bulk_write(request):
    """The service call the bulk form asks for, for one incident id; ValidationError when it makes no sense."""
    action, actor = request.POST.get("action", ""), request.user
    if action in ("tag_add", "tag_remove"):
        tag = request.POST.get("tag", "").strip()
        if not tag:
            raise ValidationError("Give the tag to add or remove.")
        return lambda pk: incident_tag(incident_id=pk, actor=actor, tag=tag, remove=action == "tag_remove")
    if action == "status":
        # Each incident's status rules (a resolving comment, redirected incidents) are the service's.
        values = {"status": request.POST.get("status", "")}
        if values["status"] == IncidentStatus.RESOLVED:
            values["resolving_comment"] = request.POST.get("resolving_comment", "")
    else:
        values = shared_values(request, action, "incidents")
    return lambda pk: incident_update(incident_id=pk, actor=actor, **values)


@require_POST
@change_required
def incident_bulk(request):
    """
    Apply one change to every selected incident; each is its own transaction, and failures are listed. Incidents
    outside the person's scope are reported as not found, exactly like ids that do not exist.
    """
    try:
        ids = selected_ids(request, "incident")
        write = _bulk_write(request)
    except ValidationError as error:
        messages.error(request, " ".join(validation_messages(error)))
        return _redirect(request, _back(request))
    outcome = bulk_apply(ids, write)
    if done := len(outcome.updated):
        messages.success(request, f"Updated {done} incident{'s' if done != 1 else ''}.")
    if outcome.failed:
        failed = "; ".join(f"#{pk}: {reason or 'not found'}" for pk, reason in outcome.failed)
        messages.error(request, f"Not updated: {failed}")
    return _redirect(request, _back(request))


@require_POST
@change_required
def incident_merge(request):
    """Merge the selected incidents (up to five) into the oldest of them, and go to it."""
    try:
        ids = sorted(selected_ids(request, "incident"))
    except ValidationError:
        ids = []
    if len(ids) < 2:
        messages.error(request, MERGE_SELECTION)
        return _redirect(request, _back(request))
    try:
        # The service finds every incident through the person's scope, inside its transaction.
        target = incidents_merge(
            target_id=ids[0], source_ids=ids[1:], actor=request.user, reason=request.POST.get("reason", "")
        )
    except OutOfScope:
        messages.error(request, MERGE_SELECTION)
        return _redirect(request, _back(request))
    except BeyondScope as error:
        messages.error(request, str(error))
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
