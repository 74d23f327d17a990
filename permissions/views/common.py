"""What the section's views share: the permission they require, paging, and turning service errors into form errors."""

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator

from permissions.catalogue import MANAGE_ROLES

__all__ = ("PAGE_SIZE", "add_service_error", "manage_required", "page_of")

PAGE_SIZE = 50

manage_required = permission_required(MANAGE_ROLES, raise_exception=True)


def page_of(request, queryset, per_page: int = PAGE_SIZE, param: str = "page"):
    return Paginator(queryset, per_page).get_page(request.GET.get(param))


def add_service_error(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on the fields it names when the form has them, else on the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
