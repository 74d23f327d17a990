"""
Validation of one Graph alerts_v2 object into a ParsedAlert, or the errors that refuse it, by field path.

Accepts Graph's camelCase enum values and PascalCase ones; keeps every evidence item, including types this module
does not know (stored with their @odata.type and no entity).

Whatever reaches a bounded column is checked here, against the model's own limits: a parsed alert always stores.
Entity records bound themselves (entities.EntityRecord); an error they raise is reported at the field it came from.
"""

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils import timezone

from incidents.choices import (
    DETERMINATION_ALIASES,
    AlertStatus,
    Classification,
    DetectionSource,
    Determination,
    DeviceRiskScore,
    EvidenceRemediationStatus,
    EvidenceVerdict,
    ServiceSource,
    Severity,
)
from incidents.ingestion import entities
from incidents.ingestion.entities import EntityRecord
from incidents.ingestion.enums import normalize_enum
from incidents.models import Alert, Evidence

__all__ = ("EvidenceRecord", "ParsedAlert", "parse_alert")

GRAPH_EVIDENCE_NAMESPACE = "#microsoft.graph.security."
MITRE_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# Text columns have no limit of their own; these keep one alert's text to what a person could read.
LONG_TEXT_MAX_LENGTH = 100_000
DETAILS_MAX_LENGTH = 10_000


def _max_length(model, name: str) -> int:
    """The length limit of a varchar column (or of the items of a varchar[] one), as the model declares it."""
    column = model._meta.get_field(name)
    return getattr(column, "base_field", column).max_length


