"""
Scoping by structure: a scoped model (one whose manager's queryset is a portal.scoping.ScopedQuerySet: alerts,
incidents, entities, evidence, comments, and every scoped model a section adds) is read for a person through
`Model.objects.restrict(user, action)` in a selector. Reaching for its manager anywhere but in selectors, services,
models and migrations is refused here, so that a new page, API or card cannot forget its scope.
"""

import ast
import tomllib
from pathlib import Path

from django.apps import apps

from portal.scoping import ScopedQuerySet

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
# Where a scoped model's manager may be named: the reads that apply the scope (selectors), the writes that find their
# rows in it (services), and the model's own definition and migrations.
ALLOWED_PARTS = {"selectors", "services", "migrations", "models"}
MANAGERS = {"objects", "_default_manager", "_base_manager"}


def scoped_model_names() -> set[str]:
    return {model.__name__ for model in apps.get_models() if isinstance(model._default_manager.all(), ScopedQuerySet)}


def unscoped_reads(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, "Model.objects") for each use of a scoped model's manager in `source`."""
    return [
        (node.lineno, f"{node.value.id}.{node.attr}")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in MANAGERS
        and isinstance(node.value, ast.Name)
        and node.value.id in names
    ]


def may_read_managers(path: Path) -> bool:
    parts = {part.removesuffix(".py") for part in path.relative_to(ROOT).parts}
    return bool(parts & ALLOWED_PARTS)


def test_the_scoped_models_are_the_security_data():
    assert {"Alert", "Incident", "Entity", "Evidence", "Comment"} <= scoped_model_names()


def test_no_page_api_or_card_reads_a_scoped_model_around_its_scope():
    names = scoped_model_names()
    found = [
        f"{path.relative_to(ROOT)}:{line}: {use}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not may_read_managers(path)
        for line, use in unscoped_reads(path.read_text(), names)
    ]
    assert not found, "Read these through a selector (Model.objects.restrict(user, action)):\n" + "\n".join(found)


def test_the_check_finds_a_view_that_reads_a_scoped_model_directly():
    view = "def alerts(request):\n    return list(Alert.objects.filter(severity='high'))\n"

    assert unscoped_reads(view, scoped_model_names()) == [(2, "Alert.objects")]
    assert not may_read_managers(ROOT / "incidents" / "views" / "alerts.py")
    assert may_read_managers(ROOT / "incidents" / "selectors" / "alert_pages.py")
