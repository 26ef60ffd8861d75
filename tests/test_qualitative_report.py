"""The qualitative half in the simulated wave and in the report (issue 15)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import servicestudy as ss
from conftest import ROOT
from servicestudy.privacy import mask_identifiers
from servicestudy.qualitative import code_themes
from servicestudy.textio import load_themes
from test_privacy import _leaks, make_identified_export
from test_qualitative import _interviews

THEMES = load_themes("k_station")


def test_rule_coding_recovers_simulated_theme_rates():
    n = 2500
    wave = ss.simulate(n, seed=15)
    truth = wave.truth["open_answers"]
    c = code_themes(wave.responses["suggestion"].map(mask_identifiers), THEMES)
    for theme, p in truth["theme_rate"].items():
        obs = c.codes[theme].mean()
        se = np.sqrt(p * (1 - p) / n)
        assert abs(obs - p) <= 4 * se, (theme, obs, p)
        # every phrase codes exactly its theme, so the realised counts are recovered exactly
        assert int(c.codes[theme].sum()) == truth["realised_counts"][theme]


def test_bundled_wave_open_answers_match_its_truth():
    truth = json.loads((ROOT / "data" / "raw" / "servicestudy_wave1_truth.json").read_text(encoding="utf-8"))
    oa = truth["open_answers"]
    cb = ss.load_codebook("k_station")
    raw = ss.read_export(ROOT / "data" / "raw" / "servicestudy_wave1.xlsx", cb)
    data = ss.code_responses(raw, cb).data
    c = code_themes(data["suggestion"].map(mask_identifiers), THEMES)
    assert {t: int(c.codes[t].sum()) for t in THEMES.ids} == oa["realised_counts"]
    n = len(data)
    for theme, p in oa["theme_rate"].items():
        assert abs(c.codes[theme].mean() - p) <= 4 * np.sqrt(p * (1 - p) / n), theme


def _artefacts(folder):
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.suffix in {".json", ".typ", ".html", ".tex", ".csv"}:
            out[str(p.relative_to(folder))] = p.read_text(encoding="utf-8")
        elif p.suffix in {".xlsx", ".docx"}:
            with zipfile.ZipFile(p) as z:
                out[str(p.relative_to(folder))] = "".join(
                    z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return out


@pytest.mark.slow
def test_text_section_masks_everything_and_is_deterministic(tmp_path):
    from servicestudy.report import prepare, run_section

    export = make_identified_export(tmp_path / "raw" / "wave_pii.xlsx", n=80)
    meta = _interviews(tmp_path / "raw")
    prep = prepare(export)
    runs = []
    for k in (1, 2):
        out = tmp_path / f"rep{k}"
        sec = run_section("text", prep, out, interviews=meta)
        assert sec.results["status"] == "ok"
        runs.append({p.name: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
        for name, text in _artefacts(out).items():
            assert _leaks(text) == [], name
    assert runs[0] == runs[1]
    res = json.loads((tmp_path / "rep1" / "results" / "text.json").read_text(encoding="utf-8"))
    assert [j["group"] for j in res["joint"]] == ["resourcing", "service_awareness", "wider_services", "participation"]
    assert set(res["tables"]) >= {"answer_themes", "joint_display", "interview_quotes"}
    assert set(res["figures"]) >= {"answer_themes", "answer_cooccurrence", "interview_themes"}


def test_text_section_without_interviews_says_why(tmp_path):
    from servicestudy.report import prepare, run_section

    prep = prepare(ROOT / "data" / "raw" / "servicestudy_wave1.xlsx")
    sec = run_section("text", prep, tmp_path, lang="en", interviews=None)
    assert sec.results["interview_themes"]["status"] == "not_computable"
    assert "no interview notes" in sec.results["interview_themes"]["message"]
    assert sec.results["answers"]["status"] == "ok"
    data = prep.data.drop(columns=["suggestion"])
    import dataclasses

    sec2 = run_section("text", dataclasses.replace(prep, data=data), tmp_path / "b", lang="zh", interviews=None)
    assert sec2.results["status"] == "not_computable"
