"""Fixtures of the CIN census adapter's tests: the reference samples and small XML builders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mns_cin_census
import pytest

from mns.plugins.manager import Manager
from mns.testing import reference_samples, registered


@pytest.fixture
def reference() -> Path:
    """The reference samples folder (the test is skipped, saying why, when it is absent)."""
    return reference_samples("cin_census", __file__)


@pytest.fixture
def manager() -> Iterator[Manager]:
    """A fresh plugin manager with this adapter registered (as its entry point would)."""
    with registered(mns_cin_census, "cin-census") as m:
        yield m


HEADER = """<Header><CollectionDetails><Collection>CIN</Collection><Year>{year}</Year>
<ReferenceDate>{year}-03-31</ReferenceDate></CollectionDetails>
<Source><SourceLevel>L</SourceLevel><LEA>201</LEA></Source></Header>"""


def child(
    la_child_id: str = "C1",
    *,
    sex: str = "<GenderCurrent>1</GenderCurrent>",
    birth: str = "2015-06-20",
    ethnicity: str = "WBRI",
    episodes: str | None = None,
) -> str:
    """One ``<Child>`` with sensible defaults (one episode with an assessment)."""
    if episodes is None:
        episodes = episode()
    ident = f"<LAchildID>{la_child_id}</LAchildID>" if la_child_id else ""
    born = f"<PersonBirthDate>{birth}</PersonBirthDate>" if birth else ""
    return (
        f"<Child>\n<ChildIdentifiers>{ident}{born}{sex}</ChildIdentifiers>\n"
        f"<ChildCharacteristics><Ethnicity>{ethnicity}</Ethnicity></ChildCharacteristics>\n"
        f"{episodes}</Child>\n"
    )


def episode(
    *,
    referral: str = "2023-06-01",
    source: str = "1A",
    need: str = "N1",
    factors: tuple[str, ...] = ("3B", "4B"),
    extra: str = "",
    closure: str = "",
    nfa: str = "false",
) -> str:
    """One ``<CINdetails>`` with an assessment holding ``factors``."""
    fac = "".join(f"<AssessmentFactors>{f}</AssessmentFactors>" for f in factors)
    assessment = (
        "<Assessments><AssessmentActualStartDate>2023-06-05</AssessmentActualStartDate>"
        "<AssessmentAuthorisationDate>2023-07-01</AssessmentAuthorisationDate>"
        f"<FactorsIdentifiedAtAssessment>{fac}</FactorsIdentifiedAtAssessment></Assessments>\n"
        if factors
        else ""
    )
    return (
        f"<CINdetails>\n<CINreferralDate>{referral}</CINreferralDate><ReferralSource>{source}</ReferralSource>"
        f"<PrimaryNeedCode>{need}</PrimaryNeedCode>{closure}\n{assessment}{extra}"
        f"<ReferralNFA>{nfa}</ReferralNFA>\n</CINdetails>\n"
    )


def document(children: str, year: int | None = 2024, prolog: str = "") -> bytes:
    """A whole census file around ``children``."""
    header = HEADER.format(year=year) if year is not None else ""
    return f"{prolog}<Message>\n{header}\n<Children>\n{children}</Children>\n</Message>\n".encode()


class Build:
    """The XML builders, as a fixture (test modules cannot import each other)."""

    child = staticmethod(child)
    episode = staticmethod(episode)
    document = staticmethod(document)


@pytest.fixture
def build() -> type[Build]:
    return Build
