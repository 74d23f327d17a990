"""
The fixed cast: one user per built-in role (the roles come from the data migration), plus a user with no role.

admin — Security administrator; analyst — Security operator; reader — Security reader; outsider — no role.
"""

import pytest
from django.contrib.auth.models import Group

from portal import embedded
from tests.factories import UserFactory


def pytest_unconfigure(config):
    # Without DATABASE_URL / REDIS_URL the suite started private servers under .data/: leave nothing running.
    embedded.stop_servers_started_here()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user_with_role(username, role_name=None):
    user = UserFactory(username=username)
    if role_name:
        user.groups.add(Group.objects.get(name=role_name))
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
