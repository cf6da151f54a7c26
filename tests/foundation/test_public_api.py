"""The public surface: every exported name resolves, and type checkers see the same names."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import mns


def test_every_exported_name_resolves() -> None:
    for name in mns.__all__:
        assert getattr(mns, name) is not None, name


def test_type_checkers_see_every_export() -> None:
    tree = ast.parse(Path(mns.__file__).read_text("utf-8"))
    seen: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name):
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom)
                for alias in stmt.names:
                    assert alias.asname is not None, "re-export as `X as X` for mypy --strict"
                    seen[alias.asname] = f"{stmt.module}:{alias.name}"
    exports = mns._EXPORTS
    assert set(seen) == set(exports)
    for name, target in exports.items():
        module, _, attribute = target.partition(":")
        if attribute:
            assert seen[name] == target
        else:
            parent, _, child = module.rpartition(".")
            assert seen[name] == f"{parent}:{child}"


def test_no_submodule_shadows_a_public_function() -> None:
    # Importing a submodule sets it as an attribute of the package: a module named like a
    # public function would replace that function.
    for name, target in mns._EXPORTS.items():
        if ":" in target:
            assert importlib.util.find_spec(f"mns.{name}") is None, f"mns.{name} is a module"
