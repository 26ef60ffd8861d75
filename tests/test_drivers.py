"""Driver analysis against R (tests/reference/compare_drivers.R and the shared sim_likert
reference) and independent brute-force computations."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs import REFERENCE, load_reference
from servicestudy.drivers import ipa, ipa_from_data, ols, ordinal_logit, relative_importance
from servicestudy.errors import ConvergenceError, DataError

REL = 1e-8
PREDS = ["x1", "x2", "x3", "x4"]


@pytest.fixture(scope="module")
def ref() -> dict:
    return load_reference("compare_drivers.json")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "compare_drivers.csv")


def _term(name: str) -> str:
    return "Intercept" if name == "(Intercept)" else name


# --------------------------------------------------------------------------- OLS


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "HC2", "HC3"])
def test_ols_matches_lm_and_sandwich(ref, data, cov_type):
    exp = ref["ols"]
    r = ols(data, "y", PREDS, cov_type=cov_type)
    suffix = "" if cov_type == "nonrobust" else "_" + cov_type
    for name, e in exp["coefficients"].items():
        row = r.coefficients.loc[_term(name)]
        assert row.estimate == pytest.approx(e["estimate"], rel=REL)
        assert row.std_error == pytest.approx(e["se" + suffix], rel=REL)
        assert row.pvalue == pytest.approx(e["p" + suffix], rel=REL)
        assert row.ci_low == pytest.approx(e["ci_low" + suffix], rel=REL)
        assert row.ci_high == pytest.approx(e["ci_high" + suffix], rel=REL)
    assert r.n_obs == exp["n"]
    assert r.n_dropped == exp["n_dropped"]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [1.0, 1e5])
def test_ols_qr_path_equals_statsmodels(data, weighted, scale):
    """The one-QR implementation against statsmodels (an independent implementation: pinv),
    also for a badly scaled predictor (condition number ~1e10: numpy QR fallback)."""
    import statsmodels.api as sm

    d = data.dropna(subset=["y", *PREDS, "w"]).copy()
    d[PREDS[0]] = d[PREDS[0]] * scale + 1e3 * scale
    x = sm.add_constant(d[PREDS].to_numpy(dtype=float))
    w = d["w"].to_numpy() if weighted else None
    model = sm.WLS(d["y"].to_numpy(), x, weights=w) if weighted else sm.OLS(d["y"].to_numpy(), x)
    for cov_type in ["nonrobust", "HC0", "HC1", "HC2", "HC3"]:
        r = ols(d, "y", PREDS, cov_type=cov_type, weights=w)
        fit = model.fit() if cov_type == "nonrobust" else model.fit(cov_type=cov_type)
        np.testing.assert_allclose(r.coefficients["estimate"], fit.params, rtol=1e-9)
        np.testing.assert_allclose(r.coefficients["std_error"], fit.bse, rtol=1e-9)
    if not weighted:
        infl = model.fit().get_influence()
        np.testing.assert_allclose(r.cooks_distance, infl.cooks_distance[0], rtol=1e-8)
    assert r.r2 == pytest.approx(fit.rsquared, rel=1e-10)
    assert r.adj_r2 == pytest.approx(fit.rsquared_adj, rel=1e-10)


def test_breusch_pagan_from_qr_equals_auxiliary_regression(data):
    from servicestudy.drivers import _breusch_pagan, _breusch_pagan_qr

    d = data.dropna(subset=["y", *PREDS, "w"])
    x = np.column_stack([np.ones(len(d)), d[PREDS].to_numpy(dtype=float)])
    y = d["y"].to_numpy(dtype=float)
    for w in (None, d["w"].to_numpy(dtype=float)):
        sw = np.ones(len(y)) if w is None else np.sqrt(w)
        q, _ = np.linalg.qr(x * sw[:, None])
        b, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
        resid = y - x @ b
        assert _breusch_pagan_qr(q, resid, w) == pytest.approx(_breusch_pagan(x, resid, w), rel=1e-10)


def test_ols_fit_statistics_and_diagnostics(ref, data):
    exp = ref["ols"]
    r = ols(data, "y", PREDS)
    assert r.r2 == pytest.approx(exp["r_squared"], rel=REL)
    assert r.adj_r2 == pytest.approx(exp["adj_r_squared"], rel=REL)
    assert r.f_statistic == pytest.approx(exp["F"]["value"], rel=REL)
    assert r.f_pvalue == pytest.approx(exp["F"]["p"], rel=REL)
    for v in PREDS:
        assert r.coefficients.loc[v, "vif"] == pytest.approx(exp["vif"][v], rel=REL)
        assert r.coefficients.loc[v, "beta"] == pytest.approx(exp["standardized_beta"][v],
                                                              rel=REL)
    assert r.bp_statistic == pytest.approx(exp["bp"]["statistic"], rel=REL)
    assert r.bp_pvalue == pytest.approx(exp["bp"]["p"], rel=REL)
    # SciPy and R implement the same Royston (1995) algorithm but with different polynomial
    # evaluation; the W statistic agrees to ~1e-11 and its p-value to ~1e-8.
    assert r.normality_test == "shapiro_wilk"
    assert r.normality_statistic == pytest.approx(exp["shapiro"]["statistic"], rel=1e-9)
    assert r.normality_pvalue == pytest.approx(exp["shapiro"]["p"], rel=1e-6)
    for row_id, d in exp["cooks_distance"].items():
        assert r.cooks_distance.loc[int(row_id) - 1] == pytest.approx(d, rel=REL)
    assert r.n_influential == exp["n_influential_4_over_n"]


def test_wls_matches_weighted_lm(ref, data):
    exp = ref["wls"]
    r = ols(data, "y", PREDS, weights="w")
    r3 = ols(data, "y", PREDS, weights=data["w"].to_numpy(), cov_type="HC3")
    for name, e in exp["coefficients"].items():
        assert r.coefficients.loc[_term(name), "estimate"] == pytest.approx(e["estimate"], rel=REL)
        assert r.coefficients.loc[_term(name), "std_error"] == pytest.approx(e["se"], rel=REL)
        assert r3.coefficients.loc[_term(name), "std_error"] == pytest.approx(
            exp["se_HC3"][name], rel=REL)
    assert r.r2 == pytest.approx(exp["r_squared"], rel=REL)
    assert r.f_statistic == pytest.approx(exp["F"], rel=REL)
    assert r.bp_statistic == pytest.approx(exp["bp"]["statistic"], rel=REL)
    for v in PREDS:
        assert r.coefficients.loc[v, "vif"] == pytest.approx(exp["vif"][v], rel=REL)
        assert r.coefficients.loc[v, "beta"] == pytest.approx(
            exp["standardized_beta_weighted"][v], rel=REL)


@pytest.fixture(scope="module")
def sim(shared_reference):
    values, df = shared_reference("sim_likert")
    pre = values["preprocessing"]
    df = df.copy()
    for c in pre["reverse_keyed"]:
        df[c] = 6 - df[c]
    for s, items in pre["scales"].items():
        df[s] = df[items].mean(axis=1)
    return values, df


def test_ols_matches_shared_sim_likert(sim):
    values, df = sim
    exp = values["ols"]
    factors = ["F1", "F2", "F3", "F4", "F5"]
    r = ols(df, "Y", factors, cov_type="HC3")
    for name, e in exp["coefficients"].items():
        row = r.coefficients.loc[_term(name)]
        assert row.estimate == pytest.approx(e["estimate"], rel=REL)
        assert row.std_error == pytest.approx(e["se_HC3"], rel=REL)
        assert row.statistic == pytest.approx(e["t_HC3"], rel=REL)
        assert row.pvalue == pytest.approx(e["p_HC3"], rel=REL)
    for v in factors:
        assert r.coefficients.loc[v, "vif"] == pytest.approx(exp["vif"][v], rel=REL)
        assert r.coefficients.loc[v, "beta"] == pytest.approx(exp["standardized_beta"][v],
                                                              rel=REL)
    assert r.r2 == pytest.approx(exp["r_squared"], rel=REL)
    assert r.sigma == pytest.approx(exp["sigma"], rel=REL)


# --------------------------------------------------------------------------- ordinal logit


def test_ordinal_logit_matches_tightly_converged_polr(ref, data):
    exp = ref["polr_tight"]
    r = ordinal_logit(data, "y_ord", ["x1", "x2", "x3"])
    assert r.n_obs == ref["polr"]["n"]
    assert r.n_dropped == len(data) - ref["polr"]["n"]
    # estimates: both at the MLE (polr with reltol 1e-15) -> ~1e-8; SEs: polr's Hessian is
    # numerical (optimHess), good to ~1e-6
    for v, e in exp["coefficients"].items():
        assert r.coefficients.loc[v, "estimate"] == pytest.approx(e["estimate"], rel=1e-7)
        assert r.coefficients.loc[v, "std_error"] == pytest.approx(e["se"], rel=1e-5)
        assert r.coefficients.loc[v, "odds_ratio"] == pytest.approx(np.exp(e["estimate"]),
                                                                    rel=1e-7)
    for k, e in exp["zeta"].items():
        assert r.thresholds.loc[k, "estimate"] == pytest.approx(e["estimate"], rel=1e-7)
        assert r.thresholds.loc[k, "std_error"] == pytest.approx(e["se"], rel=1e-5)
    assert r.log_likelihood == pytest.approx(exp["logLik"], rel=1e-12)
    # polr at its default tolerance (reltol ~1.5e-8 on the deviance) is ~1e-4 from the MLE
    dflt = ref["polr"]
    for v, e in dflt["coefficients"].items():
        assert r.coefficients.loc[v, "estimate"] == pytest.approx(e["estimate"], rel=5e-4)


def test_ordinal_logit_matches_shared_polr(sim):
    values, df = sim
    exp = values["polr"]
    r = ordinal_logit(df, "Y_1", ["F1", "F2", "F3", "F4", "F5"])
    assert r.n_obs == exp["n"]
    # R's default polr convergence (see above): estimates within 1e-4 absolute / 1e-3
    # relative; numerical-Hessian SEs within 1e-5 relative
    for v, e in exp["coefficients"].items():
        assert r.coefficients.loc[v, "estimate"] == pytest.approx(e["estimate"], abs=1e-4)
        assert r.coefficients.loc[v, "std_error"] == pytest.approx(e["se"], rel=1e-5)
    for k, e in exp["zeta"].items():
        assert r.thresholds.loc[k, "estimate"] == pytest.approx(e["estimate"], rel=1e-3)
        assert r.thresholds.loc[k, "std_error"] == pytest.approx(e["se"], rel=1e-5)
    assert r.log_likelihood == pytest.approx(exp["logLik"], rel=1e-9)


def test_brant_matches_r_formula(ref, data):
    exp = ref["brant"]
    r = ordinal_logit(data, "y_ord", ["x1", "x2", "x3"])
    # binary logits converge to 1e-12 in both R (glm) and here: agreement ~1e-10
    assert r.brant_statistic == pytest.approx(exp["omnibus"]["statistic"], rel=1e-8)
    assert r.brant_df == exp["omnibus"]["df"]
    assert r.brant_pvalue == pytest.approx(exp["omnibus"]["p"], rel=1e-8)
    for v, e in exp["per_predictor"].items():
        assert r.brant.loc[v, "statistic"] == pytest.approx(e["statistic"], rel=1e-8)
        assert r.brant.loc[v, "df"] == e["df"]
        assert r.brant.loc[v, "pvalue"] == pytest.approx(e["p"], rel=1e-8)


def test_ordinal_logit_accepts_ordered_categorical(ref, data):
    labels = ["very low", "low", "mid", "high", "very high"]
    d = data.assign(sat=pd.Categorical.from_codes(data["y_ord"] - 1, labels, ordered=True))
    r = ordinal_logit(d, "sat", ["x1", "x2", "x3"], brant=False)
    assert r.thresholds.index[0] == "very low|low"
    e = ref["polr_tight"]["coefficients"]["x2"]["estimate"]
    assert r.coefficients.loc["x2", "estimate"] == pytest.approx(e, rel=1e-7)


# --------------------------------------------------------------------------- importance


def _brute_r2(df: pd.DataFrame, y: str, cols: tuple[str, ...]) -> float:
    if not cols:
        return 0.0
    x = np.column_stack([np.ones(len(df)), df[list(cols)].to_numpy()])
    yy = df[y].to_numpy()
    b, *_ = np.linalg.lstsq(x, yy, rcond=None)
    res = yy - x @ b
    return 1 - res @ res / ((yy - yy.mean()) @ (yy - yy.mean()))


def test_dominance_matches_r_and_brute_force(ref, data):
    exp = ref["importance"]
    r = relative_importance(data, "y", PREDS, method="dominance", n_boot=0)
    assert r.n_obs == exp["n"]
    assert r.r2 == pytest.approx(exp["r_squared"], rel=REL)
    cc = data[["y", *PREDS]].dropna()
    p = len(PREDS)
    for j, v in enumerate(PREDS):
        assert r.table.loc[v, "weight"] == pytest.approx(exp["general_dominance"][v], rel=REL)
        assert r.table.loc[v, "rescaled"] == pytest.approx(
            100 * exp["general_dominance_rescaled"][v], rel=REL)
        others = [o for i, o in enumerate(PREDS) if i != j]
        shap = sum(
            factorial(s) * factorial(p - s - 1) / factorial(p)
            * (_brute_r2(cc, "y", (*sub, v)) - _brute_r2(cc, "y", sub))
            for s in range(p) for sub in combinations(others, s)
        )
        assert r.table.loc[v, "weight"] == pytest.approx(shap, rel=REL)
    assert r.table["weight"].sum() == pytest.approx(r.r2, rel=1e-12)


def test_relative_weights_match_r_and_johnson_svd(ref, data):
    exp = ref["importance"]
    r = relative_importance(data, "y", PREDS, method="relative_weights", n_boot=0)
    # Johnson's (2000) original route: orthogonal counterparts Z* = P Q' from the SVD of the
    # standardized predictors, then regressions on Z*
    cc = data[["y", *PREDS]].dropna()
    z = cc[PREDS].to_numpy()
    z = (z - z.mean(0)) / z.std(0, ddof=1)
    yz = cc["y"].to_numpy()
    yz = (yz - yz.mean()) / yz.std(ddof=1)
    u, _, vt = np.linalg.svd(z, full_matrices=False)
    zstar = u @ vt * np.sqrt(len(z) - 1)
    lam = np.linalg.lstsq(zstar, z, rcond=None)[0]  # X regressed on Z*
    beta = np.linalg.lstsq(zstar, yz, rcond=None)[0]  # y regressed on Z*
    eps = (lam**2).T @ beta**2
    for j, v in enumerate(PREDS):
        assert r.table.loc[v, "weight"] == pytest.approx(exp["relative_weights"][v], rel=REL)
        assert r.table.loc[v, "weight"] == pytest.approx(eps[j], rel=REL)
        assert r.table.loc[v, "rescaled"] == pytest.approx(
            100 * exp["relative_weights_rescaled"][v], rel=REL)


@pytest.mark.parametrize("method", ["dominance", "relative_weights"])
def test_bootstrap_intervals(data, method):
    a = relative_importance(data, "y", PREDS, method=method, n_boot=300, seed=7)
    b = relative_importance(data, "y", PREDS, method=method, n_boot=300, seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    t = a.table
    assert (t["ci_low"] <= t["weight"]).all()
    assert (t["weight"] <= t["ci_high"]).all()
    assert (t["rescaled_ci_low"] < t["rescaled_ci_high"]).all()
    assert a.n_boot_failed == 0
    # the vectorised bootstrap equals a loop over the same resamples
    rng = np.random.default_rng(11)
    cc = data[["y", *PREDS]].dropna().reset_index(drop=True)
    idx = rng.integers(0, len(cc), size=(5, len(cc)))
    loop = [relative_importance(cc.iloc[i], "y", PREDS, method=method, n_boot=0)
            .table["weight"].to_numpy() for i in idx]
    vec = relative_importance(cc, "y", PREDS, method=method, n_boot=5, seed=11,
                              conf_level=0.0)
    med = np.quantile(np.array(loop), 0.5, axis=0)
    assert vec.table["ci_low"].to_numpy() == pytest.approx(med, rel=1e-10)


def test_bootstrap_moments_equal_resampled_rows():
    """The count-weighted moments give the correlation matrices of the resampled rows; a
    resample in which a column is constant is NaN (counted as failed), as on the rows."""
    from servicestudy.drivers import (
        _boot_corr_features,
        _boot_corr_from_sums,
        _corr_batch,
        _counts_from_draws,
    )

    rng = np.random.default_rng(3)
    z = np.column_stack([rng.integers(1, 6, size=(40, 3)), rng.normal(size=40)]).astype(float)
    z[:, 0] = 3.0
    z[:2, 0] = [1.0, 5.0]  # column 0 is constant unless row 0 or 1 is drawn
    idx = rng.integers(0, 40, size=(200, 40))
    idx[0] = rng.integers(2, 40, size=40)  # rows 2..39 only: column 0 constant
    direct = _corr_batch(z[idx])
    counts = _counts_from_draws(idx, 40)
    viacounts = _boot_corr_from_sums(counts @ _boot_corr_features(z), 40, 4, np.var(z, axis=0) * 40)
    bad = ~np.isfinite(direct).all(axis=(1, 2))
    assert bad[0]
    np.testing.assert_array_equal(bad, ~np.isfinite(viacounts).all(axis=(1, 2)))
    np.testing.assert_allclose(viacounts[~bad], direct[~bad], rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- IPA


def test_ipa_quadrants_and_priority_by_hand():
    perf = pd.Series({"content": 3.9, "attitude": 4.2, "efficiency": 3.4, "channels": 3.6,
                      "participation": 3.0})
    imp = pd.Series({"content": 0.10, "attitude": 0.05, "efficiency": 0.12, "channels": 0.03,
                     "participation": 0.07})
    r = ipa(perf, imp, scale_max=5)
    pc, ic = perf.mean(), imp.mean()  # 3.62, 0.074
    assert r.performance_cut == pytest.approx(pc)
    assert r.importance_cut == pytest.approx(ic)
    t = r.table
    assert t.loc["efficiency", "quadrant"] == "concentrate_here"
    assert t.loc["content", "quadrant"] == "keep_up_the_good_work"
    assert t.loc["channels", "quadrant"] == "low_priority"
    assert t.loc["participation", "quadrant"] == "low_priority"
    assert t.loc["attitude", "quadrant"] == "possible_overkill"
    share = imp / imp.sum()
    score = share * (5 - perf)
    for k in perf.index:
        assert t.loc[k, "priority_score"] == pytest.approx(score[k], rel=1e-12)
    assert list(t.index) == list(score.sort_values(ascending=False).index)
    assert list(t["priority_rank"]) == [1, 2, 3, 4, 5]
    r2 = ipa(perf, imp, cuts=(3.5, 0.1), labels="zh")
    assert r2.table.loc["content", "quadrant"] == "keep_up_the_good_work"
    assert r2.table.loc["efficiency", "quadrant_label"] == "重点改进区"
    assert r2.table.loc["participation", "quadrant"] == "low_priority"


def test_ipa_from_data_derived_and_stated(data):
    d = data.assign(imp_x1=5, imp_x2=3, imp_x3=4)
    der = ipa_from_data(d, "y", ["x1", "x2", "x3"])
    ri = relative_importance(d, "y", ["x1", "x2", "x3"], method="relative_weights", n_boot=0)
    for v in ["x1", "x2", "x3"]:
        assert der.table.loc[v, "importance"] == pytest.approx(ri.table.loc[v, "weight"])
        assert der.table.loc[v, "performance"] == pytest.approx(d[v].mean())
    st = ipa_from_data(d, "y", ["x1", "x2", "x3"], importance="stated",
                       stated_items={"x1": "imp_x1", "x2": "imp_x2", "x3": "imp_x3"})
    assert st.table.loc["x1", "importance"] == 5
    assert st.importance_source == "stated"
    assert st.ceiling == d[["x1", "x2", "x3"]].max().max()
    with pytest.raises(DataError, match="stated_items"):
        ipa_from_data(d, "y", ["x1", "x2"], importance="stated")


# --------------------------------------------------------------------------- bad input


def test_bad_input(data):
    d = data.assign(x5=data["x1"] + data["x2"], x6=3.0)
    with pytest.raises(DataError, match=r"collinear: 'x1', 'x2', 'x5'"):
        ols(d, "y", ["x1", "x2", "x3", "x5"])
    with pytest.raises(DataError, match=r"'x6'.*constant"):
        ols(d, "y", ["x1", "x6"])
    with pytest.raises(DataError, match=r"'x6'.*outcome is constant"):
        ols(d, "x6", ["x1", "x2"])
    with pytest.raises(DataError, match=r"'nope'.*unknown"):
        ols(d, "y", ["x1", "nope"])
    with pytest.raises(DataError, match="must be one of"):
        ols(d, "y", ["x1"], cov_type="HC4")
    with pytest.raises(DataError, match="not ordinal"):
        ordinal_logit(d, "y", ["x1"])
    with pytest.raises(DataError, match="unordered"):
        ordinal_logit(d.assign(g=pd.Categorical(d["y_ord"])), "g", ["x1"])
    with pytest.raises(DataError, match="at least 3"):
        ordinal_logit(d.assign(b=(d["y_ord"] > 3).astype(int)), "b", ["x1"])
    with pytest.raises(DataError, match="collinear"):
        relative_importance(d, "y", ["x1", "x2", "x5"], n_boot=0)
    with pytest.raises(DataError, match="not numeric"):
        ols(d.assign(g=pd.Categorical(d["y_ord"])), "y", ["g"])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), p=st.integers(2, 6))
def test_importance_laws(seed, p):
    """Both decompositions are non-negative and add up to the full-model R²."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, p)) @ rng.normal(size=(p, p))
    y = x @ rng.normal(size=p) + rng.normal(size=60) * 2
    cols = [f"v{i}" for i in range(p)]
    df = pd.DataFrame(x, columns=cols).assign(y=y)
    full = _brute_r2(df, "y", tuple(cols))
    for method in ("dominance", "relative_weights"):
        r = relative_importance(df, "y", cols, method=method, n_boot=0)
        assert r.r2 == pytest.approx(full, rel=1e-9, abs=1e-12)
        assert r.table["weight"].sum() == pytest.approx(full, rel=1e-9, abs=1e-12)
        assert (r.table["weight"] >= -1e-12).all()


def test_ordinal_logit_separation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    sep = pd.DataFrame({"x": x, "y": np.digitize(x, [-1, 0, 1]) + 1})
    with pytest.raises(ConvergenceError, match="separation"):
        ordinal_logit(sep, "y", ["x"])
    # separation in one binary split only: the model is fitted, the Brant test is flagged
    x2 = rng.normal(size=300)
    y2 = np.digitize(x2 + rng.logistic(size=300), [-1, 0, 1]) + 1
    y2[x2 > 2.0] = 4
    y2[(x2 <= 2.0) & (y2 == 4)] = 3
    r = ordinal_logit(pd.DataFrame({"x": x2, "y": y2}), "y", ["x"])
    assert r.converged
    assert "Brant test not available" in r.brant_note
    assert np.isnan(r.brant_statistic)
