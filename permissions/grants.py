"""
The django-guardian object permissions that store scoped role assignments.

An assignment over some device groups grants its role's scoped permissions (permissions.catalogue) on each of
those DeviceGroup rows to its user or group. Several assignments may grant the same row, so a principal's rows are
recomputed from all its assignments whenever one of them, its role or a device group changes.
"""

from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission

from incidents.models import DeviceGroup
from permissions.models import Role, RoleAssignment

__all__ = ("grants_sync", "grants_sync_for_role")


def grants_sync(*, user_ids=(), group_ids=()) -> None:
    content_type = ContentType.objects.get_for_model(DeviceGroup)
    for user_id in set(user_ids):
        _sync(UserObjectPermission, "user_id", user_id, content_type)
    for group_id in set(group_ids):
        _sync(GroupObjectPermission, "group_id", group_id, content_type)


def grants_sync_for_role(role: Role) -> None:
    principals = list(role.assignments.values_list("user_id", "group_id"))
    grants_sync(
        user_ids=[user_id for user_id, _ in principals if user_id],
        group_ids=[group_id for _, group_id in principals if group_id],
    )


def _sync(model, principal_field: str, principal_id: int, content_type: ContentType) -> None:
    wanted = set()
    assignments = RoleAssignment.objects.filter(**{principal_field: principal_id}, all_data=False)
    for assignment in assignments.select_related("role__group").prefetch_related("device_groups"):
        permission_ids = assignment.role.group.permissions.filter(content_type=content_type).values_list(
            "pk", flat=True
        )
        group_pks = [str(group.pk) for group in assignment.device_groups.all()]
        wanted.update((permission_id, pk) for permission_id in permission_ids for pk in group_pks)
    existing = model.objects.filter(**{principal_field: principal_id}, content_type=content_type)
    have = {(row.permission_id, row.object_pk): row.pk for row in existing}
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
        for permission_id, object_pk in sorted(wanted - have.keys())
    )
