"""
Evidence objects → entities with canonical keys.

The key makes one entity of one real-world thing whatever sensor saw it: lowercase FQDN (else device id) for
devices, lowercase UPN (else SID, Entra object id, DOMAIN\\account) for users, sha256 (else sha1, md5) for files,
normalised addresses for IPs, URLs and mailboxes. Empty strings and placeholders never become entities.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

__all__ = ("EntityRecord", "is_junk", "kind_of", "normalize_ip", "normalize_url")

JUNK_VALUES = frozenset(
    {
        "",
        "-",
        "--",
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "unknown",
        "undefined",
        "0",
        "0.0.0.0",  # noqa: S104 - a placeholder address to discard, not a bind address
        "::",
        "localhost",
        "00000000-0000-0000-0000-000000000000",
        "0000000000000000000000000000000000000000",
    }
)
HEX = {32: "md5", 40: "sha1", 64: "sha256"}
_hex = re.compile(r"^[0-9a-f]+$")


def is_junk(value) -> bool:
    return not isinstance(value, str | int) or str(value).strip().lower() in JUNK_VALUES


def kind_of(odata_type: str) -> str:
    """'#microsoft.graph.security.deviceEvidence' → 'device'."""
    name = odata_type.rsplit(".", 1)[-1]
    return name[: -len("Evidence")] if name.endswith("Evidence") else name


@dataclass
class EntityRecord:
    kind: str
    key: str
    display_name: str
    attributes: dict = field(default_factory=dict)
    os_platform: str = ""
    risk_score: str = ""
    device_group_name: str = ""
    # Only for correlation: whether this entity may tie alerts together (a file known only by its path may not).
    strong: bool = False
    # A name made up for want of a better one ("process (5872)" when the image file is unknown): it never replaces
    # a real one.
    name_is_fallback: bool = False


def _clean(value) -> str | None:
    if value is None or is_junk(value):
        return None
    return str(value).strip()


def normalize_ip(value) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_loopback:
        return None
    return address.compressed


def normalize_url(value) -> str | None:
    text = _clean(value)
    if text is None:
        return None
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not host or is_junk(host):
        return None
    scheme = parts.scheme.lower()
    default_port = {"http": 80, "https": 443}.get(scheme)
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _lower(value) -> str | None:
    text = _clean(value)
    return text.lower() if text else None


def user_record(account: dict | None) -> EntityRecord | None:
    if not isinstance(account, dict):
        return None
    upn = _lower(account.get("userPrincipalName"))
    sid = _lower(account.get("userSid"))
    object_id = _lower(account.get("azureAdUserId"))
    name = _lower(account.get("accountName"))
    domain = _lower(account.get("domainName"))
    key = upn or sid or object_id or (f"{domain}\\{name}" if name and domain else name)
    if not key:
        return None
    display = _clean(account.get("displayName")) or upn or (f"{domain}\\{name}" if domain and name else key)
    attributes = {k: v for k, v in account.items() if v not in (None, "")}
    return EntityRecord("user", key, display, attributes, strong=True)


def file_record(details: dict | None) -> EntityRecord | None:
    if not isinstance(details, dict):
        return None
    hashes = {}
    for name in ("sha256", "sha1", "md5"):
        value = _lower(details.get(name))
        if value and _hex.match(value) and HEX.get(len(value)) == name:
            hashes[name] = value
    file_name = _clean(details.get("fileName"))
    path = _clean(details.get("filePath"))
    attributes = {k: v for k, v in details.items() if v not in (None, "")}
    if hashes:
        key = hashes.get("sha256") or hashes.get("sha1") or hashes["md5"]
        return EntityRecord("file", key, file_name or key, attributes, strong=True)
    if file_name or path:
        # Without a hash the path is the best key, but too weak to tie alerts together.
        full = "\\".join(part for part in (path, file_name) if part)
        return EntityRecord("file", full.lower(), file_name or full, attributes, strong=False)
    return None


# The name of a process whose image file is unknown, before its id: "process (5872)".
PROCESS_FALLBACK_NAME = "process"

# What an evidence object says about its alert rather than about the entity: never an entity attribute, or every
# alert would rewrite the entities it names.
EVIDENCE_ONLY_FIELDS = frozenset(
    {
        "@odata.type",
        "createdDateTime",
        "roles",
        "detailedRoles",
        "verdict",
        "remediationStatus",
        "remediationStatusDetails",
        "detectionStatus",
        "tags",
    }
)


def device_record(evidence: dict) -> EntityRecord | None:
    dns_name = _lower(evidence.get("deviceDnsName"))
    device_id = _lower(evidence.get("mdeDeviceId")) or _lower(evidence.get("azureAdDeviceId"))
    key = dns_name or device_id
    if not key:
        return None
    attributes = {k: v for k, v in evidence.items() if k not in EVIDENCE_ONLY_FIELDS and v not in (None, "", [])}
    return EntityRecord(
        "device",
        key,
        (dns_name or key).split(".", 1)[0] if dns_name else key,
        attributes,
        os_platform=str(evidence.get("osPlatform") or "")[:64],
        risk_score=str(evidence.get("riskScore") or "").lower(),
        device_group_name=(_clean(evidence.get("rbacGroupName")) or "")[:100],
        strong=True,
    )
