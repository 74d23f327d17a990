"""Roles: the list, a role's page (permissions, holders, assign controls, activity), create, edit and delete."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from permissions import selectors, services
from permissions.forms import AssignmentForm, RoleForm
from permissions.models import Role
from permissions.views.common import add_service_error, delete_page, manage_required, page_of
from portal.catalogue import catalogue_by_category
from portal.htmx import htmx_partial
from portal.selectors import activity_for

__all__ = ("role_create", "role_delete", "role_detail", "role_edit", "role_list", "role_page")

ASSIGNMENTS_PAGE_SIZE = 25
ACTIVITY_SHOWN = 20


@require_GET
@manage_required
def role_list(request):
    roles = list(selectors.roles_with_holders())
    return render(request, "permissions/roles/list.html", {"roles": roles, "tab": "roles"})


def role_page(request, role: Role, *, assign_form=None, status=200):
    """A role's page; also the answer to an assignment form with errors, shown where it was filled in."""
    users = selectors.users_found(request.GET.get("user", ""))
    if htmx_partial(request, "user-options"):
        # The user picker's suggestions as the person types.
        return render(request, "permissions/partials/user_options.html", {"users": users})
    assignments = page_of(request, selectors.role_assignments(role), ASSIGNMENTS_PAGE_SIZE)
    context = {
        "tab": "roles",
        "role": role,
        "permissions": selectors.role_permissions(role),
        "assignments": assignments,
        "assign_form": assign_form or AssignmentForm(),
        "users": users,
        "groups": list(selectors.groups_assignable()),
        "activity": list(activity_for(role)[:ACTIVITY_SHOWN]),
    }
    return render(request, "permissions/roles/detail.html", context, status=status)


@require_GET
@manage_required
def role_detail(request, pk: int):
    return role_page(request, get_object_or_404(Role.objects.select_related("group"), pk=pk))


def _form_page(request, form, *, role=None, status=200):
    context = {
        "tab": "roles",
        "form": form,
        "role": role,
        "categories": catalogue_by_category(),
        "permissions": selectors.role_permissions(role) if role is not None and role.is_builtin else None,
    }
    return render(request, "permissions/roles/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manage_required
def role_create(request):
    if request.method == "GET":
        return _form_page(request, RoleForm())
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            role = services.role_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Created the role {role.name}. Assign it to people below.")
            return redirect("permissions:role", pk=role.pk)
    return _form_page(request, form, status=422)


@require_http_methods(["GET", "POST"])
@manage_required
def role_edit(request, pk: int):
    role = get_object_or_404(Role.objects.select_related("group"), pk=pk)
    initial = selectors.role_values(role)
    if request.method == "GET":
        return _form_page(request, RoleForm(initial=initial, builtin=role.is_builtin), role=role)
    form = RoleForm(request.POST, initial=initial, builtin=role.is_builtin)
    if form.is_valid():
        # A built-in role's form has only the second-factor box: the rest is passed on unchanged.
        values = {**initial, **form.cleaned_data}
        try:
            role = services.role_update(role=role, actor=request.user, **values)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Saved the role {role.name}.")
            return redirect("permissions:role", pk=role.pk)
    return _form_page(request, form, role=role, status=422)


@require_http_methods(["GET", "POST"])
@manage_required
def role_delete(request, pk: int):
    role = get_object_or_404(selectors.roles_with_holders(), pk=pk)
    return delete_page(
        request,
        "permissions/roles/delete.html",
        {"tab": "roles", "role": role},
        delete=lambda: services.role_delete(role=role, actor=request.user),
        done=f"Deleted the role {role.name}; its holders lost what it gave them.",
        done_url="permissions:roles",
    )
