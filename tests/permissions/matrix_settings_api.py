"""
The permission matrix of the native API's settings endpoints (device groups, roles and assignments, API tokens, the
activity log): see test_permission_matrix.py for how it is read.

Roles, assignments and the management of device groups need `permissions.manage_roles`, which holds tenant-wide, so
both sides answer alike, as on the pages. Reading device groups is open to holders of view_security_data too, each
seeing only the groups in their scope. Tokens are everyone's own; someone else's exists for a role manager only.
"""

from tests.permissions.matrix_support import ADMIN, ADMINS, ROLES, VIEWERS, Check, at, everyone, form, tenant_wide

# A role manager sees every group; the other viewers only theirs (A); the posture manager none.
GROUP_READ = {role: (200, 200) if role == ADMIN else (200, 404) if role in VIEWERS else (403, 403) for role in ROLES}


def own_token(ok: int) -> dict[str, tuple[int, int]]:
    """The subject's own token (A) answers `ok` to everyone; someone else's (B) only to a role manager."""
    return {role: (ok, ok) if role in ADMINS else (ok, 404) for role in ROLES}


SETTINGS_API_MATRIX: dict[str, tuple[Check, ...]] = {
    # Device groups
    "permissions-api:devicegroup-list": (
        Check("get", at("permissions-api:devicegroup-list"), tenant_wide(VIEWERS, 200)),
        Check(
            "post",
            at("permissions-api:devicegroup-list"),
            tenant_wide(ADMINS, 201),
            form(name=lambda s: f"New group {s.name}"),
            json=True,
        ),
    ),
    # The group still has its device, so deleting it is refused (400) once the permission lets the request in.
    "permissions-api:devicegroup-detail": (
        Check("get", at("permissions-api:devicegroup-detail", "group"), GROUP_READ),
        Check(
            "patch",
            at("permissions-api:devicegroup-detail", "group"),
            tenant_wide(ADMINS, 200),
            form(description="Changed."),
            json=True,
        ),
        Check("delete", at("permissions-api:devicegroup-detail", "group"), tenant_wide(ADMINS, 400)),
    ),
    # The group has no name pattern to apply: refused (400) once the permission lets the request in.
    "permissions-api:devicegroup-apply": (
        Check("post", at("permissions-api:devicegroup-apply", "group"), tenant_wide(ADMINS, 400), json=True),
    ),
    "permissions-api:devicegroup-devices": (
        Check("get", at("permissions-api:devicegroup-devices", "group"), tenant_wide(ADMINS, 200)),
    ),
    "permissions-api:devicegroup-add-devices": (
        Check(
            "post",
            at("permissions-api:devicegroup-add-devices", "group"),
            tenant_wide(ADMINS, 200),
            form(devices=lambda s: [s.device.pk]),
            json=True,
        ),
    ),
    "permissions-api:devicegroup-remove-devices": (
        Check(
            "post",
            at("permissions-api:devicegroup-remove-devices", "group"),
            tenant_wide(ADMINS, 200),
            form(devices=lambda s: [s.device.pk]),
            json=True,
        ),
    ),
    # Roles and assignments
    "permissions-api:role-list": (
        Check("get", at("permissions-api:role-list"), tenant_wide(ADMINS, 200)),
        Check(
            "post",
            at("permissions-api:role-list"),
            tenant_wide(ADMINS, 201),
            form(name=lambda s: f"New role {s.name}", permissions=["incidents.view_security_data"]),
            json=True,
        ),
    ),
    "permissions-api:role-catalogue": (Check("get", at("permissions-api:role-catalogue"), tenant_wide(ADMINS, 200)),),
    "permissions-api:role-detail": (
        Check("get", at("permissions-api:role-detail", "role"), tenant_wide(ADMINS, 200)),
        Check(
            "patch",
            at("permissions-api:role-detail", "role"),
            tenant_wide(ADMINS, 200),
            # The side's role is made without permissions, and a role needs one.
            form(description="Changed.", permissions=["incidents.view_security_data"]),
            json=True,
        ),
        Check("delete", at("permissions-api:role-detail", "role"), tenant_wide(ADMINS, 204)),
    ),
    "permissions-api:roleassignment-list": (
        Check("get", at("permissions-api:roleassignment-list"), tenant_wide(ADMINS, 200)),
        Check(
            "post",
            at("permissions-api:roleassignment-list"),
            tenant_wide(ADMINS, 201),
            form(role=lambda s: s.role.pk, user=lambda s: s.newcomer.username),
            json=True,
        ),
    ),
    "permissions-api:roleassignment-detail": (
        Check("get", at("permissions-api:roleassignment-detail", "assignment"), tenant_wide(ADMINS, 200)),
        Check(
            "patch",
            at("permissions-api:roleassignment-detail", "assignment"),
            tenant_wide(ADMINS, 200),
            form(device_groups=lambda s: [s.group.pk]),
            json=True,
        ),
        Check("delete", at("permissions-api:roleassignment-detail", "assignment"), tenant_wide(ADMINS, 204)),
    ),
    # API tokens
    "permissions-api:apitoken-list": (
        Check("get", at("permissions-api:apitoken-list"), everyone(200)),
        Check("get", at("permissions-api:apitoken-list", query="?whose=everyone"), tenant_wide(ADMINS, 200)),
        Check(
            "post",
            at("permissions-api:apitoken-list"),
            everyone(201),
            form(name=lambda s: f"New {s.name}", expires_in_days=30),
            json=True,
        ),
    ),
    "permissions-api:apitoken-detail": (
        Check("get", at("permissions-api:apitoken-detail", "token"), own_token(200)),
        Check("delete", at("permissions-api:apitoken-detail", "token"), own_token(204)),
    ),
    "permissions-api:apitoken-revoke": (
        Check("post", at("permissions-api:apitoken-revoke", "token"), own_token(200), json=True),
    ),
    # The activity log: the Security administrator's (portal.view_activitylogentry)
    "portal-api:activity": (Check("get", at("portal-api:activity"), tenant_wide(ADMINS, 200)),),
}
