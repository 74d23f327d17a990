"""
The Home cards matrix: a row per role, a box per card; saving gives each role's group `view_homecard` on the cards
ticked in its row and takes it away from the others.
"""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from permissions import selectors, services
from permissions.views.common import manage_required

__all__ = ("home_card_matrix",)


def _ticked(request, role, cards_by_pk) -> list:
    """The cards ticked in the role's row; values that name no card are ignored, not trusted."""
    chosen = []
    for value in request.POST.getlist(f"role-{role.pk}"):
        card = cards_by_pk.get(int(value)) if value.isdecimal() else None
        if card is not None:
            chosen.append(card)
    return chosen


@require_http_methods(["GET", "POST"])
@manage_required
def home_card_matrix(request):
    matrix = selectors.home_card_matrix()
    if request.method == "GET":
        return render(request, "permissions/home_cards.html", {"tab": "home_cards", "matrix": matrix})
    cards_by_pk = {card.pk: card for card in matrix.cards}
    # One transaction: the matrix is saved whole or not at all.
    with transaction.atomic():
        changed = [
            role.name
            for role in matrix.roles
            if services.home_card_visibility_set(
                role=role, cards=_ticked(request, role, cards_by_pk), actor=request.user
            )
        ]
    if changed:
        messages.success(request, f"Saved the Home cards of {', '.join(changed)}.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("permissions:home_cards")
