"""Item analysis against R (tests/reference/items.R: psych::alpha, quantile type 6, t.test)."""

from __future__ import annotations

import pandas as pd
import pytest

from refs import REFERENCE, load_reference
from servicestudy import DataError, item_analysis

REF = load_reference("items.json")
DATA = pd.read_csv(REFERENCE / REF["data_file"])


@pytest.mark.parametrize("scale", sorted(REF["scales"]))
@pytest.mark.parametrize("equal_var", [True, False])
def test_item_analysis_matches_r(scale, equal_var):
    ref = REF["scales"][scale]
    res = item_analysis(DATA[ref["items"]], equal_var=equal_var)
    assert res.n_obs == ref["n"]
    assert (res.n_low, res.n_high) == (ref["n_low"], ref["n_high"])
    assert res.cut_low == pytest.approx(ref["cut_low"], rel=1e-12)
    assert res.cut_high == pytest.approx(ref["cut_high"], rel=1e-12)
    assert res.alpha == pytest.approx(ref["alpha"], rel=1e-10)
    kind = "student" if equal_var else "welch"
    tab = res.to_frame()
    for item, r in ref["item"].items():
        row = tab.loc[item]
        for col in ("mean", "sd", "mean_high", "mean_low", "r_drop", "alpha_if_deleted"):
            assert row[col] == pytest.approx(r[col], rel=1e-10), (item, col)
        assert row["statistic"] == pytest.approx(r[f"t_{kind}"], rel=1e-10)
        assert row["df"] == pytest.approx(r[f"df_{kind}"], rel=1e-10)
        # p-values around 1e-200: relative agreement of the t tail to 1e-6
        assert row["pvalue"] == pytest.approx(r[f"p_{kind}"], rel=1e-6)


def test_item_analysis_bad_input():
    x = DATA[["A1", "A2", "A3"]].dropna()
    with pytest.raises(DataError, match="fraction"):
        item_analysis(x, fraction=0.6)
    with pytest.raises(DataError, match="nan_policy"):
        item_analysis(x, nan_policy="pairwise")
    with pytest.raises(DataError, match="at least 3 items"):
        item_analysis(x[["A1", "A2"]])
    const = x.assign(A3=3.0)
    with pytest.raises(DataError, match="constant"):
        item_analysis(const)


def test_item_analysis_summary_tables():
    res = item_analysis(DATA[["C1", "C2", "C3", "C4", "C5"]])
    s = res.summary()
    assert list(s) == ["scale", "items"]
    assert s["scale"].loc[0, "n_items"] == 5
    assert list(s["items"].index) == ["C1", "C2", "C3", "C4", "C5"]


def test_cut_points_use_spss_haverage_quantiles():
    # totals 4,4,5,7,8,9,13,13,13,14: type-6 position 0.27 * 11 = 2.97 -> 4 + 0.97 * (5 - 4);
    # 0.73 * 11 = 8.03 -> 13 + 0.03 * (13 - 13) (type 7 would give 4.43 and 13)
    x = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3, 2, 4, 5, 1],
                      "b": [2, 2, 3, 5, 4, 3, 1, 4, 4, 2],
                      "c": [1, 3, 3, 4, 5, 2, 2, 5, 4, 1]})
    res = item_analysis(x)
    assert res.cut_low == pytest.approx(4.97, rel=1e-12)
    assert res.cut_high == pytest.approx(13.0, rel=1e-12)
    assert (res.n_low, res.n_high) == (2, 4)
