"""Invariants of the column-wise reader, over generated returns: the result does not depend
on how the rows are ordered or split over files; every episode belongs to one case; every
placement to a case; postcodes are cut exactly as ``mns.privacy.coarsen_postcode`` cuts them."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import mns_ssda903
import pyarrow as pa
from hypothesis import given, settings, strategies as st
from mns_ssda903.validate import _sectors

from mns.privacy import coarsen_postcode

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
    "HOME_POST,PL_POST,URN\n"
)
_DAY0 = dt.date(2023, 4, 1).toordinal()

_EPISODE = st.tuples(
    st.sampled_from(["C1", "C2", "C3", "C4"]),
    st.integers(0, 360),  # start, days into the year
    st.sampled_from(["S", "P", "L", "T", ""]),
    st.one_of(st.none(), st.integers(0, 60)),  # length; None: open
    st.sampled_from(["X1", "E8", "E11", ""]),
    st.sampled_from(["U4", "K2", "T1", "ZZ"]),
)


def _rows(episodes: list[tuple[Any, ...]]) -> list[str]:
    rows = []
    for child, start, rne, length, rec, place in episodes:
        decom = dt.date.fromordinal(_DAY0 + start)
        dec = "" if length is None else f"{dt.date.fromordinal(_DAY0 + start + length):%d/%m/%Y}"
        rows.append(f"{child},{decom:%d/%m/%Y},{rne},C2,N1,{place},,{dec},{rec},,,,\n")
    return rows


def _read(folder: Path, parts: list[list[str]]) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / "h.csv").write_text(HEADER + "C1,1,01/01/2010,WBRI,,,\nC2,2,01/01/2012,WBRI,,,\n")
    for i, part in enumerate(parts):
        (folder / f"e{i}.csv").write_text(EPISODES + "".join(part))
    return mns_ssda903.read(folder, year=2024)


def _values(table: pa.Table) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


@settings(max_examples=25, deadline=None)
@given(st.lists(_EPISODE, max_size=12), st.randoms(use_true_random=False))
def test_order_and_files_do_not_change_the_result(
    tmp_path_factory: Any, episodes: list[tuple[Any, ...]], rng: random.Random
) -> None:
    rows = _rows(episodes)
    whole = _read(tmp_path_factory.mktemp("a"), [rows])
    shuffled = rows[:]
    rng.shuffle(shuffled)
    cut = rng.randint(0, len(shuffled))
    split = _read(tmp_path_factory.mktemp("b"), [shuffled[:cut], shuffled[cut:]])
    for name in ("cases", "services", "outcomes"):
        assert _values(getattr(whole, name)) == _values(getattr(split, name)), name
    cases = _values(whole.cases)
    assert len({c["case_id"] for c in cases}) == len(cases)
    episode_children = {e[0] for e in episodes}
    assert {c["child_id"] for c in cases} == episode_children
    assert {s["case_id"] for s in _values(whole.services)} <= {c["case_id"] for c in cases}
    # every episode starts a placement or continues one (RNE L): none is lost
    assert len(_values(whole.services)) <= len(episodes)
    assert len(cases) <= len(_values(whole.services)) or not episodes


_POSTCODE = st.one_of(
    st.from_regex(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}", fullmatch=True),
    st.text(alphabet="AB12 -.,SW", max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_POSTCODE, max_size=8))
def test_postcodes_are_cut_as_coarsen_postcode_cuts_them(values: list[str]) -> None:
    got = _sectors(pa.array(values, pa.string())).to_pylist()
    assert got == [coarsen_postcode(v, "sector") for v in values]
