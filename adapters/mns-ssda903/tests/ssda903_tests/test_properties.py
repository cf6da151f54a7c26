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
from hypothesis import example, given, settings, strategies as st
from mns_ssda903.validate import _fixed_dates, _pattern_dates, _sectors

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


_DATE_TEXT = st.one_of(
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(lambda d: f"{d:%d/%m/%Y}"),
    st.just(""),
    st.builds(  # every day number of every month, in leap years, century years and not
        "{:02d}/{:02d}/{:04d}".format,
        st.integers(0, 32),
        st.integers(0, 13),
        st.sampled_from([0, 1, 1900, 2000, 2023, 2024, 2100, 9999]) | st.integers(0, 9999),
    ),
    st.from_regex(r"\A[0-9/ :.a]{10}\Z"),  # dates' shape with wrong days, months, characters
    st.text(max_size=12),
)


@given(st.lists(_DATE_TEXT, max_size=30))
@settings(max_examples=300, deadline=None)
def test_dates_read_in_place_equal_dates_read_value_by_value(values: list[str]) -> None:
    column = pa.array(values, pa.string())
    fixed = _fixed_dates(column)
    assert fixed is None or fixed.equals(_pattern_dates(column))
    if all(v == "" or _valid_date(v) for v in values):  # nothing to explain: read in place
        assert fixed is not None


@given(st.integers(0, 32), st.integers(0, 13), st.integers(1, 9999))
@example(29, 2, 1900)
@example(29, 2, 2000)
@example(29, 2, 2023)
@example(29, 2, 2024)
@example(31, 4, 2023)
@example(31, 12, 9999)
@example(1, 1, 1)
@settings(max_examples=300, deadline=None)
def test_a_date_is_read_in_place_when_the_calendar_has_it(day: int, month: int, year: int) -> None:
    text = f"{day:02d}/{month:02d}/{year:04d}"
    fixed = _fixed_dates(pa.array([text]))
    assert (fixed is not None) == _valid_date(text)
    assert fixed is None or fixed.equals(_pattern_dates(pa.array([text])))


def _valid_date(text: str) -> bool:
    try:
        return len(text) == 10 and dt.datetime.strptime(text, "%d/%m/%Y") is not None
    except ValueError:
        return False
