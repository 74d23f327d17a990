"""
The alert queue and the alert page.

The queue keeps every filter, the sort and the page in the URL: htmx swaps the results region (and pushes the URL),
and the same URL serves the whole page, so a view can be bookmarked, shared and used without JavaScript. Every
change goes through the services (`alert_update`, `comment_add`, `alert_move`), one alert at a time, so the domain
rules and the activity log apply exactly as over the API. A form with errors answers 422 with the form re-rendered.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.alert_rows import alert_rows
from incidents.attack import techniques
from incidents.choices import (
    AlertStatus,
    Classification,
    DetectionSource,
    Determination,
    ServiceSource,
    Severity,
)
from incidents.filters import FILTER_MARKER, TIME_RANGES
from incidents.forms import AlertManageForm, AlertMoveForm
from incidents.models import COMMENT_MAX_LENGTH, Alert, Incident
from incidents.naming import KILL_CHAIN, category_label
from incidents.selectors import BeyondScope, OutOfScope, alert_pages, alerts_for
from incidents.services.incidents import (
    SETTABLE_ALERT_STATUSES,
    alert_update,
    bulk_apply,
    comment_add,
    determinations_offered,
)
from incidents.services.merge import alert_move
from incidents.views.bulk import selected_ids, shared_values
from portal.catalogue import MANAGE_INCIDENTS, VIEW_SECURITY_DATA
from portal.errors import validation_messages
from portal.htmx import htmx_partial
from portal.pagination import BoundedPaginator
from portal.selectors import activity_for

__all__ = ("alert_bulk", "alert_comment", "alert_detail", "alert_manage", "alert_move_view", "alert_queue")

PAGE_SIZE = 50
RESULTS_ID = "alert-results"
view_required = permission_required(VIEW_SECURITY_DATA, raise_exception=True)
change_required = permission_required(MANAGE_INCIDENTS, raise_exception=True)

# Statuses a person sets (Graph's "unknown" is only ever the source's).
SETTABLE_STATUSES = [(status.value, status.label) for status in SETTABLE_ALERT_STATUSES]
# The queue's default order and its reverse, offered beside the count (the other sorts are on column headers).
CREATED_SORTS = [("-created", "Newest first"), ("created", "Oldest first")]
RANGE_LABELS = {
    "1d": "Last day",
    "3d": "Last 3 days",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "6m": "Last 6 months",
}
FILTER_LABELS = {
    "q": "Search",
    "status": "Status",
    "severity": "Severity",
    "service_source": "Service source",
    "detection_source": "Detection source",
    "classification": "Classification",
    "determination": "Determination",
    "category": "Category",
    "assigned": "Assigned to",
    "device_group": "Device group",
    "range": "Time range",
    "since": "From",
    "until": "To",
}


def _determination_options(request):
    """The <option>s of a determination list for the classification chosen (htmx, on the classification's change)."""
    classification = request.GET.get("classification", "")
    if classification not in Classification.values:
        classification = Classification.UNKNOWN
    current = request.GET.get("determination")
    return render(
        request,
        "incidents/alerts/partials/determination_options.html",
        {"determinations": determinations_offered(classification, current), "selected": current},
    )


def _add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError on the form: by field where the form has that field, else for the whole form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, field_errors in error.message_dict.items():
        form.add_error(name if name in form.fields else None, field_errors)


# --- The queue ------------------------------------------------------------------------------------------------


@require_GET
@view_required
def alert_queue(request):
    if request.GET.get("part") == "determinations":
        return _determination_options(request)
    context = _queue_context(request, request.GET)
    if htmx_partial(request, RESULTS_ID):
        return render(request, "incidents/alerts/partials/results.html", {**context, "oob": True})
    return render(request, "incidents/alerts/queue.html", context)


def _queue_context(request, params, **extra) -> dict:
    queue = alert_pages.alert_queue(request.user, params)
    paginator = BoundedPaginator(queue.rows, PAGE_SIZE, count_short_first_page=True)
    page = paginator.get_page(params.get("page"))
    rows = alert_pages.with_impacted_assets(request.user, list(page.object_list))
    for alert in rows:
        alert.category_text = category_label(alert.category) if alert.category else ""
    form = queue.filterset.form
    can_change = request.user.has_perm(MANAGE_INCIDENTS)
    visible_incidents = alert_pages.visible_incident_ids(request.user, [alert.incident_id for alert in rows])
    return {
        "row_html": alert_rows(rows, can_change=can_change, visible_incidents=visible_incidents),
        "queue": queue,
        "form": form,
        "page": page,
        "rows": rows,
        "sort": queue.sort,
        "filter_marker": FILTER_MARKER,
        "filter_errors": _filter_errors(form),
        "active_filters": _active_filters(form) if form.is_valid() else [],
        "checks": _filter_checks(form),
        "range_choice": queue.range_choice,
        "range_labels": RANGE_LABELS,
        "categories": [(value, category_label(value)) for value in KILL_CHAIN],
        "can_change": can_change,
        "created_sorts": CREATED_SORTS,
        "bulk_statuses": SETTABLE_STATUSES,
        "classifications": Classification.choices,
        "bulk_determinations": determinations_offered(Classification.UNKNOWN),
        **extra,
    }


def _filter_checks(form) -> list[dict]:
    """
    The multiple-choice filters as lists of checkboxes, with what the URL ticks; the device groups are the filter's
    own choices, which the FilterSet scopes to the reader.
    """
    device_groups = form.fields["device_group"].queryset.order_by("rank", "name")
    groups = [
        ("status", [choice for choice in AlertStatus.choices]),
        ("severity", list(reversed(Severity.choices))),
        ("service_source", ServiceSource.choices),
        ("detection_source", DetectionSource.choices),
        ("classification", Classification.choices),
        ("determination", Determination.choices),
        ("device_group", [(str(group.pk), group.name) for group in device_groups]),
    ]
    checks = []
    for name, choices in groups:
        chosen = {str(value) for value in (form[name].value() or [])}
        checks.append(
            {
                "name": name,
                "label": FILTER_LABELS[name],
                "options": [
                    {"value": value, "label": label, "checked": str(value) in chosen} for value, label in choices
                ],
                "count": len(chosen),
            }
        )
    return checks


def _filter_errors(form) -> list[dict]:
    """A bad value in the URL (a hand-edited or stale bookmark) as a message the person can act on."""
    if form.is_valid():
        return []
    return [
        {"label": FILTER_LABELS.get(name, "Filters"), "messages": list(field_errors), "value": form.data.getlist(name)}
        for name, field_errors in form.errors.items()
    ]


def _active_filters(form) -> list[dict]:
    """What the rows are narrowed by, in words, shown above the results."""
    active = []
    for name in FILTER_LABELS:
        value = form.cleaned_data.get(name)
        if value in (None, "", []) or (hasattr(value, "exists") and not value):
            continue
        item = {"name": name, "label": FILTER_LABELS[name], "text": "", "time": None}
        if name in ("since", "until"):
            item["time"] = value
        elif name == "range":
            item["text"] = RANGE_LABELS.get(value) or str(TIME_RANGES.get(value, value))
        elif name == "device_group":
            item["text"] = ", ".join(group.name for group in value)
        elif isinstance(value, list):
            labels = dict(form.fields[name].choices)
            item["text"] = ", ".join(str(labels.get(v, v)) for v in value)
        else:
            item["text"] = str(value)
        active.append(item)
    return active


def _bulk_values(request) -> dict:
    """What the bulk form asks for, as `alert_update` takes it; ValidationError when the request makes no sense."""
    action = request.POST.get("action", "")
    if action != "status":
        return shared_values(request, action, "alerts")
    status = request.POST.get("status", "")
    if status not in dict(SETTABLE_STATUSES):
        raise ValidationError("Choose the status to set.")
    return {"status": status}


@require_POST
@change_required
def alert_bulk(request):
    """
    Apply one change to every selected alert, each through `alert_update` in its own transaction: one alert the
    rules refuse does not undo the others, and each refusal is reported with its reason.
    """
    back = reverse("incidents:alert_queue") + (f"?{request.GET.urlencode()}" if request.GET else "")
    try:
        ids = selected_ids(request, "alert")
        values = _bulk_values(request)
    except ValidationError as error:
        if htmx_partial(request, RESULTS_ID):
            context = _queue_context(request, request.GET, bulk_error=" ".join(error.messages))
            return render(request, "incidents/alerts/partials/results.html", {**context, "oob": True}, status=422)
        messages.error(request, " ".join(error.messages))
        return redirect(back)

    outcome = bulk_apply(ids, lambda pk: alert_update(alert_id=pk, actor=request.user, **values))
    # Titles only for the alerts the rules refused: those are in the person's scope (the others are not found).
    refused = [pk for pk, reason in outcome.failed if reason is not None]
    titles = dict(alerts_for(request.user).filter(pk__in=refused).values_list("pk", "title")) if refused else {}
    failed = [
        {"id": pk, "title": titles.get(pk, ""), "reason": reason or "No such alert, or not one you may change."}
        for pk, reason in outcome.failed
    ]
    updated = len(outcome.updated)
    summary = f"Updated {updated} alert{'' if updated == 1 else 's'}." if updated else ""
    if htmx_partial(request, RESULTS_ID):
        result = {"summary": summary, "failed": failed}
        context = _queue_context(request, request.GET, bulk_result=result)
        return render(request, "incidents/alerts/partials/results.html", {**context, "oob": True})
    if summary:
        messages.success(request, summary)
    for failure in failed:
        messages.error(request, f"Alert {failure['id']} was not changed: {failure['reason']}")
    return redirect(back)


# --- The alert page -------------------------------------------------------------------------------------------


def _alert(user, pk: int, *, action: str = "view") -> Alert:
    alert = alert_pages.alert_for_page(user, pk, action=action)
    if alert is None:
        raise Http404("No such alert.")
    return alert


def _manage_context(user, alert: Alert, form: AlertManageForm | None = None, saved: bool = False) -> dict:
    if form is not None and form.is_bound:
        values = {
            name: form.data.get(name, "") for name in ("status", "assigned_to", "classification", "determination")
        }
        if form.data.get("assign_to_me"):
            values["assigned_to"] = user.get_username()
    else:
        values = {
            "status": alert.status,
            "assigned_to": alert.assigned_to,
            "classification": alert.classification,
            "determination": alert.determination,
        }
    classification = values["classification"]
    if classification not in Classification.values:
        classification = alert.classification
    statuses = list(SETTABLE_STATUSES)
    if alert.status == AlertStatus.UNKNOWN:
        statuses.insert(0, (AlertStatus.UNKNOWN.value, AlertStatus.UNKNOWN.label))
    return {
        "manage": {
            "values": values,
            "errors": form.errors if form is not None else {},
            "non_field_errors": form.non_field_errors() if form is not None else [],
            "statuses": statuses,
            "classifications": Classification.choices,
            "determinations": determinations_offered(classification, values["determination"]),
            "saved": saved,
        }
    }


def _move_context(user, alert: Alert, form: AlertMoveForm | None = None, moved: Incident | None = None) -> dict:
    return {
        "move": {
            "form": form or AlertMoveForm(initial={"destination": "existing"}),
            "destination": (form.data.get("destination") if form is not None else None) or "existing",
            "choices": alert_pages.incident_choices_for_move(user, alert),
            "moved": moved,
        },
        # An alert in scope may sit in an incident that is not (a device moved groups since): then only its number.
        "incident_visible": alert.incident_id in alert_pages.visible_incident_ids(user, [alert.incident_id]),
    }


def _comments_context(alert: Alert, *, error: str = "", text: str = "", added: bool = False) -> dict:
    return {
        "comments": list(alert.comments.all()),
        "comment_error": error,
        "comment_text": text,
        "comment_added": added,
        "comment_max_length": COMMENT_MAX_LENGTH,
    }


def _detail_context(request, alert: Alert, **parts) -> dict:
    user = request.user
    evidence = alert_pages.alert_evidence(user, alert)
    context = {
        "alert": alert,
        "category_label": category_label(alert.category) if alert.category else "",
        "techniques": techniques(alert.mitre_techniques),
        "evidence": evidence,
        "visible_entities": alert_pages.visible_entity_ids(user, evidence),
        "process_tree": alert_pages.process_tree(evidence),
        "history": list(activity_for(alert)[:50]),
        "can_change": alert_pages.may_change_alert(user, alert),
        "similar_url": reverse("incidents:alert_queue") + "?" + _similar_query(alert),
    }
    context.update(parts.get("manage") or _manage_context(user, alert))
    context.update(parts.get("move") or _move_context(user, alert))
    context.update(parts.get("comments") or _comments_context(alert))
    return context


def _similar_query(alert: Alert) -> str:
    query = QueryDict(mutable=True)
    query[FILTER_MARKER] = "1"
    query["q"] = alert.title
    query["range"] = "30d"
    return query.urlencode()


@require_GET
@view_required
def alert_detail(request, pk: int):
    alert = _alert(request.user, pk)
    if request.GET.get("part") == "determinations":
        return _determination_options(request)
    return render(request, "incidents/alerts/detail.html", _detail_context(request, alert))


@require_POST
@change_required
def alert_manage(request, pk: int):
    alert = _alert(request.user, pk, action="change")
    form = AlertManageForm(request.POST)
    if form.is_valid():
        values = form.changes(alert, request.user)
        try:
            if values:
                alert_update(alert_id=alert.pk, actor=request.user, **values)
        except OutOfScope as error:
            raise Http404("No such alert.") from error
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            alert.refresh_from_db()
            if request.htmx:
                manage = _manage_context(request.user, alert, saved=bool(values))
                context = {"alert": alert, "can_change": True, **manage, "oob": True}
                return render(request, "incidents/alerts/partials/manage.html", context)
            messages.success(request, "Alert updated." if values else "Nothing to change.")
            return redirect("incidents:alert_detail", pk=alert.pk)
    manage = _manage_context(request.user, alert, form)
    if request.htmx:
        context = {"alert": alert, "can_change": True, **manage}
        return render(request, "incidents/alerts/partials/manage.html", context, status=422)
    return render(request, "incidents/alerts/detail.html", _detail_context(request, alert, manage=manage), status=422)


@require_POST
@change_required
def alert_comment(request, pk: int):
    alert = _alert(request.user, pk, action="change")
    text = request.POST.get("text", "")
    try:
        comment_add(actor=request.user, text=text, alert_id=alert.pk)
    except OutOfScope as error:
        raise Http404("No such alert.") from error
    except ValidationError as error:
        comments = _comments_context(alert, error=" ".join(validation_messages(error)), text=text)
        if request.htmx:
            context = {"alert": alert, "can_change": True, **comments}
            return render(request, "incidents/alerts/partials/comments.html", context, status=422)
        context = _detail_context(request, alert, comments=comments)
        return render(request, "incidents/alerts/detail.html", context, status=422)
    if request.htmx:
        context = {"alert": alert, "can_change": True, **_comments_context(alert, added=True)}
        return render(request, "incidents/alerts/partials/comments.html", context)
    messages.success(request, "Comment added.")
    return redirect(reverse("incidents:alert_detail", args=[alert.pk]) + "#comments")


@require_POST
@change_required
def alert_move_view(request, pk: int):
    alert = _alert(request.user, pk, action="change")
    form = AlertMoveForm(request.POST)
    if form.is_valid():
        target_id = form.cleaned_data["incident"] if form.cleaned_data["destination"] == "existing" else None
        try:
            moved = alert_move(
                alert_id=alert.pk, actor=request.user, reason=form.cleaned_data["reason"], incident_id=target_id
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        except OutOfScope as error:
            # The service checks both ends in its transaction: the alert gone from the scope is a 404, a target
            # that is missing or out of scope is a wrong value in the form (the same words for both).
            if error.model is Alert:
                raise Http404("No such alert.") from error
            form.add_error("incident", str(error))
        except BeyondScope as error:
            form.add_error("incident", str(error))
        else:
            alert = alert_pages.alert_for_page(request.user, moved.pk)
            if request.htmx:
                context = {
                    "alert": alert,
                    "can_change": True,
                    **_move_context(request.user, alert, moved=alert.incident),
                }
                return render(request, "incidents/alerts/partials/incident.html", context)
            messages.success(request, f"Alert moved to incident {alert.incident_id}.")
            return redirect("incidents:alert_detail", pk=alert.pk)
    move = _move_context(request.user, alert, form)
    if request.htmx:
        context = {"alert": alert, "can_change": True, **move}
        return render(request, "incidents/alerts/partials/incident.html", context, status=422)
    return render(request, "incidents/alerts/detail.html", _detail_context(request, alert, move=move), status=422)
