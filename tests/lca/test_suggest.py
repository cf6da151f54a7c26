"""suggest_groups on cases drawn from known latent classes: recovery, model choice, descriptions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mns.errors import SchemaError
from mns.lca import Suggestion, compare_classes, suggest_groups, what_the_data_suggests
from tests.lca.conftest import N
from tests.lca.gen import CLASSES, FLAG_P, FLAGS, RATING, RATING_P, latent_cases

#: The stated bound: Cohen's kappa between the fitted classes and the true classes, after
#: optimal label matching, on 1,000 cases from three classes over nine indicators (5% of
#: values missing). The fit reaches about 0.94.
RECOVERY_KAPPA = 0.85


def test_recovers_the_known_classes(result: Suggestion, data: tuple[pa.Table, pa.Table]) -> None:
    _, truth = data
    assert result.recommended_k == 3
    assert result.k == 3
    comparison = compare_classes(result, truth)
    assert comparison.kappa is not None
    assert comparison.kappa >= RECOVERY_KAPPA
    assert comparison.cases == N
    # every true class is matched to a class of its own
    matched = comparison.matching.filter(pc.is_valid(comparison.matching["class"]))
    assert sorted(matched["need_group"].to_pylist()) == sorted(CLASSES)


def test_estimates_the_class_conditional_probabilities(
    result: Suggestion, data: tuple[pa.Table, pa.Table]
) -> None:
    _, truth = data
    pairs = compare_classes(result, truth).matching.to_pylist()
    class_of = {r["need_group"]: r["class"] for r in pairs if r["class"] is not None}
    probs = {
        (r["class"], r["indicator"], r["value"]): r["probability"]
        for r in result.profiles.to_pylist()
    }
    for i, name in enumerate(CLASSES):
        c = class_of[name]
        for j, flag in enumerate(FLAGS):
            assert probs[(c, flag, "true")] == pytest.approx(FLAG_P[i, j], abs=0.08)
        for level in range(4):
            assert probs[(c, RATING, str(level))] == pytest.approx(RATING_P[i, level], abs=0.08)


def test_model_choice_table(result: Suggestion) -> None:
    models = result.models
    assert models["k"].to_pylist() == [1, 2, 3, 4]
    rows = {r["k"]: r for r in models.to_pylist()}
    n = result.cases
    for r in rows.values():
        ll, p = r["log_likelihood"], r["parameters"]
        assert r["bic"] == pytest.approx(-2 * ll + p * np.log(n))
        assert r["caic"] == pytest.approx(-2 * ll + p * (np.log(n) + 1))
        assert r["sabic"] == pytest.approx(-2 * ll + p * np.log((n + 2) / 24))
    # 8 flags, one 4-level rating: (k - 1) + k * (8 + 3) free parameters
    assert [rows[k]["parameters"] for k in (1, 2, 3, 4)] == [11, 23, 35, 47]
    assert rows[1]["entropy"] is None
    assert 0.0 < rows[3]["entropy"] <= 1.0
    assert [r["recommended"] for r in models.to_pylist()] == [False, False, True, False]
    assert min(rows, key=lambda k: rows[k]["bic"]) == 3
    assert rows[3]["smallest_class"] == min(result.classes["cases"].to_pylist())
    assert "k = 3 has the lowest BIC" in result.reason


def test_membership_covers_every_case(result: Suggestion, data: tuple[pa.Table, pa.Table]) -> None:
    cases, _ = data
    m = result.membership
    assert m.num_rows == cases.num_rows
    assert m["case_id"].to_pylist() == sorted(cases["case_id"].to_pylist())
    assert set(m["class"].to_pylist()) == {1, 2, 3}
    post = m["posterior"].to_numpy()
    assert np.all((post >= 1 / 3) & (post <= 1))
    sizes = result.classes["cases"].to_pylist()
    assert sizes == sorted(sizes, reverse=True)  # classes are numbered by size
    assert sum(sizes) == N


def test_class_descriptions(result: Suggestion, data: tuple[pa.Table, pa.Table]) -> None:
    cases, truth = data
    pairs = compare_classes(result, truth).matching.to_pylist()
    drugs = next(r["class"] for r in pairs if r["need_group"] == "drugs")
    top = result.indicators.filter(pc.equal(result.indicators["class"], drugs)).sort_by("rank")
    assert set(top["event"].to_pylist()[:2]) == {"cin.2A", "cin.2B"}
    first = top.to_pylist()[0]
    assert first["lift"] == pytest.approx(first["prevalence"] / first["overall"])
    assert first["label"].startswith("Drug misuse")
    # prevalence is among the class's members where the indicator is known
    members = set(
        result.membership.filter(pc.equal(result.membership["class"], drugs))["case_id"].to_pylist()
    )
    column = cases.column(first["indicator"]).to_pylist()
    ids = cases["case_id"].to_pylist()
    known = [v for i, v in zip(ids, column, strict=True) if i in members and v is not None]
    assert first["prevalence"] == pytest.approx(sum(known) / len(known))
    row = result.classes.filter(pc.equal(result.classes["class"], drugs)).to_pylist()[0]
    assert "cin.2A" in row["distinguishing"]
    demo = result.demographics.filter(
        pc.and_(
            pc.equal(result.demographics["class"], drugs),
            pc.equal(result.demographics["characteristic"], "age"),
        )
    )
    assert demo["value"].to_pylist() == ["0-4", "5-9", "10-15", "16-17"]
    assert sum(demo["cases"].to_pylist()) == row["cases"]


def test_report_section(result: Suggestion, data: tuple[pa.Table, pa.Table]) -> None:
    _, truth = data
    section = what_the_data_suggests(result, compare_classes(result, truth))
    assert section.title == "What the data suggests"
    assert list(section.tables)[:3] == ["lca_models", "lca_classes", "lca_rules"]
    assert section.captions["lca_models"] == "Model choice"
    wide = section.table("lca_confusion")
    assert wide.column_names == ["class", *sorted(CLASSES)]
    assert section.counts["lca_confusion"] == tuple(sorted(CLASSES))
    assert sum(sum(wide[g].to_pylist()) for g in CLASSES) == N
    assert section.table("lca_models").num_rows == 4
    assert set(section.table("lca_indicators")["rank"].to_pylist()) == {1, 2, 3, 4, 5}
    assert "suggests 3 classes" in section.text[0]
    assert any("kappa" in t for t in section.text)
    with pytest.raises(KeyError, match="no table"):
        section.table("nonsense")


def test_same_seed_same_result_whatever_the_order_and_batches(
    data: tuple[pa.Table, pa.Table],
) -> None:
    cases, _ = data
    small = cases.slice(0, 300)
    a = suggest_groups(small, k=[2, 3], seed=3, n_init=2)
    # the same cases in another order, in batches: the same result
    shuffled = small.take(np.random.default_rng(0).permutation(small.num_rows))
    b = suggest_groups(shuffled.to_batches(max_chunksize=70), k=[2, 3], seed=3, n_init=2)
    for name in (
        "models",
        "classes",
        "indicators",
        "demographics",
        "rules",
        "membership",
        "profiles",
    ):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert a.reason == b.reason


def test_missing_values_and_empty_cases() -> None:
    cases, _ = latent_cases(400, seed=5, missing=0.3)
    # one case with nothing recorded: no class, and it does not count as fitted
    blank = {name: pa.array([None], cases.schema.field(name).type) for name in cases.column_names}
    blank["case_id"] = pa.array(["Z99999"])
    cases = pa.concat_tables([cases, pa.table(blank, schema=cases.schema)])
    result = suggest_groups(cases, k=[3], seed=1, n_init=2)
    assert result.cases == 400
    last = result.membership.to_pylist()[-1]
    assert last == {"case_id": "Z99999", "class": None, "posterior": None}


def test_choose_describes_another_k(data: tuple[pa.Table, pa.Table]) -> None:
    cases, _ = data
    result = suggest_groups(cases.slice(0, 300), k=[2, 3], seed=1, n_init=1, choose=2)
    assert result.k == 2
    assert result.classes.num_rows == 2
    assert result.recommended_k in (2, 3)
    with pytest.raises(ValueError, match="choose = 5 is not among"):
        suggest_groups(cases, k=[2, 3], choose=5)


def test_indicator_selection(data: tuple[pa.Table, pa.Table]) -> None:
    cases, _ = data
    only_cin = suggest_groups(cases.slice(0, 200), indicators="cin", k=[2], n_init=1)
    assert only_cin.columns == tuple(sorted(FLAGS))
    # a column where everyone has the same value carries no information and is left out
    same = cases.append_column("cin.7A", pa.array([True] * cases.num_rows))
    listed = suggest_groups(same.slice(0, 200), indicators=[*FLAGS[:3], "cin.7A"], k=[2], n_init=1)
    assert listed.columns == tuple(sorted(FLAGS[:3]))
    assert listed.dropped == (("cin.7A", "every case with a value has the same value"),)


def test_category_indicators() -> None:
    rng = np.random.default_rng(
        99
    )  # not the generator's seed: its draws would align with the classes
    cases, truth = latent_cases(400, seed=2)
    groups = truth["need_group"].to_pylist()
    need = {"drugs": "N1", "violence_mental_health": "N2", "disability": "N3"}
    codes = [need[g] if rng.random() < 0.8 else "N8" for g in groups]
    cases = cases.append_column("cin.primary_need", pa.array(codes).dictionary_encode())
    result = suggest_groups(cases, indicators=[*FLAGS, "cin.primary_need"], k=[3], seed=1, n_init=2)
    events = set(result.indicators["event"].to_pylist())
    assert {"cin.primary_need == 'N1'", "cin.primary_need == 'N8'"} <= events
    values = result.profiles.filter(pc.equal(result.profiles["indicator"], "cin.primary_need"))
    assert sorted(set(values["value"].to_pylist())) == ["N1", "N2", "N3", "N8"]
    # 8 flags + one 4-value category: 2 + 3 * (8 + 3) free parameters
    assert result.models["parameters"].to_pylist() == [35]


def test_bad_input_is_named(data: tuple[pa.Table, pa.Table]) -> None:
    cases, _ = data
    with pytest.raises(SchemaError, match=r"'cin\.2X'.*did you mean 'cin\.2B' or 'cin\.2A'"):
        suggest_groups(cases, indicators=["cin.2A", "cin.2B", "cin.2X"])
    bad = cases.set_column(
        cases.column_names.index(RATING),
        RATING,
        pa.array([5] + [0] * (cases.num_rows - 1), pa.int8()),
    )
    with pytest.raises(
        SchemaError, match=r"emotional_wellbeing_concern.*case 'C00000' \(row 1\): rating 5"
    ):
        suggest_groups(bad)
    with pytest.raises(SchemaError, match="needs at least three"):
        suggest_groups(cases, indicators=["cin.2A", "cin.2B"])
    with pytest.raises(SchemaError, match="no 'case_id' column"):
        suggest_groups(cases.drop_columns(["case_id"]))
    dup = pa.concat_tables([cases.slice(0, 2), cases.slice(0, 1)])
    with pytest.raises(SchemaError, match="case_id 'C00000' appears more than once"):
        suggest_groups(dup)
    with pytest.raises(ValueError, match="k must hold whole numbers"):
        suggest_groups(cases, k=[0, 2])
    with pytest.raises(ValueError, match="seed must be"):
        suggest_groups(cases, seed=-1)
    with pytest.raises(
        SchemaError, match="no flag or rating indicator columns of language 'ssda903'"
    ):
        suggest_groups(cases, indicators="ssda903")


def test_models_that_cannot_be_fitted_are_reported(data: tuple[pa.Table, pa.Table]) -> None:
    cases, _ = data
    tiny = cases.slice(0, 30)
    result = suggest_groups(tiny, indicators=list(FLAGS[:3]), k=[1, 2, 3], n_init=1)
    rows = {r["k"]: r for r in result.models.to_pylist()}
    assert rows[2]["fitted"] is True
    assert rows[3]["fitted"] is False
    assert "not identified" in rows[3]["problems"]


def test_import_mns_does_not_import_stepmix() -> None:
    code = (
        "import sys, mns, mns.lca; mns.suggest_groups if hasattr(mns, 'suggest_groups') else None;"
        " print([m for m in ('stepmix', 'sklearn', 'pandas', 'scipy') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
