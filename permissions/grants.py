"""
The django-guardian object permissions that store scoped role assignments.

An assignment over some device groups grants its role's scoped permissions (portal.catalogue) on each of
those DeviceGroup rows to its user or group. Several assignments may grant the same row, so a principal's rows are
recomputed from all its assignments whenever one of them, its role or a device group changes.
"""

from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission

from incidents.models import DeviceGroup
from permissions.models import Role, RoleAssignment

__all__ = ("grants_sync", "grants_sync_for_role", "role_principals")


def grants_sync(*, user_ids=(), group_ids=()) -> None:
    content_type = ContentType.objects.get_for_model(DeviceGroup)
    for model, principal_field, principal_ids in (
        (UserObjectPermission, "user_id", set(user_ids)),
        (GroupObjectPermission, "group_id", set(group_ids)),
    ):
        if principal_ids:
            _sync(model, principal_field, principal_ids, content_type)


def role_principals(role: Role) -> dict[str, list[int]]:
    """The users and groups `role` is assigned to, as `grants_sync` takes them."""
    principals = list(role.assignments.values_list("user_id", "group_id"))
    return {
        "user_ids": [user_id for user_id, _ in principals if user_id],
        "group_ids": [group_id for _, group_id in principals if group_id],
    }


def grants_sync_for_role(role: Role) -> None:
    grants_sync(**role_principals(role))


def _sync(model, principal_field: str, principal_ids: set[int], content_type: ContentType) -> None:
    """
    Make the principals' rows on DeviceGroup exactly what their scoped assignments grant. A fixed number of queries
    however many principals: a role held by hundreds of people is re-synced whenever its permissions change.
    """
    wanted = set()  # (principal id, permission id, object pk)
    assignments = RoleAssignment.objects.filter(**{f"{principal_field}__in": principal_ids}, all_data=False)
    assignments = assignments.select_related("role__group").prefetch_related(
        "device_groups", "role__group__permissions"
    )
    for assignment in assignments:
        principal_id = getattr(assignment, principal_field)
        permission_ids = [
            permission.pk
            for permission in assignment.role.group.permissions.all()
            if permission.content_type_id == content_type.pk
        ]
        object_pks = [str(group.pk) for group in assignment.device_groups.all()]
        wanted.update((principal_id, permission_id, pk) for permission_id in permission_ids for pk in object_pks)
    existing = model.objects.filter(**{f"{principal_field}__in": principal_ids}, content_type=content_type)
    have = {
        (principal_id, permission_id, object_pk): pk
        for pk, principal_id, permission_id, object_pk in existing.values_list(
            "pk", principal_field, "permission_id", "object_pk"
        )
    }
    stale = [pk for key, pk in have.items() if key not in wanted]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    model.objects.bulk_create(
        model(
            **{principal_field: principal_id},
            permission_id=permission_id,
            content_type=content_type,
            object_pk=object_pk,
        )
        for principal_id, permission_id, object_pk in sorted(wanted - have.keys())
    )
