"""Assigning a role to a user or a group over a data scope, changing that scope, and taking the role away."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from incidents.models import DeviceGroup
from permissions import services
from permissions.forms import ALL_DATA, SOME_DEVICE_GROUPS, AssignmentForm, ScopeForm
from permissions.models import Role, RoleAssignment
from permissions.views.common import add_service_error, manage_required
from permissions.views.roles import role_page

__all__ = ("assignment_create", "assignment_delete", "assignment_edit")


def _scope_label(assignment: RoleAssignment) -> str:
    if assignment.all_data:
        return "all data"
    return ", ".join(group.name for group in assignment.device_groups.all()) or "no device group"


@require_POST
@manage_required
def assignment_create(request, pk: int):
    role = get_object_or_404(Role.objects.select_related("group"), pk=pk)
    form = AssignmentForm(request.POST)
    if form.is_valid():
        try:
            assignment = services.assignment_create(
                role=role,
                all_data=form.all_data,
                device_groups=form.cleaned_data["device_groups"],
                actor=request.user,
                **form.principal_kwargs,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"{assignment.principal_name} now holds {role.name} over {_scope_label(assignment)}."
            )
            return redirect("permissions:role", pk=role.pk)
    return role_page(request, role, assign_form=form, status=422)


def _assignment(pk: int) -> RoleAssignment:
    return get_object_or_404(
        RoleAssignment.objects.select_related("role__group", "user", "group").prefetch_related("device_groups"), pk=pk
    )


@require_http_methods(["GET", "POST"])
@manage_required
def assignment_edit(request, pk: int):
    assignment = _assignment(pk)
    context = {"tab": "roles", "assignment": assignment, "role": assignment.role}
    if request.method == "GET":
        initial = {
            "scope": ALL_DATA if assignment.all_data else SOME_DEVICE_GROUPS,
            "device_groups": [group.pk for group in assignment.device_groups.all()],
        }
        context.update({"form": ScopeForm(initial=initial), "device_groups": list(DeviceGroup.objects.all())})
        return render(request, "permissions/assignments/edit.html", context)
    form = ScopeForm(request.POST)
    if form.is_valid():
        try:
            assignment = services.assignment_update(
                assignment=assignment,
                all_data=form.all_data,
                device_groups=form.cleaned_data["device_groups"],
                actor=request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"{assignment.principal_name} now holds {assignment.role.name} over {_scope_label(assignment)}.",
            )
            return redirect("permissions:role", pk=assignment.role_id)
    context.update({"form": form, "device_groups": list(DeviceGroup.objects.all())})
    return render(request, "permissions/assignments/edit.html", context, status=422)


@require_POST
@manage_required
def assignment_delete(request, pk: int):
    assignment = _assignment(pk)
    role, principal = assignment.role, assignment.principal_name
    try:
        services.assignment_delete(assignment=assignment, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{principal} no longer holds {role.name}.")
    return redirect("permissions:role", pk=role.pk)
