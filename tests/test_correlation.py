"""Correlation table against R (tests/reference/correlation.R: psych::corr.test, cor.test)."""

from __future__ import annotations

import pandas as pd
import pytest

from refs import REFERENCE, load_reference
from servicestudy import DataError, correlation_table

REF = load_reference("correlation.json")
DATA = pd.read_csv(REFERENCE / REF["data_file"])[REF["variables"]]


def _pairs(res):
    return res.to_frame().set_index(["var1", "var2"])


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_table_matches_corr_test(method):
    res = correlation_table(DATA, method=method)
    for v, d in REF["descriptives"].items():
        row = res.descriptives.loc[v]
        assert row["mean"] == pytest.approx(d["mean"], rel=1e-12)
        assert row["sd"] == pytest.approx(d["sd"], rel=1e-12)
        assert row["n_obs"] == d["n"]
    tab = _pairs(res)
    assert len(tab) == len(REF["methods"][method]) == 15
    for p in REF["methods"][method]:
        row = tab.loc[(p["var1"], p["var2"])]
        assert row["n_obs"] == p["n"]
        assert row["estimate"] == pytest.approx(p["r"], rel=1e-10, abs=1e-14)
        assert row["statistic"] == pytest.approx(p["t"], rel=1e-9)
        assert row["pvalue"] == pytest.approx(p["p"], rel=1e-8)
        assert row["ci_low"] == pytest.approx(p["ci_low"], rel=1e-9)
        assert row["ci_high"] == pytest.approx(p["ci_high"], rel=1e-9)
        if method == "pearson":
            ct = p["cor_test"]
            assert row["df"] == ct["df"]
            assert row["pvalue"] == pytest.approx(ct["p"], rel=1e-8)
            assert row["ci_low"] == pytest.approx(ct["ci_low"], rel=1e-9)


def test_listwise_uses_complete_rows():
    res = correlation_table(DATA, nan_policy="listwise")
    n = int(DATA.dropna().shape[0])
    assert set(res.pairs["n_obs"]) == {n}
    assert set(res.descriptives["n_obs"]) == {n}


def test_rendered_table_lower_triangle_with_stars():
    res = correlation_table(DATA)
    t = res.to_table().formatted()
    assert list(t.columns) == ["M", "SD", "1", "2", "3", "4", "5", "6"]
    assert t.iloc[0, 2] == "—"
    assert t.iloc[0, 3] == ""
    # A2 with A1: r = .34, p < .001
    assert t.iloc[1, 2] == ".34***"
    # C1 with A1: r = -.03, p = .14: no star
    assert t.iloc[2, 2] == "−.03"
    zh = res.to_table(lang="zh", ci=True)
    assert list(zh.formatted().columns[:2]) == ["均值", "标准差"]
    assert "置信区间" in zh.note
    assert zh.note_label == "注："
    assert "[" in zh.formatted().iloc[1, 2]


def test_correlation_bad_input():
    with pytest.raises(DataError, match="method"):
        correlation_table(DATA, method="kendall")
    with pytest.raises(DataError, match="constant"):
        correlation_table(DATA.assign(A1=1.0))
    with pytest.raises(DataError, match="not numeric"):
        correlation_table(DATA.assign(A1="x"))
    with pytest.raises(DataError, match="conf_level"):
        correlation_table(DATA, conf_level=95)
