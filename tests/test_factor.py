"""Tests for servicestudy.factor against R psych 2.2.9 / GPArotation 2022.10.2 references.

Loadings and fit indices from iterative fits agree to 1e-4 (psych's optim and GPArotation's
eps = 1e-5 limit R's own accuracy); factors are matched up to order and sign.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from refs import REFERENCE, load_reference
from servicestudy._matrices import pairwise_cor
from servicestudy.errors import ConvergenceError, DataError
from servicestudy.factor import (
    _efa_from_corr,
    _oblimin,
    _promax,
    _varimax,
    efa,
    parallel_analysis,
)

ITER = 1e-4
CLOSED = 1e-8


def _align(ours: pd.DataFrame, ref: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Our columns matched to the reference columns (greedy by |inner product|) and signs."""
    used: list[str] = []
    signs = []
    for col in ref.columns:
        cand = [c for c in ours.columns if c not in used]
        scores = [abs(float(ours[c] @ ref[col])) for c in cand]
        best = cand[int(np.argmax(scores))]
        used.append(best)
        signs.append(np.sign(float(ours[best] @ ref[col])))
    return used, np.array(signs)


def _check_fa(res, block, items):
    ref = pd.DataFrame(block["loadings"]).T.loc[items].astype(float)
    cols, signs = _align(res.loadings, ref)
    ours = res.loadings[cols].to_numpy() * signs
    np.testing.assert_allclose(ours, ref.to_numpy(), atol=ITER)
    # psych's own sign/sort convention: every column sums positive, same order as psych
    assert np.all(signs == 1), "factor reflection differs from psych"
    assert cols == list(res.loadings.columns), "factor order differs from psych"
    np.testing.assert_allclose(
        res.uniquenesses.to_numpy(), [block["uniquenesses"][i] for i in items], atol=ITER
    )
    np.testing.assert_allclose(
        res.communalities.to_numpy(), [block["communality"][i] for i in items], atol=ITER
    )
    f = block["fit"]
    assert res.df == f["dof"]
    assert res.objective == pytest.approx(f["objective"], rel=ITER, abs=ITER)
    assert res.statistic == pytest.approx(f["STATISTIC"], rel=ITER)
    assert res.pvalue == pytest.approx(f["PVAL"], rel=ITER, abs=1e-8)
    assert res.tli == pytest.approx(f["TLI"], rel=ITER)
    assert res.bic == pytest.approx(f["BIC"], rel=ITER)
    assert res.rmsr == pytest.approx(f["rms"], rel=ITER)
    assert res.crms == pytest.approx(f["crms"], rel=ITER)
    assert res.fit == pytest.approx(f["fit"], rel=ITER)
    assert res.fit_off == pytest.approx(f["fit.off"], rel=ITER)
    assert res.null_statistic == pytest.approx(f["null_chisq"], rel=CLOSED)
    rm = f["RMSEA"]
    # psych finds the CI by uniroot (tol 1.2e-4 on the noncentrality): 1e-4 absolute
    assert res.rmsea == pytest.approx(rm["RMSEA"], abs=ITER)
    assert res.rmsea_ci_low == pytest.approx(rm["lower"], abs=ITER)
    assert res.rmsea_ci_high == pytest.approx(rm["upper"], abs=ITER)
    va = block["Vaccounted"]
    ss = va["SS loadings"] if "SS loadings" in va else {k: v["SS loadings"] for k, v in va.items()}
    np.testing.assert_allclose(res.variance["ss_loadings"].to_numpy(), [ss[c] for c in ref.columns],
                               atol=ITER)
    if block.get("Phi"):
        phi = pd.DataFrame(block["Phi"]).T.loc[ref.columns, ref.columns].astype(float)
        ours_phi = res.phi.loc[cols, cols].to_numpy() * np.outer(signs, signs)
        np.testing.assert_allclose(ours_phi, phi.to_numpy(), atol=ITER)
    assert res.converged
    assert res.rotation_converged
    assert not res.heywood


def test_efa_matches_psych_shared(shared):
    _name, values, data = shared
    items = values["all_items"]["items"]
    x = data[items]
    for key, block in values["all_items"]["fa"].items():
        fm, rot = key.split("_")
        res = efa(x, block["nfactors"], method=fm, rotation=rot)
        _check_fa(res, block, items)
        if block.get("values_common"):
            np.testing.assert_allclose(res.common_eigenvalues.to_numpy(), block["values_common"],
                                       atol=ITER)
        np.testing.assert_allclose(res.eigenvalues.to_numpy(), block["e_values"], rtol=CLOSED)


