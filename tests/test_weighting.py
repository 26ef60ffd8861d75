"""Tests for servicestudy.weighting against R's survey package (tests/reference/weighting.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs import REFERENCE, load_reference
from servicestudy.errors import ConvergenceError, DataError, WeightingError
from servicestudy.weighting import (
    design_effect,
    effective_sample_size,
    rake,
    read_margins,
    weighted_cov,
    weighted_mean,
    weighted_proportion,
)

REF = load_reference("weighting.json")


def _flat(v):
    return np.asarray(v, dtype=float).ravel()


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(REFERENCE / "weighting.csv")
    d["sat"] = pd.Categorical(d["sat"], categories=["low", "mid", "high"])
    return d


@pytest.fixture(scope="module")
def raked(data):
    return rake(data, read_margins(REFERENCE / "weighting_margins.csv"))


def test_rake_weights_match_survey(raked):
    assert raked.converged
    # R stops on a change of the weighted table below 1e-13 * n; both at the same fixed point
    assert raked.weights.to_numpy() == pytest.approx(REF["weights"], rel=1e-8)
    assert raked.max_margin_error < 1e-10
    assert raked.margins["weighted_share"].to_numpy() == pytest.approx(
        raked.margins["target"].to_numpy(), abs=1e-10
    )
    w = np.asarray(REF["weights"])
    assert raked.design_effect == pytest.approx(len(w) * np.sum(w**2) / np.sum(w) ** 2, rel=1e-8)
    assert raked.effective_n == pytest.approx(np.sum(w) ** 2 / np.sum(w**2), rel=1e-8)


@pytest.mark.parametrize("kind", ["weights_only", "calibrated"])
@pytest.mark.parametrize("var", ["y", "z"])
def test_weighted_mean_matches_svymean(data, raked, kind, var):
    d = data.assign(w=raked.weights)
    res = weighted_mean(d, var, "w" if kind == "weights_only" else raked).table
    ref = REF[kind][var]
    assert res["estimate"].to_numpy() == pytest.approx(_flat(ref["estimate"]), rel=1e-8)
    assert res["std_error"].to_numpy() == pytest.approx(_flat(ref["std_error"]), rel=1e-8)


@pytest.mark.parametrize("kind", ["weights_only", "calibrated"])
def test_weighted_proportion_matches_svymean(data, raked, kind):
    d = data.assign(w=raked.weights)
    res = weighted_proportion(d, "sat", "w" if kind == "weights_only" else raked).table
    ref = REF[kind]["sat"]
    assert list(res["category"]) == ["low", "mid", "high"]
    assert res["estimate"].to_numpy() == pytest.approx(_flat(ref["estimate"]), rel=1e-8)
    assert res["std_error"].to_numpy() == pytest.approx(_flat(ref["std_error"]), rel=1e-8)


@pytest.mark.parametrize("kind", ["weights_only", "calibrated"])
@pytest.mark.parametrize("var", ["y", "z"])
def test_domain_means_match_svyby(data, raked, kind, var):
    d = data.assign(w=raked.weights)
    res = weighted_mean(d, var, "w" if kind == "weights_only" else raked, by="gender").table
    ref = REF[kind][f"{var}_by_gender"]
    res = res.set_index("group").loc[ref["groups"]]
    assert res["estimate"].to_numpy() == pytest.approx(_flat(ref["estimate"]), rel=1e-8)
    assert res["std_error"].to_numpy() == pytest.approx(_flat(ref["std_error"]), rel=1e-8)


def test_weighted_cov_matches_cov_wt(data, raked):
    d = data.assign(w=raked.weights)
    # weights agree with R to ~1e-10, so the covariances to ~1e-9
    c = weighted_cov(d[["y", "z"]], d["w"])
    assert c.to_numpy().ravel(order="F") == pytest.approx(REF["cov_wt"]["unbiased"], rel=1e-7)
    c = weighted_cov(d[["y", "z"]], d["w"], method="ml")
    assert c.to_numpy().ravel(order="F") == pytest.approx(REF["cov_wt"]["ml"], rel=1e-7)
    x = np.random.default_rng(1).normal(size=(20, 3))
    assert weighted_cov(x, np.full(20, 3.0)) == pytest.approx(np.cov(x.T), rel=1e-12)
    x[0, 1] = np.nan
    assert weighted_cov(x, np.ones(20), nan_policy="pairwise")[0, 2] == pytest.approx(
        np.cov(x[:, [0, 2]].T)[0, 1], rel=1e-12
    )


def test_kish():
    # equal weights: no loss
    assert design_effect([1, 1, 1]) == pytest.approx(1.0, rel=1e-15)
    assert effective_sample_size([2, 2, 2, 2]) == pytest.approx(4.0, rel=1e-15)
    # unequal weights, by hand: w = 1, 2, 3, 4 -> n sum w^2 / (sum w)^2 = 4 * 30 / 100,
    # (sum w)^2 / sum w^2 = 100 / 30 (Kish 1965, 1 + CV^2 with the population variance)
    assert design_effect([1, 2, 3, 4]) == pytest.approx(1.2, rel=1e-15)
    assert effective_sample_size([1, 2, 3, 4]) == pytest.approx(10 / 3, rel=1e-15)
    w = np.random.default_rng(4).lognormal(size=50)
    assert design_effect(w) == pytest.approx(1 + w.var(ddof=0) / w.mean() ** 2, rel=1e-12)
    assert effective_sample_size(w) == pytest.approx(len(w) / design_effect(w), rel=1e-12)


def test_trimming_caps_and_re_rakes(data):
    m = read_margins(REFERENCE / "weighting_margins.csv")
    free = rake(data, m)
    res = rake(data, m, trim=1.5 * free.weight_max / free.weights.mean() / 2)
    assert res.trimmed
    assert res.converged
    assert res.max_margin_error < 1e-10
    assert res.weight_max < free.weight_max


def test_non_convergence_raises_or_flags():
    # every male is 18-29 and every 18-29 is male: the margins contradict each other
    d = pd.DataFrame({"g": ["m"] * 5 + ["f"] * 5, "a": ["y"] * 5 + ["o"] * 5})
    m = {"g": {"m": 0.5, "f": 0.5}, "a": {"y": 0.2, "o": 0.8}}
    with pytest.raises(ConvergenceError, match="margins not met"):
        rake(d, m, max_iter=50)
    res = rake(d, m, max_iter=50, on_failure="flag")
    assert not res.converged
    assert res.max_margin_error > 0.1


def test_category_mismatch_names_categories(data):
    with pytest.raises(WeightingError, match=r"'gender'.*\['Female'\] have no margin"):
        rake(data, {"gender": {"Male": 0.5, "Other": 0.5}})
    with pytest.raises(WeightingError, match=r"\['Other'\] do not occur"):
        rake(data, {"gender": {"Male": 0.4, "Female": 0.4, "Other": 0.2}})
    with pytest.raises(WeightingError, match="'district' not in the data"):
        rake(data, {"district": {"a": 1.0}})


def test_numeric_codes_match_text_categories():
    d = pd.DataFrame({"g": [1.0, 2.0, 2.0, 1.0]})
    res = rake(d, {"g": {"1": 0.25, "2": 0.75}})
    assert res.weights.tolist() == pytest.approx([0.5, 1.5, 1.5, 0.5])


def test_read_margins_errors(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("variable,category,proportion\ng,a,0.4\ng,b,0.5\n")
    with pytest.raises(WeightingError, match=r"'g' sum to 0\.9"):
        read_margins(p)
    p.write_text("variable,category\ng,a\n")
    with pytest.raises(WeightingError, match="lacks column"):
        read_margins(p)
    p.write_text("variable,category,proportion\ng,a,abc\ng,b,1\n")
    with pytest.raises(WeightingError, match=r"row 2.*proportion"):
        read_margins(p)
    p.write_text("variable,category,proportion\ng,a,0.5\ng,a,0.5\n")
    with pytest.raises(WeightingError, match="appears twice"):
        read_margins(p)
    p.write_text('variable,category,proportion\ng,"a,0.5\n')
    with pytest.raises(WeightingError, match="malformed"):
        read_margins(p)


def test_bad_weights_and_variables(data):
    with pytest.raises(DataError, match="not numeric"):
        weighted_mean(data, "gender", np.ones(len(data)))
    with pytest.raises(DataError, match="weights"):
        weighted_mean(data, "z", -np.ones(len(data)))
    with pytest.raises(DataError, match="'nope'"):
        weighted_mean(data, "nope", np.ones(len(data)))


def test_shipped_margins_rake_the_bundled_wave():
    from servicestudy.codebook import load_codebook
    from servicestudy.coding import code_responses
    from servicestudy.simulate import simulate

    path = REFERENCE.parents[1] / "data" / "raw" / "servicestudy_wave1_margins.csv"
    m = read_margins(path)
    assert set(m["variable"]) == {"gender", "age_group", "residence"}
    wave = simulate(420, seed=20220315)  # the bundled wave
    truth = wave.truth["parameters"]["demographics"]
    for var in ("gender", "age_group", "residence"):
        assert m.loc[m["variable"] == var, "proportion"].tolist() == pytest.approx(truth[var])
    coded = code_responses(wave.responses, load_codebook("k_station"))
    res = rake(coded.data, m)
    assert res.converged
    assert res.design_effect < 1.1


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.2, 0.8), st.floats(0.2, 0.8))
def test_rake_meets_feasible_margins(seed, pg, pr):
    rng = np.random.default_rng(seed)
    n = 60
    d = pd.DataFrame({"g": rng.choice(["a", "b"], n), "r": rng.choice(["x", "y", "z"], n)})
    # every cell occupied, so any positive margins are attainable
    d.loc[:5, ["g", "r"]] = [["a", "x"], ["a", "y"], ["a", "z"], ["b", "x"], ["b", "y"], ["b", "z"]]
    res = rake(d, {"g": {"a": pg, "b": 1 - pg}, "r": {"x": pr, "y": (1 - pr) / 2, "z": (1 - pr) / 2}},
               max_iter=1000)
    w = res.weights
    assert (w > 0).all()
    assert w.sum() == pytest.approx(n)
    assert w[d["g"] == "a"].sum() / n == pytest.approx(pg, abs=1e-9)
    assert w[d["r"] == "x"].sum() / n == pytest.approx(pr, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=3, max_size=40), st.floats(0.1, 10))
def test_equal_weights_give_the_srs_standard_error(values, c):
    y = np.asarray(values)
    d = pd.DataFrame({"y": y})
    t = weighted_mean(d, "y", np.full(len(y), c)).table
    assert t["estimate"].iloc[0] == pytest.approx(y.mean(), rel=1e-9, abs=1e-9)
    assert t["std_error"].iloc[0] == pytest.approx(y.std(ddof=1) / np.sqrt(len(y)), rel=1e-7, abs=1e-9)
