"""The More resources section through the Django test client: reading, managing in place, and refusing."""

import importlib
import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from portal.models import ActivityLogEntry
from resources.models import ResourceLink

# Module-wide so that pytest-django runs these tests before the live-server tests, which empty the database
# (tests that take their user from a parameter would otherwise look database-free and run after them).
pytestmark = pytest.mark.django_db

SEED = importlib.import_module("resources.migrations.0002_seed_related_portals")
SEEDED_NAMES = [name for name, _url, _description in SEED.RELATED_PORTALS]

HTMX = {"HX-Request": "true"}
LIST_URL = "/resources/"
ADD_URL = "/resources/add/"
URL_SCHEME_MESSAGE = "Enter a web address that starts with https:// or http://"
BAD_URLS = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "ftp://x"]
ALL_ROLES = ["admin_user", "analyst", "reader", "outsider"]
NON_MANAGERS = ["reader", "analyst", "outsider"]


class _Anchors(HTMLParser):
    """Collects every <a> of a page with its attributes and text."""

    def __init__(self):
        super().__init__()
        self.anchors = []
        self._open = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = {"attrs": dict(attrs), "text": ""}
            self.anchors.append(self._open)

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None


def anchors(response):
    parser = _Anchors()
    parser.feed(response.content.decode())
    return parser.anchors


def portal_links(response):
    """The links of the directory rows, in page order: the ones that open in a new tab."""
    return [a for a in anchors(response) if a["attrs"].get("target") == "_blank"]


def portal_link_names(response):
    return [a["text"].strip() for a in portal_links(response)]


def row_html(response, link):
    match = re.search(rf'<li [^>]*id="resource-{link.pk}"[^>]*>.*?</li>', response.content.decode(), re.DOTALL)
    assert match, f"no row for {link.name}"
    return match.group(0)


def positions():
    return list(ResourceLink.objects.order_by("position", "id").values_list("name", "position"))


def snapshot_rows():
    return list(
        ResourceLink.objects.order_by("pk").values_list("pk", "name", "url", "description", "position", "is_hidden")
    )


def seeded(name):
    return ResourceLink.objects.get(name=name)


def last_entry(action, link_pk):
    return ActivityLogEntry.objects.filter(action=action, target_id=str(link_pk)).get()


@pytest.fixture
def signed_in(client, request):
    """A client signed in as the role fixture named by the test's parameter."""

    def sign_in(role):
        user = request.getfixturevalue(role)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def reader_client(reader):
    """A second browser, signed in as the reader, next to the administrator's."""
    other = Client()
    other.force_login(reader)
    return other


# Reading the directory


@pytest.mark.parametrize("role", ALL_ROLES)
def test_it_lists_the_seven_seeded_portals_in_position_order_for_every_signed_in_role(client, signed_in, role):
    signed_in(role)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert portal_link_names(response) == SEEDED_NAMES
    for name, url, _description in SEED.RELATED_PORTALS:
        assert seeded(name).url == url


@pytest.mark.parametrize("role", ALL_ROLES)
def test_it_opens_every_portal_link_in_a_new_tab_without_an_opener_or_referrer(client, signed_in, role):
    signed_in(role)

    links = portal_links(client.get(LIST_URL))

    assert len(links) == 7
    for link in links:
        assert link["attrs"]["target"] == "_blank"
        assert link["attrs"]["rel"] == "noopener noreferrer"
    assert [link["attrs"]["href"] for link in links] == [url for _name, url, _description in SEED.RELATED_PORTALS]


def test_it_follows_the_stored_positions_rather_than_the_insertion_order(reader, client):
    last = seeded(SEEDED_NAMES[-1])
    first = seeded(SEEDED_NAMES[0])
    ResourceLink.objects.filter(pk=last.pk).update(position=0)
    ResourceLink.objects.filter(pk=first.pk).update(position=6)
    client.force_login(reader)

    names = portal_link_names(client.get(LIST_URL))

    assert names == [SEEDED_NAMES[-1], *SEEDED_NAMES[1:-1], SEEDED_NAMES[0]]


