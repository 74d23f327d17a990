"""The Home cards matrix: a row per role, a box per card; a ticked box is guardian `view_homecard` for its role."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import assign_perm

from permissions.models import Role
from permissions.services import home_card_visibility_set
from portal.models import ActivityLogEntry, HomeCard

pytestmark = pytest.mark.django_db

MATRIX = "/permissions/home-cards/"


def client_for(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def cards():
    # Made here, whatever rows the data migrations seed: the tests look only at these.
    return [
        HomeCard.objects.create(key=f"test-card-{letter}", title=f"Test card {letter.upper()}", position=900 + n)
        for n, letter in enumerate("abc")
    ]


def role(name) -> Role:
    return Role.objects.select_related("group").get(group__name=name)


def sees(group: Group, card: HomeCard) -> bool:
    return ObjectPermissionChecker(group).has_perm("view_homecard", card)


def ticked(page: str, role_: Role) -> set[str]:
    """The card keys ticked in a role's row of the rendered matrix."""
    boxes = re.findall(rf'<input[^>]*name="role-{role_.pk}"[^>]*>', page)
    return {re.search(r'data-card-key="([^"]+)"', box).group(1) for box in boxes if " checked" in box}


def matrix_post(client, grid: dict[Role, list[HomeCard]], extra=None):
    data = {f"role-{r.pk}": [str(card.pk) for card in chosen] for r, chosen in grid.items()}
    return client.post(MATRIX, {**data, **(extra or {})})


def current_grid() -> dict[Role, list[HomeCard]]:
    """Every role's cards as they are now, so a post can change one cell and keep the rest."""
    grid = {}
    for r in Role.objects.select_related("group"):
        grid[r] = [card for card in HomeCard.objects.all() if sees(r.group, card)]
    return grid


def test_the_matrix_shows_every_role_and_card_with_the_current_grants(admin_user, cards):
    reader = role("Security reader")
    assign_perm("portal.view_homecard", reader.group, cards[1])

    response = client_for(admin_user).get(MATRIX)
    page = response.content.decode()

    assert response.status_code == 200
    for r in Role.objects.all():
        assert f'name="role-{r.pk}"' in page
    for card in cards:
        assert card.title in page
    assert {key for key in ticked(page, reader) if key.startswith("test-card-")} == {"test-card-b"}
    assert 'aria-label="Show Test card B to Security reader"' in page


def test_saving_the_matrix_grants_and_takes_away_view_homecard_for_the_roles_groups(admin_user, cards):
    reader, operator = role("Security reader"), role("Security operator")
    assign_perm("portal.view_homecard", reader.group, cards[2])
    grid = current_grid()
    grid[reader] = [c for c in grid[reader] if c != cards[2]] + [cards[0], cards[1]]
    others_before = {r: chosen for r, chosen in grid.items() if r != reader}

    response = matrix_post(client_for(admin_user), grid)

    assert response.status_code == 302 and response["Location"] == MATRIX
    assert [sees(reader.group, card) for card in cards] == [True, True, False]
    assert not any(sees(operator.group, card) for card in cards)
    entries = ActivityLogEntry.objects.filter(action="permissions.role.home_cards_changed")
    assert list(entries.values_list("target_id", flat=True)) == [str(reader.pk)]  # only the role that changed
    change = entries.get().changes["home_cards"]
    assert "test-card-c" in change["before"] and "test-card-c" not in change["after"]
    assert {"test-card-a", "test-card-b"} <= set(change["after"])
    after = current_grid()
    assert {r: chosen for r, chosen in after.items() if r != reader} == others_before


def test_a_custom_roles_column_works_like_a_built_in_one(admin_user, cards):
    group = Group.objects.create(name="Night shift viewer")
    custom = Role.objects.create(group=group)
    grid = current_grid()
    grid[custom] = [cards[0]]

    matrix_post(client_for(admin_user), grid)

    assert [sees(group, card) for card in cards] == [True, False, False]
    page = client_for(admin_user).get(MATRIX).content.decode()
    assert ticked(page, custom) == {"test-card-a"}


def test_values_that_name_no_card_are_ignored(admin_user, cards):
    reader = role("Security reader")
    grid = current_grid()

    response = matrix_post(client_for(admin_user), grid, extra={f"role-{reader.pk}": ["x", "999999", str(cards[0].pk)]})

    assert response.status_code == 302
    assert [sees(reader.group, card) for card in cards] == [True, False, False]


def test_saving_an_unchanged_matrix_logs_nothing(admin_user, cards):
    response = matrix_post(client_for(admin_user), current_grid())

    assert response.status_code == 302
    assert not ActivityLogEntry.objects.filter(action="permissions.role.home_cards_changed").exists()


def test_the_service_returns_whether_anything_changed(admin_user, cards):
    reader = role("Security reader")
    keep = [c for c in HomeCard.objects.all() if sees(reader.group, c)]

    assert home_card_visibility_set(role=reader, cards=[*keep, cards[0]], actor=admin_user) is True
    assert home_card_visibility_set(role=reader, cards=[*keep, cards[0]], actor=admin_user) is False


@pytest.mark.parametrize("fixture", ["analyst", "reader", "outsider"])
def test_people_who_may_not_manage_roles_cannot_open_or_save_the_matrix(request, fixture, cards):
    client = client_for(request.getfixturevalue(fixture))
    reader = role("Security reader")

    assert client.get(MATRIX).status_code == 403
    assert client.post(MATRIX, {f"role-{reader.pk}": [str(cards[0].pk)]}).status_code == 403
    assert not sees(reader.group, cards[0])


def test_the_matrix_has_an_empty_state_without_cards(admin_user):
    HomeCard.objects.all().delete()

    page = client_for(admin_user).get(MATRIX).content.decode()

    assert "No Home cards exist yet." in page
