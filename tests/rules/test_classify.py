"""classify: need groups in plan order with unknowns, thresholds, missing fields, every input
kind, crosswalks, and the errors a planner or analyst meets."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from mns.classification import UNASSIGNED, UNKNOWN, classify, classify_case
from mns.errors import MnsError, PlanError, RuleError, SchemaError
from mns.lang import crosswalk, dump_crosswalk, language
from mns.lang.model import Crosswalk, CrosswalkProvenance, Derivation
from mns.plan import plan_from_dict, save_plan
from mns.plan.model import NeedGroup, Plan
from mns.records import schema

PLAN = plan_from_dict(
    {
        "plan": {"name": "Test plan", "language": "mns"},
        "need_group": [
            {
                "code": "NG1",
                "name": "Under fives, parental mental health",
                "rule": "parent_mental_health and age < 5",
            },
            {"code": "NG2", "name": "Abuse", "rule": "abuse_or_neglect or domestic_abuse"},
            {"code": "NG3", "name": "Panel only"},  # no rule: never assigned by rules
            {"code": "NG4", "name": "Adolescents", "rule": "age >= 11"},
        ],
        "service": [
            {
                "code": "S1",
                "name": "Family support",
                "need_groups": ["NG1"],
                "threshold": "count(parent_mental_health, domestic_abuse, neglect) >= 2",
            },
            {"code": "S2", "name": "Drop-in", "need_groups": ["NG4"]},  # no threshold
        ],
    }
)

TABLE = pa.table(
    {
        "case_id": ["a", "b", "c", "d", "e"],
        "age": pa.array([3, 7, None, 12, 8], pa.int16()),
        "mns.parent_mental_health": [True, True, None, False, False],
        "mns.abuse_or_neglect": [False, None, True, False, False],
        "mns.domestic_abuse": [False, False, False, None, False],
        "mns.neglect": [True, False, False, True, False],
    }
)


def _column(table: pa.Table, name: str) -> list[Any]:
    values: list[Any] = table.column(name).to_pylist()
    return values


def test_first_match_in_plan_order_with_unknowns() -> None:
    out = classify(TABLE, PLAN, missing_fields=True)
    assert isinstance(out, pa.Table)
    assert _column(out, "need_group") == ["NG1", UNKNOWN, UNKNOWN, UNKNOWN, UNASSIGNED]
    # b: NG1 false, NG2 unknown (abuse_or_neglect missing) -> unknown, although NG4 is false
    # c: NG1 unknown (age, parent_mental_health missing) though NG2 holds -> unknown
    # d: NG2 unknown (domestic_abuse missing) before NG4 which holds -> unknown
    assert _column(out, "missing_fields") == [
        None,
        ["mns.abuse_or_neglect"],
        ["age", "mns.parent_mental_health"],
        ["mns.domestic_abuse"],
        None,
    ]
    need_group = out.schema.field("need_group")
    assert need_group.type == pa.dictionary(pa.int32(), pa.string())
    assert out.column("need_group").chunk(0).dictionary.to_pylist() == [
        "NG1",
        "NG2",
        "NG3",
        "NG4",
        UNASSIGNED,
        UNKNOWN,
    ]
    assert out.column_names == [*TABLE.column_names, "need_group", "threshold.S1", "missing_fields"]


def test_thresholds_are_three_valued_counts() -> None:
    out = classify(TABLE, PLAN)
    assert isinstance(out, pa.Table)
    # a: 2 of 3 hold; b: 1 holds, none missing; c: pmh missing but at most 1+... -> 0 or 1 -> false
    # d: neglect holds, domestic_abuse missing, pmh false -> 1 or 2 -> unknown
    assert _column(out, "threshold.S1") == [True, False, False, None, False]


def test_mode_all_gives_one_column_per_group() -> None:
    out = classify(TABLE, PLAN, mode="all", missing_fields=True)
    assert isinstance(out, pa.Table)
    assert [n for n in out.column_names if n.startswith("need_group")] == [
        "need_group.NG1",
        "need_group.NG2",
        "need_group.NG4",
    ]
    assert _column(out, "need_group.NG1") == [True, False, None, False, False]
    assert _column(out, "need_group.NG2") == [False, None, True, None, False]
    assert _column(out, "need_group.NG4") == [False, False, None, True, False]
    assert _column(out, "missing_fields") == [
        None,
        ["mns.abuse_or_neglect"],
        ["age", "mns.parent_mental_health"],
        ["mns.domestic_abuse"],
        None,
    ]


def test_every_input_kind_and_streaming() -> None:
    batches = TABLE.to_batches(max_chunksize=2)
    whole = classify(TABLE, PLAN)
    assert isinstance(whole, pa.Table)

    def gen() -> Iterator[pa.RecordBatch]:
        yield from batches

    for source in (
        pa.RecordBatchReader.from_batches(TABLE.schema, batches),
        gen(),
        iter(batches),
        batches,
    ):
        out = classify(source, PLAN)
        assert isinstance(out, pa.RecordBatchReader)
        got = out.read_all()
        assert got.to_pylist() == whole.to_pylist()
        assert got.schema == whole.schema
    single = classify(batches[0], PLAN)
    assert isinstance(single, pa.RecordBatchReader)
    assert single.read_all().num_rows == 2


def test_a_reader_is_classified_as_it_is_read() -> None:
    seen: list[int] = []

    def gen() -> Iterator[pa.RecordBatch]:
        for batch in TABLE.to_batches(max_chunksize=1):
            seen.append(batch.num_rows)
            yield batch

    reader = classify(gen(), PLAN, threads=1)
    assert isinstance(reader, pa.RecordBatchReader)
    assert len(seen) == 1  # only the first batch, for the schema
    first = reader.read_next_batch()
    assert first.num_rows == 1
    assert len(seen) <= 2
    assert sum(b.num_rows for b in reader) == 4


def test_empty_inputs() -> None:
    out = classify(TABLE.slice(0, 0), PLAN)
    assert isinstance(out, pa.Table)
    assert out.num_rows == 0
    assert "need_group" in out.column_names
    with pytest.raises(MnsError, match="no record batches"):
        classify(iter([]), PLAN)
    with pytest.raises(TypeError, match="pyarrow Table, a RecordBatchReader"):
        classify({"age": [1]}, PLAN)
    with pytest.raises(ValueError, match="mode 'best'"):
        classify(TABLE, PLAN, mode="best")  # type: ignore[call-overload]


def test_results_do_not_depend_on_batches_or_threads() -> None:
    big = pa.concat_tables([TABLE] * 400)
    import mns.classification as module

    one = classify(big, PLAN, threads=1, missing_fields=True)
    old = module.BATCH_ROWS
    module.BATCH_ROWS = 7
    try:
        many = classify(big, PLAN, threads=3, missing_fields=True)
    finally:
        module.BATCH_ROWS = old
    assert isinstance(one, pa.Table)
    assert isinstance(many, pa.Table)
    assert one.to_pylist() == many.to_pylist()


def test_output_columns_of_the_input_are_replaced() -> None:
    first = classify(TABLE, PLAN, missing_fields=True)
    assert isinstance(first, pa.Table)
    again = classify(first, PLAN, missing_fields=True)
    assert isinstance(again, pa.Table)
    assert again.column_names == first.column_names
    assert again.to_pylist() == first.to_pylist()


def test_missing_fields_only_on_request() -> None:
    full = classify(TABLE, PLAN, missing_fields=True)
    lean = classify(TABLE, PLAN)
    assert isinstance(full, pa.Table)
    assert isinstance(lean, pa.Table)
    assert lean.column_names == [n for n in full.column_names if n != "missing_fields"]
    assert lean.to_pylist() == full.drop_columns(["missing_fields"]).to_pylist()
    again = classify(full, PLAN)  # an old missing_fields does not stay
    assert isinstance(again, pa.Table)
    assert "missing_fields" not in again.column_names


def test_metadata_names_the_plan_and_mode() -> None:
    out = classify(TABLE, PLAN)
    assert isinstance(out, pa.Table)
    meta = out.schema.metadata
    assert meta[b"mns.plan"] == b"Test plan"
    assert meta[b"mns.classify_mode"] == b"first"
    assert json.loads(meta[b"mns.crosswalks"]) == []


def test_the_plan_may_be_a_path(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    save_plan(PLAN, path)
    out = classify(TABLE, path)
    assert isinstance(out, pa.Table)
    assert _column(out, "need_group")[0] == "NG1"


def test_classify_case_matches_classify() -> None:
    out = classify(TABLE, PLAN, missing_fields=True)
    assert isinstance(out, pa.Table)
    for row, result in zip(TABLE.to_pylist(), out.to_pylist(), strict=True):
        one = classify_case(row, PLAN)
        assert one == {k: result[k] for k in ("need_group", "threshold.S1", "missing_fields")}


def test_mns_classify_works_whatever_was_imported_first() -> None:
    code = (
        "import mns.classification, mns, pyarrow as pa\n"
        "from mns.plan import plan_from_dict\n"
        "p = plan_from_dict({'plan': {'name': 'p', 'language': 'mns'},\n"
        "                    'need_group': [{'code': 'A', 'name': 'a', 'rule': 'age < 5'}]})\n"
        "print(mns.classify(pa.table({'age': [3]}), p).column('need_group')[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "A"


# --- errors -------------------------------------------------------------------------------------


def test_a_bad_rule_names_the_plan_item() -> None:
    bad = Plan(
        name="bad",
        language="mns",
        need_groups=(NeedGroup(code="NG1", name="x", rule="parnt_mh"),),
    )
    with pytest.raises(RuleError) as info:
        classify(TABLE, bad)
    assert "need_group[0] (code 'NG1') field rule" in info.value.message
    assert "did you mean 'parent_mental_health'?" in info.value.message
    assert info.value.item == "need_group[0] (code 'NG1') field rule"


def test_reserved_group_codes() -> None:
    bad = Plan(
        name="bad",
        language="mns",
        need_groups=(NeedGroup(code="unknown", name="x", rule="age < 5"),),
    )
    with pytest.raises(PlanError, match="may not be called 'unknown'"):
        classify(TABLE, bad)


def test_a_column_of_the_wrong_type() -> None:
    table = TABLE.set_column(1, "age", pa.array(["3", "7", None, "12", "8"]))
    with pytest.raises(
        SchemaError, match="column 'age' is string, but a age needs an integer or floating type"
    ):
        classify(table, PLAN)


def test_batches_must_share_columns() -> None:
    other = pa.RecordBatch.from_pydict({"age": pa.array([1], pa.int16())})
    reader = classify(iter([TABLE.to_batches()[0], other]), PLAN)
    assert isinstance(reader, pa.RecordBatchReader)
    with pytest.raises(MnsError, match="other columns than the first"):
        reader.read_all()


def test_absent_columns_of_a_present_language_are_missing() -> None:
    table = TABLE.drop_columns(["mns.neglect"])
    out = classify(table, PLAN)
    assert isinstance(out, pa.Table)
    # the threshold needs mns.neglect: a: pmh true + neglect missing + da false -> 1 or 2 -> unknown
    assert _column(out, "threshold.S1")[0] is None
    assert _column(out, "need_group")[0] == "NG1"


# --- crosswalks ---------------------------------------------------------------------------------

CIN_PLAN = plan_from_dict(
    {
        "plan": {"name": "mns plan on CIN data", "language": "mns"},
        "need_group": [
            {
                "code": "NG1",
                "name": "Parental mental health",
                "rule": "parent_mental_health and age < 5",
            },
            {"code": "NG2", "name": "Domestic abuse", "rule": "domestic_abuse"},
            {"code": "NG3", "name": "Physical abuse", "rule": "physical_abuse"},
        ],
    }
)


def _cin_cases(rows: list[dict[str, Any]], year: int = 2024) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema.cases_schema([language("cin")], year))


def test_shipped_crosswalk_derives_the_plan_language() -> None:
    rows = [
        {
            "case_id": "C1",
            "age": 3,
            "reference_date": dt.date(2024, 3, 31),
            "cin.4B": True,
            "cin.3A": False,
            "cin.3B": False,
            "cin.3C": False,
            "cin.18B": False,
            "cin.18C": False,
            "cin.primary_need": "N3",
        },
        {
            "case_id": "C2",
            "age": 9,
            "reference_date": dt.date(2024, 3, 31),
            "cin.4B": False,
            "cin.3A": False,
            "cin.3B": True,
            "cin.3C": False,
            "cin.18B": False,
            "cin.18C": False,
            "cin.primary_need": "N1",
            "cin.category_of_abuse": "PHY",
        },
    ]
    out = classify(_cin_cases(rows), CIN_PLAN)
    assert isinstance(out, pa.Table)
    assert _column(out, "need_group") == ["NG1", "NG2"]
    applied = json.loads(out.schema.metadata[b"mns.crosswalks"])
    assert applied == [
        {
            "source": "cin",
            "target": "mns",
            "version": crosswalk("cin", "mns").version,
            "provenance": "mns",
            "origin": "shipped",
            "derived": ["domestic_abuse", "parent_mental_health", "physical_abuse"],
        }
    ]
    assert "mns.parent_mental_health" not in out.column_names  # derived, not added


def test_codes_not_collected_that_year_are_false_not_missing() -> None:
    # cin.18A (physical abuse) was collected until 2020: a 2024 table has no such column
    base = {
        "age": 9,
        "cin.4B": False,
        "cin.3A": False,
        "cin.3B": False,
        "cin.3C": False,
        "cin.18B": False,
        "cin.18C": False,
        "cin.category_of_abuse": "NEG",
    }
    rows = [
        {**base, "case_id": "2024", "reference_date": dt.date(2024, 3, 31)},
        {
            **base,
            "case_id": "2019",
            "reference_date": dt.date(2019, 3, 31),
        },  # 18A was collected then
        {**base, "case_id": "none", "reference_date": None},
    ]
    out = classify(_cin_cases(rows), CIN_PLAN, missing_fields=True)
    assert isinstance(out, pa.Table)
    assert _column(out, "need_group") == [UNASSIGNED, UNKNOWN, UNKNOWN]
    # without a reference date the year is unknown, so 18A is unknown too
    assert _column(out, "missing_fields") == [None, ["cin.18A"], ["cin.18A", "reference_date"]]


def test_a_given_crosswalk_is_preferred_and_named(tmp_path: Path) -> None:
    mine = Crosswalk(
        source="cin",
        target="mns",
        version="local-1",
        provenance=CrosswalkProvenance.MNS,
        mappings=(Derivation(target="domestic_abuse", rule="cin.3B"),),
    )
    path = tmp_path / "local.toml"
    path.write_text(dump_crosswalk(mine), "utf-8")
    rows = [{"case_id": "C1", "age": 9, "cin.3A": True, "cin.3B": False, "cin.3C": False}]
    plan = plan_from_dict(
        {
            "plan": {"name": "p", "language": "mns"},
            "need_group": [{"code": "DA", "name": "da", "rule": "domestic_abuse"}],
        }
    )
    shipped = classify(_cin_cases(rows), plan)
    given = classify(_cin_cases(rows), plan, crosswalks=[path])
    assert isinstance(shipped, pa.Table)
    assert isinstance(given, pa.Table)
    assert _column(shipped, "need_group") == ["DA"]  # shipped: any(3A, 3B, 3C)
    assert _column(given, "need_group") == [UNASSIGNED]  # given: 3B only
    applied = json.loads(given.schema.metadata[b"mns.crosswalks"])
    assert [(a["version"], a["origin"]) for a in applied] == [("local-1", str(path))]
    as_object = classify(_cin_cases(rows), plan, crosswalks=[mine])
    assert isinstance(as_object, pa.Table)
    assert json.loads(as_object.schema.metadata[b"mns.crosswalks"])[0]["origin"] == "given"


def test_an_indicator_no_crosswalk_supplies_is_an_error() -> None:
    plan = plan_from_dict(
        {
            "plan": {"name": "p", "language": "mns"},
            "need_group": [{"code": "OF", "name": "Offending", "rule": "offending and age > 10"}],
        }
    )
    with pytest.raises(RuleError) as info:
        classify(_cin_cases([{"case_id": "C1", "age": 12}]), plan)
    message = info.value.message
    assert "need_group[0] (code 'OF') field rule needs 'mns.offending'" in message
    assert "cin->mns does not map 'offending'" in message


def test_no_language_and_no_crosswalk_is_an_error() -> None:
    plan = plan_from_dict(
        {
            "plan": {"name": "p", "language": "mns"},
            "need_group": [{"code": "N", "name": "n", "rule": "neglect"}],
        }
    )
    with pytest.raises(RuleError, match=r"the cases have no mns\.\* columns and no crosswalk"):
        classify(pa.table({"case_id": ["a"], "af2000.x": [True]}), plan)
