"""
Builders for realistic Microsoft Graph security alerts_v2 JSON, as Defender XDR sends it.

Plain functions returning plain dicts; every builder takes keyword overrides that replace (or add) fields of the
object it returns. Typical use:

    from tests.incidents import graph_samples as g

    ws = g.device("WS-FIN-042.corp.example", rbacGroupName="Finance workstations")
    body = g.alert(
        title="Suspicious PowerShell command line",
        evidence=[ws, g.user("alice@corp.example"), g.process(4242, ws["mdeDeviceId"], g.POWERSHELL_SHA256)],
    )

Alert ids look like Defender's ("da638…_-123…") and are unique per call; device, user and file ids are derived
from their names, so the same name always gives the same ids (sensor-style stable identifiers).
"""

import hashlib
import itertools
import uuid
from datetime import UTC, datetime, timedelta

__all__ = (
    "EXPLORER_SHA256",
    "NS",
    "POWERSHELL_SHA256",
    "TENANT_ID",
    "alert",
    "alert_id",
    "analyzed_message",
    "at",
    "cloud_app",
    "device",
    "device_id",
    "every_core_evidence",
    "file",
    "ip",
    "kubernetes_pod",
    "mail_cluster",
    "mailbox",
    "page",
    "process",
    "registry_key",
    "registry_value",
    "sha1_of",
    "sha256_of",
    "url",
    "user",
)

NS = "#microsoft.graph.security."
TENANT_ID = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c"
PORTAL = "https://security.microsoft.com"
POWERSHELL_SHA256 = "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c"
ENCODED_POWERSHELL = (
    "powershell.exe -NoP -W Hidden -Enc "
    "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"
)
EXPLORER_SHA256 = "2cbd1f6b5b6b9a1e9f04e7b9d8f2c5a6d0a3b4c5e6f708192a3b4c5d6e7f8091"

_sequence = itertools.count(1)


def _uuid(*parts) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "vigil-tests:" + ":".join(str(p) for p in parts)))


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha1_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - a sample file hash, not a security use


def device_id(name: str) -> str:
    """The MDE device id (40 hex characters) a given device name always has in these samples."""
    return sha1_of("mde-device:" + name.lower())


def at(moment: datetime | None = None, **ago) -> str:
    """Graph's date-time format (7-digit fraction, Z): `at()` is now, `at(minutes=5)` five minutes ago."""
    moment = (moment or datetime.now(UTC)) - timedelta(**ago)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def alert_id() -> str:
    """A unique Defender-style alert id, e.g. da638671552000000001_-1803457419."""
    n = next(_sequence)
    return f"da638671552{n:09d}_-{(n * 2_654_435_761) % 2_147_483_647}"


def _evidence(subtype: str, fields: dict, overrides: dict) -> dict:
    return {
        "@odata.type": NS + subtype,
        "createdDateTime": at(minutes=4),
        "verdict": "suspicious",
        "remediationStatus": "none",
        "remediationStatusDetails": None,
        "roles": [],
        "detailedRoles": [],
        "tags": [],
        **fields,
        **overrides,
    }


def _split(overrides: dict, names: tuple[str, ...]) -> tuple[dict, dict]:
    """(overrides naming a nested object's fields, the others)."""
    return {k: v for k, v in overrides.items() if k in names}, {k: v for k, v in overrides.items() if k not in names}


