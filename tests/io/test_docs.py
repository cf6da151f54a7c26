"""The reference pages stay true to the code, and the how-to's examples run."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from mns.plugins import hookspec
from mns.records import schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _hooks() -> dict[str, str]:
    """Each hook's name and its signature as the reference writes it."""
    out = {}
    for name, fn in inspect.getmembers(hookspec.Specs, inspect.isfunction):
        if not name.startswith("mns_"):
            continue
        params = [p for p in inspect.signature(fn).parameters if p != "self"]
        returns = inspect.signature(fn).return_annotation
        out[name] = f"def {name}({', '.join(params)}) -> {returns}"
    return out


def test_every_hook_is_documented_with_its_exact_signature() -> None:
    text = (DOCS / "reference" / "hooks.md").read_text("utf-8")
    hooks = _hooks()
    assert hooks, "no hooks found in mns.plugins.hookspec.Specs"
    for name, signature in hooks.items():
        assert f"## `{name}`" in text, f"docs/reference/hooks.md has no section for {name}"
        assert signature in text, f"docs/reference/hooks.md does not give {signature!r}"
    documented = set(re.findall(r"^## `(mns_\w+)`", text, re.MULTILINE))
    assert documented == set(hooks), f"documented hooks {documented} != hookspecs {set(hooks)}"


def test_every_hook_is_exercised_by_a_test() -> None:
    tests = "\n".join(p.read_text("utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    for name in _hooks():
        assert re.search(rf"def {name}\(", tests), f"no test implements the hook {name}"


def test_the_schema_reference_lists_every_column_with_its_type() -> None:
    text = (DOCS / "reference" / "schemas.md").read_text("utf-8")
    assert f"**Schema version: {schema.SCHEMA_VERSION}.**" in text
    for name, table in schema.SCHEMAS.items():
        assert f"## `{name}`" in text
        for field in table:
            kind = (
                "dictionary<int32, string>"
                if str(field.type).startswith("dictionary")
                else str(field.type)
            )
            row = f"| `{field.name}` | `{kind}` | {'yes' if not field.nullable else ''} |"
            section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
            assert row in section, f"schemas.md: {name}.{field.name} should read {row!r}"


def test_the_tutorial_quotes_the_example_adapter_as_it_is() -> None:
    text = (DOCS / "tutorials" / "write-an-adapter.md").read_text("utf-8")
    example = ROOT / "adapters" / "mns-example"
    source = "\n".join(
        p.read_text("utf-8") for p in [*example.rglob("*.py"), example / "pyproject.toml"]
    )
    for block in re.findall(r"```(?:python|toml)\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            if line.strip() and line.strip() != "...":
                assert line.strip() in source, (
                    f"the tutorial quotes {line.strip()!r}, not in the example"
                )
