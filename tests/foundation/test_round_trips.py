"""Every model class survives object -> dict -> object; files survive object -> TOML -> object."""

from __future__ import annotations

import sys

from hypothesis import given, strategies as st

from mns.converters import make_converter
from mns.lang.load import (
    crosswalk_from_dict,
    dump_crosswalk,
    dump_language,
    language_from_dict,
)
from mns.lang.model import Crosswalk, Language
from mns.plan.load import dump_plan, plan_from_dict
from mns.plan.model import Plan
from tests.strategies import STRATEGIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONVERTER = make_converter()


@given(st.sampled_from(sorted(STRATEGIES, key=lambda c: c.__name__)).flatmap(st.from_type))
def test_dict_round_trip(obj: object) -> None:
    data = CONVERTER.unstructure(obj)
    assert CONVERTER.structure(data, type(obj)) == obj


@given(st.from_type(Language))
def test_language_toml_round_trip(language: Language) -> None:
    text = dump_language(language)
    assert language_from_dict(tomllib.loads(text)) == language


@given(st.from_type(Crosswalk))
def test_crosswalk_toml_round_trip(crosswalk: Crosswalk) -> None:
    assert crosswalk_from_dict(tomllib.loads(dump_crosswalk(crosswalk))) == crosswalk


@given(st.from_type(Plan))
def test_plan_toml_round_trip(plan: Plan) -> None:
    assert plan_from_dict(tomllib.loads(dump_plan(plan))) == plan
