"""
The permission matrix of the Graph-compatible security API (/v1.0/security/): see test_permission_matrix.py for how
it is read.
"""

from tests.permissions.matrix_support import Check

GRAPH_MATRIX: dict[str, tuple[Check, ...]] = {}
