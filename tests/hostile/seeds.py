"""Small valid inputs of every adapter's format (synthetic), for the mutators to damage.

Each seed is made once per test session; ``read(seed, data)`` runs the seed's adapter on
bytes directly (not through ``mns.read``, which would wrap any exception in an
``AdapterError``): the fuzzing suite checks what the adapter itself lets escape.
"""

from __future__ import annotations

import functools
import io
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from mns.plugins import Adapter, Source
from mns.records.bundle import Records
from tests.hostile.xlsx import build_xlsx, cells_from_rows

MAPPING: dict[str, Any] = {
    "table": "cases",
    "constants": {"la": "E06000999"},
    "fields": {
        "case_id": "Child ID",
        "sex": {
            "column": "Gender",
            "pattern": r"^[a-z]\)\s*(?P<code>.+)$",
            "codes": {"M": ["Male"], "F": ["Female"]},
        },
        "birth_month": "DOB",
        "age": "Age",
    },
    "multi": {"factors": {"column": "Factors", "language": "cin"}},
}
MAPPING_HEADER = ["Child ID", "Gender", "DOB", "Age", "Factors"]


def mapping_rows(n: int = 6) -> list[list[str]]:
    """Rows of an export the mapping above reads (every row a record)."""
    sexes = ["a) Male", "b) Female", "Male", "F"]
    return [
        [f"C{i}", sexes[i % 4], f"0{1 + i % 9}/03/2015", str(3 + i), "4B; 3A" if i % 2 else "2B"]
        for i in range(n)
    ]


@attrs.frozen
class Seed:
    """One valid input: its file name, bytes and the adapter reading it (and its options)."""

    name: str
    data: bytes
    adapter: Callable[[], Adapter]
    options: Mapping[str, Any] = attrs.field(factory=dict)
    extra: tuple[tuple[str, bytes], ...] = ()  # other files of the same source (903 Header)


def read(seed: Seed, data: bytes, name: str | None = None) -> Records:
    """The seed's adapter on ``data`` (as the seed's file) and the seed's other files."""
    adapter = seed.adapter()
    options = {o.name: o.default for o in adapter.options}
    options.update(seed.options)
    options.update(strict=False, batch_size=None)
    sources = [Source.from_bytes(name or seed.name, data)]
    sources += [Source.from_bytes(n, d) for n, d in seed.extra]
    return adapter.read(sources, options)


def _csv_text(header: list[str], rows: list[list[str]]) -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _canonical_adapter() -> Adapter:
    from mns.builtin.canonical import ADAPTER

    return ADAPTER


def _mapping_adapter() -> Adapter:
    from mns.builtin.mapping import ADAPTER

    return ADAPTER


def _form_adapter() -> Adapter:
    from mns.forms.reader import form_adapter

    return form_adapter()


def _annex_adapter() -> Adapter:
    import mns_annex_a

    return mns_annex_a.adapter()


def _cin_adapter() -> Adapter:
    import mns_cin_census

    return mns_cin_census.adapter()


def _ssda903_adapter() -> Adapter:
    import mns_ssda903

    return mns_ssda903.adapter()


def _example_adapter() -> Adapter:
    import mns_example

    found = next(iter(mns_example.mns_adapters()))
    assert isinstance(found, Adapter)
    return found


@functools.cache
def canonical_csv() -> Seed:
    rows = [[f"C{i}", "MFU"[i % 3], str(i + 2), "referral"] for i in range(8)]
    data = _csv_text(["case_id", "sex", "age", "cohort"], rows)
    return Seed("cases.csv", data, _canonical_adapter)


@functools.cache
def canonical_parquet() -> Seed:
    import pyarrow.parquet as pq

    table = pa.table({"case_id": [f"C{i}" for i in range(8)], "age": list(range(8))})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return Seed("cases.parquet", buffer.getvalue(), _canonical_adapter)


@functools.cache
def canonical_jsonl() -> Seed:
    lines = [f'{{"case_id": "C{i}", "sex": "M", "age": {i + 1}}}' for i in range(8)]
    return Seed("cases.jsonl", ("\n".join(lines) + "\n").encode(), _canonical_adapter)


@functools.cache
def mapping_csv() -> Seed:
    data = _csv_text(MAPPING_HEADER, mapping_rows())
    return Seed("export.csv", data, _mapping_adapter, {"mapping": MAPPING})


@functools.cache
def mapping_xlsx() -> Seed:
    cells = cells_from_rows([MAPPING_HEADER, *mapping_rows()])
    data = build_xlsx({"Export": cells})
    return Seed("export.xlsx", data, _mapping_adapter, {"mapping": MAPPING})


def annex_sheet() -> str:
    """The sheet of List 3 (referrals), the list the seeds fill."""
    from mns_annex_a.spec import LISTS

    return next(s for s in LISTS.values() if s.name == "referrals").sheet