def test_it_shows_a_reader_no_edit_delete_or_add_controls(client, reader):
    client.force_login(reader)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert ">Edit</a>" not in body
    assert ">Delete</button>" not in body
    assert 'data-testid="resource-add-form"' not in body
    assert "/resources/add/" not in body
    assert "/delete/" not in body
    assert "/move/" not in body


def test_it_shows_an_administrator_edit_delete_and_add_controls_for_every_row(admin_client):
    response = admin_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="resource-add-form"' in body
    assert f'action="{ADD_URL}"' in body
    for link in ResourceLink.objects.all():
        row = row_html(response, link)
        assert f'href="/resources/{link.pk}/edit/"' in row
        assert ">Edit</a>" in row
        assert f'action="/resources/{link.pk}/delete/"' in row
        assert ">Delete</button>" in row
        assert f'action="/resources/{link.pk}/move/"' in row


def test_it_answers_an_htmx_request_for_the_list_with_the_partial_only(admin_client):
    response = admin_client.get(LIST_URL, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="resource-list"')
    assert "<html" not in body
    assert portal_link_names(response) == SEEDED_NAMES


# Managing the directory with htmx (admin)


def test_it_adds_a_portal_at_the_end_of_the_list_with_htmx(admin_client, admin_user):
    response = admin_client.post(
        ADD_URL,
        {"name": "Intune admin center", "url": "https://intune.microsoft.com/", "description": "Devices."},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert portal_link_names(response) == [*SEEDED_NAMES, "Intune admin center"]
    link = ResourceLink.objects.get(name="Intune admin center")
    assert (link.url, link.description, link.is_hidden) == ("https://intune.microsoft.com/", "Devices.", False)
    assert link.position == 7
    assert link.position == max(ResourceLink.objects.exclude(pk=link.pk).values_list("position", flat=True)) + 1
    entry = last_entry("resources.resourcelink.created", link.pk)
    assert entry.actor_name == admin_user.username
    assert entry.actor_id == admin_user.pk
    assert entry.target_repr == "Intune admin center"
    assert entry.changes["name"] == {"before": None, "after": "Intune admin center"}
    assert entry.changes["url"] == {"before": None, "after": "https://intune.microsoft.com/"}
    assert entry.changes["position"] == {"before": None, "after": 7}


def test_it_strips_spaces_around_an_added_url(admin_client):
    response = admin_client.post(
        ADD_URL, {"name": "Padded", "url": "  https://padded.example/  ", "description": ""}, headers=HTMX
    )

    assert response.status_code == 200
    assert ResourceLink.objects.get(name="Padded").url == "https://padded.example/"


def test_it_escapes_markup_in_a_portal_name_and_description(admin_client, reader_client):
    response = admin_client.post(
        ADD_URL,
        {"name": "<img src=x onerror=alert(1)>", "url": "https://markup.example/", "description": "<b>bold</b>"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert ResourceLink.objects.filter(name="<img src=x onerror=alert(1)>").exists()
    body = reader_client.get(LIST_URL).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<b>bold</b>" not in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body


def test_it_answers_the_edit_link_with_the_edit_form_row_for_htmx(admin_client):
    link = seeded("Azure Active Directory")

    response = admin_client.get(f"/resources/{link.pk}/edit/", headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<li")
    assert 'data-testid="resource-edit-row"' in body
    assert f'id="resource-{link.pk}"' in body
    assert f'hx-post="/resources/{link.pk}/edit/"' in body
    assert 'value="Azure Active Directory"' in body
    assert f'value="{link.url}"' in body
    assert "<html" not in body


def test_it_answers_a_cancelled_edit_with_the_plain_row_for_htmx(admin_client):
    link = seeded("Azure Active Directory")

    response = admin_client.get(f"/resources/{link.pk}/edit/?cancel=1", headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="resource-row"' in body
    assert 'data-testid="resource-edit-row"' not in body
    assert portal_link_names(response) == ["Azure Active Directory"]


def test_it_saves_an_edit_with_htmx_and_answers_with_the_list(admin_client, admin_user):
    link = seeded("Azure Active Directory")
    old_url = link.url

    response = admin_client.post(
        f"/resources/{link.pk}/edit/",
        {"name": "Microsoft Entra admin center", "url": "https://entra.microsoft.com/", "description": "Identity."},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Microsoft Entra admin center" in portal_link_names(response)
    assert "Azure Active Directory" not in portal_link_names(response)
    link.refresh_from_db()
    assert (link.name, link.url, link.description) == (
        "Microsoft Entra admin center",
        "https://entra.microsoft.com/",
        "Identity.",
    )
    assert link.position == 1
    entry = last_entry("resources.resourcelink.updated", link.pk)
    assert entry.actor_name == admin_user.username
    assert entry.changes["name"] == {"before": "Azure Active Directory", "after": "Microsoft Entra admin center"}
    assert entry.changes["url"] == {"before": old_url, "after": "https://entra.microsoft.com/"}
    assert "position" not in entry.changes


def test_it_writes_no_activity_entry_when_an_edit_changes_nothing(admin_client):
    link = seeded("Azure Active Directory")

    response = admin_client.post(
        f"/resources/{link.pk}/edit/",
        {"name": link.name, "url": link.url, "description": link.description},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert not ActivityLogEntry.objects.filter(target_id=str(link.pk)).exists()


def test_it_moves_a_portal_up_by_swapping_places_with_its_neighbour(admin_client, admin_user):
    moved, neighbour = seeded(SEEDED_NAMES[3]), seeded(SEEDED_NAMES[2])

    response = admin_client.post(f"/resources/{moved.pk}/move/", {"direction": "up"}, headers=HTMX)

    assert response.status_code == 200
    moved.refresh_from_db()
    neighbour.refresh_from_db()
    assert (moved.position, neighbour.position) == (2, 3)
    expected = [*SEEDED_NAMES[:2], SEEDED_NAMES[3], SEEDED_NAMES[2], *SEEDED_NAMES[4:]]
    assert [name for name, _ in positions()] == expected
    assert [position for _, position in positions()] == list(range(7))
    assert portal_link_names(response) == expected
    entry = last_entry("resources.resourcelink.moved", moved.pk)
    assert entry.actor_name == admin_user.username
    assert entry.changes == {"position": {"before": 3, "after": 2}}


def test_it_moves_a_portal_down_by_swapping_places_with_its_neighbour(admin_client, admin_user):
    moved, neighbour = seeded(SEEDED_NAMES[0]), seeded(SEEDED_NAMES[1])

    response = admin_client.post(f"/resources/{moved.pk}/move/", {"direction": "down"}, headers=HTMX)

    assert response.status_code == 200
    moved.refresh_from_db()
    neighbour.refresh_from_db()
    assert (moved.position, neighbour.position) == (1, 0)
    assert portal_link_names(response) == [SEEDED_NAMES[1], SEEDED_NAMES[0], *SEEDED_NAMES[2:]]
    entry = last_entry("resources.resourcelink.moved", moved.pk)
    assert entry.actor_name == admin_user.username
    assert entry.changes == {"position": {"before": 0, "after": 1}}


@pytest.mark.parametrize(("index", "direction"), [(0, "up"), (6, "down")])
def test_it_leaves_the_order_alone_when_moving_past_either_end(admin_client, index, direction):
    link = seeded(SEEDED_NAMES[index])
    before = positions()

    response = admin_client.post(f"/resources/{link.pk}/move/", {"direction": direction}, headers=HTMX)

    assert response.status_code == 200
    assert positions() == before
    assert not ActivityLogEntry.objects.filter(action="resources.resourcelink.moved").exists()


def test_it_hides_a_portal_from_readers_and_keeps_it_with_a_badge_for_administrators(
    admin_client, admin_user, reader_client
):
    link = seeded("Azure Information Protection")

    response = admin_client.post(f"/resources/{link.pk}/visibility/", {"hidden": "true"}, headers=HTMX)

    assert response.status_code == 200
    link.refresh_from_db()
    assert link.is_hidden is True
    row = row_html(response, link)
    assert "Hidden</span>" in row
    assert 'name="hidden" value="false"' in row
    assert ">Show</button>" in row
    entry = last_entry("resources.resourcelink.hidden", link.pk)
    assert entry.actor_name == admin_user.username
    assert entry.changes == {"is_hidden": {"before": False, "after": True}}

    admin_page = admin_client.get(LIST_URL)
    assert "Azure Information Protection" in portal_link_names(admin_page)
    assert "Hidden</span>" in row_html(admin_page, link)

    reader_page = reader_client.get(LIST_URL)
    assert reader_page.status_code == 200
    assert "Azure Information Protection" not in portal_link_names(reader_page)
    assert portal_link_names(reader_page) == [name for name in SEEDED_NAMES if name != "Azure Information Protection"]
    assert "Hidden</span>" not in reader_page.content.decode()


def test_it_shows_a_hidden_portal_again(admin_client, admin_user, reader_client):
    link = seeded("Azure Information Protection")
    ResourceLink.objects.filter(pk=link.pk).update(is_hidden=True)

    response = admin_client.post(f"/resources/{link.pk}/visibility/", {"hidden": "false"}, headers=HTMX)

    assert response.status_code == 200
    link.refresh_from_db()
    assert link.is_hidden is False
    assert "Hidden</span>" not in row_html(response, link)
    entry = last_entry("resources.resourcelink.shown", link.pk)
    assert entry.actor_name == admin_user.username
    assert entry.changes == {"is_hidden": {"before": True, "after": False}}
    assert portal_link_names(reader_client.get(LIST_URL)) == SEEDED_NAMES


def test_it_writes_no_activity_entry_when_hiding_a_portal_that_is_already_hidden(admin_client):
    link = seeded("Azure Information Protection")
    ResourceLink.objects.filter(pk=link.pk).update(is_hidden=True)

    response = admin_client.post(f"/resources/{link.pk}/visibility/", {"hidden": "true"}, headers=HTMX)

    assert response.status_code == 200
    link.refresh_from_db()
    assert link.is_hidden is True
    assert not ActivityLogEntry.objects.filter(target_id=str(link.pk)).exists()


def test_it_refuses_a_visibility_value_other_than_true_or_false(admin_client):
    link = seeded("Azure Information Protection")

    response = admin_client.post(f"/resources/{link.pk}/visibility/", {"hidden": "yes"}, headers=HTMX)

    assert response.status_code == 400
    link.refresh_from_db()
    assert link.is_hidden is False


def test_it_deletes_a_portal_and_keeps_the_remaining_positions_dense(admin_client, admin_user):
    link = seeded(SEEDED_NAMES[2])
    snapshot_before = {
        "name": link.name,
        "url": link.url,
        "description": link.description,
        "position": 2,
        "is_hidden": False,
    }

    response = admin_client.post(f"/resources/{link.pk}/delete/", headers=HTMX)

    assert response.status_code == 200
    assert not ResourceLink.objects.filter(pk=link.pk).exists()
    remaining = [name for name in SEEDED_NAMES if name != SEEDED_NAMES[2]]
    assert positions() == [(name, position) for position, name in enumerate(remaining)]
    assert portal_link_names(response) == remaining
    entry = last_entry("resources.resourcelink.deleted", link.pk)
    assert entry.actor_name == admin_user.username
    assert entry.target_repr == SEEDED_NAMES[2]
    assert entry.changes == {field: {"before": value, "after": None} for field, value in snapshot_before.items()}


def test_it_shows_the_empty_state_with_an_invitation_after_the_last_portal_is_deleted(admin_client):
    for link in ResourceLink.objects.all():
        assert admin_client.post(f"/resources/{link.pk}/delete/", headers=HTMX).status_code == 200

    response = admin_client.get(LIST_URL)

    assert ResourceLink.objects.count() == 0
    assert 'data-testid="resource-empty"' in response.content.decode()
    assert "Add the first one below." in response.content.decode()
    assert ActivityLogEntry.objects.filter(action="resources.resourcelink.deleted").count() == 7


# Without JavaScript: plain posts redirect back to the list


def test_it_redirects_a_plain_add_back_to_the_list_and_stores_it(admin_client):
    response = admin_client.post(ADD_URL, {"name": "Plain add", "url": "https://plain.example/", "description": ""})

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert ResourceLink.objects.get(name="Plain add").position == 7
    page = admin_client.get(LIST_URL)
    assert "Added Plain add." in page.content.decode()
    assert portal_link_names(page)[-1] == "Plain add"


def test_it_renders_the_full_edit_page_without_htmx(admin_client):
    link = seeded("Azure Active Directory")

    response = admin_client.get(f"/resources/{link.pk}/edit/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert "Edit Azure Active Directory" in body
    assert f'action="/resources/{link.pk}/edit/"' in body


def test_it_redirects_a_plain_edit_back_to_the_list_and_stores_it(admin_client):
    link = seeded("Azure Active Directory")

    response = admin_client.post(
        f"/resources/{link.pk}/edit/", {"name": "Entra", "url": "https://entra.microsoft.com/", "description": ""}
    )

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    link.refresh_from_db()
    assert (link.name, link.url, link.description) == ("Entra", "https://entra.microsoft.com/", "")
    assert ActivityLogEntry.objects.filter(action="resources.resourcelink.updated", target_id=str(link.pk)).exists()


def test_it_redirects_a_plain_move_back_to_the_list_and_stores_it(admin_client):
    link = seeded(SEEDED_NAMES[1])

    response = admin_client.post(f"/resources/{link.pk}/move/", {"direction": "up"})

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    link.refresh_from_db()
    assert link.position == 0
    assert seeded(SEEDED_NAMES[0]).position == 1


def test_it_redirects_a_plain_visibility_change_back_to_the_list_and_stores_it(admin_client):
    link = seeded(SEEDED_NAMES[4])

    response = admin_client.post(f"/resources/{link.pk}/visibility/", {"hidden": "true"})

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    link.refresh_from_db()
    assert link.is_hidden is True


def test_it_redirects_a_plain_delete_back_to_the_list_and_stores_it(admin_client):
    link = seeded(SEEDED_NAMES[0])

    response = admin_client.post(f"/resources/{link.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not ResourceLink.objects.filter(pk=link.pk).exists()
    assert [position for _, position in positions()] == list(range(6))
    assert f"Deleted {SEEDED_NAMES[0]}." in admin_client.get(LIST_URL).content.decode()


# Refusing unsafe links


@pytest.mark.parametrize("bad_url", BAD_URLS)
def test_it_refuses_to_add_a_portal_whose_url_is_not_a_web_address(admin_client, bad_url):
    before = snapshot_rows()

    response = admin_client.post(ADD_URL, {"name": "Evil", "url": bad_url, "description": ""}, headers=HTMX)

    assert response.status_code == 422
    body = response.content.decode()
    assert URL_SCHEME_MESSAGE in body
    assert 'id="add-url-error"' in body
    assert snapshot_rows() == before
    assert not ResourceLink.objects.filter(name="Evil").exists()
    assert not ActivityLogEntry.objects.exists()


@pytest.mark.parametrize("bad_url", BAD_URLS)
def test_it_refuses_to_change_a_portal_url_to_something_that_is_not_a_web_address(admin_client, bad_url):
    link = seeded("Azure Active Directory")
    before = snapshot_rows()

    response = admin_client.post(
        f"/resources/{link.pk}/edit/", {"name": "Renamed", "url": bad_url, "description": ""}, headers=HTMX
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert URL_SCHEME_MESSAGE in body
    assert 'data-testid="resource-edit-row"' in body
    assert response["HX-Retarget"] == f"#resource-{link.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    assert snapshot_rows() == before
    assert not ActivityLogEntry.objects.exists()


def test_it_re_renders_the_page_with_422_for_a_plain_add_with_a_bad_url(admin_client):
    before = snapshot_rows()

    response = admin_client.post(ADD_URL, {"name": "Evil", "url": "javascript:alert(1)", "description": ""})

    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" in body
    assert "Related portals your team works in." in body
    assert URL_SCHEME_MESSAGE in body
    # The form keeps what was typed, so the person can correct it.
    assert 'value="Evil"' in body
    assert portal_link_names(response) == SEEDED_NAMES
    assert snapshot_rows() == before


def test_it_re_renders_the_edit_page_with_422_for_a_plain_edit_with_a_bad_url(admin_client):
    link = seeded("Azure Active Directory")
    before = snapshot_rows()

    response = admin_client.post(
        f"/resources/{link.pk}/edit/", {"name": link.name, "url": "javascript:alert(1)", "description": ""}
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "<html" in body
    assert "Edit Azure Active Directory" in body
    assert URL_SCHEME_MESSAGE in body
    assert snapshot_rows() == before


def test_it_refuses_a_second_portal_with_an_existing_name(admin_client):
    before = snapshot_rows()

    response = admin_client.post(
        ADD_URL, {"name": SEEDED_NAMES[0], "url": "https://duplicate.example/", "description": ""}, headers=HTMX
    )

    assert response.status_code == 422
    assert "already exists" in response.content.decode()
    assert snapshot_rows() == before


def test_it_refuses_a_portal_without_a_name(admin_client):
    before = snapshot_rows()

    response = admin_client.post(ADD_URL, {"name": "", "url": "https://nameless.example/"}, headers=HTMX)

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert snapshot_rows() == before


# Refusing people who may not manage the directory


def _write_requests(link):
    return [
        (ADD_URL, {"name": "Sneaky", "url": "https://sneaky.example/", "description": ""}),
        (f"/resources/{link.pk}/edit/", {"name": "Sneaky", "url": "https://sneaky.example/", "description": ""}),
        (f"/resources/{link.pk}/move/", {"direction": "up"}),
        (f"/resources/{link.pk}/visibility/", {"hidden": "true"}),
        (f"/resources/{link.pk}/delete/", {}),
    ]


@pytest.mark.parametrize("role", NON_MANAGERS)
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_it_forbids_every_write_to_people_without_the_manage_permission(client, signed_in, role, htmx):
    signed_in(role)
    link = seeded(SEEDED_NAMES[3])
    before = snapshot_rows()

    for url, data in _write_requests(link):
        response = client.post(url, data, headers=HTMX if htmx else {})
        assert response.status_code == 403, url

    assert snapshot_rows() == before
    assert not ActivityLogEntry.objects.exists()


@pytest.mark.parametrize("role", NON_MANAGERS)
def test_it_forbids_the_edit_form_to_people_without_the_manage_permission(client, signed_in, role):
    signed_in(role)
    link = seeded(SEEDED_NAMES[3])

    assert client.get(f"/resources/{link.pk}/edit/").status_code == 403
    assert client.get(f"/resources/{link.pk}/edit/", headers=HTMX).status_code == 403


# Methods, unknown entries and bad parameters


@pytest.mark.parametrize("action", ["delete", "move", "visibility"])
def test_it_answers_405_to_a_get_on_a_write_only_url(admin_client, action):
    link = seeded(SEEDED_NAMES[0])

    response = admin_client.get(f"/resources/{link.pk}/{action}/")

    assert response.status_code == 405
    assert ResourceLink.objects.filter(pk=link.pk, position=0, is_hidden=False).exists()


def test_it_answers_405_to_a_get_on_the_add_url(admin_client):
    assert admin_client.get(ADD_URL).status_code == 405


def test_it_answers_405_to_a_post_on_the_list(admin_client):
    response = admin_client.post(LIST_URL, {"name": "x", "url": "https://x.example/"})

    assert response.status_code == 405
    assert not ResourceLink.objects.filter(name="x").exists()


@pytest.mark.parametrize(
    ("method", "action", "data"),
    [
        ("get", "edit", {}),
        ("post", "edit", {"name": "Ghost", "url": "https://ghost.example/", "description": ""}),
        ("post", "move", {"direction": "up"}),
        ("post", "visibility", {"hidden": "true"}),
        ("post", "delete", {}),
    ],
)
def test_it_answers_404_for_an_unknown_portal(admin_client, method, action, data):
    missing = ResourceLink.objects.order_by("-pk").first().pk + 1000
    before = snapshot_rows()

    response = getattr(admin_client, method)(f"/resources/{missing}/{action}/", data, headers=HTMX)

    assert response.status_code == 404
    assert snapshot_rows() == before


def test_it_answers_400_to_a_move_in_an_unknown_direction(admin_client):
    link = seeded(SEEDED_NAMES[3])
    before = positions()

    response = admin_client.post(f"/resources/{link.pk}/move/", {"direction": "sideways"}, headers=HTMX)

    assert response.status_code == 400
    assert b"direction must be 'up' or 'down'" in response.content
    assert positions() == before
    assert not ActivityLogEntry.objects.exists()