def alert(**overrides) -> dict:
    """A Defender for Endpoint alert (new, medium, Execution, T1059.001), activity a few minutes ago."""
    graph_id = overrides.get("id") or alert_id()
    incident_id = "29723"
    body = {
        "@odata.type": NS + "alert",
        "id": graph_id,
        "providerAlertId": graph_id,
        "incidentId": incident_id,
        "status": "new",
        "severity": "medium",
        "classification": "unknown",
        "determination": "unknown",
        "serviceSource": "microsoftDefenderForEndpoint",
        "detectionSource": "microsoftDefenderForEndpoint",
        "productName": "Microsoft Defender for Endpoint",
        "detectorId": "7f1c3609-a3ff-40e2-995b-c01770161d68",
        "tenantId": TENANT_ID,
        "title": "Suspicious PowerShell command line",
        "description": (
            "A suspicious PowerShell activity was observed on the machine. This behavior may indicate that "
            "PowerShell was used during installation, exploration, or in some cases in lateral movement activities."
        ),
        "recommendedActions": (
            "1. Examine the PowerShell command line to understand what commands were executed.\n"
            "2. Identify the user account and the parent process that launched PowerShell."
        ),
        "category": "Execution",
        "assignedTo": None,
        "alertWebUrl": f"{PORTAL}/alerts/{graph_id}?tid={TENANT_ID}",
        "incidentWebUrl": f"{PORTAL}/incidents/{incident_id}?tid={TENANT_ID}",
        "actorDisplayName": None,
        "threatDisplayName": None,
        "threatFamilyName": None,
        "mitreTechniques": ["T1059.001"],
        "createdDateTime": at(minutes=5),
        "lastUpdateDateTime": at(minutes=3),
        "resolvedDateTime": None,
        "firstActivityDateTime": at(minutes=9),
        "lastActivityDateTime": at(minutes=6),
        "comments": [],
        "systemTags": [],
        "evidence": [],
    }
    return {**body, **overrides}


def page(*alerts, next_link: str | None = None) -> dict:
    """A Graph list page: {"@odata.context": ..., "value": [...]} (and "@odata.nextLink" when given)."""
    body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#security/alerts_v2", "value": list(alerts)}
    if next_link:
        body["@odata.nextLink"] = next_link
    return body


def device(name: str, **overrides) -> dict:
    """deviceEvidence for a Windows 11 workstation named by its FQDN (deviceDnsName)."""
    host = name.split(".", 1)[0] if name else None
    fields = {
        "firstSeenDateTime": "2025-03-14T09:12:44.123Z",
        "mdeDeviceId": device_id(name or "no-name"),
        "azureAdDeviceId": _uuid("aad-device", (name or "").lower()),
        "deviceDnsName": name,
        "hostName": host,
        "ntDomain": "CORP",
        "dnsDomain": "corp.example",
        "osPlatform": "Windows11",
        "osBuild": 22631,
        "version": "23H2",
        "healthStatus": "active",
        "riskScore": "high",
        "rbacGroupId": 0,
        "rbacGroupName": None,
        "onboardingStatus": "onboarded",
        "defenderAvStatus": "updated",
        "lastIpAddress": "10.20.4.31",
        "lastExternalIpAddress": "198.51.100.24",
        "ipInterfaces": ["10.20.4.31", "fe80::8d2b:4f1a:7c3e:1a02"],
        "loggedOnUsers": [{"accountName": "alice", "domainName": "CORP"}],
        "vmMetadata": None,
        "roles": [],
        "detailedRoles": ["PrimaryDevice"],
    }
    return _evidence("deviceEvidence", fields, overrides)


USER_ACCOUNT_FIELDS = ("accountName", "azureAdUserId", "displayName", "domainName", "userPrincipalName", "userSid")


def _user_account(upn: str | None, overrides: dict) -> dict:
    local = (upn or "user").split("@", 1)[0]
    rid = 1000 + int(sha1_of(local.lower())[:6], 16) % 100_000
    return {
        "accountName": local,
        "azureAdUserId": _uuid("aad-user", local.lower()),
        "displayName": local.replace(".", " ").title(),
        "domainName": "CORP",
        "userPrincipalName": upn,
        "userSid": f"S-1-5-21-1004336348-1177238915-682003330-{rid}",
        **overrides,
    }


def user(upn: str | None, **overrides) -> dict:
    """userEvidence; overrides of userAccount fields (userSid, displayName, ...) go into userAccount."""
    account_overrides, rest = _split(overrides, USER_ACCOUNT_FIELDS)
    return _evidence(
        "userEvidence",
        {"userAccount": _user_account(upn, account_overrides), "roles": [], "detailedRoles": []},
        rest,
    )


def mailbox(address: str | None, **overrides) -> dict:
    """mailboxEvidence for a recipient mailbox."""
    local = (address or "mailbox").split("@", 1)[0]
    fields = {
        "displayName": local.replace(".", " ").title(),
        "primaryAddress": address,
        "upn": address,
        "userAccount": _user_account(address, {}),
        "roles": ["destination"],
        "detailedRoles": [],
    }
    return _evidence("mailboxEvidence", fields, overrides)


