"""Pages of long lists whose count stays cheap however many rows match."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

__all__ = ("BoundedPaginator",)


class BoundedPaginator(Paginator):
    """
    Counts at most `count_cap` rows: past that the list says "10,000+" and offers the first pages only.

    A queue of a million alerts would otherwise count every matching row on every page view; nobody pages through
    ten thousand rows, they narrow the filters. With `count_short_first_page`, a first page that is not full needs no
    count at all: a search that finds a handful of incidents costs one query, not two scans of the same rows.
    """

    def __init__(self, object_list, per_page, *, count_cap: int = 10_000, count_short_first_page=False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_cap = count_cap
        self.count_short_first_page = count_short_first_page

    @cached_property
    def count(self) -> int:
        # Without the ordering: a count needs no sort, and sorting ten thousand rows to count them is most of its cost.
        return self.object_list.order_by()[: self.count_cap + 1].count()

    def get_page(self, number):
        if self.count_short_first_page and str(number or "1").strip() == "1":
            head = list(self.object_list[: self.per_page + 1])
            if len(head) <= min(self.per_page, self.count_cap):
                self.__dict__["count"] = len(head)  # fills the cached_property: no COUNT query
            return self._get_page(head[: self.per_page], 1, self)
        return super().get_page(number)

    @property
    def is_capped(self) -> bool:
        return self.count > self.count_cap

    @property
    def count_text(self) -> str:
        return f"{self.count_cap:,}+" if self.is_capped else f"{self.count:,}"
