"""
Incidents, alerts and comments as Graph JSON (security.incident, security.alert, security.alertComment): camelCase
names, Graph enum values, ids as strings, DateTimeOffsets in UTC, null where Vigil keeps an empty value.

Plain functions over rows read through incidents.graph.selectors, whose related rows were prefetched into lists
(graph_comments, graph_alerts, graph_evidence), so that a page of any size costs the same few queries.
"""

from incidents.graph.evidence import evidence_json
from incidents.graph.properties import DETERMINATION_OUT, graph_enum
from incidents.models import Alert, Comment, Incident
from portal.graph.context import GraphContext
from portal.graph.times import graph_datetime

__all__ = ("NS", "SecurityGraphContext", "alert_json", "comment_json", "incident_json")

NS = "#microsoft.graph.security."


class SecurityGraphContext(GraphContext):
    """The security API's context: its enums' newer members reach only the clients that ask for them."""

    def enum(self, enum: str, value: str) -> str:
        return graph_enum(enum, value, include_unknown_members=self.include_unknown_members)


def _text(value: str) -> str | None:
    return value or None


def _determination(value: str) -> str:
    return DETERMINATION_OUT.get(value, value)


def comment_json(comment: Comment) -> dict:
    return {
        "@odata.type": NS + "alertComment",
        "comment": comment.text,
        "createdByDisplayName": comment.author_name,
        "createdDateTime": graph_datetime(comment.created_at),
    }


def incident_json(incident: Incident, context: GraphContext, *, with_alerts: bool = False) -> dict:
    body = {
        "@odata.type": NS + "incident",
        "id": str(incident.pk),
        "tenantId": None,
        "status": context.enum("incidentStatus", incident.status),
        # Vigil's own incident page: where an analyst following the link works on it.
        "incidentWebUrl": context.page_url("incidents:detail", incident.pk),
        "redirectIncidentId": str(incident.redirect_incident_id) if incident.redirect_incident_id else None,
        "displayName": incident.display_name,
        "description": _text(incident.description),
        "summary": _text(incident.summary),
        "severity": incident.severity,
        "classification": incident.classification,
        "determination": _determination(incident.determination),
        "assignedTo": _text(incident.assigned_to),
        "createdDateTime": graph_datetime(incident.created_at),
        "lastUpdateDateTime": graph_datetime(incident.last_update),
        "lastModifiedBy": _text(incident.last_modified_by),
        "resolvingComment": _text(incident.resolving_comment),
        "customTags": list(incident.custom_tags),
        "systemTags": list(incident.system_tags),
        "comments": [comment_json(comment) for comment in incident.graph_comments],
        # Graph's properties that Vigil does not keep: null, as Graph answers a property without a value.
        "priorityScore": None,
    }
    if with_alerts:
        body["alerts"] = [alert_json(alert, context) for alert in incident.graph_alerts]
    return body


def alert_json(alert: Alert, context: GraphContext) -> dict:
    unknown_members = context.include_unknown_members
    return {
        "@odata.type": NS + "alert",
        "id": str(alert.pk),
        "providerAlertId": _text(alert.provider_alert_id),
        "incidentId": str(alert.incident_id) if alert.incident_id else None,
        "status": alert.status,
        "severity": alert.severity,
        "classification": alert.classification,
        "determination": _determination(alert.determination),
        "serviceSource": context.enum("serviceSource", alert.service_source),
        "detectionSource": context.enum("detectionSource", alert.detection_source),
        "productName": _text(alert.product_name),
        "detectorId": _text(alert.detector_id),
        "tenantId": _text(alert.tenant_id),
        "title": alert.title,
        "description": _text(alert.description),
        "recommendedActions": _text(alert.recommended_actions),
        "category": _text(alert.category),
        "assignedTo": _text(alert.assigned_to),
        # Vigil's own pages, as incidentWebUrl on incidents; the source's link stays on the alert page.
        "alertWebUrl": context.page_url("incidents:alert_detail", alert.pk),
        "incidentWebUrl": context.page_url("incidents:detail", alert.incident_id) if alert.incident_id else None,
        "actorDisplayName": _text(alert.actor_display_name),
        "threatDisplayName": _text(alert.threat_display_name),
        "threatFamilyName": _text(alert.threat_family_name),
        "mitreTechniques": list(alert.mitre_techniques),
        "createdDateTime": graph_datetime(alert.created_at),
        "lastUpdateDateTime": graph_datetime(alert.last_update),
        "resolvedDateTime": graph_datetime(alert.resolved_at),
        "firstActivityDateTime": graph_datetime(alert.first_activity),
        "lastActivityDateTime": graph_datetime(alert.last_activity),
        "comments": [comment_json(comment) for comment in alert.graph_comments],
        "evidence": [evidence_json(e, include_unknown_members=unknown_members) for e in alert.graph_evidence],
        "systemTags": list(alert.system_tags),
        "additionalData": alert.additional_data if isinstance(alert.additional_data, dict) else {},
        # Graph's properties that Vigil does not keep: null, as Graph answers a property without a value.
        "alertPolicyId": None,
        "customDetails": None,
        "investigationState": None,
    }
