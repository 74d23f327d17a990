from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone

from permissions.account.selectors import TwoFactorStatus, two_factor_status

__all__ = (
    "LAST_SEEN",
    "SIGNED_IN_AT",
    "SessionExpiryMiddleware",
    "TwoFactorMiddleware",
    "session_clock_start",
    "two_factor_status_of",
)

API_PREFIXES = ("/api/", "/v1.0/")

# Session keys, in seconds since the epoch.
SIGNED_IN_AT = "vigil_signed_in_at"
LAST_SEEN = "vigil_last_seen"
# The last-seen time is written at most this often (seconds), so that reading pages does not write the session
# on every request; the idle timeout is that much less exact.
LAST_SEEN_PRECISION = 60
# Whether the signed-in person owes a second factor, as last read, and when: [required, enrolled, timestamp].
TWO_FACTOR_STATUS = "vigil_two_factor_status"
# How long that reading is trusted before it is read again: a role newly requiring two-factor sign-in reaches
# people already signed in within this time (seconds), and pages do not pay a query for it on every request.
TWO_FACTOR_STATUS_MAX_AGE = 60


def session_clock_start(request) -> None:
    """Start the absolute and idle clocks of a sign-in (the login view calls it)."""
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session.pop(TWO_FACTOR_STATUS, None)


def two_factor_status_of(request, *, fresh: bool = False) -> TwoFactorStatus:
    """The signed-in person's two-factor status, read again when older than TWO_FACTOR_STATUS_MAX_AGE or asked to."""
    now = timezone.now().timestamp()
    cached = request.session.get(TWO_FACTOR_STATUS)
    if not fresh and cached and 0 <= now - cached[2] < TWO_FACTOR_STATUS_MAX_AGE:
        return TwoFactorStatus(required=cached[0], enrolled=cached[1])
    status = two_factor_status(request.user)
    request.session[TWO_FACTOR_STATUS] = [status.required, status.enrolled, now]
    return status


class SessionExpiryMiddleware:
    """
    Ends a sign-in SESSION_COOKIE_AGE seconds after it began, however busy, and after SESSION_IDLE_TIMEOUT seconds
    without a request. The session's own expiry cannot do both: Django pushes it back whenever the session is saved.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request):
        session = request.session
        now = timezone.now().timestamp()
        # Sessions signed in some other way (the Django admin's login, the test client) start their clocks here.
        signed_in_at = session.setdefault(SIGNED_IN_AT, now)
        last_seen = session.get(LAST_SEEN, now)
        if now - signed_in_at >= settings.SESSION_COOKIE_AGE:
            reason = f"Sign-ins last {_duration(settings.SESSION_COOKIE_AGE)}: please sign in again."
        elif now - last_seen >= settings.SESSION_IDLE_TIMEOUT:
            reason = (
                f"You were signed out after {_duration(settings.SESSION_IDLE_TIMEOUT)} without activity: "
                "please sign in again."
            )
        else:
            if now - last_seen >= LAST_SEEN_PRECISION or LAST_SEEN not in session:
                session[LAST_SEEN] = now
            return
        logout(request)
        messages.info(request, reason)


class TwoFactorMiddleware:
    """
    After the password, a person with an authenticator must enter a code, and a person whose role requires one must
    set one up and enter a code; until then they reach only the two-factor pages and sign-out.

    API calls with a bearer token are not concerned: the token is the API's own credential. A session-authenticated
    API call that still owes a code is refused with 403.
    """

    # Views an unverified person may reach: signing in and out and the second step itself. The set-up page is
    # open only to those with no authenticator yet.
    ALWAYS_OPEN = frozenset({"login", "logout", "two_factor_verify"})
    SET_UP = "two_factor"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        is_api = request.path.startswith(API_PREFIXES)
        if is_api and request.headers.get("Authorization", "").split(" ", 1)[0].lower() == "bearer":
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        if view_name in self.ALWAYS_OPEN:
            return None
        status = two_factor_status_of(request)
        if not status.needs_code:
            return None
        if status.enrolled:
            target, message = "two_factor_verify", "Enter the code from your authenticator app to finish signing in."
        elif view_name == self.SET_UP:
            return None
        else:
            target, message = "two_factor", "Your role requires two-factor sign-in: set it up to continue."
        if is_api:
            return JsonResponse({"detail": f"Two-factor sign-in is not complete. {message}"}, status=403)
        url = reverse(target)
        if request.method == "GET" and request.path != "/":
            url += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
