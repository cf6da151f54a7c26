"""The import structure: module groups form no circle, and nothing inside mns imports the face.

Every module under ``src/mns`` is parsed; every import counts (top level, inside functions,
under ``TYPE_CHECKING``; relative ones resolved). A module's **group** is its subpackage
(``mns.engines``, ``mns.records``) or, for a top-level module, the module itself
(``mns.aggregate``). The groups must form a directed acyclic graph, and no module may import
the package face (``import mns``, or ``from mns import X`` where ``X`` is not a submodule):
the pipeline's real dependencies show in its imports. Dynamic imports by name
(``importlib.import_module``: the face's lazy exports, plugin registration, warming workers)
are not imports of a module's code and are not counted. The bottom layer (:data:`FOUNDATION`)
imports only itself.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mns

SRC = Path(mns.__file__).resolve().parent.parent
PACKAGE = SRC / "mns"


def _modules() -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def group(module: str) -> str:
    """``mns.engines._core`` -> ``mns.engines``; ``mns.aggregate`` -> ``mns.aggregate``."""
    return ".".join(module.split(".")[:2])


def imports(module: str) -> Iterator[tuple[str, str | None, int]]:
    """``(imported module, name imported from it or None, line)`` for every import in
    ``module``, wherever it is in the file; relative imports resolved."""
    path, is_package = MODULES[module]
    package = module if is_package else module.rpartition(".")[0]
    yield from imports_in(path.read_text("utf-8"), package)


def imports_in(text: str, package: str) -> Iterator[tuple[str, str | None, int]]:
    """The imports of the module text ``text`` of package ``package`` (see :func:`imports`)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:
                    yield submodule, None, node.lineno
                else:
                    yield target, alias.name, node.lineno


def edges() -> dict[str, dict[str, list[str]]]:
    """group -> imported group -> where (``module:line imports target``)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for module in MODULES:
        if module == "mns":
            continue
        for target, _, line in imports(module):
            if target == "mns" or not target.startswith("mns."):
                continue
            source, dest = group(module), group(target)
            if source != dest:
                where = f"{module}:{line} imports {target}"
                graph.setdefault(source, {}).setdefault(dest, []).append(where)
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """A circle of groups (first group repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_module_groups_form_no_circle() -> None:
    graph = edges()
    cycle = find_cycle(graph)
    if cycle is not None:
        steps = [f"  {a} -> {b}: {'; '.join(graph[a][b])}" for a, b in itertools.pairwise(cycle)]
        pytest.fail("import circle " + " -> ".join(cycle) + "\n" + "\n".join(steps))


#: The bottom layer: every module may import these, and they import only each other.
FOUNDATION = ("mns._types", "mns._version", "mns._tables", "mns.errors")


def test_the_foundation_imports_only_the_foundation() -> None:
    found = [
        f"{module}:{line} imports {target}"
        for module in FOUNDATION
        for target, _, line in imports(module)
        if target.startswith("mns.") and group(target) not in FOUNDATION
    ]
    assert not found, "\n".join(found)


def test_nothing_inside_mns_imports_the_face() -> None:
    found = [
        f"{module}:{line} " + (f"from mns import {name}" if name else "import mns")
        for module in MODULES
        if module != "mns"
        for target, name, line in imports(module)
        if target == "mns"
    ]
    assert not found, "import the defining module instead of the face:\n" + "\n".join(found)


def test_the_checks_see_a_circle_and_a_face_import() -> None:
    # The checks can fail: a circle and the face's names are recognised.
    assert find_cycle({"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}}) == [
        "a",
        "b",
        "c",
        "a",
    ]
    assert find_cycle({"a": {"b": ["x"]}, "b": {}}) is None
    assert group("mns.engines._core") == "mns.engines"
    assert group("mns.aggregate") == "mns.aggregate"
    assert ("mns.records.schema", None) in {(t, n) for t, n, _ in imports("mns.records.bundle")}
    text = (
        "import mns\n"
        "def f():\n"
        "    from mns import __version__, privacy\n"
        "    from . import _core\n"
        "    from ..records import schema\n"
    )
    assert sorted((t, n or "") for t, n, _ in imports_in(text, "mns.engines")) == [
        ("mns", ""),
        ("mns", "__version__"),
        ("mns.engines._core", ""),
        ("mns.privacy", ""),
        ("mns.records.schema", ""),
    ]


def test_threads_may_reach_the_lazy_names_at_once() -> None:
    # in a fresh interpreter: names of one package (mns.analyses), first reached in threads
    code = """
import threading, mns
names = ["areas", "crosstab", "profile", "teams", "budget", "compare", "match", "outcomes"]
errors = []
start = threading.Barrier(len(names))
def reach(name):
    start.wait()
    try:
        getattr(mns, name)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=reach, args=(n,)) for n in names]
for t in threads: t.start()
for t in threads: t.join()
assert not errors, errors
"""
    for _ in range(3):
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
