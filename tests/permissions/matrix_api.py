"""
The permission matrix of the native REST API (/api/): see test_permission_matrix.py for how it is read.
"""

from tests.permissions.matrix_support import ADMINS, PUSHED_ALERT, Check, at, everyone, tenant_wide

API_MATRIX: dict[str, tuple[Check, ...]] = {
    "incidents-api:ingest-alerts": (
        Check("get", at("incidents-api:ingest-alerts"), tenant_wide(ADMINS, 405)),
        Check("post", at("incidents-api:ingest-alerts"), tenant_wide(ADMINS, 202), PUSHED_ALERT, json=True),
    ),
    "resources-api:resourcelink-list": (Check("get", at("resources-api:resourcelink-list"), everyone(200)),),
    "resources-api:resourcelink-detail": (
        Check("get", at("resources-api:resourcelink-detail", "resource"), everyone(200)),
    ),
    "api-schema": (Check("get", at("api-schema"), everyone(200)),),
    "api-docs": (Check("get", at("api-docs"), everyone(200)),),
}
