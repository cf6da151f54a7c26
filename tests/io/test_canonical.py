"""The canonical adapter: clean and messy CSV / JSON Lines / Parquet, located issues, and the
"nothing lost" invariant on corrupted inputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import mns
import mns.testing
from mns.builtin.canonical import sniff_canonical
from mns.records.issues import rejected

HEADER = ["case_id", "sex", "age", "reference_date", "cin.4B", "cin.primary_need", "note"]


def _issues(records: mns.Records) -> list[tuple[object, ...]]:
    return [
        (r["row"] if r["row"] is not None else r["line"], r["field"], r["action"])
        for r in records.issues.to_pylist()
    ]


def test_conformance_on_the_builtin_samples(tmp_path: Path) -> None:
    samples = mns.testing.builtin_samples(tmp_path)
    mns.testing.conformance("canonical", {p: counts for p, (_, counts) in samples.items()})


def test_a_messy_csv_is_read_and_every_problem_located(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    path.write_bytes(
        b"\xef\xbb\xbfcase_id,sex,age,reference_date,cin.4B,cin.primary_need,note,note\n"
        b"C1,M,5,2024-03-31,true,N1,a,b\n"
        b"\n"
        b",F,3,2024-01-01,false,N2,,\n"
        b"C3, X ,200,2024-02-30,maybe,N1,,\n"
        b"C4,F\n"
        b"C5,U,7,2024-03-01,1,ZZ,,\n"
    )
    records = mns.read(path)
    assert records.cases.column("case_id").to_pylist() == ["C1", "C3", "C5"]
    assert records.cases.column("cin.4B").to_pylist() == [True, None, True]
    assert records.cases.schema.field("cin.4B").type == pa.bool_()
    assert records.cases.column("note#2").to_pylist() == ["b", None, None]
    assert _issues(records) == [
        (1, None, "kept"),  # the repeated header
        (4, "case_id", "rejected"),
        (5, "reference_date", "blanked"),
        (5, "cin.4B", "blanked"),
        (5, "sex", "blanked"),
        (5, "age", "blanked"),
        (6, None, "rejected"),  # two cells, not eight
        (7, "cin.primary_need", "blanked"),
    ]
    assert rejected(records.issues, "cases") == 2
    with pytest.raises(mns.RecordError, match="row 4") as caught:
        mns.read(path, strict=True)
    assert caught.value.field == "case_id"


def test_a_clean_csv_takes_the_typed_path_and_trims(tmp_path: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("case_id,service,start_date\nC1, family support ,2024-01-02\nC2,parenting,\n")
    records = mns.read(path)
    assert records.services.column("service").to_pylist() == ["family support", "parenting"]
    assert records.services.schema.field("service").type == pa.dictionary(pa.int32(), pa.string())
    assert records.issues.num_rows == 0


def test_json_lines_are_located_by_line(tmp_path: Path) -> None:
    path = tmp_path / "outcomes.jsonl"
    path.write_text(
        '{"case_id": "C1", "outcome": "attendance", "achieved": true, "value": 0.9}\n'
        "\n"
        '{"case_id": "C2", "outcome": "attendance", "recorded_on": "2024-13-01"}\n'
        "not json\n"
        '["a list"]\n'
        '{"outcome": "attendance"}\n'
    )
    records = mns.read(path)
    assert records.outcomes.column("case_id").to_pylist() == ["C1", "C2"]
    assert records.outcomes.column("value").to_pylist() == [0.9, None]
    assert _issues(records) == [
        (3, "recorded_on", "blanked"),
        (4, None, "rejected"),
        (5, None, "rejected"),
        (6, "case_id", "rejected"),
    ]


def test_a_file_named_otherwise_is_an_extra_table_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "referrals.csv"
    path.write_text("case_id,sex\nC1,F\n")
    records = mns.read(path, adapter="canonical")
    assert records.extra["referrals"].num_rows == 1
    assert "pass table='cases'" in records.issues.column("message")[0].as_py()
    told = mns.read(path, adapter="canonical", table="cases")
    assert told.cases.num_rows == 1
    assert told.issues.num_rows == 0


def test_sniff_claims_canonical_headers_only() -> None:
    assert sniff_canonical(b"case_id,sex,cin.4B,need_group\nC1,F,true,NG1\n")
    assert sniff_canonical(b'{"case_id": "C1", "service": "x"}\n')
    assert sniff_canonical(b"PAR1....")
    assert not sniff_canonical(b"Child ID,Gender\n1,a) Male\n")
    assert not sniff_canonical(b"case_id,Gender,DOB\n")
    assert not sniff_canonical(b"")


# --- the invariant: records in the source = accepted + rejected ------------------------------

_cell = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "C1",
            "M",
            "F",
            "u",
            "X",
            "5",
            "-1",
            "200",
            "2.5",
            "true",
            "no",
            "maybe",
            "2024-03-31",
            "2024-02-30",
            "31/03/2024",
            "N1",
            "N9",
            "ZZ",
            '"',
            ",",
            "é",
        ]
    ),
    st.text(alphabet="abcXYZ019 -/.,\"'", max_size=8),
)
_row = st.lists(_cell, min_size=0, max_size=len(HEADER) + 2)


def _is_record(cells: list[str]) -> bool:
    return any(c.strip() for c in cells)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row, max_size=25))
def test_csv_records_in_equal_accepted_plus_rejected(
    rows: list[list[str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("csv") / "cases.csv"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    for cells in rows:
        if cells:
            writer.writerow(cells)
        else:
            text.write("\n")
    path.write_text(text.getvalue(), "utf-8")
    records = mns.read(path)
    expected = sum(1 for cells in rows if _is_record(cells))
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected
    assert pc.all(pc.is_valid(records.cases.column("case_id"))).as_py() is not False


_value = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=False), _cell
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from([*HEADER, "extra"]), _value, max_size=6),
            st.sampled_from(["", "   ", "not json", "[1, 2]", '"text"', "{", "null"]),
        ),
        max_size=25,
    )
)
def test_jsonl_records_in_equal_accepted_plus_rejected(
    lines: list[dict[str, object] | str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "cases.jsonl"
    path.write_text(
        "".join((json.dumps(item) if isinstance(item, dict) else item) + "\n" for item in lines)
    )
    records = mns.read(path)
    expected = sum(1 for item in lines if not isinstance(item, str) or item.strip())
    # an object whose values are all empty is not a record
    expected -= sum(
        1
        for item in lines
        if isinstance(item, dict)
        and all(v is None or (isinstance(v, str) and not v.strip()) for v in item.values())
    )
    assert records.cases.num_rows + rejected(records.issues, "cases") == expected
