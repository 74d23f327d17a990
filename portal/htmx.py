"""Whether a request asks for a part of a page (htmx) rather than the whole page: one rule for every view."""

__all__ = ("htmx_partial",)


def htmx_partial(request, target: str | None = None) -> bool:
    """
    An htmx request that is not a boosted navigation (which wants the whole page); with `target`, one that swaps
    the element of that id.
    """
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted:
        return False
    return target is None or htmx.target == target
