"""The report pipeline: numbers in the PDF come from the results, the build is deterministic,
sections that cannot be computed say so, and the findings follow their rules."""

from __future__ import annotations

import importlib
import json
import shutil
import sys

import matplotlib

matplotlib.use("Agg")

import pytest

from conftest import ROOT
from servicestudy import report
from servicestudy.cli import main as cli_main

simulate = importlib.import_module("servicestudy.simulate")



def _wave(tmp_path_factory, seed: int, n: int = 120):
    folder = tmp_path_factory.mktemp(f"wave{seed}")
    wave = simulate.simulate(n, seed=seed)
    path = simulate.write_wenjuanxing(wave.responses, folder / f"wave_{seed}.xlsx")
    return report.prepare(path)


@pytest.fixture(scope="module")
def two_reports(tmp_path_factory):
    """Two simulated waves (different seeds), sample + satisfaction sections only, English PDF."""
    out = {}
    for seed in (11, 12):
        prep = _wave(tmp_path_factory, seed)
        folder = tmp_path_factory.mktemp(f"report{seed}")
        for name in ("sample", "satisfaction"):
            report.run_section(name, prep, folder, lang="en", strict=True)
        report.collect(folder, codebook=prep.codebook)
        pdf = report.build_pdf(folder, lang="en")
        out[seed] = (folder, pdf)
    return out


def _text(pdf) -> str:
    """The PDF's text with whitespace normalised (pypdf: a locked test dependency)."""
    import pypdf

    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages).split())


def test_numbers_in_the_text_come_from_the_results(two_reports):
    texts, sentences = {}, {}
    for seed, (folder, pdf) in two_reports.items():
        data = json.loads((folder / "build" / "report_data.json").read_text(encoding="utf-8"))
        sat = data["sections"]["satisfaction"]
        low, high = sat["ranking"][0], sat["ranking"][-1]
        m = sat["means"]
        text = _text(pdf)
        # the sentence of section 4 is built from these JSON values, rounded at render time
        expected = (f"(M = {m[high]['estimate']:.2f}, 95% CI {m[high]['ci_low']:.2f}–{m[high]['ci_high']:.2f})")
        assert expected in text
        assert f"(M = {m[low]['estimate']:.2f}, 95% CI {m[low]['ci_low']:.2f}–{m[low]['ci_high']:.2f})" in text
        n = data["sections"]["sample"]["n_analysed"]
        assert f"N = {n}" in text
        texts[seed] = text
        sentences[seed] = expected
    # different waves, different numbers in the text
    assert sentences[11] != sentences[12]
    assert sentences[11] not in texts[12]


def test_sections_not_computed_say_so(two_reports):
    folder, pdf = two_reports[11]
    text = _text(pdf)
    # reliability, groups and drivers were not run for this report
    assert text.count("Not available yet") >= 3
    assert "did not write results/drivers.json" in text
    data = json.loads((folder / "build" / "report_data.json").read_text(encoding="utf-8"))
    assert data["sections"]["drivers"]["status"] == "missing"


def test_pdf_build_is_byte_identical(two_reports):
    folder, pdf = two_reports[11]
    first = pdf.read_bytes()
    again = report.build_pdf(folder, lang="en").read_bytes()
    assert first == again
    assert b"CreationDate" not in first  # document(date: none)
    assert first.startswith(b"%PDF-")


def test_results_are_rewritten_identically(two_reports, tmp_path):
    folder, _ = two_reports[12]
    before = (folder / "results" / "satisfaction.json").read_bytes()
    prep_info = json.loads((folder / "build" / "report_data.json").read_text(encoding="utf-8"))
    assert prep_info["provenance"]["seed"] == report.SEED
    figures_before = (folder / "figures" / "dimension_means.en.png").read_bytes()
    # recompute from the same export into a fresh folder: identical bytes
    export = next(p for p in folder.parent.glob("wave12*/*.xlsx"))
    prep = report.prepare(export)
    report.run_section("satisfaction", prep, tmp_path, lang="en")
    assert (tmp_path / "results" / "satisfaction.json").read_bytes() == before
    assert (tmp_path / "figures" / "dimension_means.en.png").read_bytes() == figures_before


def test_simulated_wave_is_flagged_only_with_its_truth_file(tmp_path):
    export = tmp_path / "wave.xlsx"
    export.write_bytes(b"x")
    assert not report._is_simulated(export)
    (tmp_path / "wave_truth.json").write_text("{}")
    assert report._is_simulated(export)


def test_missing_module_is_reported_not_faked(tmp_path_factory, monkeypatch):
    prep = _wave(tmp_path_factory, 13, n=80)
    monkeypatch.setitem(sys.modules, "servicestudy.drivers", None)
    sec = report.section_drivers(prep, langs=("en",))
    assert sec.results["ols"] == {"status": "missing", "message": "the module servicestudy.drivers has not landed yet"}
    assert sec.results["ipa"]["status"] == "missing"
    assert "ols" not in sec.tables
    assert "ipa" not in sec.figures
    monkeypatch.setitem(sys.modules, "servicestudy.compare", None)
    groups = report.section_groups(prep, langs=("en",))
    assert groups.results["tests"]["status"] == "missing"


def test_strict_mode_raises(tmp_path_factory):
    prep = _wave(tmp_path_factory, 14, n=60)
    bad = report.Prepared(data=prep.data.drop(columns=["IMP_content", "IMP_attitude", "IMP_efficiency",
                                                       "IMP_forms"]),
                          flow=prep.flow, codebook=prep.codebook, info=prep.info)
    sec = report.section_drivers(bad, langs=("en",))
    assert sec.results["ipa"]["status"] == "error"
    assert "stated-importance" in sec.results["ipa"]["message"]
    with pytest.raises(ValueError, match="stated-importance"):
        report.section_drivers(bad, langs=("en",), strict=True)


def _sat(means: dict[str, float]) -> dict:
    ranking = sorted(means, key=means.get)
    return {"status": "ok", "means": {d: {"estimate": v, "ci_low": v - 0.1, "ci_high": v + 0.1} for d, v in means.items()},
            "ranking": ranking, "lowest": ranking[:2], "highest": ranking[-1]}


def test_findings_follow_the_rules():
    sat = _sat({"content": 3.5, "attitude": 3.9, "efficiency": 3.4, "forms": 3.0, "participation": 2.8})
    drivers = {"status": "ok", "ols": {"status": "missing"},
               "ipa": {"status": "ok", "concentrate_here": ["efficiency"],
                       "table": {d: {"quadrant": "concentrate_here" if d == "efficiency" else "low_priority",
                                     "priority_rank": 1} for d in sat["means"]}}}
    found = {f["area"]: f for f in report.findings({"satisfaction": sat, "drivers": drivers})}
    assert list(found) == ["resourcing", "awareness", "technology", "participation"]
    assert found["resourcing"]["status"] == "priority"  # efficiency: concentrate here
    assert found["resourcing"]["reasons"] == ["concentrate_here"]
    assert found["participation"]["status"] == "priority"  # lowest dimension
    assert found["participation"]["reasons"] == ["lowest"]
    assert found["technology"]["status"] == "priority"  # forms: second lowest, efficiency: IPA
    assert found["technology"]["reasons"] == ["concentrate_here", "lowest"]
    assert found["awareness"]["status"] == "strength"  # attitude is the highest
    ev = found["awareness"]["evidence"][0]
    assert ev["dimension"] == "attitude"
    assert ev["rank_from_lowest"] == 5
    assert ev["quadrant"] == "low_priority"
    assert "beta" not in ev  # the regression is missing: no number is made up


def test_findings_without_ipa_use_only_the_ranking():
    sat = _sat({"content": 3.1, "attitude": 3.9, "efficiency": 3.6, "forms": 3.5, "participation": 3.0})
    found = {f["area"]: f for f in report.findings({"satisfaction": sat, "drivers": {"status": "missing"}})}
    assert found["resourcing"]["status"] == "priority"  # content is second lowest
    assert found["awareness"]["status"] == "strength"
    assert found["technology"]["status"] == "priority"
    assert all("quadrant" not in e for f in found.values() for e in f["evidence"])
    assert report.findings({"satisfaction": {"status": "missing"}}) == []


def test_lang_is_checked():
    with pytest.raises(ValueError, match="'lang' parameter of report must be one of"):
        report._check_lang("fr")
    assert report._check_lang("both") == ("en", "zh")


def test_cli_report_on_a_missing_file(tmp_path, capsys):
    code = cli_main(["report", str(tmp_path / "nope.xlsx"), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("servicestudy report: error:")
    assert len(err.strip().splitlines()) == 1


def test_cli_runs_every_section_strictly(tmp_path, capsys):
    """The whole pipeline through the CLI on a small wave: every section computes (strict mode
    raises on any failure), the PDF is written and has no "not available" box."""
    wave = simulate.simulate(150, seed=21)
    export = simulate.write_wenjuanxing(wave.responses, tmp_path / "wave.xlsx")
    # interview notes beside the export are picked up by the open-answers section (issue 15)
    shutil.copytree(ROOT / "data" / "raw" / "interviews", tmp_path / "interviews")
    code = cli_main(["report", str(export), "--out", str(tmp_path / "out"), "--lang", "en", "--strict", "--quiet"])
    assert code == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "report.pdf")
    data = json.loads((tmp_path / "out" / "build" / "report_data.json").read_text(encoding="utf-8"))
    for name, sec in data["sections"].items():
        assert sec["status"] == "ok", name
        for part in sec.values():
            if isinstance(part, dict) and "status" in part:
                assert part["status"] == "ok", (name, part)
    text = _text(tmp_path / "out" / "report.pdf")
    assert "Not available yet" not in text
    assert "Could not be computed" not in text
    assert len(data["findings"]) == 4


def test_template_number_formats(tmp_path):
    """The Typst formatting helpers round like Python's format() and follow APA style."""
    import typst

    (tmp_path / "format.typ").write_text(report.template_text("format.typ"), encoding="utf-8")
    cases = [("fmt(3.14159)", "3.14"), ("fmt(-1.005, d: 1)", "−1.0"), ("fmt(-0.004)", "0.00"),
             ("fmt(12, d: 0)", "12"), ("fmt(0.05, d: 3)", "0.050"), ("fr(0.8149)", ".81"),
             ("fr(-0.456)", "−.46"), ("fr(-0.0456, d: 3)", "−.046"), ("fr(1.0)", "1.00"),
             ("fp(0.0004)", "p < .001"), ("fp(0.04449)", "p = .044"), ("fp(1.0)", "p = 1.000"),
             ("pct(0.1234)", "12.3%"), ("n(367.0)", "367"), ("fmt(none)", "–")]
    body = "\n\n".join(f"[{i}] #{expr}" for i, (expr, _) in enumerate(cases))
    (tmp_path / "t.typ").write_text('#import "format.typ": *\n' + body, encoding="utf-8")
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(typst.compile(str(tmp_path / "t.typ"), root=str(tmp_path), font_paths=report.font_paths(),
                                  ignore_system_fonts=True))
    import pypdf

    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    got = dict(line.strip().split("] ", 1) for line in text.splitlines() if line.strip().startswith("["))
    for i, (_expr, expected) in enumerate(cases):
        assert got[f"[{i}"] == expected, cases[i]
