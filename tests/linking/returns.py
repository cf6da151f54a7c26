"""Small synthetic returns of one local authority: a CIN census, an SSDA903 set and another
agency's export, with some children in several of them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv

from mns import synth

YEAR = 2024
#: Children in need in the census; the last two also became looked after.
CIN_CHILDREN = [f"ZQK{i:03d}X" for i in range(6)]
LA_CHILDREN = ["ZQK004X", "ZQK005X", "ZQK901X"]
HEALTH_CHILDREN = ["ZQK000X", "ZQK005X", "ZQK950X"]


def write_cin(path: Path) -> Path:
    import mns_cin_census

    recs = synth.records(len(CIN_CHILDREN), seed=7, year=YEAR)
    cases = recs.cases
    field = cases.schema.field("child_id")
    cases = cases.set_column(
        cases.schema.get_field_index("child_id"), field, pa.array(CIN_CHILDREN, field.type)
    )
    mns_cin_census.write(cases, recs.services, path, year=YEAR, lea="201")
    return path


def write_903(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = ["CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"]
    episodes = [
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
        "PL_POST,URN"
    ]
    for i, child in enumerate(LA_CHILDREN):
        header.append(f"{child},{1 + i % 2},15/0{i + 1}/2014,WBRI,,,")
        episodes.append(f"{child},0{i + 1}/11/2023,S,C2,N1,U1,PR1,,,,,,")
    (folder / "Header.csv").write_text("\n".join(header) + "\n", "utf-8")
    (folder / "Episodes.csv").write_text("\n".join(episodes) + "\n", "utf-8")
    return folder


def write_export(path: Path) -> Path:
    """Another agency's cases, in mns's own columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(HEALTH_CHILDREN)
    cases = pa.table(
        {
            "case_id": [f"H{i}" for i in range(n)],
            "child_id": HEALTH_CHILDREN,
            "reference_date": pa.array([dt.date(2024, 2, 1 + i) for i in range(n)]),
            "agency": ["health"] * n,
        }
    )
    pv.write_csv(cases, path)
    return path
