"""
Reads of roles, assignments and data scopes, and the reads the Permissions & roles pages need (roles with their
holders, the Home cards matrix, pickers), shaped for templates.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from guardian.models import GroupObjectPermission

from incidents.choices import EntityKind
from incidents.models import DeviceGroup, Entity
from incidents.services.device_groups import devices_matching
from permissions.access import ALL_DATA, NO_DATA, DataScope, data_scope
from permissions.models import ApiToken, Role, RoleAssignment
from portal.catalogue import CatalogueEntry, catalogue_by_category, catalogue_entry
from portal.models import HomeCard

__all__ = (
    "ALL_DATA",
    "NO_DATA",
    "PICKER_LIMIT",
    "DataScope",
    "HomeCardMatrix",
    "PatternPreview",
    "RolePermissions",
    "assignments_all",
    "assignments_of",
    "assignments_scoped_to",
    "data_scope",
    "device_groups_with_counts",
    "devices_found",
    "devices_in",
    "groups_assignable",
    "home_card_grants",
    "home_card_matrix",
    "pattern_preview",
    "permissions_named",
    "role_assignments",
    "role_permission_names",
    "role_permissions",
    "role_values",
    "roles_with_holders",
    "roles_with_holders_and_permissions",
    "tokens_for",
    "users_found",
)

# Pickers list this many matches; a person narrows the search rather than scrolling thousands of names.
PICKER_LIMIT = 50
# How many of the devices a group's pattern would move its page names; the counts are always exact.
PREVIEW_SHOWN = 10


def assignments_of(user) -> QuerySet[RoleAssignment]:
    """The role assignments that reach `user`: their own and their groups'."""
    return RoleAssignment.objects.filter(Q(user=user) | Q(group__in=Group.objects.filter(user=user)))


# --- Roles ------------------------------------------------------------------------------------------------------------


def roles_with_holders() -> QuerySet[Role]:
    """Roles with how many users and groups hold them, built-in first: one query however many roles."""
    return (
        Role.objects.select_related("group")
        .annotate(
            user_count=Count("assignments", filter=Q(assignments__user__isnull=False)),
            group_count=Count("assignments", filter=Q(assignments__group__isnull=False)),
        )
        .order_by("-is_builtin", "group__name")
    )


def roles_with_holders_and_permissions() -> QuerySet[Role]:
    """roles_with_holders, each with its permissions and their apps read along: one query more, however many."""
    return roles_with_holders().prefetch_related(
        Prefetch("group__permissions", queryset=Permission.objects.select_related("content_type"))
    )


def permissions_named(names) -> QuerySet[Permission]:
    """The Permission rows named "app_label.codename"; "app_label.*" names every permission of that app."""
    wanted = Q(pk__in=[])
    for name in set(names):
        app_label, codename = name.split(".", 1)
        wanted |= (
            Q(content_type__app_label=app_label)
            if codename == "*"
            else Q(content_type__app_label=app_label, codename=codename)
        )
    return Permission.objects.filter(wanted)


def role_permission_names(role: Role) -> list[str]:
    """The role's permissions as sorted "app_label.codename" names."""
    return sorted(
        f"{app_label}.{codename}"
        for app_label, codename in role.group.permissions.values_list("content_type__app_label", "codename")
    )


def role_values(role: Role) -> dict:
    """A role's settings as `services.role_update` takes them: what an edit starts from, and what its log compares."""
    return {
        "name": role.group.name,
        "description": role.description,
        "permissions": role_permission_names(role),
        "require_two_factor": role.require_two_factor,
    }


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


def assignments_all() -> QuerySet[RoleAssignment]:
    """Every role assignment with its role, holder and device groups, by role name then oldest first."""
    return (
        RoleAssignment.objects.select_related("role__group", "user", "group")
        .prefetch_related("device_groups")
        .order_by("role__group__name", "pk")
    )


def role_assignments(role: Role) -> QuerySet[RoleAssignment]:
    return (
        role.assignments.select_related("user", "group")
        .prefetch_related("device_groups")
        .order_by("group__name", "user__username", "pk")
    )


def assignments_scoped_to(device_group: DeviceGroup) -> list[RoleAssignment]:
    """The role assignments limited to `device_group` (among others), with what their names need."""
    return list(
        RoleAssignment.objects.filter(device_groups=device_group).select_related("role__group", "user", "group")
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
    """Groups of people, to whom a role may be assigned: every group but the roles' own."""
    return Group.objects.filter(role__isnull=True).order_by("name")


# --- Device groups ----------------------------------------------------------------------------------------------------


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


def devices_in(device_group: DeviceGroup) -> QuerySet[Entity]:
    """The group's devices by name (only devices: scoping reads no other entity's group, and counts none)."""
    return device_group.devices.filter(kind=EntityKind.DEVICE).order_by("display_name", "pk")


def devices_found(query: str, *, exclude_group: DeviceGroup) -> list[Entity]:
    """Devices outside `exclude_group` whose name or key contains `query`, at most PICKER_LIMIT."""
    devices = Entity.objects.filter(kind=EntityKind.DEVICE).exclude(device_group=exclude_group)
    query = query.strip()
    if query:
        devices = devices.filter(Q(display_name__icontains=query) | Q(key__icontains=query))
    return list(devices.select_related("device_group").order_by("display_name", "pk")[:PICKER_LIMIT])


@dataclass(frozen=True)
class PatternPreview:
    matching: int  # devices the pattern matches
    outside: int  # of them, those not in the group yet: what applying the pattern would move
    examples: list[Entity]  # the first PREVIEW_SHOWN of those


def pattern_preview(device_group: DeviceGroup) -> PatternPreview | None:
    """What applying the group's name pattern would do; None for a group without one."""
    if not device_group.device_name_pattern:
        return None
    matching = devices_matching(device_group.device_name_pattern)
    outside = matching.exclude(device_group=device_group)
    return PatternPreview(
        matching=matching.count(),
        outside=outside.count(),
        examples=list(outside.select_related("device_group").order_by("display_name")[:PREVIEW_SHOWN]),
    )


# --- Home cards -------------------------------------------------------------------------------------------------------


def home_card_grants(group_ids) -> set[tuple[int, int]]:
    """(group id, card pk) for every django-guardian `view_homecard` the groups hold: one query."""
    rows = GroupObjectPermission.objects.filter(
        content_type=ContentType.objects.get_for_model(HomeCard),
        permission__codename="view_homecard",
        group_id__in=list(group_ids),
    ).values_list("group_id", "object_pk")
    # object_pk is text in guardian's generic table.
    return {(group_id, int(pk)) for group_id, pk in rows if pk.isdigit()}


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
    role_of_group = {role.group_id: role.pk for role in roles}
    return HomeCardMatrix(
        roles=roles,
        cards=list(HomeCard.objects.all()),
        shown={(role_of_group[group_id], card_pk) for group_id, card_pk in home_card_grants(role_of_group)},
    )


# --- API tokens -------------------------------------------------------------------------------------------------------


def tokens_for(user, *, everyone: bool) -> QuerySet[ApiToken]:
    """The user's own API tokens, or everyone's (for a role manager), newest first."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-pk")
    return tokens if everyone else tokens.filter(user=user)
