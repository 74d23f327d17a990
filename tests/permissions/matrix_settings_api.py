"""
The permission matrix of the native API's settings endpoints (device groups, roles and assignments, API tokens, the
activity log): see test_permission_matrix.py for how it is read.
"""

from tests.permissions.matrix_support import Check

SETTINGS_API_MATRIX: dict[str, tuple[Check, ...]] = {}
