"""Tests for servicestudy.simulate: recovery of the known truth, defect rates, determinism,
fidelity of the Wenjuanxing writer, and the bundled wave.

Tolerances. Sampling checks use |estimate - truth| <= 4.5 standard errors (two-sided false
alarm probability about 7e-6 per comparison, so a few dozen comparisons per run stay far below
one false alarm in ten thousand runs). The SE is computed in the test from the sample itself
(binomial SE for rates, the OLS SE for regression weights, a batch-means SE for alpha). The
expected values of the ordinal scores are *exact* population values of the model
(``implied_population``: bivariate normal orthant probabilities mixed over the demographic
cells), so they already include the attenuation caused by coarse 1-5 coding: no extra slack is
needed for it. The closed form itself is checked against numerical integration at 1e-9.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from servicestudy.cli import main as cli_main
from servicestudy.codebook import load_codebook
from servicestudy.errors import DataError
from servicestudy.simulate import (
    DEFECT_TYPES,
    DIMENSIONS,
    NO_DEFECTS,
    SimulationConfig,
    _bvn_upper,
    implied_population,
    simulate,
    wenjuanxing_table,
    write_sav,
    write_wenjuanxing,
)

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "raw" / "servicestudy_wave1.xlsx"
BUNDLED_TRUTH = ROOT / "data" / "raw" / "servicestudy_wave1_truth.json"
REVERSED = ("CON4", "ATT3", "FRM4")
Z = 4.5  # see the module docstring

CB = load_codebook("k_station")


def _scored(responses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Items in construct direction (6 = don't know -> NaN) and mean scores, computed here."""
    items = [i for c in [*DIMENSIONS, "overall"] for i in CB.items_of(c)]
    x = responses[items].astype(float).where(lambda d: d != 6)
    for it in REVERSED:
        x[it] = 6 - x[it]
    scores = pd.DataFrame({c: x[CB.items_of(c)].mean(axis=1) for c in [*DIMENSIONS, "overall"]})
    return x, scores


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS with intercept: slopes and their classical SEs."""
    A = np.column_stack([np.ones(len(y)), X])
    b, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ b
    s2 = resid @ resid / (len(y) - A.shape[1])
    cov = s2 * np.linalg.inv(A.T @ A)
    return b[1:], np.sqrt(np.diag(cov))[1:]


def _alpha(x: np.ndarray) -> float:
    """Cronbach's alpha from the covariance formula k/(k-1) (1 - tr C / 1'C1)."""
    C = np.cov(x, rowvar=False)
    k = C.shape[0]
    return k / (k - 1) * (1 - np.trace(C) / C.sum())


# --- the closed form -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("h", "k", "rho"),
    [(0.3, -0.7, 0.45), (-1.2, -0.4, 0.8), (1.5, 2.0, -0.3), (-0.2, 0.9, 0.05), (2.3, -2.1, 0.66),
     (0.0, 0.5, 0.3), (-0.8, -0.8, 0.95)],
)
def test_bivariate_normal_matches_numerical_integration(h, k, rho):
    # Phi2(h, k; rho) = int_{-inf}^{h} phi(x) Phi((k - rho x) / sqrt(1 - rho^2)) dx
    ref, _ = integrate.quad(lambda x: stats.norm.pdf(x) * stats.norm.cdf((k - rho * x) / math.sqrt(1 - rho**2)),
                            -np.inf, h, epsabs=1e-14, epsrel=1e-13)
    got = float(_bvn_upper(np.array(h), np.array(k), np.array(rho)))
    assert got == pytest.approx(ref, abs=1e-9)


def test_implied_population_continuous_parts_closed_form():
    pop = implied_population()
    cfg = SimulationConfig()
    w = np.array([cfg.sat_weights[d] for d in DIMENSIONS])
    cov = np.array(pop["latent"]["cov"])
    # Var(S) = w' Cov(eta) w + sigma_u^2 = 1 by construction
    assert w @ cov @ w + pop["latent"]["sat_residual_sd"] ** 2 == pytest.approx(1.0, rel=1e-12)
    assert pop["latent"]["r2"] == pytest.approx(w @ cov @ w, rel=1e-12)
    # coarse coding attenuates: alpha of the 1-5 codes is below the continuous alpha
    for c in DIMENSIONS:
        assert pop["ordinal"]["alpha"][c] < pop["continuous"]["alpha"][c]
    # the calibration the thesis reported: content, forms, participation lowest;
    # attitude and efficiency weigh most
    means = pop["ordinal"]["score_mean"]
    low = {"content", "forms", "participation"}
    assert max(means[c] for c in low) < min(means["attitude"], means["efficiency"])
    beta = pop["ordinal"]["beta"]
    assert min(beta["attitude"], beta["efficiency"]) > max(beta[c] for c in low)
    assert min(w[1], w[2]) > max(w[0], w[3], w[4])


# --- recovery at large n ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_clean():
    return simulate(20_000, seed=11, config=NO_DEFECTS)


def test_recovery_latent_weights(big_clean):
    lat = big_clean.latent
    b, se = _ols(lat["overall"].to_numpy(), lat[list(DIMENSIONS)].to_numpy())
    w = np.array([SimulationConfig().sat_weights[d] for d in DIMENSIONS])
    assert np.all(np.abs(b - w) <= Z * se), (b, w, se)


def test_recovery_group_effects_on_latents(big_clean):
    r, lat = big_clean.responses, big_clean.latent
    nonlocal_ = (r["residence"].cat.codes == 1).to_numpy()
    oldest = (r["age_group"].cat.codes == 4).to_numpy()
    youngest = (r["age_group"].cat.codes == 0).to_numpy()
    for dim, g1, g0, shift in (("attitude", nonlocal_, ~nonlocal_, -0.25),
                               ("participation", nonlocal_, ~nonlocal_, -0.30),
                               ("content", nonlocal_, ~nonlocal_, 0.0),
                               ("forms", oldest, youngest, -0.40 - 0.15)):
        a, b = lat.loc[g1, dim].to_numpy(), lat.loc[g0, dim].to_numpy()
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean() - shift) <= Z * se, dim


def test_recovery_group_mean_shifts(big_clean):
    # the latent mean of each respondent's demographic cell, rebuilt here from the config:
    # regressing eta on it must give slope 1 (a wrongly scaled effect would not)
    cfg = SimulationConfig()
    r, lat = big_clean.responses, big_clean.latent
    mu = np.tile([cfg.latent_mean[d] for d in DIMENSIONS], (len(r), 1))
    for var, effects in cfg.group_effects.items():
        codes = r[var].cat.codes.to_numpy() + 1
        for code, shifts in effects.items():
            for dim, value in shifts.items():
                mu[codes == code, DIMENSIONS.index(dim)] += value
    for j, dim in enumerate(DIMENSIONS):
        if np.ptp(mu[:, j]) == 0:
            assert abs(lat[dim].mean() - mu[0, j]) <= Z * lat[dim].std() / math.sqrt(len(r))
            continue
        b, se = _ols(lat[dim].to_numpy(), mu[:, [j]])
        assert abs(b[0] - 1) <= Z * se[0], (dim, b, se)


def test_recovery_item_means(big_clean):
    x, _ = _scored(big_clean.responses)
    pop = big_clean.truth["implied"]["ordinal"]
    for item in x.columns:
        col = x[item].to_numpy()
        assert abs(col.mean() - pop["item_mean"][item]) <= Z * col.std(ddof=1) / math.sqrt(len(col)), item


def test_recovery_score_weights(big_clean):
    # the OLS weights of the overall score on the five dimension scores converge to the exact
    # population projection of the ordinal scores (attenuated by measurement error and coarse
    # coding, both included in the implied values)
    _, s = _scored(big_clean.responses)
    b, se = _ols(s["overall"].to_numpy(), s[list(DIMENSIONS)].to_numpy())
    beta = np.array([big_clean.truth["implied"]["ordinal"]["beta"][d] for d in DIMENSIONS])
    assert np.all(np.abs(b - beta) <= Z * se), (b, beta, se)
    # and they are visibly attenuated relative to the latent weights for the strong drivers
    w = np.array([SimulationConfig().sat_weights[d] for d in DIMENSIONS])
    assert beta[1] < w[1]
    assert beta[2] < w[2]


def test_recovery_alpha(big_clean):
    x, _ = _scored(big_clean.responses)
    pop = big_clean.truth["implied"]["ordinal"]["alpha"]
    for c in [*DIMENSIONS, "overall"]:
        arr = x[CB.items_of(c)].to_numpy()
        est = _alpha(arr)
        # batch-means SE: 20 batches of 1000; the SE of the full-sample alpha is sd/sqrt(20)
        batches = np.array([_alpha(b) for b in np.array_split(arr, 20)])
        se = batches.std(ddof=1) / math.sqrt(len(batches))
        assert abs(est - pop[c]) <= Z * se, (c, est, pop[c], se)


# --- defects and missing data ----------------------------------------------------------------


@pytest.fixture(scope="module")
def big_defects():
    return simulate(20_000, seed=12)


def _within(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= Z * math.sqrt(n * p * (1 - p))


def test_defect_rates(big_defects):
    cfg = SimulationConfig()
    d, n = big_defects.defects, len(big_defects.defects)
    careless = cfg.straightliner_rate + cfg.random_rate
    expected = {
        "straightliner": cfg.straightliner_rate, "random": cfg.random_rate,
        "speeder": cfg.speeder_rate, "duplicate": cfg.duplicate_rate,
        # attention failures are drawn among respondents who are not already careless
        "attention_fail": cfg.attention_fail_rate * (1 - careless),
    }
    for k, p in expected.items():
        assert _within(int(d[k].sum()), n, p), (k, int(d[k].sum()), n * p)
    assert list(d["defects"].unique()) != [""]
    assert set("+".join(d["defects"]).split("+")) - {""} <= set(DEFECT_TYPES)


def test_defects_look_like_their_kind(big_defects):
    r, d = big_defects.responses, big_defects.defects
    likert = [i for c in DIMENSIONS for i in CB.items_of(c)]
    sl = d["straightliner"].to_numpy()
    answers = r[likert].to_numpy(dtype=float)
    assert np.all(np.nanstd(answers[sl], axis=1) == 0)
    sp = (d["speeder"] & ~d["duplicate"]).to_numpy()  # a duplicate's duration is jittered
    assert r.loc[sp, "duration_s"].max() <= 70 < r.loc[(d["defects"] == "").to_numpy(), "duration_s"].min()
    # attention check: straight-liners who chose "不同意" pass it; injected failures never do
    assert d.loc[d["attention_fail"], "fails_attention"].all()
    clean = (d["defects"] == "").to_numpy()
    assert not d.loc[clean, "fails_attention"].any()
    assert (r.loc[clean, "ATTN1"] == 2).all()


def test_duplicates_are_copies_minutes_apart(big_defects):
    r, d = big_defects.responses.set_index("resp_id"), big_defects.defects
    dups = d.index[d["duplicate"]]
    assert len(dups) > 100
    answer_cols = [c for c in r.columns if c not in ("submit_time", "duration_s")]
    for rid in dups[:50]:
        orig = d.loc[rid, "duplicate_of"]
        a, b = r.loc[rid, answer_cols], r.loc[orig, answer_cols]
        assert a.equals(b), rid
        gap = (r.loc[rid, "submit_time"] - r.loc[orig, "submit_time"]).total_seconds()
        assert 90 <= gap < 900
    assert (d.loc[~d["duplicate"], "duplicate_of"] == 0).all()


def test_missing_and_dont_know_rates(big_defects):
    cfg = SimulationConfig()
    r, d = big_defects.responses, big_defects.defects
    n = len(r)
    ok = ~(d["straightliner"] | d["random"]).to_numpy()
    # MCAR items (not in the MAR set, no special don't-know rate), pooled
    plain = [i for c in DIMENSIONS for i in CB.items_of(c)
             if i not in cfg.mar_items and i not in cfg.dont_know_items]
    block = r[plain].to_numpy(dtype=float)
    assert _within(int(np.isnan(block).sum()), block.size, cfg.mcar_rate)
    # don't know (6), only among attentive respondents; MCAR blanks overwrite a few
    blk = block[ok]
    assert _within(int((blk == 6).sum()), blk.size, cfg.dont_know_rate * (1 - cfg.mcar_rate))
    assert _within(int((r.loc[ok, "PAR4"] == 6).sum()), int(ok.sum()),
                   cfg.dont_know_items["PAR4"] * (1 - cfg.mcar_rate))
    # MAR: the online-channel items are skipped more often by the oldest group
    age = r["age_group"].cat.codes.to_numpy() + 1
    for item in cfg.mar_items:
        miss = r[item].isna().to_numpy()
        for group in (1, 5):
            sel = ok & (age == group)
            p = 1 - (1 - cfg.mcar_rate) * (1 - cfg.mar_rate.get(group, 0.0))
            assert _within(int(miss[sel].sum()), int(sel.sum()), p), (item, group)
    assert n == 20_000


# --- determinism, options, errors --------------------------------------------------------------


def test_same_seed_same_output_different_seed_different(tmp_path):
    a, b, c = simulate(150, seed=5), simulate(150, seed=5), simulate(150, seed=6)
    pd.testing.assert_frame_equal(a.responses, b.responses)
    pd.testing.assert_frame_equal(a.defects, b.defects)
    assert a.truth == b.truth
    assert not a.responses.equals(c.responses)
    write_wenjuanxing(a.responses, tmp_path / "a.xlsx")
    write_wenjuanxing(b.responses, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_metadata_formats_and_reserved_ips():
    r = simulate(300, seed=3).responses
    assert r["resp_id"].tolist() == list(range(1, 301))
    assert r["submit_time"].is_monotonic_increasing
    assert r["submit_time"].min() >= pd.Timestamp("2021-11-15")
    assert r["submit_time"].max() < pd.Timestamp("2021-12-14")
    ip_re = re.compile(r"^(192\.0\.2|198\.51\.100|203\.0\.113)\.(\d{1,3})\([^()-]+-[^()-]+\)$")
    for ip in r["ip"]:
        m = ip_re.match(ip)
        assert m, ip
        assert 1 <= int(m.group(2)) <= 254, ip
    assert set(r["source"]) <= {"手机提交", "微信", "链接"}


def test_identifiers_only_when_asked():
    phone = re.compile(r"1\d{10}")
    plain = simulate(2000, seed=4).responses["suggestion"]
    assert not plain.str.contains(phone).any()
    fake = simulate(2000, seed=4, with_identifiers=True).responses["suggestion"]
    hits = fake[fake.str.contains(phone) | fake.str.contains("身份证号")]
    assert len(hits) > 10
    assert all(("0000" in s) for s in hits)
    assert (plain == "").mean() == pytest.approx(SimulationConfig().suggestion_empty_rate, abs=0.05)


def test_bad_options():
    with pytest.raises(DataError, match="unknown simulation parameter"):
        simulate(10, config={"no_such_rate": 0.1})
    with pytest.raises(DataError, match="rate in"):
        simulate(10, config={"speeder_rate": 1.5})
    with pytest.raises(DataError, match="positive integer"):
        simulate(0)
    with pytest.raises(DataError, match="'download' parameter"):
        wenjuanxing_table(simulate(5, seed=1).responses, download="numbers")


# --- the writer: fidelity to Wenjuanxing -------------------------------------------------------


def _rows(path: Path) -> list[list]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_writer_layout_matches_real_wenjuanxing_exports(tmp_path, fixtures_dir):
    import xlrd

    real_text = xlrd.open_workbook(str(fixtures_dir / "wenjuanxing" / "wjx_800_800_0.xls")).sheet_by_index(0)
    real_code = xlrd.open_workbook(str(fixtures_dir / "wenjuanxing" / "wjx_800_800_2.xls")).sheet_by_index(0)
    wave = simulate(60, seed=8)
    write_wenjuanxing(wave.responses, tmp_path / "t.xlsx", download="text")
    write_wenjuanxing(wave.responses, tmp_path / "c.xlsx", download="code")
    text, code = _rows(tmp_path / "t.xlsx"), _rows(tmp_path / "c.xlsx")
    # the six meta columns, in the real export's order
    assert text[0][:6] == real_text.row_values(0)[:6] == code[0][:6]
    single = re.compile(r"^\d+、\S")
    assert all(single.match(h) for h in real_text.row_values(0)[6:])
    # our headers: N、stem, N(sub item) for matrix rows, 第N题(option) in the code download
    matrix = re.compile(r"^\d+\(.+\)$")
    option = re.compile(r"^第\d+题\(.+\)$")
    assert all(option.match(h) for h in real_code.row_values(0) if h.startswith("第"))
    assert all(single.match(h) or matrix.match(h) for h in text[0][6:])
    assert sum(bool(option.match(h)) for h in code[0]) == 5
    rated = [i for i, it in CB.items.items() if it.role in ("likert", "attention", "overall", "importance")]
    assert sum(bool(matrix.match(h)) for h in text[0]) == len(rated) == 30
    # the multi-select: joined with ┋ as in the real text download
    assert any("┋" in v for v in real_text.col_values(11)[1:])
    assert any("┋" in str(v) for v in (row[15] for row in text[1:]))
    # meta formats
    for row in text[1:]:
        assert re.match(r"^\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}:\d{2}$", row[1])
        assert re.match(r"^\d+秒$", row[2])


def test_text_and_code_downloads_decode_to_the_same_answers(tmp_path):
    wave = simulate(80, seed=9)
    t = wenjuanxing_table(wave.responses, download="text")
    c = wenjuanxing_table(wave.responses, download="code")
    agree = CB.scales["agree5"]
    inv = {lv.zh: lv.code for lv in (*agree.levels, *agree.missing)}
    head = "12(民警更注重管理而不是服务)"
    decoded = [None if v is None else inv[v] for v in t[head]]
    assert decoded == [None if v is None else float(v) for v in c[head]]
    # as answered: reverse-keyed ATT3 is NOT reversed in the export
    assert [None if v is None else float(v) for v in c[head]] == [
        None if math.isnan(v) else v for v in wave.responses["ATT3"]]
    # the multi-select expands into 0/1 columns that match the joined labels
    for lab in ("派出所服务窗口", "微信"):
        col = [int(lab in s.split("┋")) for s in t["10、您知道可以通过以下哪些渠道办理派出所业务（多选）"]]
        assert col == c[f"第10题({lab})"].tolist()


def test_xlsx_zip_entries_and_core_times_are_fixed(tmp_path):
    write_wenjuanxing(simulate(20, seed=2).responses, tmp_path / "w.xlsx")
    z = zipfile.ZipFile(io.BytesIO((tmp_path / "w.xlsx").read_bytes()))
    assert {i.date_time for i in z.infolist()} == {(2022, 1, 1, 0, 0, 0)}
    core = z.read("docProps/core.xml").decode()
    assert core.count("2022-01-01T00:00:00Z") == 2


def test_csv_and_sav(tmp_path):
    import pyreadstat

    wave = simulate(40, seed=10)
    write_wenjuanxing(wave.responses, tmp_path / "w.csv")
    raw = (tmp_path / "w.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(tmp_path / "w.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    table = wenjuanxing_table(wave.responses)
    assert list(back.columns) == list(table.columns)
    assert back["12(民警办事态度热情、礼貌)"].tolist() == table["12(民警办事态度热情、礼貌)"].fillna("").tolist()
    write_sav(wave.responses, tmp_path / "w.sav")
    df, meta = pyreadstat.read_sav(str(tmp_path / "w.sav"), user_missing=True)
    np.testing.assert_array_equal(df["ATT1"].to_numpy(), wave.responses["ATT1"].to_numpy())
    assert meta.variable_value_labels["ATT1"][6.0] == "不清楚"
    assert meta.column_names_to_labels["ATT1"] == CB.items["ATT1"].zh
    assert df["gender"].tolist() == (wave.responses["gender"].cat.codes + 1).astype(float).tolist()


# --- the bundled wave --------------------------------------------------------------------------


def _approx_equal(a, b, path=""):
    if isinstance(a, dict):
        assert isinstance(b, dict), path
        assert a.keys() == b.keys(), path
        for k in a:
            _approx_equal(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list), path
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _approx_equal(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        # linear algebra may differ in the last bits across BLAS builds
        assert b == pytest.approx(a, rel=1e-12, abs=1e-15), path
    else:
        assert a == b, path


def test_bundled_wave_regenerates_byte_for_byte(tmp_path, capsys):
    out, truth = tmp_path / "w.xlsx", tmp_path / "t.json"
    rc = cli_main(["simulate", "--n", "420", "--seed", "20220315", "--out", str(out), "--truth", str(truth)])
    assert rc == 0
    assert out.read_bytes() == BUNDLED.read_bytes()
    _approx_equal(json.loads(BUNDLED_TRUTH.read_text(encoding="utf-8")), json.loads(truth.read_text(encoding="utf-8")))
    assert "420 simulated submissions" in capsys.readouterr().out


def test_bundled_wave_shows_the_thesis_pattern():
    truth = json.loads(BUNDLED_TRUTH.read_text(encoding="utf-8"))
    assert truth["simulated"] is True
    assert truth["seed"] == 20220315
    assert truth["n"] == 420
    rows = _rows(BUNDLED)
    assert len(rows) == 421
    wave = simulate(420, seed=20220315)
    clean = (wave.defects["defects"] == "").to_numpy()
    _, s = _scored(wave.responses[clean])
    means = s.mean()
    assert max(means[["content", "forms", "participation"]]) < min(means[["attitude", "efficiency"]])


def test_bundled_wave_reads_and_codes_cleanly():
    from servicestudy.coding import code_responses
    from servicestudy.io import read_export

    raw = read_export(BUNDLED, CB)
    assert raw.platform == "wenjuanxing"
    assert raw.unmatched == ()
    assert set(CB.columns()) <= set(raw.data.columns)
    coded = code_responses(raw, CB, errors="collect")
    assert len(coded.problems) == 0
    wave = simulate(420, seed=20220315)
    got = coded.answers["ATT3"].to_numpy(dtype=float)
    want = wave.responses["ATT3"].where(wave.responses["ATT3"] != 6).to_numpy(dtype=float)
    np.testing.assert_array_equal(got, want)


def test_bundled_wave_validates_clean(capsys):
    rc = cli_main(["validate", str(BUNDLED)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "export columns the codebook does not use: 0" in out
    assert "values that cannot be coded: 0" in out
    assert "result: clean" in out


def test_cli_formats(tmp_path):
    assert cli_main(["simulate", "--n", "30", "--seed", "1", "--out", str(tmp_path / "w.csv")]) == 0
    assert cli_main(["simulate", "--n", "30", "--seed", "1", "--out", str(tmp_path / "w.xlsx"),
                     "--download", "code"]) == 0
    assert cli_main(["simulate", "--n", "30", "--seed", "1", "--out", str(tmp_path / "w.sav")]) == 0
    assert cli_main(["simulate", "--n", "30", "--out", str(tmp_path / "w.xlsx"), "--format", "csv"]) == 2
    assert "秒" in (tmp_path / "w.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("first", ["import servicestudy.simulate", "from servicestudy.simulate import NO_DEFECTS"])
def test_package_level_simulate_is_callable_in_any_import_order(first):
    # the module and its main function share a name; a submodule import must not shadow it
    import subprocess
    import sys

    code = f"{first}\nimport servicestudy as ss\nprint(ss.simulate(5, seed=1).responses.shape[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "5"


def test_code_download_and_csv_code_to_the_same_answers_as_the_text_download(tmp_path):
    from servicestudy.coding import code_responses
    from servicestudy.io import read_export

    wave = simulate(120, seed=13)
    answers = {}
    for name, download in (("t.xlsx", "text"), ("c.xlsx", "code"), ("c.csv", "code"), ("t.csv", "text")):
        write_wenjuanxing(wave.responses, tmp_path / name, download=download)
        raw = read_export(tmp_path / name, CB)
        assert raw.unmatched == (), name
        coded = code_responses(raw, CB, errors="collect")
        assert len(coded.problems) == 0, name
        answers[name] = coded.answers[list(CB.items)].reset_index(drop=True)
    for name in ("c.xlsx", "c.csv", "t.csv"):
        pd.testing.assert_frame_equal(answers[name], answers["t.xlsx"], check_dtype=False)
    want = wave.responses[list(CB.items)].astype(float)
    want = want.mask(want == 6)  # 不清楚 is a missing code of agree5
    np.testing.assert_array_equal(answers["t.xlsx"].to_numpy(dtype=float), want.to_numpy())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25))
def test_text_table_decodes_back_to_the_responses(seed, n):
    # law: decoding the text download with the codebook's labels gives the simulated codes
    wave = simulate(n, seed=seed)
    t = wenjuanxing_table(wave.responses, download="text")
    qs = {it: h for h in t.columns for it, item in CB.items.items() if h.endswith(f"({item.zh})")}
    for item, head in qs.items():
        scale = CB.scale_of(item)
        inv = {lv.zh: lv.code for lv in (*scale.levels, *scale.missing)}
        got = np.array([np.nan if v is None else inv[v] for v in t[head]], dtype=float)
        np.testing.assert_array_equal(got, wave.responses[item].to_numpy(dtype=float))
    assert len(qs) == 30
