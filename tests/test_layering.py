"""
The apps' layering (pyproject.toml, [tool.importlinter]) is checked by `make test` (lint-imports). These tests run
the same contracts over the real tree, and over a small tree holding a deliberate violation, to show the check
fails when an app imports one above it — at module level or hidden inside a function.
"""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _as_toml(settings: dict) -> str:
    # JSON strings and arrays are TOML values too.
    lines = ["[tool.importlinter]", f"root_packages = {json.dumps(settings['root_packages'])}"]
    for contract in settings["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in contract.items()]
    return "\n".join(lines) + "\n"


def lint_imports(config: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own tool, our own arguments
        [str(LINT_IMPORTS), str(config), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_layers():
    result = lint_imports(ROOT / "pyproject.toml", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "leak",
    [
        "import home\n",
        "def read_cards():\n    from home import cards  # imported late, as if that hid it\n\n    return cards\n",
    ],
    ids=["at module level", "inside a function"],
)
def test_an_app_importing_one_above_it_breaks_the_contract(tmp_path, leak):
    # The same contracts over empty apps of the same names, where portal (the bottom layer) imports Home.
    for package in CONTRACTS["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "home" / "cards.py").write_text("")
    (tmp_path / "portal" / "leak.py").write_text(leak)
    config = tmp_path / "importlinter.toml"
    layers = [contract for contract in CONTRACTS["contracts"] if contract["type"] == "layers"]
    config.write_text(_as_toml({**CONTRACTS, "contracts": layers}))

    result = lint_imports(config, tmp_path)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "portal.leak -> home" in result.stdout


def test_a_page_importing_the_scoping_machinery_breaks_the_contract(tmp_path):
    # The forbidden contract over empty modules of the same names, where a page imports portal.scoping itself.
    forbidden = [contract for contract in CONTRACTS["contracts"] if contract["type"] == "forbidden"]
    for package in CONTRACTS["root_packages"]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for contract in forbidden:
        for module in [*contract["source_modules"], *contract["forbidden_modules"]]:
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):
                package = tmp_path.joinpath(*parts[:depth])
                package.mkdir(exist_ok=True)
                (package / "__init__.py").touch()
    (tmp_path / "incidents" / "views" / "queue.py").write_text("from portal.scoping import restrict\n")
    config = tmp_path / "importlinter.toml"
    config.write_text(_as_toml({**CONTRACTS, "contracts": forbidden}))

    result = lint_imports(config, tmp_path)

    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "incidents.views.queue -> portal.scoping" in result.stdout
