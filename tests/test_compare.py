"""Group comparisons against R (tests/reference/compare_drivers.R -> compare_drivers.json)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refs import REFERENCE, load_reference
from servicestudy.compare import (
    SmallExpectedWarning,
    anova,
    chi_square,
    compare_groups,
    games_howell,
    kruskal,
    mann_whitney,
    p_adjust,
    ttest,
    tukey_hsd,
)
from servicestudy.errors import DataError

REL = 1e-8
# ptukey/qtukey (R) and scipy.stats.studentized_range both integrate numerically; they agree to
# about 1e-9 relative, so studentized-range p-values and intervals are checked at 1e-7.
REL_PTUKEY = 1e-7


@pytest.fixture(scope="module")
def ref() -> dict:
    return load_reference("compare_drivers.json")


@pytest.fixture(scope="module")
def data(ref) -> pd.DataFrame:
    df = pd.read_csv(REFERENCE / "compare_drivers.csv")
    for name, levels in ref["levels"].items():
        df[name] = pd.Categorical(df[name], categories=levels)
    return df


@pytest.mark.parametrize("kind", ["welch", "pooled"])
@pytest.mark.parametrize(("block", "y", "g"), [("t_y_gender", "y", "gender"),
                                               ("t_x1_resident", "x1", "resident")])
def test_ttest_matches_r(ref, data, kind, block, y, g):
    exp = ref[block][kind]
    r = ttest(data, y, g, equal_var=(kind == "pooled"))
    for key in ["statistic", "df", "pvalue", "ci_low", "ci_high", "estimate", "mean1",
                "mean2", "cohens_d", "hedges_g"]:
        assert getattr(r, key) == pytest.approx(exp[key], rel=REL), key
    assert (r.n1, r.n2) == (exp["n1"], exp["n2"])
    assert r.n_dropped == len(data) - exp["n1"] - exp["n2"]


@pytest.mark.parametrize(("block", "y", "g"), [("mw_y_gender", "y", "gender"),
                                               ("mw_x1_resident", "x1", "resident")])
def test_mann_whitney_matches_r(ref, data, block, y, g):
    exp = ref[block]
    r = mann_whitney(data, y, g)
    assert r.statistic == pytest.approx(exp["statistic"], rel=REL)
    assert r.pvalue == pytest.approx(exp["pvalue"], rel=REL)
    assert r.rank_biserial == pytest.approx(exp["rank_biserial"], rel=REL)


@pytest.mark.parametrize(("block", "y"), [("anova_y_edu", "y"), ("anova_x2_edu", "x2")])
def test_anova_matches_r(ref, data, block, y):
    exp = ref[block]
    classic = anova(data, y, "edu")
    a = exp["aov"]
    assert classic.statistic == pytest.approx(a["F"], rel=REL)
    assert classic.pvalue == pytest.approx(a["p"], rel=REL)
    assert (classic.df_between, classic.df_within) == (a["df_between"], a["df_within"])
    assert classic.eta_squared == pytest.approx(a["eta_squared"], rel=REL)
    assert classic.omega_squared == pytest.approx(a["omega_squared"], rel=REL)
    assert classic.statistic == pytest.approx(exp["classic_oneway_test"]["F"], rel=REL)
    assert classic.n_obs == exp["n"]
    w = anova(data, y, "edu", welch=True)
    assert w.statistic == pytest.approx(exp["welch"]["F"], rel=REL)
    assert w.df_within == pytest.approx(exp["welch"]["df_den"], rel=REL)
    assert w.pvalue == pytest.approx(exp["welch"]["p"], rel=REL)
    for lv, m in exp["group_means"].items():
        assert classic.groups.loc[lv, "mean"] == pytest.approx(m, rel=REL)
        assert classic.groups.loc[lv, "sd"] == pytest.approx(exp["group_sd"][lv], rel=REL)
    k = kruskal(data, y, "edu")
    assert k.statistic == pytest.approx(exp["kruskal"]["statistic"], rel=REL)
    assert k.pvalue == pytest.approx(exp["kruskal"]["p"], rel=REL)
    assert k.epsilon_squared == pytest.approx(exp["kruskal"]["epsilon_squared"], rel=REL)


def _pair(table: pd.DataFrame, key: str) -> pd.Series:
    hi, lo = key.split("-")  # R names pairs "j-i" with diff = m_j - m_i
    row = table[(table.group1 == lo) & (table.group2 == hi)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize(("block", "y"), [("anova_y_edu", "y"), ("anova_x2_edu", "x2")])
def test_tukey_matches_r(ref, data, block, y):
    tab = tukey_hsd(data, y, "edu").table
    assert len(tab) == len(ref[block]["tukey"]) == 6
    for key, exp in ref[block]["tukey"].items():
        row = _pair(tab, key)
        assert row.estimate == pytest.approx(-exp["diff"], rel=REL)
        assert row.ci_low == pytest.approx(-exp["upr"], rel=REL_PTUKEY)
        assert row.ci_high == pytest.approx(-exp["lwr"], rel=REL_PTUKEY)
        assert row.pvalue == pytest.approx(exp["p adj"], rel=REL_PTUKEY)


@pytest.mark.parametrize(("block", "y"), [("anova_y_edu", "y"), ("anova_x2_edu", "x2")])
def test_games_howell_matches_r_formula(ref, data, block, y):
    tab = games_howell(data, y, "edu").table
    for key, exp in ref[block]["games_howell"].items():
        row = _pair(tab, key)
        assert row.estimate == pytest.approx(-exp["diff"], rel=REL)
        assert row.std_error == pytest.approx(exp["std_error"], rel=REL)
        assert row.statistic == pytest.approx(-exp["t"], rel=REL)
        assert row.df == pytest.approx(exp["df"], rel=REL)
        assert row.ci_low == pytest.approx(-exp["upr"], rel=REL_PTUKEY)
        assert row.ci_high == pytest.approx(-exp["lwr"], rel=REL_PTUKEY)
        assert row.pvalue == pytest.approx(exp["p_adj"], rel=REL_PTUKEY)


@pytest.mark.parametrize(("block", "a", "b"), [
    ("chisq_gender_edu", "gender", "edu"),
    ("chisq_resident_gender_yates", "resident", "gender"),
    ("chisq_smallcat_edu", "small_cat", "edu"),
    ("chisq_highsat_gender_yates", "high_sat", "gender"),
])
def test_chi_square_matches_r(ref, data, block, a, b):
    exp = ref[block]
    if a == "high_sat":
        data = data.assign(high_sat=pd.Categorical(
            np.where(data["y_ord"] >= 4, "high", "low"), categories=["high", "low"]))
    r = chi_square(data, a, b)
    assert r.statistic == pytest.approx(exp["statistic"], rel=REL)
    assert r.df == exp["df"]
    assert r.pvalue == pytest.approx(exp["pvalue"], rel=REL)
    assert r.cramers_v == pytest.approx(exp["cramers_v"], rel=REL)
    assert r.n_obs == exp["n"]
    for i, row in exp["expected"].items():
        for j, e in row.items():
            assert r.expected.loc[i, j] == pytest.approx(e, rel=REL)
            assert r.observed.loc[i, j] == exp["observed"][i][j]
    # R warns exactly when some expected count is below 5
    assert bool(exp["warnings"]) == (r.min_expected < 5)


def test_chi_square_small_expected_flag_and_optional_warning(data):
    r = chi_square(data, "small_cat", "edu")
    assert r.small_expected
    assert "below 5" in r.message
    with pytest.warns(SmallExpectedWarning):
        chi_square(data, "small_cat", "edu", warn=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chi_square(data, "small_cat", "edu")  # the default never warns
    assert not chi_square(data, "gender", "edu").small_expected


def test_p_adjust_and_compare_groups_match_r(ref, data):
    exp = ref["compare_groups"]
    res = compare_groups(data, ["y", "x1"], ["gender", "edu"], correction="holm")
    tab = res.table.set_index(["outcome", "group"])
    for key, p in exp["pvalue"].items():
        y, g = key.split("_")
        assert tab.loc[(y, g), "pvalue"] == pytest.approx(p, rel=REL)
        assert tab.loc[(y, g), "p_adjusted"] == pytest.approx(exp["holm"][key], rel=REL)
    assert list(tab["test"]) == ["welch_t", "welch_anova"] * 2
    bh = compare_groups(data, ["y", "x1"], ["gender", "edu"], correction="fdr_bh").table
    bh = bh.set_index(["outcome", "group"])
    for key, p in exp["fdr_bh"].items():
        y, g = key.split("_")
        assert bh.loc[(y, g), "p_adjusted"] == pytest.approx(p, rel=REL)
    np_ = compare_groups(data, ["y", "x1"], ["gender", "edu"], parametric=False).table
    np_ = np_.set_index(["outcome", "group"])
    for key, p in exp["np_pvalue"].items():
        y, g = key.split("_")
        assert np_.loc[(y, g), "pvalue"] == pytest.approx(p, rel=REL)
        assert np_.loc[(y, g), "p_adjusted"] == pytest.approx(exp["np_holm"][key], rel=REL)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=12))
def test_p_adjust_laws(ps):
    p = np.array(ps)
    holm, bh, bonf = (p_adjust(p, m) for m in ("holm", "fdr_bh", "bonferroni"))
    assert np.all(holm >= p - 1e-15)
    assert np.all(holm <= 1)
    assert np.all(bh <= holm + 1e-12)
    assert np.all(holm <= bonf + 1e-12)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(holm[order]) >= -1e-15)


def test_bad_input(data):
    with pytest.raises(DataError, match="nope"):
        ttest(data, "nope", "gender")
    with pytest.raises(DataError, match="exactly 2 levels"):
        ttest(data, "y", "edu")
    one = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": ["a", "a", "a", "b"]})
    with pytest.raises(DataError, match="'b' has 1 member"):
        ttest(one, "y", "g")
    with pytest.raises(DataError, match="'b' has 1 member"):
        anova(one, "y", "g", welch=True)
    const = pd.DataFrame({"y": [3.0] * 6, "g": list("aabbcc")})
    with pytest.raises(DataError, match="constant"):
        anova(const, "y", "g")
    split = pd.DataFrame({"y": [1.0, 1.0, 2.0, 2.0], "g": list("aabb")})
    with pytest.raises(DataError, match="within either group"):
        ttest(split, "y", "g")
    with pytest.raises(DataError, match="must be one of"):
        compare_groups(data, ["y"], ["gender"], correction="sidak")
    with pytest.raises(DataError, match="'nope'"):
        compare_groups(data, ["y"], ["nope"])
    # a failing combination is flagged, not fatal, and left out of the correction
    d = data.assign(tiny=np.where(np.arange(len(data)) == 0, "a", "b"))
    res = compare_groups(d, ["y"], ["tiny", "gender", "edu"])
    t = res.table.set_index("group")
    assert "1 member" in t.loc["tiny", "note"]
    assert np.isnan(t.loc["tiny", "p_adjusted"])
    assert (res.n_tests, res.n_failed) == (2, 1)
    assert res.table["n_obs"].dtype.kind == "i"
    assert t.loc["tiny", "n_obs"] == data["y"].notna().sum()
    assert t.loc["gender", "p_adjusted"] == pytest.approx(
        p_adjust(t.loc[["gender", "edu"], "pvalue"].to_numpy(), "holm")[0], rel=1e-15)
    with pytest.raises(DataError, match="not numeric"):
        ttest(data, "edu", "gender")


# --- design-based weighted comparisons (tests/reference/compare_weighted.R, R survey) ----------

_WEIGHTED = load_reference("compare_weighted.json")["cases"]


@pytest.mark.parametrize("case", sorted(_WEIGHTED))
def test_weighted_group_test_matches_r_survey(case):
    from servicestudy.compare import weighted_group_test

    ref = _WEIGHTED[case]
    data = pd.read_csv(REFERENCE / "compare_drivers.csv")
    data[ref["group"]] = pd.Categorical(data[ref["group"]], categories=ref["levels"])
    r = weighted_group_test(data, ref["outcome"], ref["group"], "w")
    assert r.n_obs == ref["n"]
    means = [float(ref["means"][lv]) for lv in ref["levels"]]
    ses = [float(ref["mean_se"][lv]) for lv in ref["levels"]]
    np.testing.assert_allclose(r.means["mean"].to_numpy(), means, rtol=1e-10)
    np.testing.assert_allclose(r.means["std_error"].to_numpy(), ses, rtol=1e-8)
    if len(ref["levels"]) == 2:
        # R reports level 2 minus level 1; ours is level 1 minus level 2
        assert r.statistic == pytest.approx(-float(ref["t"]), rel=1e-8)
        assert r.df == float(ref["df"])
        assert r.pvalue == pytest.approx(float(ref["p"]), rel=1e-8)
        assert r.estimate == pytest.approx(-float(ref["estimate"]), rel=1e-10)
    else:
        assert r.statistic == pytest.approx(float(ref["F"]), rel=1e-8)
        assert (r.df, r.df2) == (float(ref["df1"]), float(ref["df2"]))
        assert r.pvalue == pytest.approx(float(ref["pF"]), rel=1e-8)


def test_compare_groups_with_weights_uses_design_based_tests():
    data = pd.read_csv(REFERENCE / "compare_drivers.csv")
    data["gender"] = pd.Categorical(data["gender"], categories=["male", "female"])
    tab = compare_groups(data, ["y"], ["gender", "edu"], weights="w").table
    assert list(tab["test"]) == ["design_t", "design_wald_f"]
    assert tab["statistic"].iloc[0] == pytest.approx(-float(_WEIGHTED["y_by_gender"]["t"]), rel=1e-8)
    assert tab["statistic"].iloc[1] == pytest.approx(float(_WEIGHTED["y_by_edu"]["F"]), rel=1e-8)
    with pytest.raises(DataError, match="rank tests"):
        compare_groups(data, ["y"], ["gender"], weights="w", parametric=False)


def test_games_howell_far_tail_p_is_tiny_but_positive():
    """Well-separated groups: the studentized-range integral underflows to 0.0; the p-value
    reported is the Bonferroni bound, positive and within 1% of the exact tail where both are
    computable (checked against SciPy's integral at q where it still has digits)."""
    from scipy import stats

    from servicestudy.compare import _range_sf

    rng = np.random.default_rng(4)
    d = pd.DataFrame({"y": np.r_[rng.normal(0, 1, 60), rng.normal(8, 1, 60), rng.normal(16, 1, 60)],
                      "g": np.repeat(["a", "b", "c"], 60)})
    tab = games_howell(d, "y", "g").table
    assert (tab["pvalue"] > 0).all()
    assert (tab["pvalue"] < 1e-20).all()
    tab = tukey_hsd(d, "y", "g").table
    assert (tab["pvalue"] > 0).all()
    for q, df in [(8.0, 500.0), (10.0, 50.0), (12.0, 50.0)]:
        exact = stats.studentized_range.sf(q, 3, df)
        bound = 3 * 2 * stats.t.sf(q / np.sqrt(2), df)
        assert exact <= bound <= exact * 1.01
        want = exact if exact >= 1e-9 else bound
        assert _range_sf(q, 3, df) == pytest.approx(want, rel=1e-12)
    assert stats.studentized_range.sf(20.0, 3, 50.0) == 0.0  # why the bound is needed
    assert _range_sf(20.0, 3, 50.0) > 0
