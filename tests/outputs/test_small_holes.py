"""Small holes: rule numbers are ASCII digits only; the printable form carries the report's
Content-Security-Policy; a file refused whole is an issue when other files were read."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.dispatch import WHOLE_FILE, refused
from mns.forms.printable import render_printable
from mns.plugins.manager import Manager
from mns.records import schema
from mns.report.html import CSP
from mns.rules import parse

_OTHER_DIGITS = st.characters(categories=["Nd"], exclude_characters="0123456789")


@settings(max_examples=40)
@given(digit=_OTHER_DIGITS, before=st.sampled_from(["", "1", "12"]))
def test_a_rule_number_is_written_with_0_to_9_only(digit: str, before: str) -> None:
    rule = f"age > {before}{digit}"
    with pytest.raises(mns.RuleError) as caught:
        parse(rule)
    error = caught.value
    assert error.rule == rule
    assert error.position == len("age > ") + len(before)  # the caret is under the digit
    assert "0-9" in str(error)


def test_a_date_literal_is_written_with_0_to_9_only() -> None:
    with pytest.raises(mns.RuleError, match="not a date"):
        parse("reference_date < date '２０２４-03-31'")
    assert parse("reference_date < date '2024-03-31'") is not None


def test_a_plan_rule_with_another_scripts_digit_names_its_need_group(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[plan]\nname = "p"\nlanguage = "mns"\n\n[[cluster]]\ncode = "C1"\nname = "c"\n\n'
        '[[need_group]]\ncode = "NG1"\nname = "n"\ncluster = "C1"\nrule = "age > \u09ea"\n',
        "utf-8",
    )
    with pytest.raises(mns.MnsError, match=r"NG1(.|\n)*0-9"):
        mns.load_plan(plan)


def test_the_printable_form_carries_the_reports_content_security_policy() -> None:
    for plain in (False, True):
        page = render_printable(plain=plain)
        found = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
        assert [f.replace("&#39;", "'") for f in found] == [str(CSP)]


def _refusing(sources: Sequence[mns.Source], options: Any) -> mns.Records:
    raise mns.AdapterError(f"{sources[0].name}: the file is not a return", file=sources[0].name)


def _fine(sources: Sequence[mns.Source], options: Any) -> mns.Records:
    cases = pa.table({"case_id": [s.name for s in sources]})
    return mns.Records(cases=schema.conform(cases, "cases"))


class _Plugin:
    @mns.hookimpl
    def mns_adapters(self) -> Iterator[mns.Adapter]:
        yield mns.Adapter(name="refuses", description="t", read=_refusing, suffixes=(".bad",))
        yield mns.Adapter(name="fine", description="t", read=_fine, suffixes=(".ok",))


@pytest.fixture
def manager(plugin_manager: Manager) -> Manager:
    plugin_manager.add(_Plugin(), name="test")
    return plugin_manager


def test_a_file_refused_whole_is_an_issue_when_others_were_read(
    manager: Manager, tmp_path: Path
) -> None:
    good, bad = tmp_path / "a.ok", tmp_path / "b.bad"
    good.write_text("x", "utf-8")
    bad.write_text("x", "utf-8")
    records = mns.read([good, bad])
    assert records.cases.column("case_id").to_pylist() == [str(good)]
    assert refused(records.issues) == (str(bad),)
    (issue,) = [i for i in records.issues.to_pylist() if i["field"] == WHOLE_FILE]
    assert (issue["severity"], issue["action"]) == ("error", "rejected")
    assert "not a return" in issue["message"]
    assert records.errors == 1
    with pytest.raises(mns.AdapterError, match="not a return"):  # nothing else to give back
        mns.read(bad)
    with pytest.raises(mns.AdapterError, match="not a return"):  # strict: the first error
        mns.read([good, bad], strict=True)
