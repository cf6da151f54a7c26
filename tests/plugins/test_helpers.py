"""The helpers ``mns.plugins`` gives adapter authors: text a line at a time, ZIPs looked into
without inflating them, rows made typed batches."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pyarrow as pa
import pytest
from hypothesis import given, strategies as st

import mns
from mns.plugins import (
    Limits,
    RowBatcher,
    Source,
    align,
    decode_text,
    head_entries,
    is_zip,
    rows_to_batches,
    rows_to_table,
    scan_encoding,
    text_lines,
    zip_entries,
    zip_sources,
)

# --- text ----------------------------------------------------------------------------------

_pieces = st.sampled_from(
    [b"a", b",", b"\r", b"\n", b"\r\n", "é".encode(), "€".encode(), b"\x81", b"\x93", b'"']
)


@given(
    body=st.lists(_pieces, max_size=3000).map(b"".join),
    mark=st.sampled_from([b"", b"\xef\xbb\xbf"]),
    padding=st.integers(0, 5000),
)
def test_a_file_read_a_line_at_a_time_reads_as_it_does_whole(
    body: bytes, mark: bytes, padding: int
) -> None:
    data = mark + b"x" * padding + body  # the odd bytes before and after the first 4096
    text, encoding = decode_text(data)
    found, bad = scan_encoding(io.BytesIO(data))
    assert found == encoding
    if encoding.codec == "cp1252":
        with pytest.raises(UnicodeDecodeError) as first:
            data.decode("utf-8")
        assert bad == first.value.start
    else:
        assert bad is None
    assert list(text_lines(io.BytesIO(data), found)) == list(io.StringIO(text, newline=""))


def test_utf16_text_is_read_a_line_at_a_time() -> None:
    data = "case_id,name\r\nC1,Zoë\r\n".encode("utf-16")
    encoding, bad = scan_encoding(io.BytesIO(data))
    assert (encoding.codec, bad) == ("utf-16-le", None)
    assert list(text_lines(io.BytesIO(data), encoding)) == ["case_id,name\r\n", "C1,Zoë\r\n"]


# --- ZIP -----------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buffer.getvalue()


def test_head_entries_give_what_the_head_holds_and_inflate_within_a_limit() -> None:
    data = _zip({"a.csv": b"x,y\r\n" * 1000, "b.txt": b"hello"})
    assert is_zip(data)
    assert not is_zip(b"x,y\r\n")
    first, second = head_entries(data)
    assert (first.name, first.complete, second.name) == ("a.csv", True, "b.txt")
    assert first.inflated() == b"x,y\r\n" * 1000
    assert first.inflated(limit=7) == b"x,y\r\nx,"
    cut = next(head_entries(data[:40]))  # cut inside the first entry's data
    assert cut.name == "a.csv"
    assert not cut.complete
    assert list(head_entries(b"not a zip")) == []
    stored = next(head_entries(_zip({"s.csv": b"plain"}, zipfile.ZIP_STORED)))
    assert stored.inflated() == b"plain"


def test_zip_entries_are_listed_without_inflating_and_bombs_are_refused() -> None:
    data = _zip({"dir/": b"", "dir/Referrals.CSV": b"a\r\n", "notes.txt": b"n"})
    source = Source.from_bytes("export.zip", data)
    assert [e.name for e in zip_entries(source)] == ["dir/", "dir/Referrals.CSV", "notes.txt"]
    [csv_file] = zip_sources(source, "*.csv")
    assert csv_file.name == "export.zip/dir/Referrals.CSV"
    with csv_file.open() as stream:
        assert stream.read() == b"a\r\n"
    with pytest.raises(mns.AdapterError, match="max_parts"):
        zip_entries(source, limits=Limits(max_parts=2))
    bomb = Source.from_bytes("bomb.zip", _zip({"big.csv": b"0" * (40 << 20)}))
    with pytest.raises(mns.AdapterError, match="max_ratio"):
        zip_entries(bomb)
    with pytest.raises(mns.AdapterError, match="not a readable ZIP"):
        zip_entries(Source.from_bytes("x.zip", b"PK\x03\x04 broken"))


# --- rows ----------------------------------------------------------------------------------


def test_rows_become_typed_tables_of_a_schema() -> None:
    rows: list[dict[str, object]] = [
        {"case_id": "C1", "sex": "F", "birth_month": dt.date(2015, 4, 1), "age": 8},
        {"case_id": "C2"},
    ]
    cases = rows_to_table(rows, mns.schema.CASES)
    assert cases.schema == mns.schema.CASES
    assert cases.column("sex").to_pylist() == ["F", None]
    assert cases.column("age").type == pa.int16()
    with pytest.raises(ValueError, match="'sexx'"):
        rows_to_table([{"case_id": "C1", "sexx": "F"}], mns.schema.CASES)
    assert rows_to_table([{"case_id": "C1", "x": 1}], mns.schema.CASES, extra="ignore").num_rows
    with pytest.raises(ValueError, match="'age'"):
        rows_to_table([{"case_id": "C1", "age": "eight"}], mns.schema.CASES)


@given(rows=st.integers(0, 20), batch_rows=st.one_of(st.none(), st.integers(1, 7)))
def test_rows_in_batches_are_the_same_rows(rows: int, batch_rows: int | None) -> None:
    data = [{"case_id": f"C{i}", "sex": "MFU"[i % 3]} for i in range(rows)]
    batches = list(rows_to_batches(data, mns.schema.CASES, batch_rows))
    assert batches  # an empty input still has its columns
    assert all(b.num_rows <= (batch_rows or rows) for b in batches)
    table = pa.Table.from_batches(batches)
    assert table.to_pylist() == rows_to_table(data, mns.schema.CASES).to_pylist()
    batcher = RowBatcher(mns.schema.CASES, batch_rows)
    given_back = [b for row in data if (b := batcher.add(row)) is not None]
    assert sum(b.num_rows for b in given_back) + len(batcher) == rows


def test_align_gives_a_later_batch_the_columns_of_the_first() -> None:
    first = pa.schema([pa.field("case_id", pa.string()), pa.field("cin.4B", pa.bool_())])
    later = align(pa.table({"case_id": ["C9"]}), first)
    assert later.schema == first
    assert later.column("cin.4B").to_pylist() == [None]
    with pytest.raises(ValueError, match=r"'cin\.3A'"):
        align(pa.table({"case_id": ["C9"], "cin.3A": [True]}), first)
    with pytest.raises(ValueError, match="batch_rows=0"):
        RowBatcher(first, 0)
