"""
What the section's views share: the permission they require, paging, turning service errors into form errors, and
the confirm-then-delete page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from portal.catalogue import MANAGE_ROLES
from portal.errors import validation_messages

__all__ = ("PAGE_SIZE", "add_service_error", "delete_page", "manage_required", "page_of")

PAGE_SIZE = 50

manage_required = permission_required(MANAGE_ROLES, raise_exception=True)


def page_of(request, queryset, per_page: int = PAGE_SIZE, param: str = "page"):
    return Paginator(queryset, per_page).get_page(request.GET.get(param))


def add_service_error(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on the fields it names when the form has them, else on the form."""
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def delete_page(request, template: str, context: dict, *, delete, done: str, done_url: str):
    """
    GET asks first; POST runs `delete()` (a service call) and goes to `done_url` (a URL or a URL name) saying
    `done`. A refusal from the service is shown on the same page, answered 422.
    """
    if request.method == "GET":
        return render(request, template, context)
    try:
        delete()
    except ValidationError as error:
        return render(request, template, {**context, "errors": validation_messages(error)}, status=422)
    messages.success(request, done)
    return redirect(done_url)
