"""Integration tests run in transactional databases (threads and a Celery worker must see committed rows)."""

from importlib import import_module

import pytest
from django.apps import apps

from permissions.signals import sync_builtin_role_permissions


@pytest.fixture(autouse=True)
def _data_from_migrations(transactional_db):
    """
    Transactional databases are emptied after each test; put back what the data migrations create (built-in
    roles, the seeded More resources), through the migrations' own functions.
    """
    import_module("permissions.migrations.0002_builtin_roles").create_builtin_roles(apps, None)
    sync_builtin_role_permissions()
    import_module("resources.migrations.0002_seed_related_portals").seed(apps, None)
