"""Reads the section's pages need (roles with their holders, the Home cards matrix, pickers), shaped for templates."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from guardian.models import GroupObjectPermission

from incidents.choices import EntityKind
from incidents.models import DeviceGroup, Entity
from permissions.catalogue import CatalogueEntry, catalogue_by_category, catalogue_entry
from permissions.models import ApiToken, Role, RoleAssignment
from portal.models import HomeCard

__all__ = (
    "PICKER_LIMIT",
    "device_groups_with_counts",
    "devices_found",
    "groups_assignable",
    "home_card_matrix",
    "role_assignments",
    "role_permission_names",
    "role_permissions",
    "roles_with_holders",
    "tokens_for",
    "users_found",
)

# Pickers list this many matches; a person narrows the search rather than scrolling thousands of names.
PICKER_LIMIT = 50


def roles_with_holders() -> QuerySet[Role]:
    return Role.objects.select_related("group").annotate(
        user_count=Count("assignments", filter=Q(assignments__user__isnull=False)),
        group_count=Count("assignments", filter=Q(assignments__group__isnull=False)),
    )


def role_permission_names(role: Role) -> list[str]:
    return sorted(
        f"{app_label}.{codename}"
        for app_label, codename in role.group.permissions.values_list("content_type__app_label", "codename")
    )


@dataclass(frozen=True)
class RolePermissions:
    # (category, [(entry, held)]) for the whole catalogue, so the page shows what the role lacks as well.
    by_category: list[tuple[str, list[tuple[CatalogueEntry, bool]]]]
    # Permissions outside the catalogue (built-in roles carry the Django admin's model permissions).
    others: list[str]


def role_permissions(role: Role) -> RolePermissions:
    held = set(role_permission_names(role))
    return RolePermissions(
        by_category=[
            (category, [(entry, entry.permission in held) for entry in entries])
            for category, entries in catalogue_by_category()
        ],
        others=sorted(name for name in held if catalogue_entry(name) is None),
    )


def role_assignments(role: Role) -> QuerySet[RoleAssignment]:
    return (
        role.assignments.select_related("user", "group")
        .prefetch_related("device_groups")
        .order_by("group__name", "user__username", "pk")
    )


def users_found(query: str = "") -> list:
    """Active users whose user name or name contains `query`, at most PICKER_LIMIT of them."""
    users = get_user_model().objects.filter(is_active=True)
    query = query.strip()
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(email__icontains=query)
        )
    return list(users.order_by("username")[:PICKER_LIMIT])


def groups_assignable() -> QuerySet[Group]:
    return Group.objects.filter(role__isnull=True).order_by("name")


def device_groups_with_counts() -> QuerySet[DeviceGroup]:
    # Counted in subqueries rather than joins: joining devices and assignments together would multiply the rows.
    devices = (
        Entity.objects.filter(kind=EntityKind.DEVICE, device_group=OuterRef("pk"))
        .order_by()
        .values("device_group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    assignments = (
        RoleAssignment.device_groups.through.objects.filter(devicegroup=OuterRef("pk"))
        .order_by()
        .values("devicegroup")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return DeviceGroup.objects.annotate(
        device_count=Coalesce(Subquery(devices), 0), assignment_count=Coalesce(Subquery(assignments), 0)
    ).order_by("rank", "name")


def devices_found(query: str, *, exclude_group: DeviceGroup) -> list[Entity]:
    """Devices outside `exclude_group` whose name or key contains `query`, at most PICKER_LIMIT."""
    devices = Entity.objects.filter(kind=EntityKind.DEVICE).exclude(device_group=exclude_group)
    query = query.strip()
    if query:
        devices = devices.filter(Q(display_name__icontains=query) | Q(key__icontains=query))
    return list(devices.select_related("device_group").order_by("display_name", "pk")[:PICKER_LIMIT])


@dataclass(frozen=True)
class HomeCardMatrix:
    roles: list[Role]
    cards: list[HomeCard]
    shown: set[tuple[int, int]]  # (role pk, card pk)

    @property
    def rows(self) -> list[tuple[Role, list[tuple[HomeCard, bool]]]]:
        return [(role, [(card, (role.pk, card.pk) in self.shown) for card in self.cards]) for role in self.roles]


def home_card_matrix() -> HomeCardMatrix:
    roles = list(Role.objects.select_related("group").order_by("-is_builtin", "group__name"))
    cards = list(HomeCard.objects.all())
    group_roles = {role.group_id: role.pk for role in roles}
    rows = GroupObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(HomeCard),
        permission__codename="view_homecard",
        group_id__in=group_roles,
    ).values_list("group_id", "object_pk")
    return HomeCardMatrix(
        roles=roles,
        cards=cards,
        shown={(group_roles[group_id], int(pk)) for group_id, pk in rows if pk.isdigit()},
    )


def tokens_for(user, *, everyone: bool) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")
    return tokens if everyone else tokens.filter(user=user)