def _quoted(value) -> str:
    """`value` as an error message quotes it: its start, not the thousand characters a broken source may send."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


@dataclass
class EvidenceRecord:
    odata_type: str
    entity: EntityRecord | None
    roles: list[str]
    detailed_roles: list[str]
    tags: list[str]
    verdict: str
    remediation_status: str
    remediation_status_details: str
    created_at: datetime | None
    payload: dict
    device: EntityRecord | None = None
    image_file: EntityRecord | None = None
    parent_process: EntityRecord | None = None


@dataclass
class ParsedAlert:
    graph_id: str
    provider_alert_id: str
    service_source: str
    fields: dict
    evidence: list[EvidenceRecord] = field(default_factory=list)
    payload: dict = field(default_factory=dict)
    # Set once stored.
    alert_id: int | None = None

    @property
    def dedup_key(self) -> tuple[str, str]:
        return self.service_source, self.provider_alert_id


class _Errors(dict):
    def guard(self, path, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ValueError as error:
            self[path] = str(error)
            return None


def _string(value, *, max_length, required=False) -> str:
    if value is None:
        if required:
            raise ValueError("is required")
        return ""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    value = value.strip()
    if required and not value:
        raise ValueError("must not be empty")
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return value


def _datetime(value) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date and time string")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        # Fractions longer than Python reads (Graph sends 7 digits, "...54.9906667Z"; others send more).
        try:
            parsed = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text))
        except ValueError as error:
            raise ValueError(f"{_quoted(value)} is not an ISO 8601 date and time") from error
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    # Time arithmetic (windows, rollups) must stay within what PostgreSQL and Python represent.
    if not EARLIEST <= parsed <= LATEST:
        raise ValueError(f"{_quoted(value)} is outside the years {EARLIEST.year} to {LATEST.year}")
    # In UTC: Python reads offsets up to a day, PostgreSQL refuses those beyond 15:59. The instant is the same.
    return parsed.astimezone(UTC)


def _string_list(value, *, max_length=200, pattern=None) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("must be a list of strings")
    items = [item.strip() for item in value if item.strip()]
    if pattern is MITRE_TECHNIQUE:
        items = [item.upper() for item in items]
    for item in items:
        if len(item) > max_length:
            raise ValueError(f"{item[:40]!r}… is longer than {max_length} characters")
        if pattern and not pattern.match(item):
            raise ValueError(f"{item!r} is not a MITRE ATT&CK technique id (T1234 or T1234.001)")
    return list(dict.fromkeys(items))


def _enum(value, choices, default, *, aliases=None) -> str:
    if value is None:
        return default
    return normalize_enum(value, choices, aliases=aliases)


def parse_alert(payload) -> tuple[ParsedAlert | None, dict[str, str]]:
    """The parsed alert and no errors, or None and {field path: message}."""
    if not isinstance(payload, dict):
        return None, {"": "each alert must be a JSON object"}
    problem = _unstorable_fast(payload)
    if problem:
        return None, {"": problem}
    errors = _Errors()
    get = payload.get

    graph_id = errors.guard("id", _string, get("id"), max_length=_max_length(Alert, "graph_id"))
    provider_alert_id = errors.guard(
        "providerAlertId", _string, get("providerAlertId"), max_length=_max_length(Alert, "provider_alert_id")
    )
    if "id" not in errors and "providerAlertId" not in errors and not (graph_id or provider_alert_id):
        errors["providerAlertId"] = "an alert needs providerAlertId or id to be deduplicated"
    now = timezone.now()
    created_at = errors.guard("createdDateTime", _datetime, get("createdDateTime"))
    fields = {
        "title": errors.guard("title", _string, get("title"), max_length=_max_length(Alert, "title"), required=True),
        "description": errors.guard("description", _string, get("description"), max_length=LONG_TEXT_MAX_LENGTH),
        "recommended_actions": errors.guard(
            "recommendedActions", _string, get("recommendedActions"), max_length=LONG_TEXT_MAX_LENGTH
        ),
        "category": _text_field(errors, get, "category", "category"),
        "severity": errors.guard("severity", _enum, get("severity"), Severity, Severity.UNKNOWN),
        "status": errors.guard("status", _enum, get("status"), AlertStatus, AlertStatus.NEW),
        "classification": errors.guard(
            "classification", _enum, get("classification"), Classification, Classification.UNKNOWN
        ),
        "determination": errors.guard(
            "determination",
            _enum,
            get("determination"),
            Determination,
            Determination.UNKNOWN,
            aliases=DETERMINATION_ALIASES,
        ),
        "assigned_to": _text_field(errors, get, "assignedTo", "assigned_to"),
        "detection_source": errors.guard(
            "detectionSource", _enum, get("detectionSource"), DetectionSource, DetectionSource.UNKNOWN
        ),
        "detector_id": _text_field(errors, get, "detectorId", "detector_id"),
        "product_name": _text_field(errors, get, "productName", "product_name"),
        "actor_display_name": _text_field(errors, get, "actorDisplayName", "actor_display_name"),
        "threat_display_name": _text_field(errors, get, "threatDisplayName", "threat_display_name"),
        "threat_family_name": _text_field(errors, get, "threatFamilyName", "threat_family_name"),
        "mitre_techniques": errors.guard(
            "mitreTechniques",
            _string_list,
            get("mitreTechniques"),
            max_length=_max_length(Alert, "mitre_techniques"),
            pattern=MITRE_TECHNIQUE,
        ),
        "system_tags": errors.guard(
            "systemTags", _string_list, get("systemTags"), max_length=_max_length(Alert, "system_tags")
        ),
        "alert_web_url": _text_field(errors, get, "alertWebUrl", "alert_web_url"),
        "tenant_id": _text_field(errors, get, "tenantId", "tenant_id"),
        "first_activity": errors.guard("firstActivityDateTime", _datetime, get("firstActivityDateTime")),
        "last_activity": errors.guard("lastActivityDateTime", _datetime, get("lastActivityDateTime")),
        "created_at": created_at or now,
        "last_update": errors.guard("lastUpdateDateTime", _datetime, get("lastUpdateDateTime")),
        "resolved_at": errors.guard("resolvedDateTime", _datetime, get("resolvedDateTime")),
    }
    service_source = errors.guard("serviceSource", _enum, get("serviceSource"), ServiceSource, ServiceSource.UNKNOWN)
    additional = get("additionalData")
    if additional is not None and not isinstance(additional, dict):
        errors["additionalData"] = "must be an object"
    fields["additional_data"] = additional or {}
    if fields["alert_web_url"] and not re.match(r"^https?://", fields["alert_web_url"], re.IGNORECASE):
        errors["alertWebUrl"] = "must be an http(s) URL"

    evidence = []
    raw_evidence = get("evidence")
    if raw_evidence is not None and not isinstance(raw_evidence, list):
        errors["evidence"] = "must be a list of evidence objects"
    elif raw_evidence:
        evidence = _parse_evidence_list(raw_evidence, errors)

    if errors:
        return None, dict(errors)
    fields["last_update"] = fields["last_update"] or now
    if fields["status"] == AlertStatus.RESOLVED and fields["resolved_at"] is None:
        fields["resolved_at"] = fields["last_update"]
    fields["first_activity"] = fields["first_activity"] or fields["created_at"]
    fields["last_activity"] = max(fields["last_activity"] or fields["first_activity"], fields["first_activity"])
    return (
        ParsedAlert(
            graph_id=graph_id,
            provider_alert_id=provider_alert_id or graph_id,
            service_source=service_source,
            fields=fields,
            evidence=evidence,
            payload=payload,
        ),
        {},
    )


def _text_field(errors: _Errors, get, name: str, column: str) -> str | None:
    """The alert's text field `name`, checked against the length of its Alert column."""
    return errors.guard(name, _string, get(name), max_length=_max_length(Alert, column))