def test_efa_matches_psych_bfi_methods_and_promax(bfi):
    ref, data = bfi
    items = ref["all_items"]["items"]
    x = data[items]
    for key, block in ref["all_items"]["fa"].items():
        fm, rot = key.split("_")
        assert not block["warnings"]
        res = efa(x, 3, method=fm, rotation=rot)
        _check_fa(res, block, items)
        if fm == "pa":
            # principal axes is a deterministic iteration with psych's stopping rule: exact
            ref_l = pd.DataFrame(block["loadings"]).T.loc[items].astype(float)
            np.testing.assert_allclose(res.loadings.to_numpy(), ref_l.to_numpy(), rtol=1e-8,
                                       atol=1e-12)
            assert res.statistic == pytest.approx(block["fit"]["STATISTIC"], rel=CLOSED)


def test_efa_one_factor_ml(bfi):
    ref, data = bfi
    f = ref["fa_1factor_ml_N"]
    res = efa(data[f["items"]], 1, method="ml", rotation="none")
    np.testing.assert_allclose(res.loadings.iloc[:, 0], list(f["loadings"].values()), atol=ITER)
    np.testing.assert_allclose(res.uniquenesses, list(f["uniquenesses"].values()), atol=ITER)
    assert res.df == f["fit"]["dof"]
    assert res.statistic == pytest.approx(f["fit"]["STATISTIC"], rel=ITER)
    assert res.tli == pytest.approx(f["fit"]["TLI"], rel=ITER)
    assert res.rmsea == pytest.approx(f["fit"]["RMSEA"]["RMSEA"], abs=ITER)
    assert res.rmsea_ci_low == pytest.approx(f["fit"]["RMSEA"]["lower"], abs=ITER)
    assert res.rmsea_ci_high == pytest.approx(f["fit"]["RMSEA"]["upper"], abs=ITER)
    assert res.bic == pytest.approx(f["fit"]["BIC"], rel=ITER)
    assert res.rmsr == pytest.approx(f["fit"]["rms"], rel=ITER)


def test_private_efa_from_corr_equals_public(shared):
    _name, values, data = shared
    items = values["all_items"]["items"]
    x = data[items].to_numpy(dtype=float)
    r = pairwise_cor(x)
    out = _efa_from_corr(r, x.shape[0], 3, "ml", "varimax")
    res = efa(data[items], 3, method="ml", rotation="varimax")
    np.testing.assert_allclose(out["loadings"], res.loadings.to_numpy(), atol=1e-12)
    assert out["statistic"] == pytest.approx(res.statistic, rel=1e-12)


def test_rotations_preserve_communalities_and_fit():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(12, 3)) * 0.5
    for rot in (_varimax(a)[0], _oblimin(a)[0], _promax(a)[0]):
        assert rot.shape == a.shape
    v, t = _varimax(a)
    np.testing.assert_allclose(v, a @ t, atol=1e-12)
    np.testing.assert_allclose(np.sum(v**2, axis=1), np.sum(a**2, axis=1), rtol=1e-10)
    lam, phi, ok = _oblimin(a)
    assert ok
    np.testing.assert_allclose(lam @ phi @ lam.T, a @ a.T, atol=1e-10)
    lam, phi = _promax(a)
    np.testing.assert_allclose(lam @ phi @ lam.T, a @ a.T, atol=1e-10)


def test_parallel_analysis_by_method(shared):
    _name, values, data = shared
    fp = values["all_items"]["fa_parallel"]["fa_both"]
    x = data[values["all_items"]["items"]]
    res = parallel_analysis(x, n_iter=20, seed=1)
    e = res.eigenvalues
    np.testing.assert_allclose(e["observed_pc"], fp["pc_values_observed"], rtol=CLOSED)
    np.testing.assert_allclose(e["observed_fa"], fp["fa_values_observed"], atol=ITER)
    assert res.n_factors == fp["nfact"]
    assert res.n_components == fp["ncomp"]
    # R's random stream cannot be reproduced: replicate means agree in distribution
    np.testing.assert_allclose(e["simulated_pc_mean"], fp["pc_sim_mean"], atol=0.05)
    np.testing.assert_allclose(e["resampled_pc_mean"], fp["pc_resampled_mean"], atol=0.05)


@pytest.mark.slow
def test_parallel_analysis_replicate_distribution_bfi(bfi):
    ref, data = bfi
    fp = ref["all_items"]["fa_parallel"]
    res = parallel_analysis(data[ref["all_items"]["items"]], n_iter=100, seed=2)
    e = res.eigenvalues
    np.testing.assert_allclose(e["observed_pc"], fp["pc_values_observed"], rtol=CLOSED)
    np.testing.assert_allclose(e["observed_fa"], fp["fa_values_observed"], atol=ITER)
    # means of 100 replicates from two independent streams: within 5 standard errors
    for ours, theirs in [("simulated_pc_mean", "pc_sim"), ("simulated_fa_mean", "fa_sim"),
                         ("resampled_pc_mean", "pc_resampled"), ("resampled_fa_mean", "fa_resampled")]:
        se = np.sqrt(2) * np.asarray(fp[f"{theirs}_sd"]) / np.sqrt(100)
        diff = np.abs(e[ours].to_numpy() - np.asarray(fp[f"{theirs}_mean"]))
        assert np.all(diff < 5 * se + 1e-3), (ours, diff.max())
    assert res.n_factors == fp["nfact"]
    assert res.n_components == fp["ncomp"]


