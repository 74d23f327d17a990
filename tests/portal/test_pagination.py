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


def test_it_counts_a_first_page_that_is_not_full_without_a_count_query(django_assert_num_queries):
    user = UserFactory()
    for n in range(3):
        UserPreference.objects.create(user=user, key=f"k{n}", value={})

    with django_assert_num_queries(1):
        page = BoundedPaginator(UserPreference.objects.order_by("pk"), 5, count_short_first_page=True).get_page(1)
        assert [p.key for p in page.object_list] == ["k0", "k1", "k2"]
        assert (page.paginator.count, page.paginator.num_pages, page.has_next()) == (3, 1, False)


def test_it_counts_when_the_first_page_is_full():
    user = UserFactory()
    for n in range(7):
        UserPreference.objects.create(user=user, key=f"k{n}", value={})

    page = BoundedPaginator(UserPreference.objects.order_by("pk"), 5, count_short_first_page=True).get_page(None)

    assert (page.paginator.count, page.paginator.num_pages, len(page.object_list)) == (7, 2, 5)
