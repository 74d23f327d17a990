"""
An evidence row as Graph's alertEvidence: the object the source sent (kept in `Evidence.payload`, with every
subtype's own fields: deviceDnsName, fileDetails, processCommandLine, ...) overlaid with what Vigil knows now about
the evidence itself (its roles, verdict and remediation status may have changed since), and always its
`@odata.type`, which Graph clients read to choose the subtype (deviceEvidence, userEvidence, fileEvidence, ...).
"""

from incidents.graph.properties import graph_enum
from incidents.models import Evidence
from portal.graph.times import graph_datetime

__all__ = ("evidence_json",)


def evidence_json(evidence: Evidence, *, include_unknown_members: bool) -> dict:
    original = evidence.payload if isinstance(evidence.payload, dict) else {}
    return {
        "@odata.type": evidence.odata_type,
        **{key: value for key, value in original.items() if key != "@odata.type"},
        "createdDateTime": graph_datetime(evidence.created_at),
        "verdict": evidence.verdict,
        "remediationStatus": graph_enum(
            "evidenceRemediationStatus", evidence.remediation_status, include_unknown_members=include_unknown_members
        ),
        "remediationStatusDetails": evidence.remediation_status_details or None,
        "roles": list(evidence.roles),
        "detailedRoles": list(evidence.detailed_roles),
        "tags": list(evidence.tags),
    }
