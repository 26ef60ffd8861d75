"""Analyses on the bundled simulated wave recover what the simulation put in (issues 4 and 5).

Issue 5, done-when: the drivers analysis recovers the simulation's true drivers (the largest
true weights rank first in relative importance). Issue 4, done-when: the library reports
reliability and validity for every construct of the bundled wave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import servicestudy as ss

ROOT = Path(__file__).resolve().parents[1]
WAVE = ROOT / "data" / "raw" / "servicestudy_wave1.xlsx"
TRUTH = ROOT / "data" / "raw" / "servicestudy_wave1_truth.json"


@pytest.fixture(scope="module")
def analysed():
    cb = ss.load_codebook("k_station")
    coded = ss.code_responses(ss.read_export(WAVE, cb), cb)
    kept = ss.apply_exclusions(coded, ss.screen(coded, cb)).kept.data
    return cb, kept


@pytest.mark.parametrize("method", ["dominance", "relative_weights"])
def test_largest_true_weights_rank_first(analysed, method):
    cb, kept = analysed
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    true_w = truth["implied"]["latent"]["weights"]
    true_order = sorted(true_w, key=true_w.get, reverse=True)
    assert true_order[:2] == ["attitude", "efficiency"]  # the calibration the issue asks for
    preds = [f"score_{d}" for d in cb.dimensions]
    res = ss.relative_importance(kept, "score_overall", preds, method=method, n_boot=0)
    est = res.table["weight"].sort_values(ascending=False)
    est_order = [name.removeprefix("score_") for name in est.index]
    assert est_order[:2] == true_order[:2]
    # and the two true leaders carry more than half of the explained variance
    assert est.iloc[:2].sum() / res.r2 > 0.5


def test_reliability_and_validity_for_every_construct_of_the_bundled_wave(analysed):
    """Issue 4, done-when: the library reports reliability and validity for every construct."""
    cb, kept = analysed
    rep = ss.reliability_report(kept, cb, missing="fiml")
    table = rep.to_frame()
    assert list(table.index) == list(cb.constructs)
    for col in ("alpha", "omega_total", "cr", "ave"):
        assert table[col].between(0, 1).all(), col
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    # sample alphas near the population alphas implied by the model for the 1-5 codes
    # (n about 367: the sampling SD of alpha is about .02, so 0.08 is four SDs)
    for construct, pop in truth["implied"]["ordinal"]["alpha"].items():
        assert table.loc[construct, "alpha"] == pytest.approx(pop, abs=0.08), construct
