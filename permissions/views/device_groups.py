"""
Device groups: the list, create, edit, delete, and which devices belong (by the group's name pattern, or picked by
hand). Moving devices changes who sees their alerts and incidents; the services keep those in step.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import DeviceGroup
from incidents.services import device_groups as services
from permissions import selectors
from permissions.forms import DeviceGroupForm, DevicesForm
from permissions.views.common import add_service_error, delete_page, manage_required, page_of
from portal.errors import validation_messages

__all__ = (
    "device_group_add",
    "device_group_apply",
    "device_group_create",
    "device_group_delete",
    "device_group_detail",
    "device_group_edit",
    "device_group_list",
    "device_group_remove",
)


def _moved_text(moved: services.DevicesMoved) -> str:
    if not moved.devices:
        return "No device changed group."
    return (
        f"{moved.devices} device{'s' if moved.devices != 1 else ''} changed group; "
        f"{moved.alerts} alert{'s' if moved.alerts != 1 else ''} and {moved.incidents} "
        f"incident{'s' if moved.incidents != 1 else ''} now follow the new scope."
    )


@require_GET
@manage_required
def device_group_list(request):
    groups = page_of(request, selectors.device_groups_with_counts())
    return render(request, "permissions/device_groups/list.html", {"tab": "device_groups", "groups": groups})


def _detail_page(request, group: DeviceGroup, *, add_form=None, status=200):
    search = request.GET.get("q", "")
    context = {
        "tab": "device_groups",
        "group": group,
        "devices": page_of(request, selectors.devices_in(group)),
        "preview": selectors.pattern_preview(group),
        "search": search,
        "found": selectors.devices_found(search, exclude_group=group),
        "picker_limit": selectors.PICKER_LIMIT,
        "assignments": selectors.assignments_scoped_to(group),
        "add_form": add_form,
    }
    return render(request, "permissions/device_groups/detail.html", context, status=status)


@require_GET
@manage_required
def device_group_detail(request, pk: int):
    return _detail_page(request, get_object_or_404(DeviceGroup, pk=pk))


def _form_page(request, group: DeviceGroup | None, *, done: str):
    """
    The form that creates a group (`group` None) or edits one. A valid POST saves and goes to the group, saying
    `done` and what moved.
    """
    status = 200
    if request.method == "POST":
        form = DeviceGroupForm(request.POST)
        if form.is_valid():
            try:
                group, moved = services.device_group_save(
                    device_group=group,
                    apply_pattern=form.cleaned_data["apply_pattern"],
                    actor=request.user,
                    **{field: form.cleaned_data[field] for field in services.FIELDS},
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                text = f" {_moved_text(moved)}" if moved is not None else ""
                messages.success(request, f"{done} the device group {group.name}.{text}")
                return redirect("permissions:device_group", pk=group.pk)
        status = 422
    elif group is None:
        form = DeviceGroupForm()
    else:
        # Editing does not move devices unless asked: the pattern may be unchanged.
        form = DeviceGroupForm(
            initial={field: getattr(group, field) for field in services.FIELDS} | {"apply_pattern": False}
        )
    context = {"tab": "device_groups", "form": form, "group": group}
    return render(request, "permissions/device_groups/form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@manage_required
def device_group_create(request):
    return _form_page(request, None, done="Created")


@require_http_methods(["GET", "POST"])
@manage_required
def device_group_edit(request, pk: int):
    return _form_page(request, get_object_or_404(DeviceGroup, pk=pk), done="Saved")


@require_POST
@manage_required
def device_group_apply(request, pk: int):
    group = get_object_or_404(DeviceGroup, pk=pk)
    try:
        moved = services.device_group_apply_pattern(device_group=group, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(validation_messages(error)))
    else:
        messages.success(request, _moved_text(moved))
    return redirect("permissions:device_group", pk=group.pk)


@require_POST
@manage_required
def device_group_add(request, pk: int):
    group = get_object_or_404(DeviceGroup, pk=pk)
    form = DevicesForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, group, add_form=form, status=422)
    moved = services.device_group_add_devices(
        device_group=group, devices=form.cleaned_data["devices"], actor=request.user
    )
    messages.success(request, _moved_text(moved))
    return redirect("permissions:device_group", pk=group.pk)


@require_POST
@manage_required
def device_group_remove(request, pk: int):
    group = get_object_or_404(DeviceGroup, pk=pk)
    form = DevicesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick the devices to take out of the group.")
        return redirect("permissions:device_group", pk=group.pk)
    moved = services.device_group_remove_devices(
        device_group=group, devices=form.cleaned_data["devices"], actor=request.user
    )
    messages.success(request, _moved_text(moved))
    return redirect("permissions:device_group", pk=group.pk)


@require_http_methods(["GET", "POST"])
@manage_required
def device_group_delete(request, pk: int):
    group = get_object_or_404(DeviceGroup, pk=pk)
    context = {
        "tab": "device_groups",
        "group": group,
        "device_count": group.devices.count(),
        "assignments": selectors.assignments_scoped_to(group),
    }
    return delete_page(
        request,
        "permissions/device_groups/delete.html",
        context,
        delete=lambda: services.device_group_delete(device_group=group, actor=request.user),
        done=f"Deleted the device group {group.name}.",
        done_url="permissions:device_groups",
    )
