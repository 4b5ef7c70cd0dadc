"""The project as a package: pyproject.toml lists every package of the tree (the app's folders are mapped, so the
list is explicit and must be kept whole)."""

from __future__ import annotations

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_of_the_tree_is_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "explorer").rglob("__init__.py")}
    app = {"cnn_explorer_app"} | {
        "cnn_explorer_app." + ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pages").rglob("__init__.py")
    }
    assert listed == tree | app, f"missing {sorted(tree | app - listed)}, not in the tree {sorted(listed - tree - app)}"


def test_the_console_script_is_the_cli():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"cnn-explorer": "explorer.cli:main"}
    assert project["dynamic"] == ["dependencies"]
