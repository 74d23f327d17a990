"""Reads for account security: who must sign in with a second factor, and with which device."""

from dataclasses import dataclass

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db.models import Exists, Max, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from permissions.selectors import assignments_of

__all__ = ("TwoFactorStatus", "last_failed_sign_in", "totp_devices_of", "two_factor_status")


@dataclass(frozen=True)
class TwoFactorStatus:
    # A role the user holds (directly or through a group) requires a second factor.
    required: bool
    # The user has a confirmed authenticator, so signing in takes a code whether or not it is required.
    enrolled: bool

    @property
    def needs_code(self) -> bool:
        return self.required or self.enrolled


def two_factor_status(user) -> TwoFactorStatus:
    """Whether `user` must use a second factor and whether they have one, in one query.

    Required means any role the user holds, directly or through a group, requires it; superusers are no exception.
    """
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            required=Exists(assignments_of(user).filter(role__require_two_factor=True)),
            enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .values_list("required", "enrolled")
        .first()
    )
    required, enrolled = row or (False, False)
    return TwoFactorStatus(required=required, enrolled=enrolled)


def totp_devices_of(user):
    """The user's confirmed authenticators."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk")


def last_failed_sign_in(username: str, ip_address: str | None):
    """When the latest failed sign-in as `username` from `ip_address` was (django-axes' record), or None."""
    attempts = AccessAttempt.objects.filter(username=username, ip_address=ip_address)
    return attempts.aggregate(last=Max("attempt_time"))["last"]
