"""describe_items against R (tests/reference/compare_drivers.R -> compare_drivers.json)."""

from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pandas as pd
import pytest

from refs import REFERENCE, load_reference
from servicestudy.describe import describe_items
from servicestudy.errors import DataError

REL = 1e-8
QS = ["q1", "q2", "q3", "q4"]


@pytest.fixture(scope="module")
def ref() -> dict:
    return load_reference("compare_drivers.json")["describe"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "compare_drivers.csv")


@pytest.fixture(scope="module")
def codebook():
    """A minimal stand-in with the attributes describe_items reads from a Codebook."""
    scale = NS(codes=(1.0, 2.0, 3.0, 4.0, 5.0), min=1.0, max=5.0)
    items = {q: NS(id=q, scale="a5", construct="c", reverse=(q == "q4"), role="likert",
                   zh=f"题{q}", en=f"Item {q}") for q in QS}
    return NS(scales={"a5": scale}, items=items, min_answered=0.5,
              constructs={"c": NS(id="c", items=tuple(QS), role="dimension", zh="服务内容",
                                  en="Content")})


def _check(row: pd.Series, exp: dict) -> None:
    assert row.n_obs == exp["n"]
    assert row["mean"] == pytest.approx(exp["mean"], rel=REL)
    assert row.sd == pytest.approx(exp["sd"], rel=REL)
    assert row.std_error == pytest.approx(exp["se"], rel=REL)
    assert row.ci_low == pytest.approx(exp["ci_low"], rel=REL)
    assert row.ci_high == pytest.approx(exp["ci_high"], rel=REL)


def test_unweighted_matches_t_test(ref, data, codebook):
    r = describe_items(data, codebook, items=QS, reverse=True)
    t = r.table
    _check(t.loc["q1"], ref["q1"])
    _check(t.loc["q3"], ref["q3"])
    _check(t.loc["q4"], ref["q4_reversed"])
    _check(t.loc["c"], ref["construct"])
    assert t.loc["c", "kind"] == "construct"
    assert t.loc["c", "label_zh"] == "服务内容"
    assert t.loc["q1", "n_missing"] == 3
    wide = r.distribution_wide("count")
    for code, count in ref["q1_counts"].items():
        assert wide.loc["q1", float(code)] == count
    pct = r.distribution_wide("percent").loc["q1"]
    assert pct.sum() == pytest.approx(100)
    assert t.loc["q1", "top2_pct"] == pytest.approx(
        100 * (ref["q1_counts"]["4"] + ref["q1_counts"]["5"]) / ref["q1"]["n"], rel=1e-12)


def test_weighted_matches_svymean(ref, data, codebook):
    r = describe_items(data, codebook, items=QS, reverse=True, weights="w")
    for var, key in [("q1", "weighted_q1"), ("c", "weighted_construct")]:
        exp = ref[key]
        row = r.table.loc[var]
        assert row["mean"] == pytest.approx(exp["mean"], rel=REL)
        assert row.std_error == pytest.approx(exp["se"], rel=REL)
        assert row.ci_low == pytest.approx(exp["ci_low"], rel=REL)
        assert row.ci_high == pytest.approx(exp["ci_high"], rel=REL)
    assert r.weighted


def test_without_codebook_and_preversed_input(ref, data):
    d = data.assign(q4=6 - data["q4"])
    r = describe_items(d, items=QS, codes=[1, 2, 3, 4, 5])
    _check(r.table.loc["q4"], ref["q4_reversed"])
    assert list(r.table["kind"].unique()) == ["item"]
    # default codes are the observed values
    assert describe_items(d, items=["q1"]).table.loc["q1", "top2_pct"] == pytest.approx(
        r.table.loc["q1", "top2_pct"])


def test_bundled_wave_with_real_codebook():
    raw_file = REFERENCE.parents[1] / "data" / "raw" / "servicestudy_wave1.xlsx"
    # the bundled wave is tracked in git: its absence is a broken checkout, not a skip
    assert raw_file.is_file(), raw_file
    from servicestudy.codebook import load_codebook
    from servicestudy.coding import code_responses
    from servicestudy.io import read_export

    cb = load_codebook("k_station")
    coded = code_responses(read_export(raw_file, cb), cb)
    r = describe_items(coded)
    t = r.table
    for cid in cb.dimensions + cb.outcomes:
        score = coded.scores[cid].dropna()
        assert t.loc[cid, "mean"] == pytest.approx(score.mean(), rel=1e-12)
        assert t.loc[cid, "n_obs"] == len(score)
    for item in cb.items_of("content"):
        v = coded.data[item].dropna()
        assert t.loc[item, "sd"] == pytest.approx(v.std(ddof=1), rel=1e-12)
    assert "IMP_content" not in t.index  # importance items are not satisfaction items


def test_bad_input(data, codebook):
    with pytest.raises(DataError, match="'nope'"):
        describe_items(data, items=["q1", "nope"])
    with pytest.raises(DataError, match="items="):
        describe_items(data)
    with pytest.raises(DataError, match="not a valid code"):
        describe_items(data.assign(q1=data["q1"] * 2), codebook, items=QS)
    with pytest.raises(DataError, match="weights"):
        describe_items(data, items=["q1"], weights=np.zeros(len(data)))
    with pytest.raises(DataError, match="not numeric"):
        describe_items(data, items=["edu"])
