"""The client's address, for lockouts, with a configured number of trusted reverse proxies in front."""

from ipaddress import ip_address

from django.conf import settings

__all__ = ("client_ip",)


def client_ip(request) -> str | None:
    """
    REMOTE_ADDR without proxies. Behind N trusted proxies, each appends the address it received the request from
    to X-Forwarded-For, so the client is the N-th entry from the right; entries further left are whatever the
    client sent and are never trusted.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote
