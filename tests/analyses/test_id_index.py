"""The id index that joins a batch of cases with their services and outcomes: it must find
exactly what a hash lookup (``pc.is_in``) and a hash join (``Table.join``) find, for any ids
(NULs, empty strings, non-ASCII, nulls, duplicates)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, strategies as st

from mns.analyses._common import IdIndex, Received

# few letters, so that ids collide and differ only by trailing NULs or case
ids = st.text(alphabet="a\x00é", max_size=3)
maybe_ids = st.one_of(st.none(), ids)


@given(st.lists(ids, max_size=12), st.lists(maybe_ids, max_size=12))
def test_contains_is_a_hash_lookup(indexed: list[str], wanted: list[str | None]) -> None:
    index = IdIndex(pa.array(indexed, pa.string()))
    expected = pc.is_in(pa.array(wanted, pa.string()), value_set=pa.array(indexed, pa.string()))
    assert index.contains(pa.array(wanted, pa.string())).tolist() == [
        bool(v) for v in pc.fill_null(expected, False).to_pylist()
    ]


@given(st.lists(maybe_ids, max_size=12), st.lists(maybe_ids, max_size=12))
def test_pairs_are_an_inner_join(indexed: list[str | None], wanted: list[str | None]) -> None:
    rows, matches = IdIndex(pa.array(indexed, pa.string())).pairs(pa.array(wanted, pa.string()))
    left = pa.table(
        {"id": pa.array(wanted, pa.string()), "l": pa.array(range(len(wanted)), pa.int64())}
    )
    right = pa.table(
        {"id": pa.array(indexed, pa.string()), "r": pa.array(range(len(indexed)), pa.int64())}
    )
    joined = left.join(right, "id", join_type="inner")
    assert sorted(zip(rows.tolist(), matches.tolist(), strict=True)) == sorted(
        zip(joined.column("l").to_pylist(), joined.column("r").to_pylist(), strict=True)
    )


@given(
    st.dictionaries(st.sampled_from(["A", "B", "C"]), st.lists(ids, max_size=6)),
    st.lists(maybe_ids, max_size=12),
)
def test_received_flags_each_service(sets: dict[str, list[str]], wanted: list[str | None]) -> None:
    arrays = {code: pc.unique(pa.array(members, pa.string())) for code, members in sets.items()}
    anything, each = Received(arrays, []).flags(pa.array(wanted, pa.string()))
    for code, members in arrays.items():
        assert each[code].to_pylist() == [
            w is not None and w in members.to_pylist() for w in wanted
        ]
    everyone = {m for members in sets.values() for m in members}
    assert anything.to_pylist() == [w is not None and w in everyone for w in wanted]
