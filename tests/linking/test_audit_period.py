"""The audit's reference date comes from the returns' headers (or the caller), never from the
latest record; cases dated outside the audit's period are listed and left out of the audit
and its annual numbers ("cases a year")."""

from __future__ import annotations

import datetime as dt

import attrs
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import mns
from mns.audit import run_audit
from mns.records.bundle import Provenance
from mns.records.model import Audit
from tests.report import handmade

#: Two wrongly dated referrals (one decades back, one in the future) among the year's cases.
_WRONG = {"C000": dt.date(2004, 6, 1), "C001": dt.date(2030, 1, 15)}


def _records(provenance: Provenance) -> mns.Records:
    records = handmade._records(80, "C", 0)
    cases = records.cases
    ids = cases.column("case_id").to_pylist()
    dates = [_WRONG.get(i, dt.date(2025, 10, 1)) for i in ids]
    at = cases.schema.get_field_index("reference_date")
    cases = cases.set_column(at, cases.schema.field(at), pa.array(dates, pa.date32()))
    return attrs.evolve(records, cases=cases, provenance=provenance)


def _left_out(result: mns.AuditResult) -> set[str]:
    issues = result.tables["issues"]
    assert "reference_date" in issues.column("field").to_pylist()
    return {n for n in result.notes if "outside the audit's period" in n}


def _sample(result: mns.AuditResult) -> int:
    return int(pc.sum(result.tables["extrapolate"].column("sample")).as_py())


@pytest.mark.parametrize(
    "provenance",
    [
        Provenance(collection_year=2026),
        Provenance(reference_date=dt.date(2026, 3, 31)),
        Provenance(collection_year=2026, reference_date=dt.date(2026, 3, 31)),
    ],
    ids=["collection year", "header reference date", "both"],
)
def test_the_returns_reference_date_not_the_latest_record(provenance: Provenance) -> None:
    result = run_audit(_records(provenance), handmade.plan(), census=True, disclose=False)
    assert result.reference_date == dt.date(2026, 3, 31)  # not 2030-01-15
    assert result.cases.num_rows == 78
    assert _sample(result) == 78  # the two wrongly dated cases are not the year's
    [note] = _left_out(result)
    assert "2 case(s)" in note
    assert "1 before it, 1 after it" in note


def test_the_callers_period_wins_over_the_headers() -> None:
    records = _records(Provenance(reference_date=dt.date(2026, 3, 31)))
    audit = Audit(
        name="a",
        period_start=dt.date(2004, 1, 1),
        period_end=dt.date(2030, 12, 31),
        sampling_fraction=1.0,
    )
    result = run_audit(records, handmade.plan(), audit=audit, disclose=False)
    assert result.reference_date == dt.date(2030, 12, 31)
    assert result.cases.num_rows == 80  # every case falls in the period given
    assert not any("outside the audit's period" in n for n in result.notes)


def test_without_any_period_no_reference_date_is_made_up() -> None:
    result = run_audit(_records(Provenance()), handmade.plan(), census=True, disclose=False)
    assert result.reference_date is None
    assert result.cases.num_rows == 80
    assert any("The audit's period is not known" in n for n in result.notes)


def test_returns_that_disagree_leave_the_reference_date_to_the_caller() -> None:
    two = [
        handmade._records(3, "A", 0),
        handmade._records(3, "B", 0),
    ]
    two[1] = attrs.evolve(two[1], provenance=Provenance(reference_date=dt.date(2025, 3, 31)))
    from mns.dispatch import combine_records

    records = combine_records([("one", two[0]), ("other", two[1])])
    assert records.provenance.reference_date is None
    result = run_audit(records, handmade.plan(), census=True, disclose=False)
    assert result.reference_date is None  # not the latest case's date
    audit = Audit(name="a", period_end=dt.date(2026, 3, 31), sampling_fraction=1.0)
    assert run_audit(records, handmade.plan(), audit=audit).reference_date == audit.period_end


def test_every_case_outside_the_period_is_a_clear_error() -> None:
    records = _records(Provenance(collection_year=2020))
    with pytest.raises(mns.MnsError, match="none of the 80 cases has a reference date"):
        run_audit(records, handmade.plan(), census=True)