MAX_DEPTH = 32


def _unstorable_fast(payload: dict) -> str | None:
    """
    `_unstorable`, answered for the common case by one C-speed serialisation.

    NUL characters show as "\\u0000" in JSON text, unpaired surrogates fail to encode, NaN and Infinity are refused by
    `allow_nan=False`; only the nesting depth needs a walk (first: it bounds the serialiser's recursion), and that
    walk visits containers, not every value. When the text hints at a problem (a literal backslash-u0000 in a string
    can look like one), the full walk says exactly what.
    """
    if not _depth_within(payload, MAX_DEPTH):
        return f"is nested more than {MAX_DEPTH} levels deep"
    try:
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return _unstorable(payload)
    return _unstorable(payload) if "\\u0000" in text else None


def _depth_within(container, levels: int) -> bool:
    if levels < 0:
        return False
    children = container.values() if isinstance(container, dict) else container
    return all(_depth_within(child, levels - 1) for child in children if isinstance(child, dict | list))


def _unstorable(value, depth: int = 0) -> str | None:
    """Why PostgreSQL could not store this JSON as it is (text and jsonb), or None."""
    if depth > MAX_DEPTH:
        return f"is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character (\\u0000), which cannot be stored"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired UTF-16 surrogate, which is not valid text"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "contains NaN or Infinity, which are not JSON numbers"
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = _unstorable(item, depth + 1)
        if problem:
            return problem
    return None


def _image_file_details(value) -> tuple[dict | None, str]:
    """
    A process's image file and where its fields are: Graph sends the fileDetails object itself ({"sha256": ...});
    some sources wrap it the way fileEvidence does ({"fileDetails": {...}}). Both name the same file.
    """
    if not isinstance(value, dict):
        return None, ""
    return (value["fileDetails"], "fileDetails") if isinstance(value.get("fileDetails"), dict) else (value, "")


def _parse_evidence_list(items: list, errors: _Errors) -> list[EvidenceRecord]:
    # Devices first, so that process, file and registry evidence can link to the device they name by id.
    devices_by_id: dict[str, EntityRecord] = {}
    for item in items:
        if isinstance(item, dict) and entities.kind_of(str(item.get("@odata.type", ""))) == "device":
            try:
                record = entities.device_record(item)
            except entities.FieldError:
                continue  # reported where the device's own evidence is parsed
            if record:
                for id_field in ("mdeDeviceId", "azureAdDeviceId"):
                    if isinstance(item.get(id_field), str) and item[id_field].strip():
                        devices_by_id[item[id_field].strip().lower()] = record
    odata_type_max_length = _max_length(Evidence, "odata_type")
    parsed = []
    for index, item in enumerate(items):
        path = f"evidence[{index}]"
        if not isinstance(item, dict):
            errors[path] = "must be an object"
            continue
        odata_type = item.get("@odata.type")
        if not isinstance(odata_type, str) or not odata_type.strip():
            errors[f"{path}.@odata.type"] = "is required (e.g. #microsoft.graph.security.deviceEvidence)"
            continue
        if len(odata_type) > odata_type_max_length:
            errors[f"{path}.@odata.type"] = f"must be at most {odata_type_max_length} characters"
            continue
        record = _parse_evidence(item, odata_type.strip(), path, errors, devices_by_id)
        if record is not None:
            parsed.append(record)
    return parsed


