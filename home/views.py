"""
Home: a shell with one placeholder per card the person may see; each card then loads on its own through htmx, so a
slow card never delays the page and a failing card shows its own error while the others keep working.
"""

import logging

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from home.cards import visible_card, visible_cards

__all__ = ("home", "home_card")

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    # Only the card list is read here (one query): the cards' data comes with each card's own request.
    return render(request, "home/home.html", {"cards": visible_cards(request.user)})


@require_GET
def home_card(request, key: str):
    """One card's body. A card the user may not see does not exist for them (404)."""
    card = visible_card(request.user, key)
    if card is None:
        raise Http404("No such card.")
    try:
        html = render_to_string(card.card.template, {"card": card, **card.card.context(request.user)}, request=request)
    except Exception:
        # A card's failure is its own: answer 200 with an error box in the card's place (htmx swaps only 2xx and 422
        # here, see static/js/portal.js), and leave the details in the log rather than on the page.
        logger.exception("Home card %r failed for %s", key, request.user.get_username())
        return render(request, "home/cards/error.html", {"card": card})
    return HttpResponse(html)
