"""Writes for account security: two-factor devices and the activity log of account changes."""

import time
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from permissions.account.selectors import totp_devices_of
from portal.services import activity_record

__all__ = (
    "TOTP_DEVICE_NAME",
    "CodeCheck",
    "password_change_record",
    "totp_code_check",
    "totp_device_enrol",
    "totp_device_remove",
    "totp_key_new",
    "totp_token",
)

TOTP_DEVICE_NAME = "Authenticator app"


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code: the device that accepted it, or why none did."""

    device: TOTPDevice | None = None
    # Set when too many wrong codes were entered: no code is checked before then.
    retry_at: datetime | None = None


def totp_key_new() -> str:
    """A new TOTP secret (hex, 20 random bytes), kept in the session until the person confirms a code."""
    return random_hex(20)


@transaction.atomic
def totp_device_enrol(*, user, key: str, code: str) -> TOTPDevice:
    """
    Confirm the authenticator set up with `key` by one of its codes and store it as `user`'s device.

    Raises ValidationError when the code does not match or the user already has an authenticator.
    """
    if totp_devices_of(user).select_for_update().exists():
        raise ValidationError("Two-factor sign-in is already set up for this account.")
    device = TOTPDevice(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    token = totp_token(code)
    if token is None or not totp.verify(token, device.tolerance):
        raise ValidationError("That code is not right. Check the time on your phone and enter the current code.")
    # The code just used cannot be used again to sign in.
    device.last_t = totp.t()
    device.save()
    activity_record(actor=user, action="permissions.two_factor.enrolled", target=user)
    return device


@transaction.atomic
def totp_code_check(*, user, code: str) -> CodeCheck:
    """
    Check `code` against `user`'s authenticators. Wrong codes slow further tries down (1, 2, 4, ... seconds,
    django-otp's throttling), and a code is accepted once only.
    """
    token = totp_token(code)
    retry_at = None
    for device in totp_devices_of(user).select_for_update():
        allowed, details = device.verify_is_allowed()
        if not allowed:
            retry_at = (details or {}).get("locked_until") or retry_at
            continue
        if token is None:
            device.throttle_increment(commit=True)
        elif device.verify_token(token):
            return CodeCheck(device=device)
    return CodeCheck(retry_at=retry_at)


@transaction.atomic
def totp_device_remove(*, user, device: TOTPDevice) -> None:
    device.delete()
    activity_record(actor=user, action="permissions.two_factor.removed", target=user)


def password_change_record(*, user) -> None:
    activity_record(actor=user, action="permissions.password.changed", target=user)


def totp_token(code: str) -> int | None:
    """The code as a number, spaces allowed ("123 456"); None unless it is 6 or 8 digits."""
    digits = "".join(code.split())
    if not digits.isdecimal() or len(digits) not in (6, 8):
        return None
    return int(digits)