def test_efa_bad_input():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd"))
    with pytest.raises(DataError, match="n_factors"):
        efa(df, 4)
    with pytest.raises(DataError, match="must be one of 'minres', 'ml', 'pa'"):
        efa(df, 1, method="uls")
    with pytest.raises(DataError, match="'rotation' parameter of efa"):
        efa(df, 2, rotation="quartimax")
    with pytest.raises(DataError, match="constant"):
        efa(df.assign(b=1.0), 1)
    with pytest.raises(DataError, match=r"singular|positive definite"):
        efa(df.assign(d=df["a"] - df["b"]), 1)


def test_efa_heywood_is_flagged():
    # three items with r12 r13 / r23 = 1.6 > 1: the one-factor solution needs loading^2 > 1
    rng = np.random.default_rng(3)
    c = np.array([[1, 0.8, 0.8], [0.8, 1, 0.4], [0.8, 0.4, 1]])
    z = rng.normal(size=(500, 3))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    df = pd.DataFrame(z @ np.linalg.cholesky(c).T, columns=list("abc"))
    for method in ("minres", "ml"):
        res = efa(df, 1, method=method, rotation="none")
        assert res.heywood
        assert res.uniquenesses["a"] < 0.01


def test_pa_nonconvergence_is_flagged_or_raised():
    # pure noise: principal axes drift towards Heywood cases
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 6)), columns=list("abcdef"))
    res = efa(df, 2, method="pa", rotation="none")
    assert not res.converged  # stopped at psych's 50 iterations: flagged, not silent
    with pytest.raises(ConvergenceError, match="negative eigenvalue"):
        efa(df, 4, method="pa", rotation="none")


def test_wishart_correlations_have_the_distribution_of_normal_sample_correlations():
    # Bartlett's decomposition vs correlations of simulated data: mean and variance of r_12
    # (E r = 0, Var r = 1/(n-1) for independent normals) and of the largest eigenvalue.
    from servicestudy.factor import _normal_sample_correlations

    rng = np.random.default_rng(3)
    n, p, b = 30, 5, 4000
    w = _normal_sample_correlations(rng, b, n, p)
    z = rng.standard_normal((b, n, p))
    z -= z.mean(axis=1, keepdims=True)
    c = np.einsum("bni,bnj->bij", z, z)
    d = np.sqrt(np.einsum("bii->bi", c))
    direct = c / (d[:, :, None] * d[:, None, :])
    r12 = w[:, 0, 1]
    assert abs(r12.mean()) < 4 * np.sqrt(1 / (n - 1) / b)
    assert r12.var() == pytest.approx(1 / (n - 1), rel=0.1)
    top_w = np.linalg.eigvalsh(w)[:, -1]
    top_d = np.linalg.eigvalsh(direct)[:, -1]
    se = np.sqrt(top_w.var() / b + top_d.var() / b)
    assert abs(top_w.mean() - top_d.mean()) < 4 * se
    np.testing.assert_allclose(np.einsum("bii->bi", w), 1.0)


def test_batched_one_factor_minres_equals_single_fits(bfi):
    """The batched Newton fit of the replicates equals the (tight) single fits wherever it
    reports success, on simulated (null) and structured correlation matrices; the rest go to
    the single fits."""
    from servicestudy.factor import (
        _fa1_minres_values_batch,
        _fa1_replicates,
        _fa1_values,
        _normal_sample_correlations,
    )

    ref, data = bfi
    rng = np.random.default_rng(7)
    structured = pairwise_cor(data[ref["all_items"]["items"]].to_numpy(dtype=float))
    stacks = [_normal_sample_correlations(rng, 40, n, p) for n, p in [(60, 6), (500, 20), (5000, 12)]]
    stacks.append(structured[None])
    n_ok = 0
    for rs in stacks:
        ev, ok = _fa1_minres_values_batch(rs)
        n_ok += int(ok.sum())
        for b in np.nonzero(ok)[0]:
            np.testing.assert_allclose(ev[b], _fa1_values(rs[b], "minres"), atol=1e-6)
        both = _fa1_replicates(rs, "minres")
        for b in np.nonzero(~ok)[0]:
            np.testing.assert_array_equal(both[b], _fa1_values(rs[b], "minres", tight=False))
    assert n_ok >= 100
    assert _fa1_minres_values_batch(structured[None])[1][0]


