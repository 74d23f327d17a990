"""
Evidence objects → entities with canonical keys.

The key makes one entity of one real-world thing whatever sensor saw it: lowercase FQDN (else device id) for
devices, lowercase UPN (else SID, Entra object id, DOMAIN\\account) for users, sha256 (else sha1, md5) for files,
normalised addresses for IPs, URLs and mailboxes. Empty strings and placeholders never become entities.

Every record fits the Entity columns (the limits are the model's): a name too long is cut, a key too long is
bounded or refused (see FREE_TEXT_KEY_KINDS), so no value from a payload ever fails to store.
"""

import hashlib
import ipaddress
import re
from dataclasses import InitVar, dataclass, field
from urllib.parse import urlsplit, urlunsplit

from incidents.models import DeviceGroup, Entity

__all__ = (
    "DISPLAY_NAME_MAX_LENGTH",
    "KEY_MAX_LENGTH",
    "EntityRecord",
    "FieldError",
    "cut",
    "first_identifier",
    "is_junk",
    "kind_of",
    "normalize_ip",
    "normalize_url",
    "whole_number",
)

KEY_MAX_LENGTH = Entity._meta.get_field("key").max_length
DISPLAY_NAME_MAX_LENGTH = Entity._meta.get_field("display_name").max_length
OS_PLATFORM_MAX_LENGTH = Entity._meta.get_field("os_platform").max_length
DEVICE_GROUP_NAME_MAX_LENGTH = DeviceGroup._meta.get_field("name").max_length
# PostgreSQL's bigint, Graph's Int64 (process ids, file sizes).
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

# Kinds whose key is free text (a URL, a path, what a mail cluster groups by) or is made of other keys (a process:
# its device, id and start): it can be longer than the key column and still be right. Such a key keeps its start,
# for people who search by it, and ends with a digest of the whole, so that two long URLs alike in their first few
# hundred characters stay two entities. The other kinds are keyed by identifiers (device names and ids, UPNs, SIDs,
# addresses, hashes, message ids) that are never that long unless they are wrong: the alert naming one is refused.
FREE_TEXT_KEY_KINDS = frozenset({"url", "file", "process", "registryKey", "registryValue", "mailCluster"})


class FieldError(ValueError):
    """A value that cannot be stored, and the field it was read from (a dotted path below the object read)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field

    def below(self, parent: str) -> "FieldError":
        return FieldError(f"{parent}.{self.field}" if self.field else parent, str(self))


def cut(text: str, max_length: int) -> str:
    """`text` in at most `max_length` characters, ending with "…" when it had to be cut."""
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def whole_number(value, field: str, *, minimum: int = BIGINT_MIN) -> int:
    """`value` (an integer, as digits or as a float without fraction) as PostgreSQL's bigint holds it, or FieldError."""
    written_otherwise = isinstance(value, str) and _digits.fullmatch(value.strip())
    if written_otherwise or (isinstance(value, float) and value.is_integer()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, "must be a whole number")
    if not minimum <= value <= BIGINT_MAX:
        raise FieldError(field, f"must be a whole number from {minimum} to {BIGINT_MAX}")
    return value


def _bounded_key(key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: KEY_MAX_LENGTH - len(digest) - 1]}…{digest}"


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
_digits = re.compile(r"[+-]?[0-9]{1,20}")


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
    # The field the key was read from, named by the error when the key is too long to store.
    key_field: InitVar[str] = ""

    def __post_init__(self, key_field: str):
        if len(self.key) > KEY_MAX_LENGTH:
            if self.kind not in FREE_TEXT_KEY_KINDS:
                raise FieldError(
                    key_field,
                    f"names the {self.kind} by {len(self.key)} characters; an identifier is at most "
                    f"{KEY_MAX_LENGTH} characters",
                )
            self.key = _bounded_key(self.key)
        self.display_name = cut(self.display_name, DISPLAY_NAME_MAX_LENGTH)
        self.os_platform = self.os_platform[:OS_PLATFORM_MAX_LENGTH]
        self.device_group_name = self.device_group_name[:DEVICE_GROUP_NAME_MAX_LENGTH].strip()


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


def first_identifier(source: dict, *fields: str) -> tuple[str, str | None]:
    """(the first of `fields` that names something, its value lowercased), or (the first field, None)."""
    for name in fields:
        value = _lower(source.get(name))
        if value:
            return name, value
    return fields[0], None


def user_record(account: dict | None) -> EntityRecord | None:
    if not isinstance(account, dict):
        return None
    key_field, key = first_identifier(account, "userPrincipalName", "userSid", "azureAdUserId")
    upn = key if key_field == "userPrincipalName" else None
    name = _lower(account.get("accountName"))
    domain = _lower(account.get("domainName"))
    if not key:
        key_field, key = "accountName", (f"{domain}\\{name}" if name and domain else name)
    if not key:
        return None
    display = _clean(account.get("displayName")) or upn or (f"{domain}\\{name}" if domain and name else key)
    attributes = {k: v for k, v in account.items() if v not in (None, "")}
    return EntityRecord("user", key, display, attributes, strong=True, key_field=key_field)


def file_record(details: dict | None) -> EntityRecord | None:
    if not isinstance(details, dict):
        return None
    size = details.get("fileSize")
    if size not in (None, ""):
        whole_number(size, "fileSize", minimum=0)
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
    key_field, key = first_identifier(evidence, "deviceDnsName", "mdeDeviceId", "azureAdDeviceId")
    if not key:
        return None
    attributes = {k: v for k, v in evidence.items() if k not in EVIDENCE_ONLY_FIELDS and v not in (None, "", [])}
    return EntityRecord(
        "device",
        key,
        key.split(".", 1)[0] if key_field == "deviceDnsName" else key,
        attributes,
        os_platform=_text(evidence.get("osPlatform")),
        risk_score=_text(evidence.get("riskScore")).lower(),
        device_group_name=_clean(evidence.get("rbacGroupName")) or "",
        strong=True,
        key_field=key_field,
    )


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""
