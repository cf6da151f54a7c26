"""Text inputs: encodings found from the bytes, and CSV damage (oversize fields, quotes never
closed, short rows) reported where it is, with every record counted."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import assume, given, settings, strategies as st

from mns.builtin.canonical import sniff_canonical
from mns.builtin.mapping import MappingError, mapping_from_dict
from mns.plugins import decode_text, detect_encoding, text_head
from mns.records.issues import rejected
from tests.hostile import seeds

CASES_CSV = seeds.canonical_csv


@pytest.mark.parametrize(
    ("data", "codec", "bom"),
    [
        (codecs.BOM_UTF8 + b"a,b\n", "utf-8", 3),
        (codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"), "utf-16-le", 2),
        (codecs.BOM_UTF16_BE + "a,b\n".encode("utf-16-be"), "utf-16-be", 2),
        (codecs.BOM_UTF32_LE + "a,b\n".encode("utf-32-le"), "utf-32-le", 4),
        ("case_id,sex\n".encode("utf-16-le"), "utf-16-le", 0),
        ("case_id,sex\n".encode("utf-16-be"), "utf-16-be", 0),
        ("café,b\n".encode(), "utf-8", 0),
        ("café,b\n".encode("cp1252"), "cp1252", 0),
    ],
)
def test_the_encoding_is_found_from_the_bytes(data: bytes, codec: str, bom: int) -> None:
    found = detect_encoding(data)
    assert (found.codec, found.bom) == (codec, bom)


def test_no_byte_is_lost_or_fails() -> None:
    # 0x81 is undefined in Windows-1252: kept as the C1 control it is in Latin-1
    assert decode_text(b"caf\xe9 \x81 \x80")[0] == "café \x81 €"
    # a character cut by the end of a sniffer's head is not held against UTF-8
    assert text_head("ab é".encode()[:-1]) == "ab "


@settings(max_examples=60)
@given(
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=60),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
)
def test_text_reads_back_in_any_encoding_we_accept(text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    if encoding == "cp1252":
        try:  # bytes that are valid UTF-8 read as UTF-8: only the others are Windows-1252
            data.decode("utf-8")
            assume(False)
        except UnicodeDecodeError:
            pass
    assert decode_text(data)[0] == text


# --- the mapping adapter ---------------------------------------------------------------------


def _mapping_csv(rows: list[list[str]]) -> bytes:
    return seeds._csv_text(seeds.MAPPING_HEADER, rows)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig", "cp1252"])
def test_a_mapping_export_is_read_whatever_its_encoding(encoding: str) -> None:
    rows = seeds.mapping_rows()
    rows[0][0] = "Zoë"
    text = _mapping_csv(rows).decode()
    records = seeds.read(seeds.mapping_csv(), text.encode(encoding))
    assert records.cases.num_rows == 6
    assert records.cases.column("case_id")[0].as_py() == "Zoë"


def test_an_oversize_field_rejects_its_record_only() -> None:
    rows = seeds.mapping_rows()
    rows[2][4] = "4B; " * 40_000  # 160,000 characters: over the csv module's 131,072
    records = seeds.read(seeds.mapping_csv(), _mapping_csv(rows))
    [issue] = [i for i in records.issues.to_pylist() if "cannot be read" in i["message"]]
    assert issue["row"] == 4  # the header is row 1
    assert issue["action"] == "rejected"
    assert records.cases.num_rows + rejected(records.issues) == 6


#: CSV-like formats: the table their records go to, and a value on line 4 of the file.
_LONG_FIELD = {
    "canonical-csv": ("cases", b"referral"),
    "mapping-csv": ("cases", b"Male"),
    "ssda903-csv": ("Episodes", b"S"),  # RNE, the first S of the line
    "example": ("cases", b"domestic_abuse"),
}


@pytest.mark.parametrize("name", sorted(_LONG_FIELD))
def test_a_field_over_the_csv_modules_limit_never_fails_the_read(name: str) -> None:
    # 140,000 characters: over the 131,072 the csv module allows in one field
    seed = seeds.SEEDS[name]()
    table, value = _LONG_FIELD[name]
    lines = seed.data.split(b"\n")
    assert value in lines[3]
    lines[3] = lines[3].replace(value, b"x" * 140_000, 1)
    damaged = b"\n".join(lines)

    def counted(data: bytes) -> int:
        records = seeds.read(seed, data)
        accepted = records.cases if table == "cases" else records.extra[table]
        return int(accepted.num_rows) + rejected(records.issues, table)

    assert counted(damaged) == counted(seed.data)


def test_a_quote_never_closed_says_how_much_was_not_read() -> None:
    data = _mapping_csv(seeds.mapping_rows()).replace(b"C2,", b'"C2,', 1)
    records = seeds.read(seeds.mapping_csv(), data)
    [issue] = [i for i in records.issues.to_pylist() if "never closed" in i["message"]]
    assert issue["row"] == 4
    assert "4 lines" in issue["message"]
    assert records.cases.column("case_id").to_pylist() == ["C0", "C1"]


def test_a_short_row_is_reported() -> None:
    rows = seeds.mapping_rows()
    rows[1] = rows[1][:2]
    records = seeds.read(seeds.mapping_csv(), _mapping_csv(rows))
    [issue] = [i for i in records.issues.to_pylist() if "cells but the header" in i["message"]]
    assert issue["row"] == 3
    assert records.cases.num_rows == 6


def test_a_pattern_mns_cannot_run_in_linear_time_is_refused_with_the_fix() -> None:
    with pytest.raises(MappingError) as refused:
        mapping_from_dict(
            {"fields": {"case_id": {"column": "ID", "pattern": r"^(?=C)(\w+)\1$"}}}, "m.toml"
        )
    message = str(refused.value)
    assert message.startswith("m.toml: fields.case_id.pattern:")
    assert "without lookarounds" in message
    assert refused.value.file == "m.toml"


# --- the canonical adapter -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "cp1252", "utf-8-sig"])
def test_a_canonical_csv_is_read_whatever_its_encoding(encoding: str) -> None:
    text = CASES_CSV().data.decode().replace("C0", "Zoë")
    data = text.encode(encoding)
    assert sniff_canonical(data[:4096])
    records = seeds.read(CASES_CSV(), data)
    assert records.cases.num_rows == 8
    assert records.cases.column("case_id")[0].as_py() == "Zoë"


def test_a_canonical_csv_not_utf8_far_in_is_read_with_a_warning() -> None:
    rows = "".join(f"C{i},M,5,referral\n" for i in range(5000))
    data = ("case_id,sex,age,cohort\n" + rows + "Zoë,F,4,referral\n").encode("cp1252")
    records = seeds.read(CASES_CSV(), data)
    assert records.cases.num_rows == 5001
    assert records.cases.column("case_id")[-1].as_py() == "Zoë"
    assert any("Windows-1252" in i["message"] for i in records.issues.to_pylist())


def test_a_canonical_quote_never_closed_is_located() -> None:
    data = CASES_CSV().data.replace(b"C3,", b'"C3,', 1)
    records = seeds.read(CASES_CSV(), data)
    [issue] = [i for i in records.issues.to_pylist() if "never closed" in i["message"]]
    assert issue["row"] == 5
    assert "4 more lines" in issue["message"]


def test_a_canonical_header_too_long_to_read_is_an_issue() -> None:
    data = b'case_id,"' + b"x" * 140_000 + b'"\nC1,2\n'
    records = seeds.read(CASES_CSV(), data)
    [issue] = records.issues.to_pylist()
    assert (issue["row"], issue["severity"]) == (1, "error")


def test_json_lines_too_deep_or_with_repeated_keys_are_located() -> None:
    lines = [
        '{"case_id": "C1", "age": 3}',
        '{"case_id": "C2", "age": 3, "age": 9}',
        "[" * 100_000 + "]" * 100_000,
        '{"case_id": "C3"}',
    ]
    records = seeds.read(seeds.canonical_jsonl(), "\n".join(lines).encode("utf-16"))
    assert records.cases.column("case_id").to_pylist() == ["C1", "C2", "C3"]
    issues = {i["line"]: i for i in records.issues.to_pylist()}
    assert issues[2]["field"] == "age"
    assert issues[3]["action"] == "rejected"
