"""Strengths and protective factors in the common language: what the shipped ``mns`` language
records, how a language file states them, how the crosswalks treat them, and how plans,
classification and profiles use them like any other indicator."""

from __future__ import annotations

import json
import sys
from typing import Any

import attrs
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

import mns
from mns.classification import UNASSIGNED, UNKNOWN, classify, classify_case
from mns.errors import LanguageError, PlanError, RuleError
from mns.lang import (
    Indicator,
    Kind,
    Language,
    Polarity,
    crosswalk,
    crosswalks,
    dump_language,
    language,
    language_from_dict,
)
from mns.lang.model import Dimension
from mns.plan import plan_from_dict
from mns.report.sections.prevalence import STRENGTH, _indicator_labels
from tests.strategies import languages

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

#: The strengths of the shipped mns language, by the dimension that groups them.
MNS_STRENGTHS = {
    "child_strengths": {
        "positive_school_engagement",
        "trusted_adult",
        "talents_interests",
        "self_esteem",
    },
    "family_strengths": {"supportive_parent_carer", "extended_family_support"},
    "community_strengths": {
        "positive_peer_group",
        "community_activities",
        "family_community_links",
    },
}
ALL_STRENGTHS = set().union(*MNS_STRENGTHS.values())


# --- the shipped mns language ----------------------------------------------------------------


def test_mns_strengths_are_grouped_child_family_community() -> None:
    lang = language("mns")
    found: dict[str, set[str]] = {}
    for ind in lang.indicators:
        if ind.polarity is Polarity.STRENGTH:
            found.setdefault(ind.dimension, set()).add(ind.code)
    assert found == MNS_STRENGTHS
    # a strengths dimension holds strengths only, and no other dimension holds any
    for ind in lang.indicators:
        assert (ind.dimension in MNS_STRENGTHS) == (ind.polarity is Polarity.STRENGTH), ind.code
    for code in MNS_STRENGTHS:
        assert lang.dimension(code).label.startswith("Strengths: ")


def test_every_mns_strength_has_a_source_and_is_marked_unverified() -> None:
    for code in ALL_STRENGTHS:
        ind = language("mns").indicator(code)
        assert ind.kind is Kind.FLAG, code
        assert ind.concerns is not None, code
        assert ind.plain_label, code
        assert ind.definition, code
        # a citation, and the mark: no published code list of strengths exists
        assert ind.source.startswith("UNVERIFIED: mns's own item, no published code list"), code
        assert "after the" in ind.source, code
        assert "http" in ind.source, code


def test_codes_by_polarity_partition_the_language() -> None:
    lang = language("mns")
    strengths = lang.codes(polarity="strength")
    needs = lang.codes(polarity=Polarity.NEED)
    assert set(strengths) == ALL_STRENGTHS
    assert set(strengths).isdisjoint(needs)
    assert sorted((*needs, *strengths)) == sorted(lang.codes())
    with pytest.raises(ValueError, match="'asset' is not a valid Polarity"):
        lang.codes(polarity="asset")


@given(languages())
def test_codes_by_polarity_keep_file_order(lang: Language) -> None:
    for polarity in Polarity:
        chosen = lang.codes(polarity=polarity)
        assert chosen == tuple(c for c in lang.codes() if c in set(chosen))
        assert all(lang.indicator(c).polarity is polarity for c in chosen)
    assert len(lang.codes(polarity="need")) + len(lang.codes(polarity="strength")) == len(
        lang.codes()
    )


# --- language files ----------------------------------------------------------------------------


def _raw(**indicator: Any) -> dict[str, Any]:
    return {
        "language": {"name": "acme", "version": "1"},
        "dimension": [{"code": "assets", "label": "Strengths"}],
        "indicator": [
            {"code": "mentor", "label": "Has a mentor", "dimension": "assets", **indicator}
        ],
    }


def test_a_strength_reads_and_writes_back() -> None:
    lang = language_from_dict(_raw(polarity="strength"))
    assert lang.indicator("mentor").polarity is Polarity.STRENGTH
    text = dump_language(lang)
    assert 'polarity = "strength"' in text
    assert language_from_dict(tomllib.loads(text)) == lang
    # a need is the default, and is not written
    need = language_from_dict(_raw())
    assert need.indicator("mentor").polarity is Polarity.NEED
    assert "polarity" not in dump_language(need)


@given(languages())
@settings(max_examples=50)
def test_every_language_round_trips_with_its_polarities(lang: Language) -> None:
    assert language_from_dict(tomllib.loads(dump_language(lang))) == lang


