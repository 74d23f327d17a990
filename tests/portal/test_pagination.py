import pytest

from portal.models import UserPreference
from portal.pagination import BoundedPaginator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_counts_exactly_below_the_cap_and_says_more_above_it():
    user = UserFactory()
    for n in range(5):
        UserPreference.objects.create(user=user, key=f"k{n}", value={})
    rows = UserPreference.objects.order_by("pk")

    exact = BoundedPaginator(rows, 2, count_cap=10)
    capped = BoundedPaginator(rows, 2, count_cap=3)

    assert (exact.count, exact.is_capped, exact.count_text, exact.num_pages) == (5, False, "5", 3)
    assert (capped.count, capped.is_capped, capped.count_text) == (4, True, "3+")
    assert [p.key for p in capped.page(2).object_list] == ["k2", "k3"]
