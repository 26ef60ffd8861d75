"""Tests for servicestudy.validity against lavaan 0.6-14 / semTools 0.5-6 reference values.

Shared references: ../shared/reference/{holzinger,sim_likert}.json (blocks cfa, cfa_fiml,
cfa_misspecified, htmt). Own references: tests/reference/validity.R -> validity.json with a
MAR missing-data set (validity_missing.csv), a Heywood case (validity_heywood.csv) and a
non-positive-definite latent covariance matrix (validity_npd.csv).

Tolerances: iterative fits (lavaan's nlminb stops at rel.tol 1e-10 on the objective, so its
estimates carry ~1e-6 relative error) are compared at rel 1e-4; closed forms at rel 1e-8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs import REFERENCE, load_reference
from servicestudy import validity
from servicestudy.errors import ConvergenceError, DataError
from servicestudy.validity import (
    CFAResult,
    ave,
    cfa,
    composite_reliability,
    fornell_larcker,
    htmt,
    reliability_report,
)

ITER = 1e-4  # iterative fits: lavaan's own convergence error is ~1e-6
# absolute floor for iterative values near 0 (e.g. a latent covariance of -0.0046): lavaan's
# nlminb stops at rel.tol 1e-10 on the objective, i.e. parameters good to ~1e-6 absolute
ITER_ABS = 1e-5
CLOSED = 1e-8

HOLZ_MODEL = {
    "visual": ["x1", "x2", "x3"],
    "textual": ["x4", "x5", "x6"],
    "speed": ["x7", "x8", "x9"],
}

FIT_MAP = {
    "npar": "npar",
    "ntotal": "n_obs",
    "chisq": "chisq",
    "df": "df",
    "pvalue": "pvalue",
    "cfi": "cfi",
    "tli": "tli",
    "rmsea": "rmsea",
    "rmsea.ci.lower": "rmsea_ci_low",
    "rmsea.ci.upper": "rmsea_ci_high",
    "rmsea.pvalue": "rmsea_pvalue",
    "srmr": "srmr",
    "logl": "logl",
    "unrestricted.logl": "unrestricted_logl",
    "aic": "aic",
    "bic": "bic",
    "baseline.chisq": "baseline_chisq",
    "baseline.df": "baseline_df",
}


def _close(actual, expected, rel=ITER, abs_=ITER_ABS):
    assert actual == pytest.approx(expected, rel=rel, abs=abs_)


def check_fit(res: CFAResult, fm: dict) -> None:
    for r_name, name in FIT_MAP.items():
        # abs 1e-6 for values that are 0 in R (rmsea at the boundary, cfi = 1 - 0)
        _close(getattr(res.fit, name), fm[r_name], abs_=1e-6)
    assert res.fit.df == fm["df"]
    assert res.fit.npar == fm["npar"]


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def holz(shared_reference):
    ref, data = shared_reference("holzinger")
    return ref, data


@pytest.fixture(scope="module")
def sim(shared_reference):
    ref, data = shared_reference("sim_likert")
    data = data.copy()
    for c in ref["preprocessing"]["reverse_keyed"]:
        data[c] = 6 - data[c]
    model = ref["preprocessing"]["scales"]
    return ref, data, model


@pytest.fixture(scope="module")
def own():
    ref = load_reference("validity.json")
    miss = pd.read_csv(REFERENCE / "validity_missing.csv")
    return ref, miss


def check_shared_block(res: CFAResult, block: dict) -> None:
    check_fit(res, block["fit_measures"])
    ld = res.loadings.set_index(["factor", "item"])
    assert len(ld) == sum(len(v) for v in block["loadings"].values())
    for factor, items in block["loadings"].items():
        for item, r in items.items():
            row = ld.loc[(factor, item)]
            for ours, theirs in [
                ("estimate", "est"),
                ("std_error", "se"),
                ("z", "z"),
                ("pvalue", "pvalue"),
                ("std_lv", "std_lv"),
                ("std_all", "std_all"),
                ("std_all_se", "std_all_se"),
            ]:
                if r[theirs] is None:  # the marker's z and p
                    assert np.isnan(row[ours])
                else:
                    _close(row[ours], r[theirs])
    fc = res.factor_covariances
    for key, r in block["factor_covariances"].items():
        lhs, rhs = key.split("~~")
        sel = fc[((fc.lhs == lhs) & (fc.rhs == rhs)) | ((fc.lhs == rhs) & (fc.rhs == lhs))]
        assert len(sel) == 1
        _close(sel.iloc[0]["estimate"], r["cov"])
        _close(sel.iloc[0]["std_all"], r["cor_std_all"])
        _close(res.factor_correlations.loc[lhs, rhs], r["cor_std_all"])
    for item, r in block["residual_variances"].items():
        _close(res.residual_variances.loc[item, "estimate"], r["est"])
        _close(res.residual_variances.loc[item, "std_all"], r["std_all"])
    for item, v in block["r2"].items():
        _close(res.r2[item], v)
    assert res.converged is True
    assert res.n_obs == block["nobs"]


def check_param_block(res: CFAResult, block: dict) -> None:
    """Compare with a parameterEstimates/standardizedSolution table from validity.R."""
    check_fit(res, block["fit_measures"])
    ld = res.loadings.set_index(["factor", "item"])
    fc = res.factor_covariances
    rv = res.residual_variances
    seen = 0
    for r in block["parameters"]:
        if r["op"] == "=~":
            row = ld.loc[(r["lhs"], r["rhs"])]
        elif r["op"] == "~~" and r["lhs"] in rv.index:
            assert r["lhs"] == r["rhs"]
            row = rv.loc[r["lhs"]]
        elif r["op"] == "~~":
            sel = fc[
                ((fc.lhs == r["lhs"]) & (fc.rhs == r["rhs"]))
                | ((fc.lhs == r["rhs"]) & (fc.rhs == r["lhs"]))
            ]
            row = sel.iloc[0]
        elif r["op"] == "~1" and r["lhs"] in rv.index:
            row = res.intercepts.loc[r["lhs"]]
        else:  # latent means fixed at 0
            assert r["est"] == 0
            continue
        seen += 1
        _close(row["estimate"], r["est"])
        _close(row["std_error"], r["se"])
        if r["z"] is not None:
            _close(row["z"], r["z"])
            _close(row["pvalue"], r["pvalue"])
        if "std_all" in row.index and r["op"] != "~1":
            if r["std_all"] is None:  # lavaan: NaN (a negative factor variance)
                assert np.isnan(row["std_all"])
            else:
                _close(row["std_all"], r["std_all"])
        if "std_all_se" in row.index and r["std_all_se"] is not None:
            _close(row["std_all_se"], r["std_all_se"])
    assert seen == res.fit.npar + len(res.model)  # free parameters + the fixed markers


# ---------------------------------------------------------------------------------------------
# CFA against lavaan
# ---------------------------------------------------------------------------------------------


def test_cfa_holzinger(holz):
    ref, data = holz
    res = cfa(data, HOLZ_MODEL)
    check_shared_block(res, ref["cfa"])
    assert not res.heywood
    assert res.latent_cov_pd
    assert list(res.residual_variances.index) == [f"x{i}" for i in range(1, 10)]


def test_cfa_sim_listwise(sim):
    ref, data, model = sim
    res = cfa(data, model)
    check_shared_block(res, ref["cfa"])


def test_cfa_sim_misspecified(sim):
    ref, data, model = sim
    spec = {"F12": model["F1"] + model["F2"], **{k: model[k] for k in ("F3", "F4", "F5", "Y")}}
    res = cfa(data, spec)
    check_shared_block(res, ref["cfa_misspecified"])


def test_cfa_sim_fiml(sim):
    ref, data, model = sim
    res = cfa(data, model, missing="fiml")
    check_shared_block(res, ref["cfa_fiml"])
    assert res.intercepts is not None
    assert len(res.intercepts) == 23


def test_cfa_own_listwise(own):
    ref, data = own
    res = cfa(data, ref["data_missing"]["scales"])
    assert res.n_obs == ref["data_missing"]["complete_rows"]
    check_param_block(res, ref["cfa_listwise"])


def test_cfa_own_fiml(own):
    ref, data = own
    res = cfa(data, ref["data_missing"]["scales"], missing="fiml")
    check_param_block(res, ref["cfa_fiml"])


def test_cfa_heywood_flagged():
    ref = load_reference("validity.json")
    data = pd.read_csv(REFERENCE / "validity_heywood.csv")
    res = cfa(data, {"H": ["h1", "h2", "h3"], "K": ["k1", "k2", "k3"]})
    check_param_block(res, ref["cfa_heywood"])
    negative = tuple(k for k, v in ref["cfa_heywood"]["theta_diag"].items() if v < 0)
    assert negative == ("h1",)
    assert res.heywood is True
    assert res.heywood_items == negative
    assert bool(res.to_frame()["heywood"].iloc[0]) is True


def test_cfa_negative_factor_variance_flagged():
    ref = load_reference("validity.json")
    data = pd.read_csv(REFERENCE / "validity_lvneg.csv")
    res = cfa(data, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]})
    check_param_block(res, ref["cfa_lvneg"])
    assert res.heywood is True
    assert res.heywood_items == ("B",)
    assert res.latent_cov_pd is False
    assert res.loadings.loc[res.loadings["factor"] == "B", "std_all"].isna().all()


def test_cfa_npd_latent_flagged():
    ref = load_reference("validity.json")
    data = pd.read_csv(REFERENCE / "validity_npd.csv")
    res = cfa(data, {"U": ["u1", "u2", "u3"], "V": ["v1", "v2", "v3"]})
    check_param_block(res, ref["cfa_npd"])
    assert res.latent_cov_pd is False
    assert res.factor_correlations.loc["U", "V"] > 1
    assert res.heywood is False


def test_cfa_crossloading(holz):
    ref = load_reference("validity.json")["cfa_crossloading_holzinger"]
    _, data = holz
    model = {
        "visual": ["x1", "x2", "x3", "x9"],
        "textual": ["x4", "x5", "x6"],
        "speed": ["x7", "x8", "x9"],
    }
    res = cfa(data, model)
    check_param_block(res, ref)
    cr_f = composite_reliability(res).estimate
    av_f = ave(res).estimate
    cr_s = composite_reliability(res, variant="semtools").estimate
    av_s = ave(res, variant="semtools").estimate
    for f in model:
        _close(cr_f[f], ref["composite_reliability_formula"][f]["CR"])
        _close(av_f[f], ref["composite_reliability_formula"][f]["AVE"])
        _close(cr_s[f], ref["semTools"]["compRelSEM"][f])
        if ref["semTools"]["AVE"][f] is None:
            assert np.isnan(av_s[f])
        else:
            _close(av_s[f], ref["semTools"]["AVE"][f])


# ---------------------------------------------------------------------------------------------
# composite reliability, AVE, Fornell-Larcker
# ---------------------------------------------------------------------------------------------


def _std_loadings(block):
    return {f: [v["std_all"] for v in items.values()] for f, items in block["loadings"].items()}


@pytest.mark.parametrize(
    ("name", "block"),
    [
        ("holzinger", "cfa"),
        ("sim_likert", "cfa"),
        ("sim_likert", "cfa_fiml"),
        ("sim_likert", "cfa_misspecified"),
    ],
)
def test_cr_ave_formula_closed_form(shared_reference, name, block):
    ref, _ = shared_reference(name)
    b = ref[block]
    loads = _std_loadings(b)
    cr = composite_reliability(loads).estimate
    av = ave(loads).estimate
    for f, v in b["composite_reliability_formula"]["values"].items():
        assert cr[f] == pytest.approx(v["CR"], rel=CLOSED)
        assert av[f] == pytest.approx(v["AVE"], rel=CLOSED)


@pytest.mark.parametrize(("block", "missing"), [("cfa", "listwise"), ("cfa_fiml", "fiml")])
def test_cr_ave_from_fit(sim, block, missing):
    ref, data, model = sim
    res = cfa(data, model, missing=missing)
    b = ref[block]
    cr_f = composite_reliability(res).to_frame()
    cr_s = composite_reliability(res, variant="semtools").estimate
    av_f = ave(res).estimate
    av_s = ave(res, variant="semtools").estimate
    assert list(cr_f.index) == list(model)
    assert list(cr_f["n_items"]) == [len(v) for v in model.values()]
    for f, v in b["composite_reliability_formula"]["values"].items():
        _close(cr_f.loc[f, "estimate"], v["CR"])
        _close(av_f[f], v["AVE"])
    for f, v in b["semTools"]["compRelSEM"].items():
        _close(cr_s[f], v)
    for f, v in b["semTools"]["AVE"].items():
        _close(av_s[f], v)


def test_cr_ave_own(own):
    ref, data = own
    for block, missing in [("cfa_listwise", "listwise"), ("cfa_fiml", "fiml")]:
        res = cfa(data, ref["data_missing"]["scales"], missing=missing)
        b = ref[block]
        for f, v in b["semTools"]["compRelSEM"].items():
            _close(composite_reliability(res, variant="semtools").estimate[f], v)
            _close(ave(res, variant="semtools").estimate[f], b["semTools"]["AVE"][f])
            _close(
                composite_reliability(res).estimate[f], b["composite_reliability_formula"][f]["CR"]
            )
            _close(ave(res).estimate[f], b["composite_reliability_formula"][f]["AVE"])


def test_fornell_larcker(holz):
    ref, data = holz
    res = cfa(data, HOLZ_MODEL)
    fl = fornell_larcker(res)
    b = ref["cfa"]
    root = {f: np.sqrt(v["AVE"]) for f, v in b["composite_reliability_formula"]["values"].items()}
    for f in HOLZ_MODEL:
        _close(fl.matrix.loc[f, f], root[f])
    pairs = fl.to_frame()
    assert len(pairs) == 3
    for _, row in pairs.iterrows():
        r = b["factor_covariances"].get(f"{row.factor_1}~~{row.factor_2}")
        _close(row["correlation"], r["cor_std_all"])
        expected = root[row.factor_1] > abs(r["cor_std_all"]) < root[row.factor_2]
        assert row["passed"] == expected
    assert fl.passed == all(pairs["passed"])


def test_fornell_larcker_fails_when_correlation_exceeds_sqrt_ave():
    ref = load_reference("validity.json")
    data = pd.read_csv(REFERENCE / "validity_npd.csv")
    res = cfa(data, {"U": ["u1", "u2", "u3"], "V": ["v1", "v2", "v3"]})
    fl = fornell_larcker(res)
    r = next(
        p["std_all"]
        for p in ref["cfa_npd"]["parameters"]
        if p["lhs"] == "U" and p["op"] == "~~" and p["rhs"] == "V"
    )
    _close(fl.pairs.loc[0, "correlation"], r)
    assert fl.passed is False


# ---------------------------------------------------------------------------------------------
# HTMT
# ---------------------------------------------------------------------------------------------

HTMT_CASES = [
    ("henseler2015_manual", {}),
    ("htmt2_manual", {"variant": "htmt2"}),
    ("semTools_htmt_original", {"absolute": True}),
    ("semTools_htmt2_default", {"variant": "htmt2"}),
]


def _compare_matrix(ours: pd.DataFrame, theirs: dict) -> None:
    ref = pd.DataFrame(theirs).loc[ours.index, ours.columns]
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=CLOSED)


@pytest.mark.parametrize(("key", "kw"), HTMT_CASES)
def test_htmt_shared(holz, sim, key, kw):
    ref, data = holz
    _compare_matrix(htmt(data, HOLZ_MODEL, **kw).to_frame(), ref["htmt"][key]["matrix"])
    ref, data, model = sim
    res = htmt(data, model, **kw)
    assert res.n_obs == 377
    _compare_matrix(res.matrix, ref["htmt"][key]["matrix"])


@pytest.mark.parametrize(("key", "kw"), [*HTMT_CASES, ("absolute_manual", {"absolute": True})])
def test_htmt_own(own, key, kw):
    ref, data = own
    res = htmt(data, ref["data_missing"]["scales"], **kw)
    assert res.n_obs == ref["htmt"]["n_complete"]
    _compare_matrix(res.matrix, ref["htmt"][key])


def test_htmt_signed_differs_from_absolute(sim):
    # sim F4-Y: signed HTMT is negative, semTools' absolute version positive (README note 4)
    _, data, model = sim
    signed = htmt(data, model).matrix.loc["F4", "Y"]
    absolute = htmt(data, model, absolute=True).matrix.loc["F4", "Y"]
    assert signed < 0 < absolute


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_unknown_items_are_named(holz):
    _, data = holz
    with pytest.raises(DataError, match=r"'x99'.*'y1'|'y1'.*'x99'"):
        cfa(data, {"A": ["x1", "x99", "x3"], "B": ["y1", "x5", "x6"]})
    with pytest.raises(DataError, match="x99"):
        htmt(data, {"A": ["x1", "x99"], "B": ["x4", "x5"]})


def test_one_item_factor(holz):
    _, data = holz
    with pytest.raises(DataError, match=r"at least 2 items.*'B'"):
        cfa(data, {"A": ["x1", "x2", "x3"], "B": ["x4"]})
    with pytest.raises(DataError, match="at least 2 items"):
        htmt(data, {"A": ["x1", "x2", "x3"], "B": ["x4"]})


def test_unidentified_model(holz):
    _, data = holz
    with pytest.raises(DataError, match="not identified"):
        cfa(data, {"A": ["x1", "x2"]})


def test_too_few_complete_rows(holz):
    _, data = holz
    few = data.iloc[:9].copy()
    with pytest.raises(DataError, match="too few complete rows"):
        cfa(few, HOLZ_MODEL)
    with pytest.raises(DataError, match="too few complete rows"):
        htmt(data.iloc[:2], HOLZ_MODEL)


def test_non_numeric_column(holz):
    _, data = holz
    with pytest.raises(DataError, match=r"numeric.*'school'"):
        cfa(data, {"A": ["x1", "x2", "school"], "B": ["x4", "x5", "x6"]})


def test_all_missing_item(holz):
    _, data = holz
    d = data.copy()
    d["x5"] = np.nan
    with pytest.raises(DataError, match=r"without any observed value.*'x5'"):
        cfa(d, HOLZ_MODEL, missing="fiml")


def test_zero_variance_item(holz):
    _, data = holz
    d = data.copy()
    d["x2"] = 1.0
    with pytest.raises(DataError, match=r"zero variance.*x2"):
        cfa(d, HOLZ_MODEL)


def test_bad_options(holz):
    _, data = holz
    with pytest.raises(DataError, match="'missing' parameter of cfa must be one of"):
        cfa(data, HOLZ_MODEL, missing="pairwise")
    with pytest.raises(DataError, match="'estimator'"):
        cfa(data, HOLZ_MODEL, estimator="wlsmv")
    with pytest.raises(DataError, match="'variant'"):
        htmt(data, HOLZ_MODEL, variant="htmt3")
    with pytest.raises(DataError, match="'variant'"):
        composite_reliability({"A": [0.5, 0.6]}, variant="alpha")
    with pytest.raises(DataError, match="CFAResult"):
        composite_reliability({"A": [0.5, 0.6]}, variant="semtools")
    with pytest.raises(DataError, match="CFAResult"):
        fornell_larcker({"A": [0.5, 0.6]})


def test_htmt_undefined_when_monotrait_not_positive(holz):
    _, data = holz
    d = data.copy()
    d["x2"] = -d["x2"]  # x1 against negated x2: the within-factor r of 'visual' is negative
    assert d["x1"].corr(d["x2"]) < 0
    with pytest.raises(DataError, match="'visual'"):
        htmt(d, {"visual": ["x1", "x2"], "textual": ["x4", "x5", "x6"]})


def test_nonconvergence_raises(holz, monkeypatch):
    _, data = holz
    real = validity._minimize

    def one_step(obj, theta0, hess=None, maxiter=2000):
        return real(obj, theta0, hess=None, maxiter=1)

    monkeypatch.setattr(validity, "_minimize", one_step)
    with pytest.raises(ConvergenceError, match="did not converge"):
        cfa(data, HOLZ_MODEL)


# ---------------------------------------------------------------------------------------------
# properties and performance
# ---------------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None)
@given(
    scale=st.floats(0.1, 50.0),
    shift=st.floats(-100.0, 100.0),
    item=st.sampled_from(["x2", "x5", "x9"]),
)
def test_rescaling_an_item(shared_reference, scale, shift, item):
    """ML CFA is scale invariant: a linear change of one (non-marker) item multiplies its
    loading and SE by ``scale`` and leaves chisq, std_all and the other estimates alone."""
    _, data = shared_reference("holzinger")
    base = cfa(data, HOLZ_MODEL)
    d = data.copy()
    d[item] = d[item] * scale + shift
    res = cfa(d, HOLZ_MODEL)
    _close(res.fit.chisq, base.fit.chisq, rel=1e-6)
    b = base.loadings.set_index("item")
    r = res.loadings.set_index("item")
    _close(r.loc[item, "estimate"], b.loc[item, "estimate"] * scale, rel=1e-5)
    _close(r.loc[item, "std_error"], b.loc[item, "std_error"] * scale, rel=1e-5)
    np.testing.assert_allclose(r["std_all"], b["std_all"], rtol=1e-5)


def test_six_factors_on_data_drawn_from_the_fitted_model(sim):
    # speed is measured in bench/, not asserted here
    _, data, model = sim
    rng = np.random.default_rng(7)
    # 600 complete rows drawn from the listwise model-implied covariance: the model is true
    res0 = cfa(data, model)
    x = rng.multivariate_normal(np.zeros(23), res0.implied_cov.to_numpy(), size=600)
    d = pd.DataFrame(x, columns=res0.implied_cov.columns)
    res = cfa(d, model)
    assert res.n_obs == 600
    assert res.fit.df == 215
    # under the true model chisq ~ chi2(215): far inside its 99.9% range, CFI near 1
    assert 150 < res.fit.chisq < 300
    assert res.fit.cfi > 0.98


def test_result_frames(holz):
    _, data = holz
    res = cfa(data, HOLZ_MODEL)
    row = res.to_frame()
    assert row.shape[0] == 1
    for col in (
        "chisq",
        "df",
        "pvalue",
        "cfi",
        "tli",
        "rmsea",
        "rmsea_ci_low",
        "rmsea_ci_high",
        "srmr",
        "aic",
        "bic",
        "npar",
        "logl",
        "baseline_chisq",
        "baseline_df",
        "converged",
        "heywood",
        "latent_cov_pd",
    ):
        assert col in row.columns
    assert list(res.loadings.columns) == [
        "factor",
        "item",
        "estimate",
        "std_error",
        "z",
        "pvalue",
        "std_lv",
        "std_all",
        "std_all_se",
    ]
    assert list(res.factor_correlations.index) == list(HOLZ_MODEL)
    assert res.vcov.shape == (21, 21)


def test_fornell_larcker_pair_rule(holz):
    """A pair passes only if |r| is below *both* sqrt(AVE)s (sign ignored)."""
    import dataclasses

    ref, data = holz
    res = cfa(data, HOLZ_MODEL)
    root = {
        f: np.sqrt(v["AVE"])
        for f, v in ref["cfa"]["composite_reliability_formula"]["values"].items()
    }
    cor = res.factor_correlations.copy()
    between = (root["visual"] + root["speed"]) / 2  # above one sqrt(AVE), below the other
    assert min(root["visual"], root["speed"]) < between < max(root["visual"], root["speed"])
    cor.loc["visual", "speed"] = cor.loc["speed", "visual"] = between
    cor.loc["visual", "textual"] = cor.loc["textual", "visual"] = -0.99
    cor.loc["textual", "speed"] = cor.loc["speed", "textual"] = -0.1
    fl = fornell_larcker(dataclasses.replace(res, factor_correlations=cor))
    got = {(r.factor_1, r.factor_2): r.passed for r in fl.pairs.itertuples()}
    assert got == {
        ("visual", "textual"): False,
        ("visual", "speed"): False,
        ("textual", "speed"): True,
    }
    assert fl.passed is False


# ---------------------------------------------------------------------------------------------
# reliability_report
# ---------------------------------------------------------------------------------------------


def _fake_codebook(scales: dict, outcome: str | None = None):
    from types import SimpleNamespace as NS

    return NS(
        constructs={
            k: NS(id=k, items=tuple(v), role="outcome" if k == outcome else "dimension")
            for k, v in scales.items()
        }
    )


def test_reliability_report_sim(sim):
    ref, data, model = sim
    rep = reliability_report(data, _fake_codebook(model, outcome="Y"))
    tab = rep.to_frame()
    assert list(tab.index) == list(model)
    assert tab.loc["Y", "role"] == "outcome"
    assert rep.n_obs_cfa == 377
    for k, items in model.items():
        scale = ref["scales"][k]
        assert tab.loc[k, "n_items"] == len(items)
        # alpha: psych pairwise, closed form
        assert tab.loc[k, "alpha"] == pytest.approx(
            scale["alpha"]["total"]["raw_alpha"], rel=CLOSED
        )
        # omega total: psych fa minres (iterative)
        _close(tab.loc[k, "omega_total"], scale["omega_1factor"]["omega_tot"])
        cr = ref["cfa"]["composite_reliability_formula"]["values"][k]
        _close(tab.loc[k, "cr"], cr["CR"])
        _close(tab.loc[k, "ave"], cr["AVE"])
        _close(tab.loc[k, "sqrt_ave"], np.sqrt(cr["AVE"]))
        assert tab.loc[k, "problems"] == ""
    _close(rep.fit["chisq"].iloc[0], ref["cfa"]["fit_measures"]["chisq"])
    _compare_matrix(rep.htmt, ref["htmt"]["henseler2015_manual"]["matrix"])
    hm = pd.DataFrame(ref["htmt"]["henseler2015_manual"]["matrix"])
    for k in model:
        others = hm.loc[k].drop(k)
        assert tab.loc[k, "max_htmt"] == pytest.approx(others[others.abs().idxmax()], rel=CLOSED)
    assert len(rep.discriminant) == 15
    row = rep.discriminant.query("construct_1 == 'F1' and construct_2 == 'Y'").iloc[0]
    _close(row["correlation"], ref["cfa"]["factor_covariances"]["F1~~Y"]["cor_std_all"])
    assert bool(tab["fornell_larcker_passed"].all())


def test_reliability_report_fiml(sim):
    ref, data, model = sim
    rep = reliability_report(data, _fake_codebook(model, outcome="Y"), missing="fiml")
    tab = rep.to_frame()
    assert rep.n_obs_cfa == 600
    for k, v in ref["cfa_fiml"]["composite_reliability_formula"]["values"].items():
        _close(tab.loc[k, "cr"], v["CR"])
        _close(tab.loc[k, "ave"], v["AVE"])
    _close(rep.fit["chisq"].iloc[0], ref["cfa_fiml"]["fit_measures"]["chisq"])
    with pytest.raises(DataError, match="'missing' parameter of reliability_report"):
        reliability_report(data, _fake_codebook(model), missing="pairwise")


def test_reliability_report_one_item_construct(sim):
    _, data, model = sim
    scales = {"F1": model["F1"], "F2": model["F2"], "single": ["Y_1"]}
    rep = reliability_report(data, _fake_codebook(scales))
    tab = rep.to_frame()
    assert list(tab.index) == ["F1", "F2", "single"]
    assert np.isnan(tab.loc["single", "alpha"])
    assert np.isnan(tab.loc["single", "cr"])
    assert "1 item" in tab.loc["single", "problems"]
    assert list(rep.htmt.index) == ["F1", "F2"]
    assert np.isfinite(tab.loc["F1", "cr"])


def test_reliability_report_cfa_failure_is_reported(sim):
    _, data, _ = sim
    rep = reliability_report(data, _fake_codebook({"two": ["F1_1", "F1_2"]}))
    tab = rep.to_frame()
    assert rep.cfa is None
    assert rep.cfa_converged is False
    assert np.isnan(tab.loc["two", "cr"])
    assert "CFA" in tab.loc["two", "problems"]
    assert "not identified" in tab.loc["two", "problems"]
    assert np.isfinite(tab.loc["two", "alpha"])


def test_reliability_report_missing_columns(sim):
    _, data, model = sim
    with pytest.raises(DataError, match="'Q9'"):
        reliability_report(data, _fake_codebook({"F1": model["F1"], "X": ["Q9", "F2_1"]}))
    with pytest.raises(DataError, match="construct"):
        reliability_report(data, _fake_codebook({}))


def test_reliability_report_k_station_pipeline():
    """Smoke test through the project's own simulate -> code_responses pipeline."""
    import servicestudy as ss
    from servicestudy.simulate import NO_DEFECTS
    cb = ss.load_codebook("k_station")
    coded = ss.code_responses(ss.simulate(300, seed=11, config=NO_DEFECTS).responses, cb).data
    rep = ss.reliability_report(coded, cb)
    tab = rep.to_frame()
    assert list(tab.index) == list(cb.constructs)
    assert rep.cfa_converged
    assert tab["cr"].between(0, 1).all()
