"""
Example requests and responses of the security-data API, for its OpenAPI description. One example of each
representation serves its list as well (drf-spectacular shows it inside a page) and, without a status code, both
a read (200) and a creation (201).
"""

from drf_spectacular.utils import OpenApiExample

from portal.api.schema import error_example

__all__ = (
    "ACTIVITY_ENTRY",
    "ALERT",
    "ALERT_CHANGE",
    "ALERT_MOVE",
    "COMMENT",
    "COMMENT_TEXT",
    "ENTITY",
    "EVIDENCE",
    "INCIDENT",
    "INCIDENT_CHANGE",
    "INCIDENT_MERGE",
    "INCIDENT_RESOLVE",
    "STALE",
)

_INCIDENT = {
    "id": 42,
    "display_name": "Multi-stage incident involving Initial access & Execution on one endpoint",
    "description": "",
    "summary": "",
    "severity": "high",
    "status": "inProgress",
    "classification": "truePositive",
    "determination": "malware",
    "assigned_to": "alice",
    "custom_tags": ["ransomware"],
    "system_tags": [],
    "redirect_incident": None,
    "resolving_comment": "",
    "last_modified_by": "alice",
    "first_activity": "2026-11-20T08:01:12.000000Z",
    "last_activity": "2026-11-20T09:14:40.000000Z",
    "created_at": "2026-11-20T08:05:58.120000Z",
    "last_update": "2026-11-20T10:02:11.532000Z",
    "alerts_total": 3,
    "alerts_active": 2,
    "impacted_assets": {"device": 1, "user": 1},
    "service_sources": ["microsoftDefenderForEndpoint"],
    "detection_sources": ["antivirus", "microsoftDefenderForEndpoint"],
    "categories": ["InitialAccess", "Execution"],
    "mitre_techniques": ["T1566.001", "T1204.002"],
    "device_groups": [3],
    "url": "https://vigil.example/incidents/42/",
    "etag": '"42-1795168931532000"',
}
_ALERT = {
    "id": 1207,
    "graph_id": "da637551227677560813_-961444813",
    "provider_alert_id": "da637551227677560813_-961444813",
    "incident": 42,
    "title": "Suspicious execution of hidden file",
    "description": "A hidden file was launched by a process.",
    "recommended_actions": "Collect artifacts and isolate the device.",
    "category": "DefenseEvasion",
    "severity": "medium",
    "status": "new",
    "classification": "unknown",
    "determination": "unknown",
    "assigned_to": "",
    "service_source": "microsoftDefenderForEndpoint",
    "detection_source": "antivirus",
    "detector_id": "e0da400f-affd-43ef-b1d5-afc2eb6f2756",
    "product_name": "Microsoft Defender for Endpoint",
    "actor_display_name": "",
    "threat_display_name": "",
    "threat_family_name": "",
    "mitre_techniques": ["T1564.001"],
    "system_tags": [],
    "alert_web_url": "https://security.microsoft.com/alerts/da637551227677560813_-961444813",
    "tenant_id": "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c",
    "first_activity": "2026-11-20T08:01:12.000000Z",
    "last_activity": "2026-11-20T08:01:12.000000Z",
    "created_at": "2026-11-20T08:05:54.990666Z",
    "last_update": "2026-11-20T08:05:56.000000Z",
    "resolved_at": None,
    "repeat_count": 0,
    "ingested_at": "2026-11-20T08:05:57.310000Z",
    "ingested_via": "api:forwarder",
    "correlation_reason": "shares device ws1.corp.example",
    "device_groups": [3],
    "url": "https://vigil.example/alerts/1207/",
}
_COMMENT = {
    "id": 88,
    "incident": 42,
    "alert": None,
    "author": "alice",
    "text": "Isolated ws1 and collected the investigation package.",
    "created_at": "2026-11-20T10:04:31.000000Z",
}
_ENTITY = {
    "id": 7,
    "kind": "device",
    "key": "ws1.corp.example",
    "display_name": "ws1.corp.example",
    "attributes": {"osPlatform": "Windows11", "mdeDeviceId": "73e7e2de709dff64ef64b1d0c30e67fab63279db"},
    "first_seen": "2026-11-01T07:00:00Z",
    "last_seen": "2026-11-20T08:05:54Z",
    "device_group": 3,
    "os_platform": "Windows11",
    "risk_score": "high",
    "is_isolated": False,
    "url": "https://vigil.example/entities/7/",
}


INCIDENT = OpenApiExample("An incident", value=_INCIDENT, response_only=True)
INCIDENT_CHANGE = OpenApiExample(
    "Assign and classify",
    value={
        "assigned_to": "alice",
        "status": "inProgress",
        "classification": "truePositive",
        "determination": "malware",
    },
    request_only=True,
)
INCIDENT_RESOLVE = OpenApiExample(
    "Resolve",
    value={"status": "resolved", "resolving_comment": "Reimaged ws1; credentials reset."},
    request_only=True,
)
INCIDENT_MERGE = OpenApiExample(
    "Merge three incidents", value={"incidents": [42, 57, 61], "reason": "Same phishing campaign."}, request_only=True
)
STALE = error_example(
    "Changed since it was read",
    detail='The object changed since you read it (it is now at version "42-1795168931532000"); read it again and '
    "re-apply your change.",
    code="precondition_failed",
    status=412,
)
ALERT = OpenApiExample("An alert", value=_ALERT, response_only=True)
ALERT_CHANGE = OpenApiExample(
    "Classify as a false positive",
    value={"status": "resolved", "classification": "falsePositive", "determination": "notMalicious"},
    request_only=True,
)
ALERT_MOVE = OpenApiExample(
    "Move to another incident", value={"incident": 57, "reason": "Part of the phishing campaign."}, request_only=True
)
COMMENT = OpenApiExample("A comment", value=_COMMENT, response_only=True)
COMMENT_TEXT = OpenApiExample(
    "Comment", value={"text": "Isolated ws1 and collected the investigation package."}, request_only=True
)
ACTIVITY_ENTRY = OpenApiExample(
    "An incident assigned",
    value={
        "id": 3051,
        "occurred_at": "2026-11-20T10:02:11.540000Z",
        "actor": 3,
        "actor_name": "alice",
        "action": "incidents.incident.updated",
        "target_type": "incidents.incident",
        "target_id": "42",
        "target_repr": _INCIDENT["display_name"],
        "changes": {"status": {"before": "active", "after": "inProgress"}},
        "message": "",
    },
    response_only=True,
)
EVIDENCE = OpenApiExample(
    "Evidence",
    value={
        "id": 5120,
        "odata_type": "#microsoft.graph.security.deviceEvidence",
        "entity": {"id": 7, "kind": "device", "key": "ws1.corp.example", "display_name": "ws1.corp.example"},
        "roles": [],
        "detailed_roles": [],
        "tags": [],
        "verdict": "suspicious",
        "remediation_status": "none",
        "remediation_status_details": "",
        "created_at": "2026-11-20T08:05:54.990666Z",
        "device": None,
        "image_file": None,
        "parent_process": None,
        "original": {
            "@odata.type": "#microsoft.graph.security.deviceEvidence",
            "deviceDnsName": "ws1.corp.example",
            "verdict": "suspicious",
        },
    },
    response_only=True,
)
ENTITY = OpenApiExample("A device", value=_ENTITY, response_only=True)
