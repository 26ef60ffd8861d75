"""Tests for servicestudy.missing against tests/reference/missing.R (independent EM, Little's
d^2 and Rubin's rules written by formula in R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from refs import REFERENCE, load_reference
from servicestudy.errors import DataError
from servicestudy.missing import (
    apply_policy,
    available_item_scores,
    em_mvn,
    impute_ols,
    listwise,
    little_mcar,
    missing_summary,
    pairwise_counts,
    pool_rubin,
)

REF = load_reference("missing.json")


@pytest.mark.parametrize(("name", "csv"), [("little_mar", "missing_mar.csv"), ("little_mcar", "missing_mcar.csv")])
def test_little_mcar_matches_r(name, csv):
    d = pd.read_csv(REFERENCE / csv)
    res = little_mcar(d)
    ref = REF[name]
    # both EMs stop at a max abs change < 1e-12: the fixed points agree to ~1e-13
    assert res.statistic == pytest.approx(ref["statistic"], rel=1e-9)
    assert res.df == ref["df"]
    assert res.pvalue == pytest.approx(ref["pvalue"], rel=1e-8)
    assert res.n_patterns == ref["n_patterns"]
    assert res.n_obs == ref["n_obs"]
    assert res.mean.to_numpy() == pytest.approx(ref["mean"], rel=1e-9)
    assert res.cov.to_numpy().ravel(order="F") == pytest.approx(ref["cov"], rel=1e-9, abs=1e-12)


def test_little_mcar_rejects_mar_not_mcar():
    mar = little_mcar(pd.read_csv(REFERENCE / "missing_mar.csv"))
    mcar = little_mcar(pd.read_csv(REFERENCE / "missing_mcar.csv"))
    assert mar.pvalue < 0.001
    assert mcar.pvalue > 0.05


def test_em_complete_data_is_ml_moments():
    x = np.random.default_rng(2).normal(size=(50, 3))
    mu, s, _, ok = em_mvn(x)
    assert ok
    assert mu == pytest.approx(x.mean(axis=0), rel=1e-12)
    assert s == pytest.approx(np.cov(x.T, ddof=0), rel=1e-10)


def test_pool_rubin_matches_r():
    p = REF["pool"]
    q = np.asarray(p["Q"]).reshape(p["m"], p["k"])
    u = np.asarray(p["U"]).reshape(p["m"], p["k"])
    t = pool_rubin(q, u, p["df_complete"])
    for col in ("estimate", "within", "between", "total", "riv", "lambda", "df", "fmi", "pvalue", "ci_low"):
        assert t[col].to_numpy() == pytest.approx(np.asarray(p[col]), rel=1e-10), col


def test_missing_summary_counts():
    d = pd.DataFrame({"a": [1, None, 3, None, 5], "b": [1, 2, None, None, 5], "c": list("xyzuv")})
    s = missing_summary(d)
    assert s.items["n_missing"].tolist() == [2, 2, 0]
    assert s.respondents["n_missing"].tolist() == [0, 1, 1, 2, 0]
    assert s.n_complete == 2
    assert s.patterns["pattern"].tolist() == ["111", "011", "101", "001"]
    assert s.patterns["n_obs"].sum() == 5
    assert s.share_cells_missing == pytest.approx(4 / 15)


def test_policies():
    d = pd.DataFrame({"a": [1.0, None, 3, 4], "b": [2.0, 2, None, 4], "c": [1.0, 1, 1, None]})
    assert listwise(d).index.tolist() == [0]
    assert listwise(d, ["a", "b"]).index.tolist() == [0, 3]
    assert pairwise_counts(d).to_numpy().tolist() == [[3, 2, 2], [2, 3, 2], [2, 2, 3]]
    s = available_item_scores(d, {"s": ["a", "b", "c"]}, min_share=2 / 3)
    assert s["s"].tolist() == pytest.approx([4 / 3, 1.5, 2.0, 4.0])
    s = available_item_scores(d, {"s": ["a", "b", "c"]}, min_share=1.0)
    assert s["s"].notna().tolist() == [True, False, False, False]
    assert apply_policy(d, ["a", "b"], "listwise").index.tolist() == [0, 3]
    with pytest.raises(DataError, match="'policy' parameter"):
        apply_policy(d, ["a"], "mean")
    with pytest.raises(DataError, match="not numeric"):
        little_mcar(pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}))


def test_impute_ols_without_missing_equals_ols():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 2))
    y = 0.5 + x @ [1.0, -0.7] + rng.normal(size=80)
    d = pd.DataFrame({"y": y, "x1": x[:, 0], "x2": x[:, 1]})
    res = impute_ols(d, "y", ["x1", "x2"], m=3, seed=1)
    design = np.column_stack([np.ones(80), x])
    beta = np.linalg.lstsq(design, y, rcond=None)[0]
    resid = y - design @ beta
    se = np.sqrt(np.diag(resid @ resid / 77 * np.linalg.inv(design.T @ design)))
    assert res.table["estimate"].to_numpy() == pytest.approx(beta, rel=1e-10)
    assert res.table["std_error"].to_numpy() == pytest.approx(se, rel=1e-10)
    assert (res.table["fmi"] < 0.05).all()


def test_impute_ols_recovers_coefficients_under_mar():
    # y = 1 + 0.8 x1 - 0.5 x2 + e; x1 missing more often when x2 is high (MAR)
    rng = np.random.default_rng(7)
    n = 600
    x2 = rng.normal(size=n)
    x1 = 0.5 * x2 + rng.normal(size=n)
    y = 1 + 0.8 * x1 - 0.5 * x2 + rng.normal(size=n)
    d = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    full = impute_ols(d, "y", ["x1", "x2"], m=2, seed=0).table
    miss = rng.random(n) < 1 / (1 + np.exp(-(x2 - 0.5) * 2))
    d.loc[miss, "x1"] = np.nan
    res = impute_ols(d, "y", ["x1", "x2"], m=20, seed=3, burn_in=100, thin=10)
    t = res.table
    assert res.n_complete == n - miss.sum()
    # within two pooled SEs of the full-data estimates, with more uncertainty than full data
    assert np.all(np.abs(t["estimate"] - full["estimate"]) < 2 * t["std_error"])
    assert np.all(t["std_error"] > full["std_error"])
    assert t.loc["x1", "fmi"] > 0.05
    assert t.loc["x1", "fmi"] < 0.9
    assert np.all(t["df"] < n - 3)
    # same seed, same result
    again = impute_ols(d, "y", ["x1", "x2"], m=20, seed=3, burn_in=100, thin=10).table
    assert again["estimate"].to_numpy() == pytest.approx(t["estimate"].to_numpy(), rel=1e-12)


def test_impute_ols_bad_input():
    d = pd.DataFrame({"y": [1.0, 2, 3, 4, 5], "x": [1.0, None, 2, 3, 5]})
    with pytest.raises(DataError, match="m must be"):
        impute_ols(d, "y", ["x"], m=1)
    with pytest.raises(DataError, match="'z'"):
        impute_ols(d, "y", ["z"])


def test_impute_ols_agrees_with_em_maximum_likelihood():
    # with a proper imputation model, the MI point estimates approach the ML estimates
    # implied by the EM mean/covariance (Monte Carlo error ~ sqrt(B/m))
    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(size=n)
    y = 2 - 0.6 * x + rng.normal(size=n)
    d = pd.DataFrame({"y": y, "x": x})
    d.loc[rng.random(n) < 0.3, "x"] = np.nan
    d.loc[rng.random(n) < 0.1, "y"] = np.nan
    mu, s, _, _ = em_mvn(d[["y", "x"]])
    slope = s[0, 1] / s[1, 1]
    intercept = mu[0] - slope * mu[1]
    res = impute_ols(d, "y", ["x"], m=60, seed=2, burn_in=100, thin=5).table
    mc_se = np.sqrt(res["between"] / 60)
    assert abs(res.loc["x", "estimate"] - slope) < 4 * mc_se["x"]
    assert abs(res.loc["(Intercept)", "estimate"] - intercept) < 4 * mc_se["(Intercept)"]


def test_posterior_draws_have_inverse_wishart_moments():
    # P-step under the Jeffreys prior: Sigma ~ inv-Wishart(n - 1, S), E = S / (n - p - 2);
    # mu | Sigma ~ N(xbar, Sigma / n)
    from servicestudy.missing import _draw_params

    x = np.random.default_rng(0).normal(size=(30, 2)) @ [[1.0, 0.4], [0.0, 0.8]]
    d = x - x.mean(axis=0)
    s = d.T @ d
    rng = np.random.default_rng(1)
    draws = [_draw_params(x, rng) for _ in range(4000)]
    mean_sigma = np.mean([sig for _, sig in draws], axis=0)
    # Monte Carlo error of the mean of 4000 draws is ~2-3%
    assert mean_sigma == pytest.approx(s / (30 - 2 - 2), rel=0.06)
    mus = np.array([mu for mu, _ in draws])
    assert mus.mean(axis=0) == pytest.approx(x.mean(axis=0), abs=0.03)
