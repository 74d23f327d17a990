from base64 import b32encode
from binascii import unhexlify

import django_otp
import qrcode
import qrcode.image.svg
from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from permissions.account.forms import TotpCodeForm
from permissions.account.middleware import session_clock_start, two_factor_status_of
from permissions.account.selectors import last_failed_sign_in, totp_devices_of
from permissions.account.services import (
    password_change_record,
    totp_code_check,
    totp_device_enrol,
    totp_device_remove,
    totp_key_new,
)

__all__ = ("PasswordChangeView", "SignInView", "locked_out", "two_factor", "two_factor_verify")

# The secret of an authenticator being set up, until the person confirms it with a code.
PENDING_KEY = "vigil_totp_pending_key"


class SignInView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        session_clock_start(self.request)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own: the old password, then the new one twice, checked by AUTH_PASSWORD_VALIDATORS."""

    template_name = "account/password_change.html"
    success_url = reverse_lazy("password_change")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_change_record(user=self.request.user)
        messages.success(self.request, "Your password has been changed.")
        return response


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout response: a page that says why and when to try again, answered 429."""
    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request)
    last_failure = last_failed_sign_in(username, getattr(request, "axes_ip_address", None))
    retry_at = (last_failure or timezone.now()) + cool_off
    minutes = max(1, -(-int((retry_at - timezone.now()).total_seconds()) // 60))
    response = render(
        request,
        "registration/locked_out.html",
        {
            "username": username,
            "retry_at": retry_at,
            "minutes": minutes,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Set up an authenticator (scan, confirm with a code), or see and remove the one set up."""
    status = two_factor_status_of(request, fresh=True)
    if status.enrolled:
        return _two_factor_manage(request, status)
    key = request.session.get(PENDING_KEY)
    if key is None:
        key = request.session[PENDING_KEY] = totp_key_new()
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = totp_device_enrol(user=request.user, key=key, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            del request.session[PENDING_KEY]
            django_otp.login(request, device)
            two_factor_status_of(request, fresh=True)
            messages.success(request, "Two-factor sign-in is on: from now on you will be asked for a code.")
            return redirect(_next_url(request))
    setup = TOTPDevice(user=request.user, key=key)
    return render(
        request,
        "account/two_factor.html",
        {
            "form": form,
            "status": status,
            "qr_svg": _qr_svg(setup.config_url),
            "secret": " ".join(_chunks(b32encode(unhexlify(key)).decode(), 4)),
            "config_url": setup.config_url,
            "next": _next_url(request, default=""),
            # Until the person has a second factor, the section links would only lead back here.
            **({} if request.user.is_verified() or not status.required else {"navigation": []}),
        },
        status=422 if request.method == "POST" else 200,
    )


def _two_factor_manage(request, status):
    device = totp_devices_of(request.user).first()
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = totp_code_check(user=request.user, code=form.cleaned_data["code"])
        if check.device is not None:
            totp_device_remove(user=request.user, device=check.device)
            two_factor_status_of(request, fresh=True)
            if status.required:
                messages.warning(request, "Authenticator removed. Your role requires one: set up a new one now.")
            else:
                messages.success(request, "Two-factor sign-in is off.")
            return redirect("two_factor")
        form.add_error("code", _wrong_code_message(check))
    return render(
        request,
        "account/two_factor.html",
        {"form": form, "status": status, "device": device},
        status=422 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """The second step of signing in: a code from the person's authenticator."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    status = two_factor_status_of(request, fresh=True)
    if not status.enrolled:
        return redirect(reverse("two_factor") if status.required else _next_url(request))
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = totp_code_check(user=request.user, code=form.cleaned_data["code"])
        if check.device is not None:
            django_otp.login(request, check.device)
            return redirect(_next_url(request))
        form.add_error("code", _wrong_code_message(check))
    return render(
        request,
        "account/two_factor_verify.html",
        {"form": form, "next": _next_url(request, default=""), "navigation": []},
        status=422 if request.method == "POST" else 200,
    )


def _wrong_code_message(check) -> str:
    if check.retry_at is not None:
        seconds = max(1, int((check.retry_at - timezone.now()).total_seconds() + 0.999))
        return f"Too many wrong codes: wait {seconds} second{'s' if seconds != 1 else ''} and try again."
    return "That code is not right, or it was already used. Enter the current code from your authenticator app."


def _next_url(request, default=None) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL) if default is None else default


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=12, border=2)
    return image.to_string(encoding="unicode")


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]
