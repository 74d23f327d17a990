"""
The permission matrix of the Graph-compatible security API (/v1.0/security/): see test_permission_matrix.py for how
it is read.

Reading needs the right to view security data, changing and commenting the right to manage incidents; an incident
or alert outside the subject's device groups answers 404, as if it did not exist. The lists answer the same on both
sides (what they hold out of scope is tested in tests/graph/test_scoping.py). A comment list is not a resource of
its own: GET on it answers 405 to whoever may read.
"""

from tests.permissions.matrix_support import MANAGERS, VIEWERS, Check, at, form, scoped, tenant_wide

GRAPH_MATRIX: dict[str, tuple[Check, ...]] = {
    "graph:incident-list": (
        Check("get", at("graph:incident-list", query="?$expand=alerts"), tenant_wide(VIEWERS, 200)),
    ),
    "graph:incident-detail": (
        Check("get", at("graph:incident-detail", "incident"), scoped(VIEWERS, 200)),
        Check(
            "patch",
            at("graph:incident-detail", "incident"),
            scoped(MANAGERS, 200),
            form(assignedTo="someone@corp.example", status="inProgress"),
            json=True,
        ),
    ),
    "graph:incident-comments": (
        Check("post", at("graph:incident-comments", "incident"), scoped(MANAGERS, 200), form(comment="Hi."), json=True),
        Check("get", at("graph:incident-comments", "incident"), tenant_wide(VIEWERS, 405)),
    ),
    "graph:alert-list": (Check("get", at("graph:alert-list"), tenant_wide(VIEWERS, 200)),),
    "graph:alert-detail": (
        Check("get", at("graph:alert-detail", "alert"), scoped(VIEWERS, 200)),
        Check(
            "patch",
            at("graph:alert-detail", "alert"),
            scoped(MANAGERS, 200),
            form(status="inProgress", classification="truePositive", determination="malware"),
            json=True,
        ),
    ),
    "graph:alert-comments": (
        Check("post", at("graph:alert-comments", "alert"), scoped(MANAGERS, 200), form(comment="Hi."), json=True),
        Check("get", at("graph:alert-comments", "alert"), tenant_wide(VIEWERS, 405)),
    ),
}
