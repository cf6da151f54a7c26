"""The report's and the printable forms' HTML comes from autoescaping templates: no module
builds markup from strings, and hostile text from a plan or the records comes out escaped."""

from __future__ import annotations

import ast
import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from markupsafe import Markup

import mns.forms
import mns.report
from mns.forms import render_printable
from mns.plan import plan_from_dict
from mns.report import ReportInput, render_report
from mns.report.sections import Section
from tests.report import handmade
from tests.report.parse import parse

_REPORT = Path(mns.report.__file__).parent
_FORMS = Path(mns.forms.__file__).parent
MODULES = [*sorted(_REPORT.rglob("*.py")), _FORMS / "printable.py"]
TEMPLATES = sorted(_REPORT.glob("templates/*")) + sorted(_FORMS.glob("templates/*"))

#: The start of a tag (or of a closing tag, comment or doctype) in a string.
TAG = re.compile(r"<\s*[/!]?\s*[A-Za-z]|^\s*</?\s*$")
#: Calls that search markup rather than build it: a tag in their arguments is a pattern.
SEARCHING = {"compile", "sub", "search", "match", "index", "find", "startswith", "replace"}
#: Where a computed string may become Markup: the SVG matplotlib writes (charts.svg), the
#: output of an autoescaping template, and the escaping function itself.
MARKUP_MADE = {("charts.py", "svg"), ("templating.py", "render"), ("templating.py", "escape")}


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    allowed: set[int] = set()  # ids of string constants that may hold a tag
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    functions = {
        id(child): node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for child in ast.walk(node)
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        if name == "Markup":
            literal = [a for a in node.args if isinstance(a, ast.Constant)]
            allowed.update(id(a) for a in literal)
            if len(literal) != len(node.args):
                where = (path.name, functions.get(id(node), ""))
                if where not in MARKUP_MADE:
                    found.append(f"{path}:{node.lineno}: Markup() of a computed string")
        elif name in SEARCHING and node.args:
            allowed.add(id(node.args[0]))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if TAG.search(text) or "<" in text:
                found.append(f"{path}:{node.lineno}: markup in an f-string")
            allowed.update(id(v) for v in node.values)  # reported above if it had a tag
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in allowed or id(node) in docstrings:
                continue
            if TAG.search(node.value):
                found.append(f"{path}:{node.lineno}: markup in a string: {node.value[:40]!r}")
    return found


def test_no_module_builds_markup_from_strings() -> None:
    assert len(MODULES) > 15  # the sections package is there
    problems = [p for path in MODULES for p in _problems(path)]
    assert problems == []


@pytest.mark.parametrize(
    "source",
    [
        'x = f"<p>{text}</p>"',
        'x = "<td>" + text + "</td>"',
        'x = "<b>%s</b>" % text',
        'x = "<li>{}</li>".format(text)',
        'x = "".join(["<", "/p>"])',
        "x = Markup(text)",
        'x = f"<{tag} class=x>"',
    ],
)
def test_the_check_finds_markup_built_from_strings(source: str, tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(f"def build(text, tag):\n    {source}\n    return x\n", "utf-8")
    assert _problems(path)


def test_templates_never_switch_escaping_off() -> None:
    assert {p.name for p in TEMPLATES} >= {"page.html", "table.html", "printable.html"}
    for path in TEMPLATES:
        text = path.read_text("utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|\|\s*format\b", text), path


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
]


def _hostile_plan() -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(handmade.PLAN)
    data["plan"]["name"] = HOSTILE[2]
    groups = data["need_group"]
    groups[0]["name"] = HOSTILE[0]
    groups[1]["description"] = HOSTILE[1]
    data["service"][0]["name"] = HOSTILE[1]
    data["cluster"][0]["name"] = HOSTILE[0]
    return data


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.update(name for name, _ in attrs)


def _no_live_markup(html: str) -> None:
    page = parse(html)
    assert "script" not in page.tags
    assert "img" not in page.tags
    assert page.tags.get("svg", 0) == html.count('<svg role="img"')  # only the charts
    for text in HOSTILE:
        assert text not in html
    found = _Attributes()
    found.feed(html)
    assert not {n for n in found.names if n.startswith("on")}
    assert "src" not in found.names


def test_hostile_plan_names_come_out_escaped() -> None:
    audit = handmade.result()
    hostile = plan_from_dict(_hostile_plan())
    issues = pa.table(
        {
            "source": [HOSTILE[0]],
            "table": ["cases"],
            "field": [HOSTILE[1]],
            "severity": ["error"],
            "action": ["kept"],
            "issues": pa.array([3], pa.int64()),
        }
    )
    report = ReportInput(
        title=HOSTILE[0],
        plan=hostile,
        tables={**audit.published, "issues": issues},
        suppressed=audit.suppressed,
        sources=audit.sources,
        notes=(HOSTILE[1],),
        groups=HOSTILE[2],
    )
    html = render_report(report)
    _no_live_markup(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    text = parse(html).text
    for value in HOSTILE:
        assert value in text  # shown as text, unchanged


def test_hostile_case_and_plan_in_the_printable_form() -> None:
    page = render_printable(
        plan=plan_from_dict(_hostile_plan()),
        case={"case_id": HOSTILE[1], "area": HOSTILE[0], "age": 7},
        language="cin",
        title=HOSTILE[2],
    )
    _no_live_markup(page)
    assert "&lt;script&gt;" in page


def test_a_section_holds_markup_not_strings() -> None:
    with pytest.raises(TypeError, match=r"Section 'mine': html must be markupsafe\.Markup"):
        Section(id="mine", heading="Mine", html="<p>raw</p>")  # type: ignore[arg-type]
    made = Section(id="mine", heading="Mine <b>", html=Markup("<p>trusted</p>"))
    html = render_report(handmade.result().report_input(), extra=[made])
    assert '<section id="mine"><h2>Mine &lt;b&gt;</h2><p>trusted</p></section>' in html
