import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from permissions.grants import grants_sync, grants_sync_for_role, role_principals
from permissions.models import ApiToken, Role, RoleAssignment
from permissions.selectors import home_card_grants, permissions_named, role_permission_names, role_values
from portal.catalogue import MANAGE_ROLES, catalogue_entry
from portal.models import HomeCard
from portal.services import ActivityEntry, activity_record, activity_record_entries, changes_between

__all__ = (
    "TOKEN_MAX_LIFETIME_DAYS",
    "TOKEN_PREFIX",
    "api_token_create",
    "api_token_digest",
    "api_token_revoke",
    "assignment_create",
    "assignment_delete",
    "assignment_set",
    "assignment_update",
    "device_group_release",
    "home_card_visibility_set",
    "role_create",
    "role_delete",
    "role_update",
)

TOKEN_PREFIX = "vgl_"  # noqa: S105 - a public marker that makes leaked tokens easy to scan for
DEFAULT_TOKEN_LIFETIME = timedelta(days=90)
# A token that never expires is a credential nobody remembers to rotate; a year is the longest the pages offer.
TOKEN_MAX_LIFETIME_DAYS = 365
HOME_CARD_PERMISSION = "portal.view_homecard"


def api_token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user, name: str, expires_at: datetime | None = None, actor=None, using_token: ApiToken | None = None
) -> tuple[ApiToken, str]:
    """
    Create a token and return it with its secret; the secret is never stored and cannot be shown again.

    `using_token` is the API token the request authenticated with, if any. A token creates tokens for its own user
    only, expiring no later than itself (and with it when `expires_at` is not given): otherwise a leaked token
    could mint successors that outlive it, and its expiry would end nothing.
    """
    if using_token is not None:
        _check_minted_for_own_user(using_token, user)
    name = _check_token_name(user, name)
    now = timezone.now()
    if expires_at is None:
        expires_at = using_token.expires_at if using_token is not None else now + DEFAULT_TOKEN_LIFETIME
    if expires_at > now + timedelta(days=TOKEN_MAX_LIFETIME_DAYS, minutes=1):
        raise ValidationError({"expires_at": f"A token lasts at most {TOKEN_MAX_LIFETIME_DAYS} days."})
    if using_token is not None:
        _check_outlived_by(using_token, expires_at, now)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=api_token_digest(secret),
        expires_at=expires_at,
    )
    activity_record(
        actor=actor or user,
        action="permissions.apitoken.created",
        target=token,
        changes={
            "user": {"before": None, "after": user.get_username()},
            "expires_at": {"before": None, "after": token.expires_at.isoformat()},
        },
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        activity_record(actor=actor, action="permissions.apitoken.revoked", target=token)
    return token


def _check_minted_for_own_user(using_token: ApiToken, user) -> None:
    if user.pk != using_token.user_id:
        raise ValidationError(
            {"user": "An API token creates tokens for its own user only: sign in to create one for someone else."}
        )


def _check_outlived_by(using_token: ApiToken, expires_at: datetime, now: datetime) -> None:
    if expires_at > using_token.expires_at:
        days_left = (using_token.expires_at - now).days
        raise ValidationError(
            {
                "expires_at": (
                    "A token created with an API token expires no later than the token used to create it "
                    f"({using_token.expires_at:%Y-%m-%d %H:%M} UTC, in {days_left} days): ask for fewer days, leave "
                    "the lifetime out to expire with it, or sign in to create a longer-lived token."
                )
            }
        )


def _check_token_name(user, name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Say what the token is for, e.g. 'SIEM forwarder'."})
    if len(name) > ApiToken._meta.get_field("name").max_length:
        raise ValidationError({"name": "Use at most 100 characters."})
    if ApiToken.objects.filter(user=user, name=name).exists():
        raise ValidationError({"name": f"{user.get_username()} already has a token named {name!r}; choose another."})
    return name


@transaction.atomic
def home_card_visibility_set(*, role: Role, cards, actor) -> bool:
    """
    Show exactly `cards` on Home to the holders of `role`: django-guardian `view_homecard` on each card for the
    role's group. Returns whether anything changed (only a change is logged).
    """
    wanted = {card.pk: card for card in cards}
    held = [card_pk for _, card_pk in home_card_grants([role.group_id])]
    current = {card.pk: card for card in HomeCard.objects.filter(pk__in=held)}
    added = [card for pk, card in wanted.items() if pk not in current]
    removed = [card for pk, card in current.items() if pk not in wanted]
    if not added and not removed:
        return False
    # Lists, not one card at a time: guardian writes each in one statement.
    assign_perm(HOME_CARD_PERMISSION, role.group, added)
    remove_perm(HOME_CARD_PERMISSION, role.group, removed)
    activity_record(
        actor=actor,
        action="permissions.role.home_cards_changed",
        target=role,
        changes={
            "home_cards": {
                "before": sorted(card.key for card in current.values()),
                "after": sorted(card.key for card in wanted.values()),
            }
        },
    )
    return True


def _catalogue_permissions(permissions: list[str]) -> list[Permission]:
    unknown = sorted(p for p in set(permissions) if catalogue_entry(p) is None)
    if unknown:
        raise ValidationError({"permissions": f"Not in the permission catalogue: {', '.join(unknown)}."})
    if not permissions:
        raise ValidationError({"permissions": "Choose at least one permission."})
    return list(permissions_named(permissions))


def _check_name(name: str, *, role: Role | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A role needs a name."})
    others = Group.objects.filter(name__iexact=name)
    if role is not None:
        others = others.exclude(pk=role.group_id)
    if others.exists():
        raise ValidationError({"name": f"A role or group named {name!r} already exists."})
    return name


def _check_editable(role: Role) -> None:
    if role.is_builtin:
        raise ValidationError("Built-in roles cannot be changed or deleted; make a custom role instead.")


@transaction.atomic
def role_create(
    *, name: str, description: str = "", permissions: list[str], require_two_factor: bool = False, actor
) -> Role:
    """A custom role made from the permission catalogue."""
    name = _check_name(name)
    chosen = _catalogue_permissions(permissions)
    group = Group.objects.create(name=name)
    group.permissions.set(chosen)
    role = Role.objects.create(group=group, description=description, require_two_factor=require_two_factor)
    activity_record(
        actor=actor,
        action="permissions.role.created",
        target=role,
        changes={
            "permissions": {"before": None, "after": role_permission_names(role)},
            "require_two_factor": {"before": None, "after": require_two_factor},
        },
    )
    return role


@transaction.atomic
def role_update(
    *, role: Role, name: str, description: str, permissions: list[str], require_two_factor: bool, actor
) -> Role:
    role = Role.objects.select_for_update().select_related("group").get(pk=role.pk)
    managed_roles = _grants_manage_roles(role)
    before = role_values(role)
    if role.is_builtin:
        # Built-in roles keep their permissions; only whether they need a second factor is the admin's to set.
        if (name.strip(), description, sorted(set(permissions))) != (
            before["name"],
            before["description"],
            before["permissions"],
        ):
            _check_editable(role)
    else:
        role.group.name = _check_name(name, role=role)
        role.group.save(update_fields=["name"])
        role.group.permissions.set(_catalogue_permissions(permissions))
        role.description = description
    role.require_two_factor = require_two_factor
    role.save(update_fields=["description", "require_two_factor"])
    changes = changes_between(before, role_values(role))
    if changes:
        grants_sync_for_role(role)
        activity_record(actor=actor, action="permissions.role.changed", target=role, changes=changes)
    if managed_roles and not _grants_manage_roles(role):
        _check_roles_still_managed()
    return role


@transaction.atomic
def role_delete(*, role: Role, actor) -> None:
    _check_editable(role)
    managed_roles = _grants_manage_roles(role)
    principals = role_principals(role)  # read before the role's assignments go with it
    activity_record(
        actor=actor,
        action="permissions.role.deleted",
        target=role,
        changes={"permissions": {"before": role_permission_names(role), "after": None}},
    )
    role.group.delete()  # cascades to the role and its assignments
    grants_sync(**principals)
    if managed_roles:
        _check_roles_still_managed()


def _scope_text(all_data: bool, device_groups) -> str | list[str]:
    return "all data" if all_data else sorted(group.name for group in device_groups)


def _check_scope(all_data: bool, device_groups) -> None:
    if not all_data and not device_groups:
        raise ValidationError({"device_groups": "Choose at least one device group, or all data."})


@transaction.atomic
def assignment_create(*, role: Role, user=None, group: Group | None = None, all_data: bool, device_groups=(), actor):
    """Give `role` to a user or a group over all data or over some device groups."""
    if (user is None) == (group is None):
        raise ValidationError("Assign the role to one user or one group.")
    if group is not None and hasattr(group, "role"):
        raise ValidationError({"group": "That group is a role; assign the role itself instead."})
    device_groups = [] if all_data else list(device_groups)
    _check_scope(all_data, device_groups)
    principal = {"user": user} if user is not None else {"group": group}
    if RoleAssignment.objects.filter(role=role, **principal).exists():
        raise ValidationError(f"{role} is already assigned to {user or group}; change that assignment's scope.")
    assignment = RoleAssignment.objects.create(role=role, all_data=all_data, **principal)
    assignment.device_groups.set(device_groups)
    _sync_principal(assignment)
    activity_record(
        actor=actor,
        action="permissions.assignment.created",
        target=role,
        changes={
            "principal": {"before": None, "after": assignment.principal_name},
            "scope": {"before": None, "after": _scope_text(all_data, device_groups)},
        },
    )
    return assignment


@transaction.atomic
def assignment_set(*, role: Role, user=None, group: Group | None = None, all_data: bool, device_groups=(), actor):
    """`role` held by the user or group over this scope, whether they held it before or not (seeds and set-ups)."""
    principal = {"user": user} if user is not None else {"group": group}
    assignment = RoleAssignment.objects.filter(role=role, **principal).first()
    if assignment is None:
        return assignment_create(role=role, all_data=all_data, device_groups=device_groups, actor=actor, **principal)
    return assignment_update(assignment=assignment, all_data=all_data, device_groups=device_groups, actor=actor)


@transaction.atomic
def assignment_update(*, assignment: RoleAssignment, all_data: bool, device_groups=(), actor) -> RoleAssignment:
    assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    device_groups = [] if all_data else list(device_groups)
    _check_scope(all_data, device_groups)
    before = _scope_text(assignment.all_data, assignment.device_groups.all())
    assignment.all_data = all_data
    assignment.save(update_fields=["all_data"])
    assignment.device_groups.set(device_groups)
    _sync_principal(assignment)
    after = _scope_text(all_data, device_groups)
    if before != after:
        activity_record(
            actor=actor,
            action="permissions.assignment.changed",
            target=assignment.role,
            changes={"scope": {"before": before, "after": after}},
            message=f"Scope of {assignment.principal_name}",
        )
    return assignment


@transaction.atomic
def assignment_delete(*, assignment: RoleAssignment, actor) -> None:
    role = assignment.role
    activity_record(
        actor=actor,
        action="permissions.assignment.deleted",
        target=role,
        changes={
            "principal": {"before": assignment.principal_name, "after": None},
            "scope": {"before": _scope_text(assignment.all_data, assignment.device_groups.all()), "after": None},
        },
    )
    assignment.delete()
    _sync_principal(assignment)
    if _grants_manage_roles(role):
        _check_roles_still_managed()


def _grants_manage_roles(role: Role) -> bool:
    app_label, codename = MANAGE_ROLES.split(".")
    return role.group.permissions.filter(content_type__app_label=app_label, codename=codename).exists()


def _check_roles_still_managed() -> None:
    """
    Refuse a change that leaves no active person able to manage roles: nobody could undo it in the portal. Called
    after the change, inside its transaction, so that refusing rolls it back.
    """
    app_label, codename = MANAGE_ROLES.split(".")
    holders = RoleAssignment.objects.filter(
        role__group__permissions__content_type__app_label=app_label, role__group__permissions__codename=codename
    )
    managed = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(role_assignments__in=holders) | Q(groups__role_assignments__in=holders))
        .exists()
    )
    if not managed:
        raise ValidationError(
            "This would leave nobody able to manage roles and assignments: give that right to someone else first."
        )


def _sync_principal(assignment: RoleAssignment) -> None:
    grants_sync(
        user_ids=[assignment.user_id] if assignment.user_id else [],
        group_ids=[assignment.group_id] if assignment.group_id else [],
    )


def device_group_release(sender, *, device_group, actor, **kwargs) -> str:
    """
    A device group is being deleted (incidents.services.device_groups.device_group_deleting): the role assignments
    scoped to it lose it (the role's log says so) and their holders' django-guardian rows on it go, since those rows
    name the group by id and would outlive it. Answers the note for the group's own log entry.
    """
    assignments = list(
        RoleAssignment.objects.filter(device_groups=device_group)
        .select_related("role__group", "user", "group")
        .prefetch_related("device_groups")
    )
    if not assignments:
        return ""
    activity_record_entries(
        actor=actor,
        entries=[
            ActivityEntry(
                action="permissions.assignment.changed",
                target=assignment.role,
                changes={
                    "scope": {
                        "before": sorted(g.name for g in assignment.device_groups.all()),
                        "after": sorted(g.name for g in assignment.device_groups.all() if g.pk != device_group.pk),
                    }
                },
                message=f"Scope of {assignment.principal_name}: device group {device_group.name} was deleted",
            )
            for assignment in assignments
        ],
    )
    RoleAssignment.device_groups.through.objects.filter(devicegroup=device_group).delete()
    grants_sync(
        user_ids=[a.user_id for a in assignments if a.user_id],
        group_ids=[a.group_id for a in assignments if a.group_id],
    )
    return f"Used by {len(assignments)} role assignment{'s' if len(assignments) != 1 else ''}."
