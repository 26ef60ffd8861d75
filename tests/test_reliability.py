"""Tests for servicestudy.reliability against R psych 2.2.9 reference values.

Shared references (../shared/reference: holzinger, sim_likert) and the project's own
tests/reference/reliability.json (psych::bfi subset with missing values, written by
tests/reference/reliability.R).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs import reverse_coded
from servicestudy._matrices import pairwise_cor, pairwise_cov
from servicestudy.errors import DataError
from servicestudy.reliability import (
    _alpha_from_cov,
    _bartlett_from_corr,
    _boot_alpha_from_counts,
    _boot_counts,
    _bvn_lower,
    _kmo_from_corr,
    alpha,
    bartlett,
    kmo,
    omega,
    ordinal_alpha,
    polychoric,
    split_half,
)

CLOSED = 1e-8  # closed-form statistics
ITER = 1e-4  # iterative fits (psych's optim / GPArotation eps 1e-5)

DATASETS = ["holzinger", "sim_likert"]


def _scale_blocks(values):
    return list(values["scales"].items())


# ---------------------------------------------------------------------------------------------
# alpha
# ---------------------------------------------------------------------------------------------


def _check_alpha(res, a):
    t = a["total"]
    assert res.alpha == pytest.approx(t["raw_alpha"], rel=CLOSED)
    assert res.std_alpha == pytest.approx(t["std.alpha"], rel=CLOSED)
    assert res.g6 == pytest.approx(t["G6(smc)"], rel=CLOSED)
    assert res.average_r == pytest.approx(t["average_r"], rel=CLOSED)
    assert res.signal_noise == pytest.approx(t["S/N"], rel=CLOSED)
    assert res.ase == pytest.approx(t["ase"], rel=CLOSED)
    assert res.mean == pytest.approx(t["mean"], rel=CLOSED)
    assert res.sd == pytest.approx(t["sd"], rel=CLOSED)
    assert res.median_r == pytest.approx(t["median_r"], rel=CLOSED)
    for item, st_ in a["item_stats"].items():
        row = res.items.loc[item]
        assert row["n"] == st_["n"]
        for ours, theirs in [("raw_r", "raw.r"), ("std_r", "std.r"), ("r_cor", "r.cor"),
                             ("r_drop", "r.drop"), ("mean", "mean"), ("sd", "sd")]:
            assert row[ours] == pytest.approx(st_[theirs], rel=CLOSED), (item, ours)
    for item, drop in a["alpha_drop"].items():
        row = res.items.loc[item]
        assert row["alpha_if_deleted"] == pytest.approx(drop["raw_alpha"], rel=CLOSED)
        assert row["std_alpha_if_deleted"] == pytest.approx(drop["std.alpha"], rel=CLOSED)


def test_alpha_matches_psych_shared(shared):
    _name, values, data = shared
    for _scale, block in _scale_blocks(values):
        a = block["alpha"]
        res = alpha(data[block["items"]])
        _check_alpha(res, a)
        assert res.ci_low == pytest.approx(a["ci"]["feldt"]["lower"], rel=CLOSED)
        assert res.ci_high == pytest.approx(a["ci"]["feldt"]["upper"], rel=CLOSED)
        duh = alpha(data[block["items"]], ci="duhachek")
        # psych prints alpha -/+ 1.96 ase; we use the exact normal quantile 1.959964
        z = 1.959963984540054
        lo = a["total"]["raw_alpha"] - z * a["total"]["ase"]
        assert duh.ci_low == pytest.approx(lo, rel=CLOSED)
        assert duh.ci_low == pytest.approx(a["ci"]["duhachek"]["lower"], abs=1e-5)


def test_alpha_matches_psych_bfi_missing(bfi):
    ref, data = bfi
    for _scale, block in ref["scales"].items():
        res = alpha(data[block["items"]])
        _check_alpha(res, block["alpha"])
        assert res.ci_low == pytest.approx(block["alpha"]["feldt"]["lower"], rel=CLOSED)
        assert res.ci_high == pytest.approx(block["alpha"]["feldt"]["upper"], rel=CLOSED)


def test_alpha_listwise_matches_psych_on_complete_rows(bfi):
    ref, data = bfi
    for _scale, block in ref["scales"].items():
        res = alpha(data[block["items"]], nan_policy="listwise")
        lw = block["alpha_listwise"]
        assert res.n_obs == lw["n"]
        assert res.alpha == pytest.approx(lw["total"]["raw_alpha"], rel=CLOSED)
        assert res.std_alpha == pytest.approx(lw["total"]["std.alpha"], rel=CLOSED)
        assert res.ase == pytest.approx(lw["total"]["ase"], rel=CLOSED)
        for item, st_ in lw["item_stats"].items():
            assert res.items.loc[item, "raw_r"] == pytest.approx(st_["raw.r"], rel=CLOSED)


def test_alpha_weighted_matches_cov_wt(bfi):
    ref, data = bfi
    for _scale, block in ref["scales"].items():
        res = alpha(data[block["items"]], nan_policy="listwise", weights=data["w"])
        t = block["alpha_weighted_listwise"]["total"]
        assert res.alpha == pytest.approx(t["raw_alpha"], rel=CLOSED)
        assert res.std_alpha == pytest.approx(t["std.alpha"], rel=CLOSED)
        assert res.g6 == pytest.approx(t["G6(smc)"], rel=CLOSED)
        sds = block["alpha_weighted_listwise"]["item_sd"]
        for item, sd in sds.items():
            assert res.items.loc[item, "sd"] == pytest.approx(sd, rel=CLOSED)


def test_unit_weights_change_nothing(bfi):
    _ref, data = bfi
    x = data[["A1", "A2", "A3", "A4", "A5"]]
    a = alpha(x)
    b = alpha(x, weights=np.ones(len(x)))
    assert b.alpha == pytest.approx(a.alpha, rel=1e-12)
    assert b.ci_low == pytest.approx(a.ci_low, rel=1e-12)
    pd.testing.assert_frame_equal(a.items, b.items, rtol=1e-10)


def _alpha_fields(res):
    return {f: getattr(res, f) for f in ("alpha", "std_alpha", "g6", "average_r", "median_r",
                                         "signal_noise", "ase", "ci_low", "ci_high", "mean", "sd")}


@pytest.mark.parametrize("missing", [False, True])
def test_alpha_fast_path_equals_general_path(bfi, missing):
    """Complete data (and listwise): the one-cross-product path equals the general pairwise path,
    reached here through unit weights, which change nothing mathematically."""
    _ref, data = bfi
    x = data[["A1", "A2", "A3", "A4", "A5", "C1", "C2"]]
    if not missing:
        x = x.dropna()
    x = x.astype(float)
    fast = alpha(x, nan_policy="listwise")
    slow = alpha(x, nan_policy="listwise", weights=np.ones(len(x)))
    assert _alpha_fields(fast) == pytest.approx(_alpha_fields(slow), rel=1e-12)
    pd.testing.assert_frame_equal(fast.items, slow.items, rtol=1e-12)
    if not missing:  # pairwise on complete data is the same fast path
        pw = alpha(x)
        assert _alpha_fields(pw) == pytest.approx(_alpha_fields(slow), rel=1e-12)
        pd.testing.assert_frame_equal(pw.items, slow.items, rtol=1e-12)


def test_pairwise_complete_fast_path_equals_pairwise_moments(bfi):
    """Complete data take one centred cross-product; a row of NaN sends the same data through
    the pairwise-moment path, which must give the same matrices."""
    _ref, data = bfi
    x = data[["A1", "A2", "A3", "A4", "A5"]].dropna().to_numpy(dtype=float)
    xn = np.vstack([x, np.full(x.shape[1], np.nan)])
    np.testing.assert_allclose(pairwise_cov(x), pairwise_cov(xn), rtol=1e-12)
    np.testing.assert_allclose(pairwise_cor(x), pairwise_cor(xn), rtol=1e-12)


@pytest.mark.parametrize("missing", [False, True])
def test_as_items_fast_path_equals_column_path(bfi, missing, monkeypatch):
    import servicestudy._matrices as mx

    _ref, data = bfi
    x = data[["A1", "A2", "A3", "A4", "A5"]]
    if not missing:
        x = x.dropna()
    x = x.astype(float).assign(A1=lambda d: d["A1"].astype(int) if not missing else d["A1"])
    fast = mx.as_items(x, "t")
    monkeypatch.setattr(mx, "_as_items_fast", lambda *a: None)
    slow = mx.as_items(x, "t")
    np.testing.assert_array_equal(fast.values, slow.values)
    np.testing.assert_array_equal(fast.rows, slow.rows)
    assert fast.names == slow.names
    assert fast.complete == slow.complete == (not missing)


def test_alpha_from_cov_private_helper(shared):
    _name, values, data = shared
    block = next(iter(values["scales"].values()))
    x = data[block["items"]].to_numpy(dtype=float)
    x = x[~np.all(np.isnan(x), axis=1)]
    out = _alpha_from_cov(pairwise_cov(x), x.shape[0])
    assert out["alpha"] == pytest.approx(block["alpha"]["total"]["raw_alpha"], rel=CLOSED)
    assert out["ase"] == pytest.approx(block["alpha"]["total"]["ase"], rel=CLOSED)


def test_bootstrap_replicates_are_exact_for_given_draws(bfi):
    """The count-weighted vectorised replicates equal alpha recomputed on resampled rows."""
    _ref, data = bfi
    for cols in (["A1", "A2", "A3", "A4", "A5"], ["x1", "x2", "x3"]):
        if cols[0] == "x1":
            rng = np.random.default_rng(0)
            x = rng.normal(size=(200, 3)) + rng.normal(size=(200, 1))
        else:
            x = data[cols].to_numpy(dtype=float)[:400]
        rng = np.random.default_rng(11)
        counts = _boot_counts(rng, x.shape[0], 7)
        assert np.all(counts.sum(axis=1) == x.shape[0])
        fast = _boot_alpha_from_counts(x, counts)
        for b in range(7):
            rows = np.repeat(np.arange(x.shape[0]), counts[b].astype(int))
            slow = _alpha_from_cov(pairwise_cov(x[rows]), len(rows))["alpha"]
            assert fast[b] == pytest.approx(slow, rel=1e-9)
        # survey weights: replicate b is the weighted alpha with weights counts_b * w
        w = np.random.default_rng(5).uniform(0.5, 2.0, size=x.shape[0])
        fast_w = _boot_alpha_from_counts(x, counts, w)
        for b in range(7):
            slow = _alpha_from_cov(pairwise_cov(x, counts[b] * w), x.shape[0])["alpha"]
            assert fast_w[b] == pytest.approx(slow, rel=1e-9)


def test_bootstrap_ci_agrees_with_psych_by_method(bfi):
    ref, data = bfi
    block = ref["scales"]["A"]
    res = alpha(data[block["items"]], ci="bootstrap", n_boot=1000, seed=3)
    boot = block["alpha"]["boot"]
    # different random streams: compare the bootstrap distribution, not the digits
    assert res.boot.mean() == pytest.approx(boot["mean"], abs=3 * boot["sd"] / math.sqrt(1000) * 3)
    assert res.boot.std(ddof=1) == pytest.approx(boot["sd"], rel=0.15)
    assert res.ci_low == pytest.approx(boot["quantiles"]["2.5%"], abs=0.004)
    assert res.ci_high == pytest.approx(boot["quantiles"]["97.5%"], abs=0.004)


def test_bootstrap_is_reproducible():
    # speed is measured in bench/ (alpha_boot), not asserted here
    rng = np.random.default_rng(1)
    n, k = 20_000, 20
    x = rng.normal(size=(n, 1)) + rng.normal(size=(n, k))
    df = pd.DataFrame(x, columns=[f"q{i}" for i in range(k)])
    res = alpha(df, ci="bootstrap", n_boot=1000, seed=5)
    assert res.ci_low < res.alpha < res.ci_high
    assert res.boot.shape == (1000,)
    again = alpha(df, ci="bootstrap", n_boot=1000, seed=5)
    np.testing.assert_array_equal(again.boot, res.boot)
    other = alpha(df, ci="bootstrap", n_boot=1000, seed=6)
    assert not np.array_equal(other.boot, res.boot)


# ---------------------------------------------------------------------------------------------
# KMO, Bartlett
# ---------------------------------------------------------------------------------------------


def _kmo_bartlett_blocks(values):
    blocks = [b for _s, b in _scale_blocks(values)]
    if "all_items" in values:
        blocks.append(values["all_items"])
    return blocks


def test_kmo_bartlett_match_psych_shared(shared):
    _name, values, data = shared
    for block in _kmo_bartlett_blocks(values):
        x = data[block["items"]]
        k = kmo(x)
        assert k.overall == pytest.approx(block["KMO"]["MSA"], rel=CLOSED)
        for item, v in block["KMO"]["MSAi"].items():
            assert k.per_item[item] == pytest.approx(v, rel=CLOSED)
        b = bartlett(x)
        assert b.statistic == pytest.approx(block["bartlett"]["chisq"], rel=CLOSED)
        assert b.df == block["bartlett"]["df"]
        if block["bartlett"]["p_value"] > 1e-300:
            assert b.pvalue == pytest.approx(block["bartlett"]["p_value"], rel=1e-6)


def test_kmo_bartlett_match_psych_bfi(bfi):
    ref, data = bfi
    for block in ref["scales"].values():
        x = data[block["items"]]
        k = kmo(x)
        assert k.overall == pytest.approx(block["KMO"]["MSA"], rel=CLOSED)
        for item, v in block["KMO"]["MSAi"].items():
            assert k.per_item[item] == pytest.approx(v, rel=CLOSED)
        b = bartlett(x)
        assert b.statistic == pytest.approx(block["bartlett"]["chisq"], rel=CLOSED)


def test_private_matrix_helpers_agree_with_public(shared):
    _name, values, data = shared
    x = data[values["all_items"]["items"]]
    r = pairwise_cor(x.to_numpy(dtype=float))
    overall, _per = _kmo_from_corr(r)
    assert overall == pytest.approx(kmo(x).overall, rel=1e-14)
    stat, df, _p = _bartlett_from_corr(r, len(x))
    assert stat == pytest.approx(bartlett(x).statistic, rel=1e-14)
    assert df == bartlett(x).df


# ---------------------------------------------------------------------------------------------
# split half
# ---------------------------------------------------------------------------------------------


def test_split_half_matches_psych_and_exhaustive(shared):
    _name, values, data = shared
    for _scale, block in _scale_blocks(values):
        sh = block["splitHalf"]
        x = data[block["items"]]
        ps = split_half(x, variant="psych")
        for ours, theirs in [("max_split", "maxrb"), ("min_split", "minrb"),
                             ("mean_split", "meanr"), ("alpha", "alpha"),
                             ("lambda2", "lambda2"), ("lambda6", "lambda6"),
                             ("average_r", "av.r"), ("median_r", "med.r")]:
            assert getattr(ps, ours) == pytest.approx(sh[theirs], rel=CLOSED), ours
        assert list(ps.max_split_a) == sh["maxAB"]["A"]
        full = split_half(x)
        al = sh["all_distinct_splits_computed_here"]
        assert full.n_splits == al["n_splits"]
        assert full.max_split == pytest.approx(al["max"], rel=CLOSED)
        assert full.min_split == pytest.approx(al["min"], rel=CLOSED)
        assert full.mean_split == pytest.approx(al["mean"], rel=CLOSED)
        assert sorted(full.max_split_a) == sorted(al["max_split_A"]) or sorted(
            full.max_split_b) == sorted(al["max_split_A"])


def test_split_half_samples_beyond_cap():
    rng = np.random.default_rng(8)
    f = rng.normal(size=(300, 1))
    df = pd.DataFrame(f + rng.normal(size=(300, 8)), columns=[f"q{i}" for i in range(8)])
    full = split_half(df)
    assert full.exhaustive
    assert full.n_splits == 35
    sampled = split_half(df, max_splits=10, n_sample=500, seed=1)
    assert not sampled.exhaustive
    assert sampled.n_splits == 500
    assert full.min_split <= sampled.min_split <= sampled.max_split <= full.max_split
    assert sampled.mean_split == pytest.approx(full.mean_split, abs=0.01)


def test_split_half_psych_bfi(bfi):
    ref, data = bfi
    for block in ref["scales"].values():
        sh = block["splitHalf"]
        ps = split_half(data[block["items"]], variant="psych")
        assert ps.max_split == pytest.approx(sh["maxrb"], rel=CLOSED)
        assert ps.min_split == pytest.approx(sh["minrb"], rel=CLOSED)
        assert ps.mean_split == pytest.approx(sh["meanr"], rel=CLOSED)
        full = split_half(data[block["items"]])
        assert full.max_split >= ps.max_split - 1e-12
        assert full.n_splits == 10


# ---------------------------------------------------------------------------------------------
# omega
# ---------------------------------------------------------------------------------------------


def _check_omega(res, o, tol):
    assert res.omega_h == pytest.approx(o["omega_h"], abs=tol)
    assert res.omega_total == pytest.approx(o["omega_tot"], abs=tol)
    assert res.alpha == pytest.approx(o["alpha"], rel=CLOSED)
    assert res.g6 == pytest.approx(o["G6"], rel=CLOSED)
    assert res.omega_limit == pytest.approx(o["omega_lim"], abs=tol)


def test_omega_one_factor_matches_psych(shared):
    _name, values, data = shared
    for _scale, block in _scale_blocks(values):
        o = block["omega_1factor"]
        res = omega(data[block["items"]], n_factors=1)
        _check_omega(res, o, ITER)
        ref_g = [v["g"] for v in o["schmid_sl"].values()]
        np.testing.assert_allclose(res.schmid_leiman["g"].to_numpy(), ref_g, atol=ITER)
        assert not res.unstable


def test_omega_full_instrument_matches_psych(shared):
    _name, values, data = shared
    o = values["all_items"]["omega"]
    res = omega(data[values["all_items"]["items"]], n_factors=o["nfactors"])
    _check_omega(res, o, ITER)
    assert res.ecv == pytest.approx(o["ECV"], abs=ITER)
    grp = pd.DataFrame(o["omega_group"]).T
    np.testing.assert_allclose(res.group.loc["g"].to_numpy(), grp.loc["g"].to_numpy(dtype=float),
                               atol=ITER)
    # group factors up to order: compare the sorted group rows
    ours = np.sort(res.group.iloc[1:].to_numpy(), axis=0)
    theirs = np.sort(grp.iloc[1:].to_numpy(dtype=float), axis=0)
    np.testing.assert_allclose(ours, theirs, atol=ITER)
    ref_g = [v["g"] for v in o["schmid_sl"].values()]
    np.testing.assert_allclose(res.schmid_leiman["g"].to_numpy(), ref_g, atol=ITER)
    assert not res.unstable


def test_omega_bfi(bfi):
    ref, data = bfi
    o = ref["all_items"]["omega_3"]
    res = omega(data[ref["all_items"]["items"]], n_factors=3)
    _check_omega(res, o, ITER)
    assert res.ecv == pytest.approx(o["ECV"], abs=ITER)
    for block in ref["scales"].values():
        o1 = block["omega_1factor"]
        r1 = omega(data[block["items"]], n_factors=1)
        _check_omega(r1, o1, ITER)


def test_omega_two_factors_equal_option(bfi):
    ref, data = bfi
    o = ref["omega_2factors"]
    res = omega(data[o["items"]], n_factors=2)
    _check_omega(res, o, ITER)
    assert res.ecv == pytest.approx(o["ECV"], abs=ITER)
    grp = pd.DataFrame(o["omega_group"]).T
    np.testing.assert_allclose(res.group.to_numpy(), grp.to_numpy(dtype=float), atol=ITER)
    assert not res.unstable
    assert "equal" in res.problems


def test_omega_ill_posed_three_factors_is_flagged(shared):
    _name, values, data = shared
    for _scale, block in _scale_blocks(values):
        if "omega_default_3factors" not in block:
            continue
        res = omega(data[block["items"]])
        assert res.unstable
        assert "not unique" in res.problems


# ---------------------------------------------------------------------------------------------
# polychoric, ordinal alpha
# ---------------------------------------------------------------------------------------------


def test_bivariate_normal_against_scipy():
    from scipy import stats

    h = np.array([-1.2, 0.3, 2.0, -0.5, 0.0])
    k = np.array([0.4, 0.3, -1.0, -0.5, 1.5])
    for rho in (-0.97, -0.5, 0.0, 0.3, 0.8, 0.95, 0.999):
        mvn = stats.multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]])
        ref = np.array([mvn.cdf([a, b]) for a, b in zip(h, k, strict=True)])
        np.testing.assert_allclose(_bvn_lower(h, k, rho), ref, atol=1e-7)  # scipy's own accuracy


def test_polychoric_matches_psych_shared(shared_reference):
    values, data = shared_reference("sim_likert")
    data = reverse_coded(values, data)
    items = values["all_items"]["items"]
    res = polychoric(data[items])
    ref = pd.DataFrame(values["polychoric"]["rho"]).T.loc[items, items]
    # psych: optimize() tolerance 1.2e-4 and sadmvn abseps 1e-6 limit its accuracy
    np.testing.assert_allclose(res.rho.to_numpy(), ref.to_numpy(dtype=float), atol=1e-4)
    tau = pd.DataFrame(values["polychoric"]["tau"]).T.loc[items]
    np.testing.assert_allclose(res.tau.to_numpy(), tau.to_numpy(dtype=float), rtol=CLOSED)


def test_polychoric_and_ordinal_alpha_bfi(bfi):
    ref, data = bfi
    for block in ref["scales"].values():
        items = block["items"]
        res = polychoric(data[items])
        rho = pd.DataFrame(block["polychoric"]["rho"]).T.loc[items, items]
        np.testing.assert_allclose(res.rho.to_numpy(), rho.to_numpy(dtype=float), atol=1e-4)
        tau = pd.DataFrame(block["polychoric"]["tau"]).T.loc[items]
        np.testing.assert_allclose(res.tau.to_numpy(), tau.to_numpy(dtype=float), rtol=CLOSED)
        oa = ordinal_alpha(data[items])
        assert oa.alpha == pytest.approx(block["ordinal_alpha"]["raw_alpha"], abs=1e-4)
        assert oa.average_r == pytest.approx(block["ordinal_alpha"]["average_r"], abs=1e-4)


def test_polychoric_unequal_categories_uses_pairwise_thresholds(bfi):
    ref, data = bfi
    block = ref["polychoric_unequal_categories"]
    x = data[block["items"]].copy()
    x["A1"] = x["A1"].clip(upper=5)
    res = polychoric(x)
    assert not res.global_thresholds
    rho = pd.DataFrame(block["rho"]).T.loc[block["items"], block["items"]]
    np.testing.assert_allclose(res.rho.to_numpy(), rho.to_numpy(dtype=float), atol=1e-4)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input_messages():
    good = pd.DataFrame({"a": [1, 2, 3, 4, 5.0], "b": [2, 1, 4, 3, 5.0], "c": [1, 3, 2, 5, 4.0]})
    with pytest.raises(DataError, match="at least 2 items"):
        alpha(good[["a"]])
    const = good.assign(c=3.0)
    with pytest.raises(DataError, match=r"'c'.*constant"):
        alpha(const)
    text = good.assign(b=["x", "y", "z", "x", "y"])
    with pytest.raises(DataError, match=r"'b'.*not numeric"):
        kmo(text)
    with pytest.raises(DataError, match="at least 3 rows"):
        alpha(good.iloc[:2])
    with pytest.raises(DataError, match="must be one of 'feldt', 'duhachek', 'bootstrap'"):
        alpha(good, ci="wald")
    singular = good.assign(d=good["a"] + good["b"])
    with pytest.raises(DataError, match=r"singular|positive definite"):
        kmo(singular)
    with pytest.raises(DataError, match=r"singular|positive definite"):
        bartlett(singular)
    res = alpha(singular)
    assert math.isnan(res.g6)
    assert "singular" in res.problems
    few = good.copy()
    few.loc[:, "a"] = [1.0, 2.0, np.nan, np.nan, np.nan]
    few.loc[:, "b"] = [np.nan, np.nan, 3.0, 4.0, 1.0]
    with pytest.raises(DataError, match=r"'a'|'b'"):
        alpha(few)
    with pytest.raises(DataError, match="complete rows"):
        alpha(few, nan_policy="listwise")
    with pytest.raises(DataError, match="n_factors"):
        omega(good, n_factors=3)
    with pytest.raises(DataError, match="weights for"):
        alpha(good, weights=[1.0, 2.0])
    with pytest.raises(DataError, match="non-negative"):
        alpha(good, weights=[1.0, -2.0, 1.0, 1.0, 1.0])
    with pytest.raises(DataError, match="max_categories"):
        polychoric(pd.DataFrame({"a": [0, 3, 10, 5], "b": [1, 2, 3, 4]}))
    with pytest.raises(DataError, match="non-integer"):
        polychoric(good.assign(a=good["a"] + 0.5))


def test_alpha_flags_negatively_keyed_item():
    rng = np.random.default_rng(9)
    f = rng.normal(size=200)
    df = pd.DataFrame({"a": f + rng.normal(size=200), "b": f + rng.normal(size=200),
                       "c": -f + rng.normal(size=200)})
    res = alpha(df)
    assert "'c'" in res.problems
    assert "reverse-code" in res.problems
    assert np.isfinite(res.alpha)
    # uncorrelated noise: r_cor may be undefined (NaN), never an exception
    noise = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 3)), columns=list("xyz"))
    assert np.isfinite(alpha(noise).alpha)


def test_to_frame_keeps_item_names():
    df = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 2], "q2": [2, 2, 3, 5, 4, 1], "q3": [1, 3, 3, 4, 5, 2]})
    res = alpha(df)
    assert list(res.items.index) == ["q1", "q2", "q3"]
    frame = res.to_frame()
    assert frame.loc[0, "alpha"] == res.alpha
    assert list(kmo(df).to_frame().index) == ["q1", "q2", "q3", "overall"]


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------

_item_data = st.integers(min_value=0, max_value=2**32 - 1).map(
    lambda s: np.random.default_rng(s).normal(size=(40, 1))
    + np.random.default_rng(s + 1).normal(size=(40, 4))
)


@settings(max_examples=30, deadline=None)
@given(x=_item_data, perm=st.permutations(range(4)))
def test_alpha_invariant_to_item_order(x, perm):
    df = pd.DataFrame(x, columns=list("abcd"))
    a = alpha(df)
    b = alpha(df.iloc[:, list(perm)])
    assert b.alpha == pytest.approx(a.alpha, rel=1e-10)
    assert b.std_alpha == pytest.approx(a.std_alpha, rel=1e-10)
    pd.testing.assert_frame_equal(a.items, b.items.loc[a.items.index], rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    x=_item_data,
    scale=st.lists(st.floats(0.1, 10.0), min_size=4, max_size=4),
    shift=st.lists(st.floats(-5.0, 5.0), min_size=4, max_size=4),
)
def test_std_alpha_invariant_to_positive_rescaling(x, scale, shift):
    df = pd.DataFrame(x, columns=list("abcd"))
    a = alpha(df)
    b = alpha(df * np.array(scale) + np.array(shift))
    assert b.std_alpha == pytest.approx(a.std_alpha, rel=1e-9)
    assert b.g6 == pytest.approx(a.g6, rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 6), seed=st.integers(0, 10_000))
def test_identical_items_give_alpha_one(k, seed):
    base = np.random.default_rng(seed).integers(1, 6, size=30).astype(float)
    if np.all(base == base[0]):
        base[0] = base[0] % 5 + 1
    df = pd.DataFrame({f"q{i}": base for i in range(k)})
    res = alpha(df)
    assert res.alpha == pytest.approx(1.0, rel=1e-12)
    assert res.std_alpha == pytest.approx(1.0, rel=1e-12)
    if k > 2:
        assert "singular" in res.problems