def _parse_evidence(item, odata_type, path, errors, devices_by_id) -> EvidenceRecord | None:
    common = {
        "roles": errors.guard(
            f"{path}.roles", _string_list, item.get("roles"), max_length=_max_length(Evidence, "roles")
        ),
        "detailed_roles": errors.guard(
            f"{path}.detailedRoles",
            _string_list,
            item.get("detailedRoles"),
            max_length=_max_length(Evidence, "detailed_roles"),
        ),
        "tags": errors.guard(f"{path}.tags", _string_list, item.get("tags"), max_length=_max_length(Evidence, "tags")),
        "verdict": errors.guard(
            f"{path}.verdict", _enum, item.get("verdict"), EvidenceVerdict, EvidenceVerdict.UNKNOWN
        ),
        "remediation_status": errors.guard(
            f"{path}.remediationStatus",
            _enum,
            item.get("remediationStatus"),
            EvidenceRemediationStatus,
            EvidenceRemediationStatus.NONE,
        ),
        "remediation_status_details": errors.guard(
            f"{path}.remediationStatusDetails",
            _string,
            item.get("remediationStatusDetails"),
            max_length=DETAILS_MAX_LENGTH,
        ),
        "created_at": errors.guard(f"{path}.createdDateTime", _datetime, item.get("createdDateTime")),
    }
    kind = entities.kind_of(odata_type) if odata_type.startswith(GRAPH_EVIDENCE_NAMESPACE) else "other"
    if kind == "device" and item.get("riskScore") is not None:
        errors.guard(f"{path}.riskScore", normalize_enum, item.get("riskScore"), DeviceRiskScore)
    device = _linked_device(item, devices_by_id) if kind != "device" else None
    try:
        kind, entity, image_file, parent_process = _entities_of(kind, item, device)
    except entities.FieldError as error:
        errors[f"{path}.{error.field}" if error.field else path] = str(error)
        return None
    if any(key.startswith(path + ".") for key in errors):
        return None
    return EvidenceRecord(
        odata_type=odata_type,
        entity=entity,
        device=device,
        image_file=image_file,
        parent_process=parent_process,
        payload=item,
        **common,
    )


def _entities_of(kind: str, item: dict, device: EntityRecord | None):
    """
    (kind, entity, image file, parent process) of one evidence object, its kind "other" when this module does not
    know it; entities.FieldError for a value that cannot be stored.
    """
    entity = image_file = parent_process = None
    match kind:
        case "device":
            entity = entities.device_record(item)
        case "user":
            entity = _below("userAccount", entities.user_record, item.get("userAccount"))
        case "mailbox":
            entity = _mailbox(item)
        case "file":
            entity = _below("fileDetails", entities.file_record, item.get("fileDetails"))
        case "process":
            image_file = _image_file(item, "imageFile")
            entity = _process(item, device, image_file, "processId", "processCreationDateTime", "processCommandLine")
            parent_image = _image_file(item, "parentProcessImageFile")
            parent_process = _process(
                item, device, parent_image, "parentProcessId", "parentProcessCreationDateTime", None
            )
        case "ip":
            address = entities.normalize_ip(item.get("ipAddress"))
            if address:
                entity = EntityRecord("ip", address, address, _attributes(item), strong=True, key_field="ipAddress")
        case "url":
            url = entities.normalize_url(item.get("url"))
            if url:
                entity = EntityRecord("url", url, url, _attributes(item), strong=True)
        case "cloudApplication":
            key_field, key = entities.first_identifier(item, "appId", "displayName")
            if key:
                name = entities._clean(item.get("displayName")) or key
                entity = EntityRecord(
                    "cloudApplication", key, name, _attributes(item), strong=True, key_field=key_field
                )
        case "registryKey" | "registryValue":
            entity = _registry(kind, item)
        case "analyzedMessage":
            key_field, key = entities.first_identifier(item, "networkMessageId", "internetMessageId")
            if key:
                subject = entities._clean(item.get("subject")) or key
                entity = EntityRecord("analyzedMessage", key, subject, _attributes(item), key_field=key_field)
        case "mailCluster":
            by, value = entities._clean(item.get("clusterBy")), entities._clean(item.get("clusterByValue"))
            key = entities._lower(item.get("urn")) or (f"{by}:{value}".lower() if by and value else None)
            if key:
                entity = EntityRecord("mailCluster", key, f"{by}: {value}" if by else key, _attributes(item))
        case _:
            # Kept as generic evidence: the original object is stored, no entity is invented for it.
            kind = "other"
    return kind, entity, image_file, parent_process