def test_an_unknown_polarity_is_reported_in_the_files_terms() -> None:
    with pytest.raises(LanguageError) as caught:
        language_from_dict(_raw(polarity="asset"), "acme.toml")
    message = str(caught.value)
    assert "acme.toml: invalid language" in message
    assert "indicator[0] (code 'mentor') field polarity" in message
    assert "'asset' is not allowed; use one of 'need', 'strength'" in message
    assert caught.value.file == "acme.toml"


@pytest.mark.parametrize("kind", ["rating", "category"])
def test_a_strength_is_a_flag(kind: str) -> None:
    extra: dict[str, Any] = {"values": [{"code": "a", "label": "A"}]} if kind == "category" else {}
    with pytest.raises(LanguageError) as caught:
        language_from_dict(_raw(polarity="strength", kind=kind, **extra), "acme.toml")
    message = str(caught.value)
    assert "indicator[0] (code 'mentor')" in message
    assert f"a strength is a flag (present or not), not a {kind}" in message
    with pytest.raises(ValueError, match="a strength is a flag"):
        Indicator(code="x", label="x", dimension="d", kind=Kind.RATING, polarity=Polarity.STRENGTH)


# --- crosswalks --------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), crosswalks())
def test_shipped_crosswalks_derive_no_strength_and_say_so(source: str, target: str) -> None:
    cw = crosswalk(source, target)
    strengths = set(language(target).codes(polarity="strength"))
    assert strengths  # the target language has strengths to derive, had the source any
    assert {m.target for m in cw.mappings}.isdisjoint(strengths)
    assert "derives no strengths or protective factors" in cw.reference


#: one need group whose rule needs a need (recorded in CIN terms) and a strength (not)
ONE_GROUP_PLAN = plan_from_dict(
    {
        "plan": {"name": "p", "language": "mns"},
        "need_group": [
            {"code": "G1", "name": "g", "rule": "domestic_abuse and not supportive_parent_carer"}
        ],
    }
)


def test_a_plan_needing_a_strength_from_cin_records_is_told_where_to_record_it() -> None:
    plan = ONE_GROUP_PLAN
    with pytest.raises(RuleError) as caught:
        classify(pa.table({"case_id": ["a"], "cin.3A": [True]}), plan)
    message = str(caught.value)
    assert "'mns.supportive_parent_carer'" in message
    assert "cin->mns does not map 'supportive_parent_carer'" in message
    assert "record it in the cases" in message


def test_needs_from_cin_records_and_strengths_from_a_form_combine() -> None:
    plan = ONE_GROUP_PLAN
    cases = pa.table(
        {
            "case_id": ["a", "b", "c", "d"],
            "cin.3A": [True, True, False, None],
            "cin.3B": [False, False, False, None],
            "cin.3C": [False, False, False, None],
            "mns.supportive_parent_carer": [False, True, False, False],
        }
    )
    out = classify(cases, plan)
    assert isinstance(out, pa.Table)
    # domestic_abuse comes through the cin->mns crosswalk, the strength from the form
    assert out.column("need_group").to_pylist() == ["G1", UNASSIGNED, UNASSIGNED, UNKNOWN]
    [applied] = json.loads(out.schema.metadata[b"mns.crosswalks"])
    assert (applied["source"], applied["derived"]) == ("cin", ["domestic_abuse"])
    for row, result in zip(cases.to_pylist(), out.to_pylist(), strict=True):
        assert classify_case(row, plan)["need_group"] == result["need_group"]


# --- plans, classification and profiles ---------------------------------------------------------

STRENGTHS_PLAN = plan_from_dict(
    {
        "plan": {"name": "Strengths plan", "language": "mns"},
        "need_group": [
            {
                "code": "DA1",
                "name": "Domestic abuse, no supportive carer",
                "rule": "domestic_abuse and not supportive_parent_carer",
            },
            {
                "code": "DA2",
                "name": "Domestic abuse with a supportive carer",
                "rule": "domestic_abuse",
            },
            {
                "code": "ISO",
                "name": "Isolated adolescents",
                "rule": "age >= 11 and count(trusted_adult, positive_peer_group, "
                "community_activities) == 0",
            },
        ],
        "service": [
            {
                "code": "MENT",
                "name": "Mentoring",
                "need_groups": ["ISO"],
                "threshold": "not trusted_adult",
            }
        ],
        "outcome": [
            {
                "code": "O1",
                "need_group": "ISO",
                "objective": "Every young person has an adult they trust",
                "measure": "mns.trusted_adult at review",
                "target": {"share": 0.8, "direction": "higher"},
            }
        ],
    }
)

_FLAGS = (
    "mns.domestic_abuse",
    "mns.supportive_parent_carer",
    "mns.trusted_adult",
    "mns.positive_peer_group",
    "mns.community_activities",
)