FILE_DETAIL_FIELDS = (
    "sha1",
    "sha256",
    "md5",
    "fileName",
    "filePath",
    "fileSize",
    "filePublisher",
    "signer",
    "issuer",
)


def _file_details(sha256: str | None, name: str | None, overrides: dict) -> dict:
    return {
        "sha1": sha1_of("file:" + (name or "").lower()),
        "sha256": sha256,
        "fileName": name,
        "filePath": "C:\\Users\\alice\\Downloads",
        "fileSize": 1_482_752,
        "filePublisher": None,
        "signer": None,
        "issuer": None,
        **overrides,
    }


def file(sha256=..., name: str | None = "Invoice_2026-0412.exe", **overrides) -> dict:
    """
    fileEvidence. `sha256` defaults to a hash derived from the name; pass None for a file known only by sha1
    (overrides of fileDetails fields such as sha1, md5, filePath go into fileDetails).
    """
    if sha256 is ...:
        sha256 = sha256_of("file:" + (name or "").lower())
    details_overrides, rest = _split(overrides, FILE_DETAIL_FIELDS)
    fields = {
        "fileDetails": _file_details(sha256, name, details_overrides),
        "mdeDeviceId": None,
        "detectionStatus": "detected",
        "roles": [],
        "detailedRoles": [],
    }
    return _evidence("fileEvidence", fields, rest)


