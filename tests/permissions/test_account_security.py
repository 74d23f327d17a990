"""Account security: lockout after failed sign-ins, session expiry, password rules and two-factor sign-in (TOTP)."""

import re
from base64 import b32encode
from binascii import unhexlify
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from permissions.account.network import client_ip
from permissions.account.selectors import two_factor_status
from permissions.account.views import PENDING_KEY
from permissions.models import Role
from permissions.services import api_token_create
from portal.models import ActivityLogEntry
from tests.conftest import PASSWORD, assign_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/resources/"
API = "/api/resources/"
WRONG = "wrong-horse-battery"


def _sign_in(client, username, password=PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def _signed_in(client):
    return "_auth_user_id" in client.session


def _code(device_or_key, at=None):
    """The current code of a device (or of a hex key being set up), as an authenticator app would show it."""
    if isinstance(device_or_key, TOTPDevice):
        device_or_key.refresh_from_db()
        totp = TOTP(device_or_key.bin_key, device_or_key.step, device_or_key.t0, device_or_key.digits)
    else:
        totp = TOTP(unhexlify(device_or_key))
    if at is not None:
        totp.time = at.timestamp()
    return f"{totp.token():06d}"


def _wrong_code(right):
    return f"{(int(right) + 1) % 1_000_000:06d}"


def _require_two_factor(role_name="Security reader"):
    Role.objects.filter(group__name=role_name).update(require_two_factor=True)


def _device(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


@pytest.fixture
def clock():
    """Time stands still until the test moves it (`clock.shift(...)`); Python's clock only, not the database's."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


# --- Lockout after failed sign-ins ---------------------------------------------------------------------------------


def test_it_locks_a_username_out_after_five_wrong_passwords_and_refuses_even_the_right_one(client, reader, clock):
    for _ in range(4):
        response = _sign_in(client, "reader", WRONG)
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()

    fifth = _sign_in(client, "reader", WRONG)
    right = _sign_in(client, "reader")

    for response in (fifth, right):
        assert response.status_code == 429
        body = response.content.decode()
        assert "Sign-in paused" in body
        assert "<strong>reader</strong>" in body
        assert "in about 15 minutes" in body
        retry_at = (timezone.now() + timedelta(minutes=15)).strftime("%H:%M")
        assert f"{retry_at} UTC" in body
        assert response["Retry-After"] == "900"
        # The portal's own page, not a bare 403.
        assert 'class="vigil-topbar' in body
    assert not _signed_in(client)
    assert client.get(PAGE).status_code == 302


def test_the_lockout_ends_after_the_cool_off_and_attempts_meanwhile_do_not_extend_it(client, reader, clock):
    for _ in range(5):
        _sign_in(client, "reader", WRONG)

    clock.shift(timedelta(minutes=10))
    assert _sign_in(client, "reader").status_code == 429
    assert "in about 5 minutes" in _sign_in(client, "reader").content.decode()
    clock.shift(timedelta(minutes=5, seconds=1))
    response = _sign_in(client, "reader")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _signed_in(client)


def test_a_lockout_leaves_other_users_and_the_same_user_elsewhere_alone(client, reader, analyst):
    for _ in range(5):
        _sign_in(client, "reader", WRONG)
    assert _sign_in(client, "reader").status_code == 429

    assert _sign_in(client, "analyst").status_code == 302
    client.post("/logout/")
    # Counted per username and address together: someone guessing from one place cannot lock the owner out.
    assert _sign_in(client, "reader", REMOTE_ADDR="10.1.2.3").status_code == 302


def test_a_successful_sign_in_starts_the_count_again(client, reader):
    for _ in range(4):
        _sign_in(client, "reader", WRONG)
    assert _sign_in(client, "reader").status_code == 302
    client.post("/logout/")

    for _ in range(4):
        assert _sign_in(client, "reader", WRONG).status_code == 200
    assert _sign_in(client, "reader").status_code == 302


def test_failures_for_an_unknown_username_lock_that_name_out_too(client, db):
    for _ in range(5):
        response = _sign_in(client, "nobody", WRONG)

    assert response.status_code == 429


def test_the_test_client_login_still_works_with_the_lockout_backend_first(client, reader):
    assert client.login(username="reader", password=PASSWORD)
    assert client.get(PAGE).status_code == 200
    assert not client.login(username="reader", password=WRONG)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "192.0.2.1"),  # no proxy configured: the header is anyone's to forge
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the address our proxy saw, not what the client claims
        (2, "198.51.100.7, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "", "192.0.2.1"),
        (1, "not-an-address", "192.0.2.1"),
    ],
)
def test_it_takes_the_client_address_from_trusted_proxies_only(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/login/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_behind_a_proxy_the_lockout_follows_the_forwarded_client_address(client, reader, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        _sign_in(client, "reader", WRONG, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert _sign_in(client, "reader", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert _sign_in(client, "reader", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302


# --- Session expiry ------------------------------------------------------------------------------------------------


def test_it_signs_out_after_the_idle_timeout(client, reader, clock, settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    _sign_in(client, "reader")
    clock.shift(timedelta(minutes=29))
    assert client.get(PAGE).status_code == 200

    clock.shift(timedelta(minutes=30))
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/resources/"
    assert not _signed_in(client)
    login_page = client.get(response["Location"]).content.decode()
    assert "You were signed out after 30 minutes without activity" in login_page


def test_activity_keeps_a_sign_in_alive_until_the_absolute_lifetime_ends_it(client, reader, clock, settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    _sign_in(client, "reader")
    for _ in range(12 * 3 - 1):
        clock.shift(timedelta(minutes=20))
        assert client.get(PAGE).status_code == 200

    clock.shift(timedelta(minutes=20))
    response = client.get(PAGE)

    assert response.status_code == 302
    assert not _signed_in(client)
    assert "Sign-ins last 12 hours" in client.get("/login/").content.decode()


def test_sessions_started_without_the_login_page_expire_too(client, reader, clock, settings):
    settings.SESSION_IDLE_TIMEOUT = 60 * 5
    client.force_login(reader)
    assert client.get(PAGE).status_code == 200

    clock.shift(timedelta(minutes=6))

    assert client.get(PAGE).status_code == 302
    assert not _signed_in(client)


def test_reading_pages_does_not_write_the_session_on_every_request(client, reader, clock):
    _sign_in(client, "reader")
    client.get(PAGE)
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date
    clock.shift(timedelta(seconds=30))
    client.get(PAGE)
    assert Session.objects.get(session_key=key).expire_date == expiry
    clock.shift(timedelta(seconds=31))
    client.get(PAGE)
    assert Session.objects.get(session_key=key).expire_date > expiry


# --- Passwords -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("Sh0rt-pw", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("8237461902374", "This password is entirely numeric."),
        ("reader@corp.example!", "The password is too similar to the email address."),
    ],
)
def test_the_change_password_page_refuses_a_weak_password(client, reader, new_password, message):
    client.force_login(reader)

    response = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    reader.refresh_from_db()
    assert reader.check_password(PASSWORD)


def test_the_change_password_page_needs_the_current_password(client, reader):
    client.force_login(reader)
    new = "a-much-longer-passphrase-7"

    response = client.post("/account/password/", {"old_password": WRONG, "new_password1": new, "new_password2": new})

    assert "Your old password was entered incorrectly" in response.content.decode()
    reader.refresh_from_db()
    assert reader.check_password(PASSWORD)


def test_the_change_password_page_changes_it_keeps_the_person_signed_in_and_logs_it(client, reader):
    client.force_login(reader)
    assert client.get("/account/password/").status_code == 200
    new = "a-much-longer-passphrase-7"

    response = client.post("/account/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})

    assert response.status_code == 302
    assert response["Location"] == "/account/password/"
    reader.refresh_from_db()
    assert reader.check_password(new)
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Your password has been changed." in page.content.decode()
    assert ActivityLogEntry.objects.filter(
        action="permissions.password.changed", target_id=str(reader.pk), actor=reader
    ).exists()


def test_a_password_change_signs_out_the_other_sessions(client, reader):
    other = client.__class__()
    other.force_login(reader)
    client.force_login(reader)
    new = "a-much-longer-passphrase-7"

    client.post("/account/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})

    assert other.get(PAGE).status_code == 302
    assert client.get(PAGE).status_code == 200


# --- Two-factor sign-in: who needs it -------------------------------------------------------------------------------


def test_a_user_whose_roles_do_not_require_it_and_who_has_no_device_signs_in_with_the_password_alone(client, reader):
    response = _sign_in(client, "reader")

    assert response.status_code == 302
    assert client.get(PAGE).status_code == 200
    assert client.get(API).status_code == 200


def test_two_factor_status_reads_requirement_and_enrolment_in_one_query(reader, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert not two_factor_status(reader).needs_code
    _require_two_factor()
    _device(reader)

    with django_assert_num_queries(1):
        status = two_factor_status(reader)

    assert status.required
    assert status.enrolled


def test_a_role_held_through_a_group_can_require_it(db):
    _require_two_factor("Security operator")
    user = UserFactory(username="grouped")
    team = Group.objects.create(name="Night shift")
    team.user_set.add(user)
    assert not two_factor_status(user).required

    assign_role(team, "Security operator")

    assert two_factor_status(user).required
    assert not two_factor_status(UserFactory(username="loner")).required


def test_a_superuser_is_treated_like_anyone(client, db):
    UserFactory(username="root", is_superuser=True, is_staff=True)

    _sign_in(client, "root")

    assert client.get(PAGE).status_code == 200


def test_a_role_newly_requiring_it_reaches_people_already_signed_in_within_a_minute(client, reader, clock):
    _sign_in(client, "reader")
    assert client.get(PAGE).status_code == 200

    _require_two_factor()
    # Read at most once a minute, so that pages do not pay a query for it on every request.
    assert client.get(PAGE).status_code == 200
    clock.shift(timedelta(seconds=61))

    assert client.get(PAGE)["Location"].startswith("/account/two-factor/")


def test_a_signed_in_page_pays_no_query_for_two_factor_once_it_is_read(client, reader):
    client.force_login(reader)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as queries:
        client.get(PAGE)

    assert not [query for query in queries if "otp_totp" in query["sql"] or "require_two_factor" in query["sql"]]


# --- Two-factor sign-in: required, no device yet ---------------------------------------------------------------------


def test_a_user_whose_role_requires_it_is_sent_to_set_it_up_and_reaches_nothing_else(client, reader):
    _require_two_factor()

    response = _sign_in(client, "reader")
    assert response.status_code == 302
    assert _signed_in(client)

    for path in (PAGE, "/", "/incidents/", "/account/password/", "/account/two-factor/verify/"):
        page = client.get(path)
        assert page.status_code == 302, path
        assert page["Location"].startswith("/account/two-factor/"), path
    assert client.get(PAGE)["Location"] == "/account/two-factor/?next=%2Fresources%2F"
    assert client.post(PAGE, {"name": "X", "url": "https://x.example/"})["Location"] == "/account/two-factor/"
    assert client.get("/admin/")["Location"].startswith("/account/two-factor/")
    api = client.get(API)
    assert api.status_code == 403
    assert api.json() == {
        "detail": "Two-factor sign-in is not complete. Your role requires two-factor sign-in: set it up to continue."
    }
    htmx = client.get(PAGE, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204
    assert htmx["HX-Redirect"].startswith("/account/two-factor/")

    setup = client.get("/account/two-factor/")
    assert setup.status_code == 200
    body = setup.content.decode()
    assert "Your role requires two-factor sign-in" in body
    assert "<svg" in body
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', body).group(1)
    assert secret.replace(" ", "") == b32encode(unhexlify(client.session[PENDING_KEY])).decode()
    # No section links that would only lead back here.
    assert 'aria-label="Sections"' not in body

    assert client.post("/logout/").status_code == 302
    assert not _signed_in(client)


def test_setting_it_up_takes_a_right_code_and_then_opens_the_portal(client, reader, clock):
    _require_two_factor()
    _sign_in(client, "reader")
    client.get("/account/two-factor/?next=/resources/")
    key = client.session[PENDING_KEY]
    # Reloading the page keeps the secret the person may already have scanned.
    client.get("/account/two-factor/")
    assert client.session[PENDING_KEY] == key

    wrong = client.post("/account/two-factor/", {"code": _wrong_code(_code(key)), "next": "/resources/"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=reader).exists()

    right = client.post("/account/two-factor/", {"code": _code(key), "next": "/resources/"})

    assert right.status_code == 302
    assert right["Location"] == "/resources/"
    device = TOTPDevice.objects.get(user=reader)
    assert device.confirmed
    assert device.key == key
    assert PENDING_KEY not in client.session
    assert client.get(PAGE).status_code == 200
    assert client.get(API).status_code == 200
    assert ActivityLogEntry.objects.filter(
        action="permissions.two_factor.enrolled", target_id=str(reader.pk), actor=reader
    ).exists()


# --- Two-factor sign-in: with a device -------------------------------------------------------------------------------


def test_with_a_device_a_wrong_code_is_refused_and_the_right_one_lets_them_in(client, reader, clock):
    _require_two_factor()
    device = _device(reader)
    _sign_in(client, "reader")

    assert client.get(PAGE)["Location"] == "/account/two-factor/verify/?next=%2Fresources%2F"
    # With a device, the set-up page is no way around the code.
    assert client.get("/account/two-factor/")["Location"].startswith("/account/two-factor/verify/")
    page = client.get("/account/two-factor/verify/?next=/resources/")
    assert page.status_code == 200
    assert "Enter the code from your authenticator app" in page.content.decode()

    wrong = client.post("/account/two-factor/verify/", {"code": _wrong_code(_code(device)), "next": "/resources/"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.content.decode()
    assert client.get(PAGE).status_code == 302
    # Guessing is slowed down: straight after a wrong code even the right one is not checked.
    hurried = client.post("/account/two-factor/verify/", {"code": _code(device), "next": "/resources/"})
    assert "Too many wrong codes: wait 1 second" in hurried.content.decode()

    clock.shift(timedelta(seconds=2))
    right = client.post("/account/two-factor/verify/", {"code": _code(device), "next": "/resources/"})

    assert right.status_code == 302
    assert right["Location"] == "/resources/"
    assert client.get(PAGE).status_code == 200
    assert client.get(API).status_code == 200


def test_a_device_asks_for_a_code_even_when_no_role_requires_it(client, reader):
    device = _device(reader)
    _sign_in(client, "reader")

    assert client.get(PAGE)["Location"].startswith("/account/two-factor/verify/")
    assert client.get(API).status_code == 403

    client.post("/account/two-factor/verify/", {"code": _code(device)})

    assert client.get(PAGE).status_code == 200


def test_a_code_is_accepted_once_only(client, reader, clock):
    device = _device(reader)
    _sign_in(client, "reader")
    code = _code(device)
    assert client.post("/account/two-factor/verify/", {"code": code}).status_code == 302
    client.post("/logout/")

    _sign_in(client, "reader")
    response = client.post("/account/two-factor/verify/", {"code": code})

    assert response.status_code == 422
    assert client.get(PAGE).status_code == 302


def test_the_verify_page_sends_someone_without_a_device_on(client, reader):
    client.force_login(reader)

    response = client.get("/account/two-factor/verify/?next=/resources/")

    assert response.status_code == 302
    assert response["Location"] == "/resources/"


def test_the_verify_page_never_sends_someone_to_another_site(client, reader):
    device = _device(reader)
    client.force_login(reader)

    response = client.post("/account/two-factor/verify/", {"code": _code(device), "next": "https://evil.example/"})

    assert response.status_code == 302
    assert response["Location"] == "/"


# --- Two-factor sign-in: turning it on and off -----------------------------------------------------------------------


def test_anyone_may_turn_it_on_from_the_account_page(client, reader):
    client.force_login(reader)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    assert "Your role requires" not in page.content.decode()
    assert 'aria-label="Sections"' in page.content.decode()

    response = client.post("/account/two-factor/", {"code": _code(client.session[PENDING_KEY])})

    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=reader, confirmed=True).count() == 1
    # Verified by the code just entered: no second prompt in this session.
    assert client.get(PAGE).status_code == 200
    assert "two-factor-on" in client.get("/account/two-factor/").content.decode()


def test_removing_the_device_takes_a_right_code_and_is_logged(client, reader, clock):
    device = _device(reader)
    client.force_login(reader)
    client.post("/account/two-factor/verify/", {"code": _code(device)})
    clock.shift(timedelta(seconds=30))

    wrong = client.post("/account/two-factor/", {"code": _wrong_code(_code(device))})
    assert wrong.status_code == 422
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    clock.shift(timedelta(seconds=2))

    right = client.post("/account/two-factor/", {"code": _code(device)})

    assert right.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert ActivityLogEntry.objects.filter(
        action="permissions.two_factor.removed", target_id=str(reader.pk), actor=reader
    ).exists()
    assert right["Location"] == "/account/two-factor/"
    assert "Two-factor sign-in is off." in client.get(right["Location"]).content.decode()
    assert client.get(PAGE).status_code == 200


def test_removing_a_required_device_sends_the_person_to_set_up_a_new_one(client, reader, clock):
    _require_two_factor()
    device = _device(reader)
    client.force_login(reader)
    client.post("/account/two-factor/verify/", {"code": _code(device)})
    clock.shift(timedelta(seconds=30))

    client.post("/account/two-factor/", {"code": _code(device)})

    assert client.get(PAGE)["Location"].startswith("/account/two-factor/")
    assert client.get("/account/two-factor/").status_code == 200


# --- The API -------------------------------------------------------------------------------------------------------


def test_bearer_tokens_are_not_asked_for_a_second_factor(reader):
    _require_two_factor()
    _token, secret = api_token_create(user=reader, name="SIEM")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert api.get(API).status_code == 200


def test_a_bearer_token_works_even_beside_an_unverified_session(client, reader):
    _require_two_factor()
    _token, secret = api_token_create(user=reader, name="SIEM")
    _sign_in(client, "reader")
    assert client.get(API).status_code == 403

    response = client.get(API, HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200