def annex_rows(n: int = 5) -> list[list[object]]:
    """List 3 (referrals) of an Annex A workbook: its headers, then ``n`` children."""
    from mns_annex_a.spec import LISTS

    spec = next(s for s in LISTS.values() if s.name == "referrals")
    header: list[object] = [c.header for c in spec.columns]
    blanks: list[object] = ["" for _ in header[1:]]
    return [header, *([f"R{i}", *blanks] for i in range(n))]


@functools.cache
def annex_a() -> Seed:
    data = build_xlsx({annex_sheet(): cells_from_rows(annex_rows())})
    return Seed("annex_a.xlsx", data, _annex_adapter)


@functools.cache
def audit_form() -> Seed:
    from mns.forms import write_workbook

    table = pa.table({"case_id": ["C1", "C2", "C3", "C4"]})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.xlsx"
        write_workbook(path, table, indicators=["homeless", "family_conflict_level"])
        return Seed("form.xlsx", path.read_bytes(), _form_adapter)


@functools.cache
def cin_xml() -> Seed:
    import mns_cin_census

    from mns import synth

    recs = synth.records(12, seed=5, year=2024, cohort="child_in_need")
    out = io.StringIO()
    mns_cin_census.write(recs.cases, recs.services, out, year=2024)
    return Seed("cin.xml", out.getvalue().encode("utf-8"), _cin_adapter, {"year": 2024})


@functools.cache
def _ssda903_folder() -> dict[str, bytes]:
    import mns_ssda903

    from mns import synth

    recs = synth.records(300, seed=7, year=2024, cohort="looked_after")
    with tempfile.TemporaryDirectory() as folder:
        mns_ssda903.write(recs.cases, recs.services, Path(folder) / "r", year=2024)
        return {p.name: p.read_bytes() for p in sorted((Path(folder) / "r").iterdir())}


@functools.cache
def ssda903_csv() -> Seed:
    files = _ssda903_folder()
    extra = tuple((n, d) for n, d in files.items() if n == "Header.csv")
    return Seed("Episodes.csv", files["Episodes.csv"], _ssda903_adapter, {"year": 2024}, extra)


SSDA903_XML = b"""<?xml version='1.0' encoding='us-ascii'?>
<EXPSSDA903><CHILD><HEADER><CHILDID>947390</CHILDID><SEX>1</SEX>
<DOB>02/03/2013</DOB><ETHNIC>BOTH</ETHNIC><UASC /><MOTHER /><MC_DOB /></HEADER>
<EPISODE><DECOM>11/11/2023</DECOM><RNE>S</RNE><LS>V2</LS><CIN>N1</CIN><PL>A3</PL>
<PL_POST>D4 8NF</PL_POST><HOME_POST>E22 4DI</HOME_POST><URN>1594525</URN>
<PLACE_PROVIDER>PR4</PLACE_PROVIDER><DEC>26/02/2024</DEC><REC>E7</REC><REASON_PLACE_CHANGE />
</EPISODE></CHILD><CHILD><HEADER><CHILDID>947391</CHILDID><SEX>2</SEX>
<DOB>12/07/2010</DOB><ETHNIC>WBRI</ETHNIC><UASC /><MOTHER /><MC_DOB /></HEADER>
<EPISODE><DECOM>01/06/2023</DECOM><RNE>S</RNE><LS>C2</LS><CIN>N2</CIN><PL>U1</PL>
<PL_POST>D4 8NF</PL_POST><HOME_POST>E22 4DI</HOME_POST><URN>1594525</URN>
<PLACE_PROVIDER>PR1</PLACE_PROVIDER><DEC /><REC /><REASON_PLACE_CHANGE />
</EPISODE></CHILD></EXPSSDA903>
"""


@functools.cache
def ssda903_xml() -> Seed:
    return Seed("return.xml", SSDA903_XML, _ssda903_adapter, {"year": 2024})


@functools.cache
def example() -> Seed:
    data = (
        b"#NWEH|2|2024-03-31\nREF|DOB|SEX|POSTCODE|NEEDS|SERVICE|OPENED|CLOSED\n"
        b"EH-0001|2015-04|F|NW9 1AB|parent_mental_health+low_income|Family support worker"
        b"|2023-11-02|\nEH-0002|2019-11|M|NW9 2CD|domestic_abuse|Domestic abuse outreach"
        b"|2023-06-15|2024-01-31\nEH-0003|2011-02|F|NW10 4EF|poor_attendance+young_carer|||\n"
    )
    return Seed("northwick.nweh", data, _example_adapter)


#: Every seed maker, by the format's name (the fuzzing suite runs over each).
SEEDS: dict[str, Callable[[], Seed]] = {
    "canonical-csv": canonical_csv,
    "canonical-jsonl": canonical_jsonl,
    "canonical-parquet": canonical_parquet,
    "mapping-csv": mapping_csv,
    "mapping-xlsx": mapping_xlsx,
    "annex-a": annex_a,
    "audit-form": audit_form,
    "cin-xml": cin_xml,
    "ssda903-csv": ssda903_csv,
    "ssda903-xml": ssda903_xml,
    "example": example,
}
