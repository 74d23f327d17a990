"""
What the OpenAPI description says of every operation, beyond what drf-spectacular reads from each view, so that
clients (and the schema-driven fuzzing in the test suite) know it: the error bodies every operation may answer,
the native API's `Error` (portal.api.errors) and, under /v1.0/, the Graph-compatible API's `GraphError`; and what
the native API's requests may leave empty and must carry.
"""

__all__ = ("document_error_responses", "document_requests")

NATIVE_ERROR = {
    "type": "object",
    "description": "Every error of the native API.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, readable as is."},
        "code": {"type": "string", "description": "A machine code: not_found, permission_denied, invalid, ..."},
        "errors": {
            "type": "object",
            "description": "Invalid input only: the messages per field (non_field_errors for the whole request).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail", "code"],
    "example": {"detail": "Not found.", "code": "not_found"},
}
GRAPH_ERROR = {
    "type": "object",
    "description": "Every error of the Graph-compatible API, as Microsoft Graph answers them.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
    "example": {"error": {"code": "NotFound", "message": "There is no incident 7."}},
}
GRAPH_PREFIX = "/v1.0/"
# Operations whose body is a JSON schema rather than a serializer, so that drf-spectacular cannot tell it is needed.
BODY_REQUIRED = {"alerts_ingest"}
WRITE_METHODS = {"post", "put", "patch"}

DESCRIPTIONS = {
    "400": "Invalid input: the body says what is wrong.",
    "401": "No credentials, or a token that is invalid, expired or revoked.",
    "403": "The caller lacks the permission this operation needs.",
    "404": "No such object, or it is outside the caller's data scope.",
}


def _statuses(path: str, method: str, operation: dict) -> list[str]:
    statuses = ["401", "403"]
    takes_input = method in WRITE_METHODS or any(p.get("in") == "query" for p in operation.get("parameters", []))
    if takes_input:
        statuses.append("400")
    if "{" in path:
        statuses.append("404")
    return statuses


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error responses each operation may answer, unless it names its own."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", NATIVE_ERROR)
    schemas.setdefault("GraphError", GRAPH_ERROR)
    for path, operations in result.get("paths", {}).items():
        component = "GraphError" if path.startswith(GRAPH_PREFIX) else "Error"
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _statuses(path, method, operation):
                operation["responses"].setdefault(
                    status,
                    {
                        "description": DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
                    },
                )
    return result


def _takes_empty(schema: dict) -> bool:
    """Whether a query parameter's schema says already what an empty value means: a list, or any text."""
    constrained = {"enum", "format", "pattern", "minLength"} & set(schema)
    return schema.get("type") == "array" or (schema.get("type") == "string" and not constrained)


def document_requests(result, generator, request, public):
    """
    drf-spectacular postprocessing hook: what the native API takes that its views do not tell drf-spectacular. A
    query parameter sent empty (`?since=&cursor=`, as a filter form sends the fields left blank) is the parameter
    left out, whatever its type; the lists' parameters (`?severity=high&severity=low`) take values only. A body
    described by a JSON schema rather than a serializer is required when the operation says so (BODY_REQUIRED).
    """
    for path, operations in result.get("paths", {}).items():
        if path.startswith(GRAPH_PREFIX):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not _takes_empty(parameter.get("schema", {})):
                    parameter["allowEmptyValue"] = True
            if operation.get("operationId") in BODY_REQUIRED:
                operation["requestBody"]["required"] = True
    return result