def test_batched_one_factor_short_last_newton_step_equals_full_iteration(bfi):
    """The batch ends a fit with a short last Newton step (step_tol) instead of iterating the
    gradient down to 1e-10; step_tol=0 is the full iteration. Same matrices, same values."""
    from servicestudy.factor import _fa1_minres_values_batch, _normal_sample_correlations

    ref, data = bfi
    rng = np.random.default_rng(8)
    structured = pairwise_cor(data[ref["all_items"]["items"]].to_numpy(dtype=float))
    stacks = [_normal_sample_correlations(rng, 40, n, p) for n, p in [(200, 10), (1000, 20), (10000, 20)]]
    stacks.append(structured[None])
    n_both = 0
    for rs in stacks:
        short, ok_short = _fa1_minres_values_batch(rs)
        full, ok_full = _fa1_minres_values_batch(rs, step_tol=0.0)
        both = ok_short & ok_full
        n_both += int(both.sum())
        np.testing.assert_allclose(short[both], full[both], atol=1e-6)
    assert n_both >= 100


def test_resample_draws_column_by_column_equal_one_draw():
    # parallel_analysis draws a (p, n) index matrix per replicate; it is the stream that
    # drawing n indices per column gives (so results do not depend on the blocking)
    a = np.random.default_rng(4).integers(0, 997, size=(6, 997))
    rng = np.random.default_rng(4)
    b = np.array([rng.integers(0, 997, size=997) for _ in range(6)])
    np.testing.assert_array_equal(a, b)


def test_parallel_analysis_gather_dtype_does_not_change_results(bfi):
    """Resamples are gathered from int8 codes, exact float32 values or float64 values; the
    correlations are invariant to the shift and scale used to reach each path."""
    from servicestudy.factor import _compact_columns

    ref, data = bfi
    x = data[ref["all_items"]["items"][:8]].dropna().astype(float)
    assert _compact_columns(x.to_numpy()).dtype == np.int8
    assert _compact_columns((x + 0.5).to_numpy()).dtype == np.float32
    assert _compact_columns((x * 1.1).to_numpy()).dtype == np.float64
    # beyond float32's range: no overflow warning, float64 kept; missing values: float path
    assert _compact_columns(np.array([[1e300, 2.0], [3.0, 4.5]])).dtype == np.float64
    assert _compact_columns(np.array([[np.nan, 2.0], [3.0, 4.0]])).dtype == np.float32
    runs = [parallel_analysis(v, n_iter=10, seed=3).eigenvalues for v in (x, x + 0.5, x * 1.1)]
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0], other, rtol=1e-9)


def _weighted_reference():
    return load_reference("efa_weighted.json"), pd.read_csv(REFERENCE / "efa_weighted.csv")


@pytest.mark.parametrize("fit", ["minres_none", "minres_oblimin", "ml_none", "ml_oblimin"])
def test_weighted_efa_matches_psych_fa_with_weight(fit):
    ref, data = _weighted_reference()
    method, rotation = fit.split("_")
    items = data[[f"x{i}" for i in range(1, 10)]]
    res = efa(items, 3, method=method, rotation=rotation, weights=data["w"].to_numpy())
    expected = np.array([[float(v) for v in ref["fits"][fit]["loadings"][str(i + 1)]] for i in range(9)])
    got = res.loadings.to_numpy()
    # match factor columns up to order and sign (psych sorts and reflects; iterative fit: 1e-4)
    for j in range(3):
        k = int(np.argmax([abs(np.corrcoef(got[:, j], expected[:, c])[0, 1]) for c in range(3)]))
        sign = np.sign(got[:, j] @ expected[:, k])
        np.testing.assert_allclose(sign * got[:, j], expected[:, k], atol=1e-4)
    np.testing.assert_allclose(res.uniquenesses.to_numpy(), [float(v) for v in ref["fits"][fit]["uniquenesses"]], atol=1e-4)


def test_weighted_correlations_match_cov_wt():
    ref, data = _weighted_reference()
    x = data[[f"x{i}" for i in range(1, 10)]].to_numpy()
    expected = np.array([[float(v) for v in ref["weighted_cor"][str(i + 1)]] for i in range(9)])
    np.testing.assert_allclose(pairwise_cor(x, data["w"].to_numpy()), expected, rtol=1e-12)


def test_weighted_efa_rejects_bad_weights():
    _ref, data = _weighted_reference()
    items = data[[f"x{i}" for i in range(1, 10)]]
    with pytest.raises(DataError, match="weights"):
        efa(items, 3, weights=np.ones(5))
    with pytest.raises(DataError, match="non-negative"):
        efa(items, 3, weights=-data["w"].to_numpy())
