"""Pages of long lists whose count stays cheap however many rows match."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

__all__ = ("BoundedPaginator",)


class BoundedPaginator(Paginator):
    """
    Counts at most `count_cap` rows: past that the list says "10,000+" and offers the first pages only.

    A queue of a million alerts would otherwise count every matching row on every page view; nobody pages through
    ten thousand rows, they narrow the filters.
    """

    def __init__(self, object_list, per_page, *, count_cap: int = 10_000, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_cap = count_cap

    @cached_property
    def count(self) -> int:
        # Without the ordering: a count needs no sort, and sorting ten thousand rows to count them is most of its cost.
        return self.object_list.order_by()[: self.count_cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.count_cap

    @property
    def count_text(self) -> str:
        return f"{self.count_cap:,}+" if self.is_capped else f"{self.count:,}"
