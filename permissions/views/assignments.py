"""Assigning a role to a user or a group over a data scope, changing that scope, and taking the role away."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from permissions import services
from permissions.forms import ALL_DATA, SOME_DEVICE_GROUPS, AssignmentForm, ScopeForm
from permissions.models import Role, RoleAssignment
from permissions.views.common import add_service_error, manage_required
from permissions.views.roles import role_page
from portal.errors import validation_messages

__all__ = ("assignment_create", "assignment_delete", "assignment_edit")


def _saved(request, form, save):
    """
    Run `save()` (an assignment service); on success say what the holder now holds and go back to the role. On a
    refusal, put it on the form and answer None, for the caller to show the form again.
    """
    try:
        assignment = save()
    except ValidationError as error:
        add_service_error(form, error)
        return None
    if assignment.all_data:
        scope = "all data"
    else:
        scope = ", ".join(group.name for group in assignment.device_groups.all()) or "no device group"
    messages.success(request, f"{assignment.principal_name} now holds {assignment.role.name} over {scope}.")
    return redirect("permissions:role", pk=assignment.role_id)


@require_POST
@manage_required
def assignment_create(request, pk: int):
    role = get_object_or_404(Role.objects.select_related("group"), pk=pk)
    form = AssignmentForm(request.POST)
    if form.is_valid():
        saved = _saved(
            request,
            form,
            lambda: services.assignment_create(
                role=role, actor=request.user, **form.scope_kwargs, **form.principal_kwargs
            ),
        )
        if saved is not None:
            return saved
    return role_page(request, role, assign_form=form, status=422)


def _assignment(pk: int) -> RoleAssignment:
    return get_object_or_404(
        RoleAssignment.objects.select_related("role__group", "user", "group").prefetch_related("device_groups"), pk=pk
    )


@require_http_methods(["GET", "POST"])
@manage_required
def assignment_edit(request, pk: int):
    assignment = _assignment(pk)
    status = 200
    if request.method == "POST":
        form = ScopeForm(request.POST)
        if form.is_valid():
            saved = _saved(
                request,
                form,
                lambda: services.assignment_update(assignment=assignment, actor=request.user, **form.scope_kwargs),
            )
            if saved is not None:
                return saved
        status = 422
    else:
        initial = {
            "scope": ALL_DATA if assignment.all_data else SOME_DEVICE_GROUPS,
            "device_groups": [group.pk for group in assignment.device_groups.all()],
        }
        form = ScopeForm(initial=initial)
    context = {"tab": "roles", "assignment": assignment, "role": assignment.role, "form": form}
    return render(request, "permissions/assignments/edit.html", context, status=status)


@require_POST
@manage_required
def assignment_delete(request, pk: int):
    assignment = _assignment(pk)
    role, principal = assignment.role, assignment.principal_name
    try:
        services.assignment_delete(assignment=assignment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(validation_messages(error)))
    else:
        messages.success(request, f"{principal} no longer holds {role.name}.")
    return redirect("permissions:role", pk=role.pk)