def test_a_plan_with_strengths_classifies_as_worked_by_hand() -> None:
    cases = pa.table(
        {
            "case_id": ["a", "b", "c", "d", "e", "f"],
            "age": pa.array([4, 9, 14, 15, 13, 16], pa.int16()),
            "mns.domestic_abuse": [True, True, False, False, False, None],
            "mns.supportive_parent_carer": [False, True, None, None, None, None],
            "mns.trusted_adult": [None, None, False, True, False, False],
            "mns.positive_peer_group": [None, None, False, False, None, False],
            "mns.community_activities": [None, None, False, False, False, False],
        }
    )
    out = classify(cases, STRENGTHS_PLAN)
    assert isinstance(out, pa.Table)
    # a: abuse, no supportive carer; b: abuse with one; c: 14, no strength of the three;
    # d: has a trusted adult; e: the peer group is unknown, so "none of the three" is unknown;
    # f: unknown abuse leaves DA1/DA2 unknown, and the rule order stops there
    assert out.column("need_group").to_pylist() == [
        "DA1",
        "DA2",
        "ISO",
        UNASSIGNED,
        UNKNOWN,
        UNKNOWN,
    ]
    assert out.column("threshold.MENT").to_pylist() == [None, None, True, False, True, True]


@st.composite
def strength_cases(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 12))
    flags = st.lists(st.none() | st.booleans(), min_size=n, max_size=n)
    columns: dict[str, Any] = {
        "case_id": [f"c{i}" for i in range(n)],
        "age": pa.array(
            draw(st.lists(st.none() | st.integers(0, 17), min_size=n, max_size=n)), pa.int16()
        ),
    }
    for name in _FLAGS:
        columns[name] = pa.array(draw(flags), pa.bool_())
    return pa.table(columns)


@given(strength_cases())
def test_arrow_and_per_case_agree_on_strengths(cases: pa.Table) -> None:
    out = classify(cases, STRENGTHS_PLAN, missing_fields=True)
    assert isinstance(out, pa.Table)
    for row, result in zip(cases.to_pylist(), out.to_pylist(), strict=True):
        one = classify_case(row, STRENGTHS_PLAN)
        assert one == {k: result[k] for k in ("need_group", "threshold.MENT", "missing_fields")}


def test_plan_rules_are_checked_against_the_strengths() -> None:
    with pytest.raises(PlanError, match="did you mean 'trusted_adult'"):
        plan_from_dict(
            {
                "plan": {"name": "p", "language": "mns"},
                "need_group": [{"code": "G1", "name": "g", "rule": "not trusted_adults"}],
            }
        )


def test_profile_counts_strengths_and_the_report_labels_them() -> None:
    cases = pa.table(
        {
            "case_id": ["a", "b", "c", "d"],
            "age": pa.array([14, 15, 12, 16], pa.int16()),
            "mns.domestic_abuse": [False, False, False, False],
            "mns.supportive_parent_carer": [True, False, True, None],
            "mns.trusted_adult": [False, False, True, False],
            "mns.positive_peer_group": [False, True, False, False],
            "mns.community_activities": [False, False, False, False],
        }
    )
    profile = mns.profile(classify(cases, STRENGTHS_PLAN))
    rows = {
        (r["need_group"], r["variable"], r["value"]): r["count"]
        for r in profile.to_pylist()
        if r["variable"] == "mns.trusted_adult"
    }
    # ISO: a and d (no strength of the three); b has a friend, c a trusted adult
    assert rows[("ISO", "mns.trusted_adult", "true")] == 0
    assert rows[("ISO", "mns.trusted_adult", "false")] == 2
    assert rows[(UNASSIGNED, "mns.trusted_adult", "true")] == 1
    labels = _indicator_labels(None, ["mns.trusted_adult", "mns.domestic_abuse", "cin.3A"])  # type: ignore[arg-type]
    assert labels["mns.trusted_adult"] == STRENGTH + "A trusted adult"
    assert labels["mns.domestic_abuse"] == "Domestic abuse"
    assert not labels["cin.3A"].startswith(STRENGTH)


def test_languages_without_strengths_are_unchanged() -> None:
    for name in ("cin", "ssda903", "af2000"):
        assert language(name).codes(polarity="strength") == ()


def test_a_dimension_may_mix_needs_and_strengths() -> None:
    """Polarity belongs to the indicator: a user's section may hold both."""
    lang = Language(
        name="acme",
        version="1",
        dimensions=(Dimension(code="school", label="School"),),
        indicators=(
            Indicator(code="excluded", label="Excluded", dimension="school"),
            Indicator(
                code="enjoys", label="Enjoys school", dimension="school", polarity=Polarity.STRENGTH
            ),
        ),
    )
    assert lang.codes(polarity="strength") == ("enjoys",)
    assert attrs.evolve(lang.indicator("enjoys"), polarity=Polarity.NEED).polarity is Polarity.NEED