def process(
    pid: int,
    device_id: str | None,
    image_sha256: str | None = POWERSHELL_SHA256,
    *,
    image_name: str = "powershell.exe",
    command_line: str | None = None,
    created: str = "2026-11-20T08:03:41.4233333Z",
    parent_pid: int | None = 5872,
    parent_created: str = "2026-11-20T07:58:02.1100000Z",
    parent_image_sha256: str | None = EXPLORER_SHA256,
    parent_image_name: str = "explorer.exe",
    **overrides,
) -> dict:
    """processEvidence of a process on the device with MDE id `device_id`, with its image and parent image files."""
    fields = {
        "processId": pid,
        "parentProcessId": parent_pid,
        "processCommandLine": command_line or ENCODED_POWERSHELL,
        "processCreationDateTime": created,
        "parentProcessCreationDateTime": parent_created,
        # Graph's processEvidence carries the fileDetails objects themselves (fileEvidence wraps them).
        "imageFile": _file_details(
            image_sha256, image_name, {"filePath": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0"}
        ),
        "parentProcessImageFile": _file_details(parent_image_sha256, parent_image_name, {"filePath": "C:\\Windows"}),
        "userAccount": _user_account("alice@corp.example", {}),
        "mdeDeviceId": device_id,
        "detectionStatus": "detected",
        "roles": [],
        "detailedRoles": [],
    }
    return _evidence("processEvidence", fields, overrides)


def ip(address: str | None, **overrides) -> dict:
    """ipEvidence."""
    return _evidence("ipEvidence", {"ipAddress": address, "countryLetterCode": "NL", "roles": []}, overrides)


def url(value: str | None, **overrides) -> dict:
    """urlEvidence."""
    return _evidence("urlEvidence", {"url": value, "roles": []}, overrides)


def cloud_app(app_id, name: str, **overrides) -> dict:
    """cloudApplicationEvidence (e.g. 11161 "Office 365", 20893 "Microsoft Exchange Online")."""
    fields = {"appId": app_id, "displayName": name, "instanceId": 0, "instanceName": name, "saasAppId": app_id}
    return _evidence("cloudApplicationEvidence", fields, overrides)


RUN_KEY = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"


def registry_key(key: str | None = RUN_KEY, hive: str | None = "HKEY_LOCAL_MACHINE", **overrides) -> dict:
    """registryKeyEvidence (the Run key by default)."""
    return _evidence("registryKeyEvidence", {"registryKey": key, "registryHive": hive}, overrides)


def registry_value(
    name: str | None = "OneDriveUpdaterSvc",
    value: str = "C:\\Users\\Public\\Libraries\\odupd.exe /silent",
    *,
    key: str | None = RUN_KEY,
    hive: str | None = "HKEY_LOCAL_MACHINE",
    device_id: str | None = None,
    **overrides,
) -> dict:
    """registryValueEvidence (a persistence value under the Run key by default)."""
    fields = {
        "mdeDeviceId": device_id,
        "registryHive": hive,
        "registryKey": key,
        "registryValue": value,
        "registryValueName": name,
        "registryValueType": "String",
    }
    return _evidence("registryValueEvidence", fields, overrides)


def analyzed_message(
    network_message_id: str | None = None,
    subject: str = "Action required: invoice 2026-0412 overdue",
    *,
    sender: str = "billing@contoso-payments.example",
    recipient: str = "alice@corp.example",
    **overrides,
) -> dict:
    """analyzedMessageEvidence for a phishing email delivered to the inbox."""
    network_message_id = network_message_id or _uuid("message", subject, recipient)
    fields = {
        "networkMessageId": network_message_id,
        "internetMessageId": f"<{network_message_id[:8]}.{sha1_of(subject)[:12]}@mail.contoso-payments.example>",
        "subject": subject,
        "language": "en",
        "senderIp": "203.0.113.77",
        "recipientEmailAddress": recipient,
        "antiSpamDirection": "inbound",
        "deliveryAction": "delivered",
        "deliveryLocation": "inbox",
        "urn": f"urn:MailEntity:{sha1_of(network_message_id)[:32]}",
        "threats": ["Phish"],
        "threatDetectionMethods": ["urlDetonationReputation"],
        "urls": ["https://contoso-payments.example/invoice/0412"],
        "urlCount": 1,
        "attachmentsCount": 0,
        "receivedDateTime": at(minutes=12),
        "p1Sender": {"emailAddress": sender, "displayName": "Billing", "domainName": sender.split("@")[-1]},
        "p2Sender": {"emailAddress": sender, "displayName": "Billing", "domainName": sender.split("@")[-1]},
        "roles": [],
    }
    return _evidence("analyzedMessageEvidence", fields, overrides)


def mail_cluster(cluster_by: str = "Subject", value: str = "Action required: invoice overdue", **overrides) -> dict:
    """mailClusterEvidence (pass urn=None for one identified only by clusterBy and clusterByValue)."""
    fields = {
        "clusterBy": cluster_by,
        "clusterByValue": value,
        "emailCount": 14,
        "networkMessageIds": [_uuid("message", value, n) for n in range(3)],
        "query": f'(Subject:"{value}") AND (Sender:"billing@contoso-payments.example")',
        "urn": f"urn:MailClusterEntity:{sha1_of(cluster_by + value)[:32]}",
        "roles": [],
    }
    return _evidence("mailClusterEvidence", fields, overrides)


def kubernetes_pod(name: str = "payments-api-7f9c6d5b8-x2k4q", **overrides) -> dict:
    """kubernetesPodEvidence: a Graph evidence type outside the core list (kept without an entity)."""
    fields = {
        "name": name,
        "namespace": {"name": "payments", "labels": {"team": "payments"}},
        "labels": {"app": "payments-api"},
        "containers": [{"name": "api", "image": {"imageId": "contoso.azurecr.io/payments-api:1.4.2"}}],
        "podIp": {"ipAddress": "10.244.1.17"},
        "roles": [],
    }
    return _evidence("kubernetesPodEvidence", fields, overrides)


def every_core_evidence(device_name: str = "ws-fin-042.corp.example") -> list[dict]:
    """One evidence item of each core subtype, the process and registry value on the one device."""
    ws = device(device_name)
    return [
        ws,
        user("alice@corp.example"),
        mailbox("alice@corp.example"),
        file(),
        process(4242, ws["mdeDeviceId"]),
        ip("198.51.100.24"),
        url("https://contoso-payments.example/invoice/0412"),
        cloud_app(11161, "Office 365"),
        registry_key(),
        registry_value(device_id=ws["mdeDeviceId"]),
        analyzed_message(),
        mail_cluster(),
    ]
