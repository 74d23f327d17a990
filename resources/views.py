"""
More resources: the related-portals directory.

One URL serves the full page or, for htmx, the list partial. Managers edit in place: every change answers with the
re-rendered list, and a form with errors answers 422 with the form and its messages. Without JavaScript the same
forms post and redirect back.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.catalogue import MANAGE_RESOURCES
from portal.htmx import htmx_partial
from resources import services
from resources.forms import ResourceLinkForm
from resources.models import ResourceLink
from resources.selectors import resource_links_for, user_can_manage_resources

__all__ = ("resource_add", "resource_delete", "resource_edit", "resource_list", "resource_move", "resource_visibility")

manage_required = permission_required(MANAGE_RESOURCES, raise_exception=True)


def _list_context(request, *, add_form=None):
    return {
        "links": resource_links_for(request.user),
        "can_manage": user_can_manage_resources(request.user),
        "add_form": add_form or ResourceLinkForm(),
    }


def _list_response(request, *, add_form=None, status=200):
    template = "resources/partials/list.html" if htmx_partial(request) else "resources/list.html"
    return render(request, template, _list_context(request, add_form=add_form), status=status)


def _after_change(request, message):
    if htmx_partial(request):
        return _list_response(request)
    messages.success(request, message)
    return redirect("resources:list")


@require_GET
def resource_list(request):
    return _list_response(request)


@require_POST
@manage_required
def resource_add(request):
    form = ResourceLinkForm(request.POST)
    if form.is_valid():
        try:
            link = services.resource_link_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _after_change(request, f"Added {link.name}.")
    return _list_response(request, add_form=form, status=422)


@require_http_methods(["GET", "POST"])
@manage_required
def resource_edit(request, pk):
    link = get_object_or_404(ResourceLink, pk=pk)
    if request.method == "GET":
        if request.GET.get("cancel") and htmx_partial(request):
            order = list(resource_links_for(request.user).values_list("pk", flat=True))
            context = {"link": link, "can_manage": True, "is_first": order[0] == pk, "is_last": order[-1] == pk}
            return render(request, "resources/partials/row.html", context)
        template = "resources/partials/edit_row.html" if htmx_partial(request) else "resources/edit.html"
        return render(request, template, {"link": link, "form": ResourceLinkForm(instance=link)})
    form = ResourceLinkForm(request.POST, instance=ResourceLink.objects.get(pk=pk))
    if form.is_valid():
        try:
            services.resource_link_update(actor=request.user, link=link, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _after_change(request, f"Saved {form.cleaned_data['name']}.")
    if not htmx_partial(request):
        return render(request, "resources/edit.html", {"link": link, "form": form}, status=422)
    response = render(request, "resources/partials/edit_row.html", {"link": link, "form": form}, status=422)
    # The edit form normally replaces the whole list; with errors it replaces only its own row.
    response["HX-Retarget"] = f"#resource-{link.pk}"
    response["HX-Reswap"] = "outerHTML"
    return response


@require_POST
@manage_required
def resource_move(request, pk):
    link = get_object_or_404(ResourceLink, pk=pk)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest("direction must be 'up' or 'down'.")
    services.resource_link_move(actor=request.user, link=link, offset=-1 if direction == "up" else 1)
    return _after_change(request, f"Moved {link.name} {direction}.")


@require_POST
@manage_required
def resource_visibility(request, pk):
    link = get_object_or_404(ResourceLink, pk=pk)
    hidden = request.POST.get("hidden")
    if hidden not in ("true", "false"):
        return HttpResponseBadRequest("hidden must be 'true' or 'false'.")
    link = services.resource_link_set_hidden(actor=request.user, link=link, hidden=hidden == "true")
    return _after_change(request, f"{link.name} is now {'hidden' if link.is_hidden else 'shown'}.")


@require_POST
@manage_required
def resource_delete(request, pk):
    link = get_object_or_404(ResourceLink, pk=pk)
    services.resource_link_delete(actor=request.user, link=link)
    return _after_change(request, f"Deleted {link.name}.")
