"""
The fixed cast: one user per built-in role (the roles come from the data migration), plus a user with no role.

admin — Security administrator; analyst — Security operator; reader — Security reader; ti_analyst — Threat
intelligence analyst; posture_manager — Posture manager; outsider — no role. Each holds its role over all data;
`assign_role` gives a role over some device groups.
"""

import pytest
from django.contrib.auth.models import Group

from permissions.grants import grants_sync
from permissions.models import Role, RoleAssignment
from portal import embedded
from tests.factories import UserFactory


def pytest_unconfigure(config):
    # Without DATABASE_URL / REDIS_URL the suite started private servers under .data/: leave nothing running.
    embedded.stop_servers_started_here()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def assign_role(principal, role_name, device_groups=None):
    """
    Give a user (or a group) a role over all data, or over `device_groups` when given. Written directly rather than
    through assignment_set: the cast is set-up, and tests that assert on the activity log must start from an empty one.
    """
    role = Role.objects.get(group__name=role_name)
    field = "group" if isinstance(principal, Group) else "user"
    assignment = RoleAssignment.objects.create(role=role, all_data=device_groups is None, **{field: principal})
    if device_groups is not None:
        assignment.device_groups.set(device_groups)
        grants_sync(**{f"{field}_ids": [principal.pk]})
    return assignment


def _user_with_role(username, role_name=None):
    user = UserFactory(username=username)
    if role_name:
        assign_role(user, role_name)
    return user


@pytest.fixture
def admin_user(db):
    return _user_with_role("admin", "Security administrator")


@pytest.fixture
def analyst(db):
    return _user_with_role("analyst", "Security operator")


@pytest.fixture
def reader(db):
    return _user_with_role("reader", "Security reader")


@pytest.fixture
def ti_analyst(db):
    return _user_with_role("ti_analyst", "Threat intelligence analyst")


@pytest.fixture
def posture_manager(db):
    return _user_with_role("posture_manager", "Posture manager")


@pytest.fixture
def outsider(db):
    return _user_with_role("outsider")


PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _static_files_without_manifest(settings):
    # Production serves hashed files from collectstatic's manifest; tests render templates without running it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
