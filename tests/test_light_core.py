"""The core works with the core dependencies alone: in a fresh interpreter where the extras'
libraries (matplotlib, openpyxl, jinja2, markupsafe, click) cannot be imported, ``import
mns``, reading, classifying and the analyses run, and each feature of an extra fails in one
line naming the extra to install (``pip install 'mns[report]'``...)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

#: What the extras bring; none of it may be needed by the core.
BLOCKED = ("matplotlib", "openpyxl", "jinja2", "markupsafe", "click")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
            return None

    sys.meta_path.insert(0, Block())
    import os
    os.environ["MNS_AUTOLOAD"] = "0"  # the built-in adapters only

    import pyarrow as pa
    import mns

    out = {{}}
    recs = mns.read({csv!r})
    out["cases_read"] = recs.cases.num_rows
    plan = mns.load_plan({plan!r})
    cases = mns.classify(recs.cases, plan)
    table = mns.profile(cases, by="need_group")
    out["profile_rows"] = table.num_rows
    out["groups"] = sorted(set(cases.column("need_group").cast(pa.string()).to_pylist()))

    def error_of(call):
        try:
            call()
        except Exception as exc:
            return type(exc).__name__, str(exc)
        return None

    out["report"] = error_of(lambda: __import__("mns.report"))
    out["forms"] = error_of(lambda: mns.read({xlsx!r}, adapter="audit-form"))
    out["xlsx"] = error_of(
        lambda: __import__("mns.records.issue_files", fromlist=["x"]).write_issues_xlsx(
            recs.issues, {xlsx_out!r}
        )
    )
    try:
        from mns.cli import main
        sys.argv = ["mns", "--help"]
        main()
    except SystemExit as exit:
        out["cli_exit"] = exit.code
    out["loaded"] = sorted(m for m in BLOCKED if m in sys.modules)
    print("RESULT " + json.dumps(out))
    """
)

PLAN = """
[plan]
name = "Light plan"
language = "cin"

[[cluster]]
code = "A"
name = "Parents"

[[need_group]]
code = "NG1"
name = "Parental mental health"
cluster = "A"
rule = "cin.4B"
"""


def test_the_core_runs_without_the_extras_and_each_extra_is_named(tmp_path: Path) -> None:
    csv = tmp_path / "cases.csv"
    csv.write_text("case_id,age,sex,cin.4B\nC1,5,M,true\nC2,7,F,false\nC3,9,F,true\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, "utf-8")
    xlsx = tmp_path / "form.xlsx"
    xlsx.write_bytes(b"PK\x03\x04 not really a workbook")
    script = SCRIPT.format(
        blocked=BLOCKED,
        csv=str(csv),
        plan=str(plan),
        xlsx=str(xlsx),
        xlsx_out=str(tmp_path / "i.xlsx"),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout + done.stderr
    out = json.loads(lines[-1].removeprefix("RESULT "))

    assert out["cases_read"] == 3
    assert out["profile_rows"] > 0
    assert "NG1" in out["groups"]
    assert out["loaded"] == []  # nothing of the extras came in through a back door

    for key, extra in (("report", "report"), ("forms", "forms"), ("xlsx", "xlsx")):
        kind, message = out[key]
        assert kind == "MissingExtraError", (key, kind, message)
        assert f"pip install 'mns[{extra}]'" in message
        assert "\n" not in message
    assert out["cli_exit"] == 1
    assert "pip install 'mns[cli]'" in done.stderr
    assert "Traceback" not in done.stderr
