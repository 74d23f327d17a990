"""
PATCH and comment bodies in Graph JSON, read into the keyword arguments of the incident services.

Each property is checked for its JSON type here (the services check the values: which statuses may be set, which
determination fits a classification); a property that cannot be changed, read-only or unknown, answers 400 naming
it rather than being dropped, so that a client never believes a change was made that was not.
"""

from collections.abc import Callable, Mapping

from incidents.choices import DETERMINATION_ALIASES
from incidents.graph.serializers import NS
from portal.graph.errors import BadRequest
from portal.graph.literals import literal_text

__all__ = ("ALERT_CHANGES", "INCIDENT_CHANGES", "alert_changes", "comment_text", "incident_changes")


def _text(name: str, value, *, nullable: bool) -> str:
    if value is None and nullable:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be a string{' or null' if nullable else ''}.")
    return literal_text(value, name)


def _nullable_text(name, value):
    return _text(name, value, nullable=True)


def _required_text(name, value):
    return _text(name, value, nullable=False)


def _determination(name, value):
    value = _required_text(name, value)
    return DETERMINATION_ALIASES.get(value, value)


def _tags(name, value):
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise BadRequest(f"{name} must be a list of strings.")
    return [literal_text(tag, f"A value of {name}") for tag in value]


Reader = Callable[[str, object], object]
# Graph property → (service keyword, reader of the JSON value).
INCIDENT_CHANGES: Mapping[str, tuple[str, Reader]] = {
    "assignedTo": ("assigned_to", _nullable_text),
    "classification": ("classification", _required_text),
    "determination": ("determination", _determination),
    "status": ("status", _required_text),
    "severity": ("severity", _required_text),
    "displayName": ("display_name", _required_text),
    "customTags": ("custom_tags", _tags),
    "resolvingComment": ("resolving_comment", _nullable_text),
    "summary": ("summary", _nullable_text),
}
ALERT_CHANGES: Mapping[str, tuple[str, Reader]] = {
    "assignedTo": ("assigned_to", _nullable_text),
    "classification": ("classification", _required_text),
    "determination": ("determination", _determination),
    "status": ("status", _required_text),
}
INCIDENT_READ_ONLY = frozenset(
    {
        "id",
        "tenantId",
        "incidentWebUrl",
        "redirectIncidentId",
        "description",
        "createdDateTime",
        "lastUpdateDateTime",
        "lastModifiedBy",
        "systemTags",
        "comments",
        "alerts",
        "priorityScore",
    }
)
ALERT_READ_ONLY = frozenset(
    {
        "id",
        "providerAlertId",
        "incidentId",
        "severity",
        "serviceSource",
        "detectionSource",
        "productName",
        "detectorId",
        "tenantId",
        "title",
        "description",
        "recommendedActions",
        "category",
        "alertWebUrl",
        "incidentWebUrl",
        "actorDisplayName",
        "threatDisplayName",
        "threatFamilyName",
        "mitreTechniques",
        "createdDateTime",
        "lastUpdateDateTime",
        "resolvedDateTime",
        "firstActivityDateTime",
        "lastActivityDateTime",
        "comments",
        "evidence",
        "systemTags",
        "additionalData",
    }
)


def _changes(body, readers, read_only, graph_type: str, noun: str) -> dict:
    if not isinstance(body, dict):
        raise BadRequest(f"Send the properties to change on the {noun} as a JSON object.")
    _check_type(body, graph_type)
    changes = {}
    for name, value in body.items():
        if name == "@odata.type":
            continue
        if name in read_only:
            raise BadRequest(f"{name} is read-only on an {noun}.")
        if name not in readers:
            settable = ", ".join(sorted(readers))
            raise BadRequest(f"{name} is not a property you can change on an {noun}; you can change {settable}.")
        keyword, read = readers[name]
        changes[keyword] = read(name, value)
    if not changes:
        raise BadRequest(f"Send at least one property to change on the {noun}.")
    return changes


def _check_type(body: dict, graph_type: str) -> None:
    given = body.get("@odata.type")
    if given is not None and (not isinstance(given, str) or given.lstrip("#") != graph_type.lstrip("#")):
        raise BadRequest(f"@odata.type must be {graph_type}.")


def incident_changes(body) -> dict:
    return _changes(body, INCIDENT_CHANGES, INCIDENT_READ_ONLY, NS + "incident", "incident")


def alert_changes(body) -> dict:
    return _changes(body, ALERT_CHANGES, ALERT_READ_ONLY, NS + "alert", "alert")


def comment_text(body) -> str:
    """The text of an alertComment body: one object, or a list of one (as msgraph-sdk sends it)."""
    if isinstance(body, list):
        if len(body) != 1:
            raise BadRequest("Send one comment at a time.")
        body = body[0]
    if not isinstance(body, dict):
        raise BadRequest('Send the comment as a JSON object: {"comment": "..."}.')
    _check_type(body, NS + "alertComment")
    unknown = sorted(set(body) - {"comment", "@odata.type"})
    if unknown:
        raise BadRequest(f"{', '.join(unknown)}: only comment can be sent; the rest is set by the service.")
    if "comment" not in body:
        raise BadRequest("comment is required.")
    return _required_text("comment", body["comment"])