def _below(field: str, build, value):
    """`build(value)` for the object at `field`, its errors reported below that field."""
    try:
        return build(value)
    except entities.FieldError as error:
        raise error.below(field) from None


def _image_file(item: dict, field: str) -> EntityRecord | None:
    details, wrapper = _image_file_details(item.get(field))
    return _below(f"{field}.{wrapper}" if wrapper else field, entities.file_record, details)


def _attributes(item: dict) -> dict:
    # The device an IP, URL or registry key was seen on belongs to the evidence (its `device` link), not the entity.
    skip = entities.EVIDENCE_ONLY_FIELDS | {"mdeDeviceId"}
    return {k: v for k, v in item.items() if k not in skip and v not in (None, "", [])}


def _linked_device(item, devices_by_id) -> EntityRecord | None:
    device_id = item.get("mdeDeviceId")
    if isinstance(device_id, str) and device_id.strip():
        return devices_by_id.get(device_id.strip().lower())
    return None


def _mailbox(item) -> EntityRecord | None:
    key_field, address = entities.first_identifier(item, "primaryAddress", "upn")
    if not address:
        return None
    name = entities._clean(item.get("displayName")) or address
    return EntityRecord("mailbox", address, name, _attributes(item), strong=True, key_field=key_field)


def _process(item, device, image_file, pid_field, created_field, command_field) -> EntityRecord | None:
    pid = item.get(pid_field)
    if pid is None or (isinstance(pid, str | int) and not isinstance(pid, bool) and entities.is_junk(pid)):
        return None
    pid = entities.whole_number(pid, pid_field)
    created = item.get(created_field)
    if created in (None, ""):
        created = ""
    else:
        try:
            _datetime(created)
        except ValueError as error:
            raise entities.FieldError(created_field, str(error)) from None
        # The time as the source wrote it: the key of a process seen before stays the same.
        created = created.strip()
    device_key = device.key if device else entities._lower(item.get("mdeDeviceId"))
    if not device_key and not created:
        return None  # a bare process id says nothing: PID 4 on one machine is not PID 4 on another
    device_key = device_key or "unknown-device"
    key = f"{device_key}:{pid}:{created}".lower()
    # The id stays in the name however long the image file's name is: "powershell.exe (4242)".
    id_part = f" ({pid})"
    image_name = image_file.display_name if image_file else entities.PROCESS_FALLBACK_NAME
    name = entities.cut(image_name, entities.DISPLAY_NAME_MAX_LENGTH - len(id_part)) + id_part
    attributes = {"processId": pid, "creationDateTime": created or None}
    if command_field and item.get(command_field):
        attributes["commandLine"] = item[command_field]
    return EntityRecord("process", key, name, attributes, name_is_fallback=image_file is None)


def _registry(kind, item) -> EntityRecord | None:
    hive = entities._clean(item.get("registryHive")) or ""
    key_path = entities._clean(item.get("registryKey"))
    if not key_path:
        return None
    full = f"{hive}\\{key_path}" if hive else key_path
    if kind == "registryValue":
        value_name = entities._clean(item.get("registryValueName")) or "(default)"
        full = f"{full}\\{value_name}"
    return EntityRecord(kind, full.lower(), full, _attributes(item))
