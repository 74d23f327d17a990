"""
API tokens: every signed-in person lists, creates and revokes their own; a role manager sees and revokes everyone's
and may create one for someone else. Someone else's token answers 404 to the others, as if it did not exist.

The secret is in the answer to the creating POST and nowhere else: not in the session, the database, the log or
a redirect, and that answer is marked not to be cached.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from permissions import selectors, services
from permissions.forms import ApiTokenForm
from permissions.views.common import add_service_error, page_of
from portal.catalogue import MANAGE_ROLES

__all__ = ("token_create", "token_list", "token_revoke")

PAGE_SIZE = 25


def _manager(user) -> bool:
    return user.has_perm(MANAGE_ROLES)


def _list_page(request, *, form=None, created=None, secret=None, status=200):
    manager = _manager(request.user)
    everyone = manager and request.GET.get("whose") == "everyone"
    context = {
        "tab": "tokens",
        "is_manager": manager,
        "everyone": everyone,
        "tokens": page_of(request, selectors.tokens_for(request.user, everyone=everyone), PAGE_SIZE),
        "form": form or ApiTokenForm(for_others=manager),
        "created": created,
        "secret": secret,
    }
    response = render(request, "permissions/tokens/list.html", context, status=status)
    if secret is not None:
        add_never_cache_headers(response)
    return response


@require_GET
def token_list(request):
    return _list_page(request)


@require_POST
def token_create(request):
    manager = _manager(request.user)
    form = ApiTokenForm(request.POST, for_others=manager)
    if form.is_valid():
        owner = form.cleaned_data.get("user") or request.user
        try:
            token, secret = services.api_token_create(
                user=owner,
                name=form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=form.cleaned_data["expires_in_days"]),
                actor=request.user,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            # Answered directly rather than redirected: a redirect would need the secret kept somewhere.
            return _list_page(request, created=token, secret=secret, status=201)
    return _list_page(request, form=form, status=422)


@require_POST
def token_revoke(request, pk: int):
    # Someone else's token is not found for all but a role manager.
    token = get_object_or_404(selectors.tokens_for(request.user, everyone=_manager(request.user)), pk=pk)
    services.api_token_revoke(token=token, actor=request.user)
    owner = "" if token.user_id == request.user.pk else f" of {token.user.get_username()}"
    messages.success(request, f"Revoked the token {token.name}{owner}; clients using it are refused from now on.")
    if request.POST.get("whose") == "everyone":
        return redirect(f"{reverse('permissions:tokens')}?whose=everyone")
    return redirect("permissions:tokens")
