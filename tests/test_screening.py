"""Tests for servicestudy.screening.

R's careless is not installed, so each index is checked against an independent plain-Python
loop written from careless 1.2.2's definitions (rle runs, sd(), psych::outlier's D^2,
evenodd's even/odd half-scale means with Spearman-Brown, psychsyn's pairs), on small data.
"""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicestudy.errors import DataError, SchemaError
from servicestudy.screening import (
    FLAGS,
    apply_exclusions,
    evenodd,
    irv,
    longstring,
    mahalanobis,
    psychsyn,
    screen,
)


@pytest.fixture(scope="module")
def small():
    """40 respondents x 12 items (3 scales of 4) with a few missing answers."""
    rng = np.random.default_rng(11)
    t = rng.normal(size=(40, 3))
    x = np.column_stack([np.clip(np.round(3 + t[:, j // 4] + 0.7 * rng.normal(size=40)), 1, 5) for j in range(12)])
    x[3, :] = 4  # a straight-liner
    x[7] = rng.integers(1, 6, size=12)  # a random responder
    x[[5, 12, 30], [2, 9, 0]] = np.nan
    return pd.DataFrame(x, columns=[f"I{j + 1}" for j in range(12)])


# --- independent reference implementations --------------------------------------------


def ref_runs(row):
    """R rle(): run lengths, NA never equal to anything."""
    runs = [1]
    for prev, cur in itertools.pairwise(row):
        if not (math.isnan(prev) or math.isnan(cur)) and prev == cur:
            runs[-1] += 1
        else:
            runs.append(1)
    return runs


def ref_cor(a, b):
    pairs = [(u, v) for u, v in zip(a, b, strict=True) if not (math.isnan(u) or math.isnan(v))]
    if len(pairs) < 2:
        return math.nan
    ua = [p[0] for p in pairs]
    vb = [p[1] for p in pairs]
    ma, mb = statistics.fmean(ua), statistics.fmean(vb)
    sxy = sum((u - ma) * (v - mb) for u, v in pairs)
    sxx = sum((u - ma) ** 2 for u in ua)
    syy = sum((v - mb) ** 2 for v in vb)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else math.nan


def ref_evenodd(row, factors):
    even, odd = [], []
    start = 0
    for f in factors:
        s = row[start : start + f]
        e = [v for k, v in enumerate(s, start=1) if k % 2 == 0 and not math.isnan(v)]
        o = [v for k, v in enumerate(s, start=1) if k % 2 == 1 and not math.isnan(v)]
        even.append(statistics.fmean(e) if e else math.nan)
        odd.append(statistics.fmean(o) if o else math.nan)
        start += f
    r = ref_cor(even, odd)
    if math.isnan(r):
        return math.nan
    sb = (2 * r) / (1 + r) if r != -1 else -1.0
    return -max(sb, -1.0)


# --- indices --------------------------------------------------------------------------


def test_longstring_matches_rle(small):
    res = longstring(small)
    for i, row in enumerate(small.to_numpy()):
        runs = ref_runs(list(row))
        assert res["longstring"].iloc[i] == max(runs)
        assert res["longstring_avg"].iloc[i] == pytest.approx(statistics.fmean(runs), rel=1e-12)
    assert res["longstring"].iloc[3] == 12


def test_irv_is_sample_sd(small):
    got = irv(small)
    for i, row in enumerate(small.to_numpy()):
        vals = [v for v in row if not math.isnan(v)]
        assert got[i] == pytest.approx(statistics.stdev(vals), rel=1e-12, abs=1e-15)


def test_mahalanobis_d2_complete_rows(small):
    x = small.dropna().to_numpy()
    got = mahalanobis(x)
    mu = x.mean(axis=0)
    s = np.cov(x.T)
    from scipy import stats
    from scipy.spatial.distance import mahalanobis as scipy_mahal

    inv = np.linalg.inv(s)
    for i in range(x.shape[0]):
        d2 = scipy_mahal(x[i], mu, inv) ** 2
        assert got["mahalanobis_d2"].iloc[i] == pytest.approx(d2, rel=1e-9)
        assert got["mahalanobis_p"].iloc[i] == pytest.approx(stats.chi2.sf(d2, x.shape[1]), rel=1e-9)
    assert (got["mahalanobis_df"] == x.shape[1]).all()


def test_mahalanobis_row_with_missing_uses_observed_items(small):
    x = small.to_numpy()
    got = mahalanobis(small)
    i = 5
    obs = ~np.isnan(x[i])
    mu = np.nanmean(x, axis=0)[obs]
    s = pd.DataFrame(x).cov().to_numpy()[np.ix_(obs, obs)]  # pandas cov is pairwise complete
    d = x[i, obs] - mu
    assert got["mahalanobis_d2"].iloc[i] == pytest.approx(float(d @ np.linalg.solve(s, d)), rel=1e-9)
    assert got["mahalanobis_df"].iloc[i] == obs.sum()


def test_evenodd_matches_careless_definition(small):
    got = evenodd(small, [4, 4, 4])
    for i, row in enumerate(small.to_numpy()):
        want = ref_evenodd(list(row), [4, 4, 4])
        if math.isnan(want):
            assert math.isnan(got[i])
        else:
            assert got[i] == pytest.approx(want, rel=1e-12, abs=1e-14)
    # attentive respondents are consistent (careless >= 1.2: low values)
    assert np.nanmedian(got) < -0.5


def test_psychsyn_matches_definition(small):
    got = psychsyn(small, 0.5)
    r = small.corr()  # pairwise complete Pearson
    cols = list(small.columns)
    pairs = [(cols[i], cols[j]) for j in range(12) for i in range(j + 1, 12) if r.iloc[i, j] > 0.5]
    assert len(pairs) > 3
    for k, (_, row) in enumerate(small.iterrows()):
        a = [row[p] for p, _ in pairs]
        b = [row[q] for _, q in pairs]
        npairs = sum(not (math.isnan(u) or math.isnan(v)) for u, v in zip(a, b, strict=True))
        assert got["n_pairs"].iloc[k] == npairs
        want = ref_cor(a, b) if npairs > 2 else math.nan
        if math.isnan(want):
            assert math.isnan(got["cor"].iloc[k])
        else:
            assert got["cor"].iloc[k] == pytest.approx(want, rel=1e-12)


def test_psychant_uses_negative_pairs(small):
    x = small.copy()
    x["R1"] = 6 - x["I1"]  # a reverse-keyed twin, answered as given
    x["R5"] = 6 - x["I5"]
    x["R9"] = 6 - x["I9"]
    got = psychsyn(x, 0.6, anto=True)
    # careless psychant: pairs correlated below -critval across the sample, then the same
    # within-person correlation as psychsyn (independent loop, as for synonyms above)
    r = x.corr()
    cols = list(x.columns)
    k = len(cols)
    pairs = [(cols[i], cols[j]) for j in range(k) for i in range(j + 1, k) if r.iloc[i, j] < -0.6]
    assert len(pairs) >= 3
    for n, (_, row) in enumerate(x.iterrows()):
        a = [row[p] for p, _ in pairs]
        b = [row[q] for _, q in pairs]
        npairs = sum(not (math.isnan(u) or math.isnan(v)) for u, v in zip(a, b, strict=True))
        assert got["n_pairs"].iloc[n] == npairs
        want = ref_cor(a, b) if npairs > 2 else math.nan
        if math.isnan(want):
            assert math.isnan(got["cor"].iloc[n])
        else:
            assert got["cor"].iloc[n] == pytest.approx(want, rel=1e-12)
    assert np.nanmedian(got["cor"]) < 0


# --- screen ---------------------------------------------------------------------------


def _meta(small):
    n = len(small)
    d = small.copy()
    d["duration_s"] = np.linspace(300, 600, n)
    d.loc[9, "duration_s"] = 60.0  # 60 / median 450 < 0.4
    d["ip"] = [f"192.0.2.{i}" for i in range(n)]
    d["submit_time"] = pd.Timestamp("2021-11-15 08:00") + pd.to_timedelta(np.arange(n) * 3600, unit="s")
    return d


def test_screen_flags_and_keeps_every_row(small):
    d = _meta(small)
    d.loc[20, small.columns] = d.loc[21, small.columns].to_numpy()  # exact duplicate (20 before 21)
    d.loc[21, "I2"] = 9  # out of range; 21 is no longer identical
    d.loc[25, small.columns] = d.loc[24, small.columns].to_numpy()
    d.loc[25, "I12"] = 1.0 if d.loc[24, "I12"] != 1 else 2.0  # near duplicate of 24 ...
    d.loc[25, "ip"] = d.loc[24, "ip"]  # ... same IP, one hour later
    d.loc[26, small.columns] = d.loc[1, small.columns].to_numpy()  # exact duplicate of 1
    res = screen(d, items=list(small.columns), valid_codes=[1, 2, 3, 4, 5], near_minutes=90)
    f = res.flags
    assert f.index.equals(d.index)
    assert len(f) == len(d)
    assert f.loc[3, "flag_longstring"]
    assert f.loc[3, "flag_irv"]
    assert f.loc[9, "flag_speeder"]
    assert f.loc[9, "relative_speed"] == pytest.approx(np.median(d["duration_s"]) / 60)
    assert f.loc[9, "seconds_per_item"] == pytest.approx(5.0)
    assert f.loc[21, "n_out_of_range"] == 1
    assert f.loc[21, "flag_out_of_range"]
    assert f.loc[26, "flag_duplicate"]
    assert f.loc[26, "duplicate_of"] == 1
    assert not f.loc[1, "flag_duplicate"]
    assert f.loc[25, "flag_near_duplicate"]
    assert f.loc[25, "near_duplicate_of"] == 24
    assert f["flag_near_duplicate"].sum() == 1
    # straight-liners are not duplicates of each other by default
    d2 = d.copy()
    d2.loc[4, small.columns] = 4
    res2 = screen(d2, items=list(small.columns))
    assert not res2.flags.loc[4, "flag_duplicate"]
    res3 = screen(d2, items=list(small.columns), duplicates_ignore_constant=False)
    assert not res3.flags.loc[4, "flag_duplicate"]  # a common pattern, no id/IP/time evidence
    d2.loc[4, "ip"] = d2.loc[3, "ip"]
    res3 = screen(d2, items=list(small.columns), duplicates_ignore_constant=False)
    assert res3.flags.loc[4, "flag_duplicate"]
    assert res3.flags.loc[4, "duplicate_evidence"] == "ip"
    assert f.loc[26, "duplicate_evidence"] == "improbable"
    assert list(res.summary["flag"]) == list(FLAGS)


def test_screen_near_duplicate_window(small):
    d = _meta(small)
    d.loc[25, small.columns] = d.loc[24, small.columns].to_numpy()
    d.loc[25, "I12"] = 1.0 if d.loc[24, "I12"] != 1 else 2.0
    d.loc[25, "ip"] = d.loc[24, "ip"]
    res = screen(d, items=list(small.columns), near_minutes=30)  # one hour apart: not near
    assert not res.flags["flag_near_duplicate"].any()


def test_screen_attention_checks(small):
    d = _meta(small)
    d["CHK"] = 2.0
    d.loc[[0, 1], "CHK"] = [4.0, np.nan]
    res = screen(d, items=list(small.columns), attention={"CHK": [2]})
    assert res.flags["flag_attention"].tolist()[:3] == [True, True, False]
    res = screen(d, items=list(small.columns), attention={"CHK": [2]}, attention_missing_fails=False)
    assert res.flags["flag_attention"].tolist()[:3] == [True, False, False]


def test_duration_errors_name_the_column(small):
    d = _meta(small)
    with pytest.raises(SchemaError, match=r"'time_taken'.*duration column not in the data"):
        screen(d, items=list(small.columns), duration="time_taken")
    d["duration_s"] = "5 minutes"
    with pytest.raises(SchemaError, match=r"'duration_s'.*not a duration"):
        screen(d, items=list(small.columns))
    d["duration_s"] = pd.to_timedelta(np.full(len(d), 300.0), unit="s")
    res = screen(d, items=list(small.columns))
    assert (res.flags["duration_s"] == 300).all()


def test_screen_bad_options(small):
    with pytest.raises(DataError, match="unknown threshold"):
        screen(small, items=list(small.columns), longstring_max=3)
    with pytest.raises(SchemaError, match="'NOPE'"):
        screen(small, items=["I1", "NOPE"])
    with pytest.raises(DataError, match="items="):
        screen(small)


def test_screen_with_codebook_and_coded_responses():
    from servicestudy.codebook import load_codebook
    from servicestudy.coding import code_responses
    from servicestudy.simulate import simulate

    cb = load_codebook("k_station")
    wave = simulate(60, seed=3)
    coded = code_responses(wave.responses, cb)
    res = screen(coded)
    assert len(res.flags) == 60
    assert res.n_items == len([i for i in cb.items.values() if i.role != "attention"])
    # the codebook supplies duration, attention check and scales
    assert res.flags["duration_s"].notna().all()
    assert res.flags["attention_failed"].notna().all()
    assert res.flags["evenodd"].notna().any()
    gone = coded.data.drop(columns=["duration_s"])
    with pytest.raises(SchemaError, match="duration_s"):
        screen(gone, cb)


# --- exclusions -----------------------------------------------------------------------


def test_apply_exclusions_flow_adds_up(small):
    d = _meta(small)
    res = screen(d, items=list(small.columns))
    out = apply_exclusions(d, res, ["speeder", "longstring", "irv", "mahalanobis"])
    flow = out.flow
    excluded = flow.loc[flow["step"] == "excluded", "n"].sum()
    assert flow["n"].iloc[0] == len(d)
    assert flow["n"].iloc[0] - excluded == flow["n"].iloc[-1] == len(out.kept)
    assert out.n_received == out.n_excluded + out.n_analysed
    # respondent 3 (straight line) fails longstring and irv: counted once, under longstring
    assert out.reasons.loc[3, "first_reason"] == "longstring"
    assert out.reasons.loc[3, "all_reasons"] == "longstring; irv"
    assert flow.set_index("reason").loc["irv", "n_flagged"] >= 1
    assert 3 not in out.kept.index
    with pytest.raises(DataError, match="unknown flag"):
        apply_exclusions(d, res, ["nope"])
    out = apply_exclusions(d, res, lambda f: f["n_flags"] >= 2)
    assert list(out.flow["reason"]) == ["", "rule", ""]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=1, max_size=30))
def test_flow_always_adds_up(rows):
    flags = pd.DataFrame(rows, columns=[f"flag_{n}" for n in ("a", "b", "c", "d")])
    data = pd.DataFrame({"x": range(len(rows))})
    out = apply_exclusions(data, flags, ["a", "b", "c", "d"])
    n_ex = out.flow.loc[out.flow["step"] == "excluded", "n"].sum()
    assert n_ex + out.n_analysed == len(rows)
    assert out.n_analysed == int((~flags.any(axis=1)).sum())
    assert len(out.kept) == out.n_analysed


def test_apply_exclusions_on_coded_responses():
    from servicestudy.codebook import load_codebook
    from servicestudy.coding import code_responses
    from servicestudy.simulate import simulate

    coded = code_responses(simulate(60, seed=3).responses, load_codebook("k_station"))
    res = screen(coded)
    out = apply_exclusions(coded, res)
    assert len(out.kept.data) == len(out.kept.answers) == out.n_analysed


# --- recovery of the simulation's injected defects ------------------------------------


def test_screening_recovers_simulated_defects():
    from servicestudy.codebook import load_codebook
    from servicestudy.coding import code_responses
    from servicestudy.simulate import simulate

    wave = simulate(420, seed=20220315)  # the bundled wave
    coded = code_responses(wave.responses, load_codebook("k_station"))
    f = screen(coded).flags
    d = wave.defects
    assert len(f) == len(d)

    def rates(flag, truth):
        fv = f[f"flag_{flag}"].to_numpy()
        tv = truth.to_numpy(dtype=bool)
        return fv[tv].mean(), fv[~tv].mean()

    rec, fpr = rates("longstring", d["straightliner"])
    assert rec >= 0.9
    assert fpr <= 0.02
    rec, fpr = rates("mahalanobis", d["random"])
    assert rec >= 0.7
    assert fpr <= 0.02
    rec, fpr = rates("speeder", d["speeder"])
    assert rec >= 0.9
    assert fpr <= 0.05  # straight-liners and random responders are also fast
    rec, fpr = rates("attention", d["fails_attention"])
    assert rec >= 0.95
    assert fpr <= 0.01
    rec, fpr = rates("duplicate", d["duplicate"])
    assert rec >= 0.5 or d["duplicate"].sum() == 0
    assert fpr <= 0.01


def test_cli_screen(tmp_path, capsys):
    from pathlib import Path

    from servicestudy.cli import main

    wave = Path(__file__).resolve().parents[1] / "data" / "raw" / "servicestudy_wave1.xlsx"
    assert wave.is_file(), wave  # tracked in git: absence is a failure, not a skip
    out = tmp_path / "flags.csv"
    assert main(["screen", str(wave), "--out", str(out), "--set", "speed_share=0.35"]) == 0
    text = capsys.readouterr().out
    assert "respondent flow:" in text
    assert "analysed" in text
    flags = pd.read_csv(out)
    assert len(flags) == 420
    assert "ip" not in flags.columns
    assert main(["screen", str(wave), "--rule", "nope"]) == 2
    assert "unknown flag" in capsys.readouterr().err
    assert main(["screen", str(wave), "--set", "bogus=1"]) == 2


def test_psychsyn_needs_more_than_two_pairs():
    # careless computes the within-person correlation only with more than two answered pairs
    rng = np.random.default_rng(4)
    t = rng.normal(size=(100, 1))
    x = np.round(t + 0.3 * rng.normal(size=(100, 4)))  # 6 synonym pairs among 4 items
    x[0, [1, 2]] = np.nan  # respondent 0: only the pair (I4, I1) answered
    x[1] = [1, 2, np.nan, 4]  # respondent 1: 3 pairs answered, values vary
    got = psychsyn(x, 0.6)
    assert got["n_pairs"].tolist()[:3] == [1, 3, 6]
    assert np.isnan(got["cor"].iloc[0])
    assert not np.isnan(got["cor"].iloc[1])


def test_psychsyn_two_pairs_is_undefined():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(2, 200, 1))
    x = np.round(np.column_stack([a, a, b, b]) + 0.3 * rng.normal(size=(200, 4)))
    x[0] = [1, 2, 4, 5]  # two synonym pairs (I2, I1) and (I4, I3): r over 2 points
    got = psychsyn(x, 0.6)
    assert got["n_pairs"].iloc[0] == 2
    assert np.isnan(got["cor"].iloc[0])


def _near_duplicates_loop(a, ip, when, minutes, max_diff):
    """The pair-by-pair loop that servicestudy.screening._near_duplicates replaced (issue 9)."""
    n = a.shape[0]
    of = np.full(n, -1)
    if ip is None:
        return of
    ips = ip.astype(object).where(ip.notna(), None).to_numpy()
    t = None
    if when is not None:
        t = pd.to_datetime(when, errors="coerce").to_numpy(dtype="datetime64[ns]")
    groups = {}
    for i, v in enumerate(ips):
        if v is not None and str(v).strip():
            groups.setdefault(str(v).strip(), []).append(i)
    key = np.where(np.isnan(a), -np.inf, a)
    for rows in groups.values():
        if len(rows) < 2:
            continue
        if t is not None:
            rows = sorted(rows, key=lambda r: (np.isnat(t[r]), t[r], r))
        for pos, i in enumerate(rows):
            for j in rows[:pos]:
                if t is not None:
                    if np.isnat(t[i]) or np.isnat(t[j]):
                        continue
                    gap = abs((t[i] - t[j]) / np.timedelta64(1, "s")) / 60
                    if gap > minutes:
                        continue
                if int(np.sum(key[i] != key[j])) <= max_diff:
                    of[i] = j
                    break
    return of


@pytest.mark.parametrize("seed", range(40))
def test_near_duplicates_blockwise_equals_the_pair_loop(seed):
    from servicestudy.screening import _near_duplicates

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 700))
    k = int(rng.integers(1, 6))
    a = rng.integers(1, 3, size=(n, k)).astype(float)
    a[rng.uniform(size=a.shape) < 0.1] = np.nan
    n_ip = int(rng.integers(1, 6))
    ip = pd.Series(rng.choice(["10.0.0.1", " 10.0.0.1", "10.0.0.2", "", None, "1.2.3.4", "5.6.7.8"][:n_ip + 2], size=n),
                   dtype=object)
    minutes = float(rng.choice([0.5, 1.0, 30.0, 1e9]))
    max_diff = int(rng.integers(0, 2))
    start = np.datetime64("2022-01-01T00:00:00")
    sec = rng.integers(0, 4 * 3600, size=n) if rng.uniform() < 0.5 else rng.integers(0, 120, size=n) * 30
    when = pd.Series(start + sec.astype("timedelta64[s]"))
    when[rng.uniform(size=n) < 0.05] = pd.NaT
    for w in (when, None):
        np.testing.assert_array_equal(_near_duplicates(a, ip, w, minutes, max_diff),
                                      _near_duplicates_loop(a, ip, w, minutes, max_diff))


@pytest.mark.parametrize("width", [1, 2, 3, 5, 6, 7, 8, 9, 15])
@pytest.mark.parametrize("kind", ["likert", "normal"])
def test_row_correlations_at_once_equal_row_by_row_bit_for_bit(width, kind):
    """_row_cor_rows gives exactly (==) what _row_cor gives row by row (issue 9)."""
    from servicestudy.screening import _row_cor, _row_cor_rows

    rng = np.random.default_rng(width)
    n = 20_000
    if kind == "likert":
        a = rng.integers(1, 6, size=(n, width)).astype(float)
        b = np.clip(a + rng.integers(-1, 2, size=(n, width)), 1, 5)
    else:
        scale = rng.choice([1e-3, 1.0, 1e3], size=(n, 1))
        a = rng.normal(size=(n, width)) * scale + rng.integers(1, 6, size=(n, width))
        b = a + rng.normal(size=(n, width))
    a[rng.uniform(size=a.shape) < 0.15] = np.nan
    b[rng.uniform(size=b.shape) < 0.15] = np.nan
    got = _row_cor_rows(a, b)
    want = np.array([_row_cor(a[i], b[i]) for i in range(n)])
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (np.flatnonzero(~same)[:5], got[~same][:3], want[~same][:3])


@pytest.mark.parametrize("k", [1, 3, 30, 64, 65, 70])
def test_pattern_rows_group_like_np_unique(k):
    from servicestudy.screening import _pattern_rows

    rng = np.random.default_rng(k)
    obs = rng.uniform(size=(3000, k)) < rng.choice([0.5, 0.97], size=(3000, 1))
    patterns, inverse = np.unique(obs, axis=0, return_inverse=True)
    want = [np.flatnonzero(inverse.ravel() == p) for p in range(len(patterns))]
    got = _pattern_rows(obs)
    assert len(got) == len(want)
    for g, w, pat in zip(got, want, patterns, strict=True):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(obs[g[0]], pat)


# --- duplicates need evidence; empty rows and screen-outs are their own step -----------


def _honest(n, k, c, seed, *, load=0.7, shift=0.5):
    """Honest respondents: one factor, ``k`` items cut into ``c`` ordered categories."""
    rng = np.random.default_rng(seed)
    y = load * rng.normal(size=(n, 1)) + math.sqrt(1 - load**2) * rng.normal(size=(n, k)) + shift
    cuts = np.linspace(-1.5, 1.5, c - 1)
    return pd.DataFrame(1.0 + (y[:, :, None] > cuts).sum(axis=2), columns=[f"q{j}" for j in range(k)])


def test_chance_match_is_the_beta_binomial_of_the_agreement_counts():
    from scipy import stats

    from servicestudy.screening import chance_match

    x = _honest(300, 8, 4, 5).to_numpy().copy()
    x[3, 2] = np.nan
    for row in (0, 3, 17):
        others = np.delete(np.arange(300), row)
        key = np.where(np.isnan(x), -1, x)
        dcount = (key[others] == key[row]).sum(axis=1)
        mu, var = dcount.mean() / 8, dcount.var()
        rho = (var / (8 * mu * (1 - mu)) - 1) / 7
        a, b = mu * (1 / rho - 1), (1 - mu) * (1 / rho - 1)
        assert rho > 0
        assert chance_match(x, row) == pytest.approx(stats.betabinom.pmf(8, 8, a, b), rel=1e-10)
    # independent items with equal agreement rates and no overdispersion: mu ** k
    z = np.array([[1, 1], [1, 2], [2, 1], [2, 2], [1, 1]], dtype=float)
    assert chance_match(z, 0, rows=np.array([1, 2, 3])) == pytest.approx((1 / 3) ** 2)


@pytest.mark.parametrize(("k", "c", "load", "shift"), [(5, 4, 0.7, 0.8), (4, 3, 0.7, 0.5), (3, 5, 0.6, 0.0),
                                                       (6, 2, 0.7, 0.5), (17, 4, 0.9, 1.5), (10, 5, 0.7, 0.5)])
def test_honest_lookalikes_are_not_duplicates(k, c, load, shift):
    """Short scales, few categories, skewed answers: hundreds of honest respondents share an
    answer pattern. Without ids, IPs or times none of them may be called a duplicate.
    Measured: false-positive rate 0 / 1500 in every scenario (the threshold allows none)."""
    x = _honest(1500, k, c, 10 * k + c, load=load, shift=shift)
    counts = x.value_counts()
    sharing = int(counts[counts > 1].sum())
    assert sharing >= 50  # the look-alikes really are there
    f = screen(x, items=list(x.columns), duration=None).flags
    fpr = f["flag_duplicate"].mean()
    assert fpr == 0.0
    # answer identity alone was the old rule: it would have flagged these honest respondents
    assert x.duplicated().sum() >= 25


def test_planted_duplicates_are_found():
    """True duplicates (copies of 40 random rows) are found by answer identity alone when the
    pattern is improbable (24 items, 5 categories: recall 40/40 measured), and on a short scale
    only with evidence: the same IP, respondent id or a submission minutes apart (recall 1)."""
    n, nd = 1500, 40
    rng = np.random.default_rng(1)
    x = _honest(n, 24, 5, 7, load=0.6, shift=0.3)
    src = rng.choice(n, nd, replace=False)
    xx = pd.concat([x, x.iloc[src]], ignore_index=True)
    truth = np.r_[np.zeros(n, bool), np.ones(nd, bool)]
    f = screen(xx, items=list(x.columns), duration=None).flags
    fl = f["flag_duplicate"].to_numpy()
    recall, fpr = fl[truth].mean(), fl[~truth].mean()
    assert recall >= 0.95
    assert fpr == 0.0
    assert set(f.loc[truth & fl, "duplicate_evidence"]) == {"improbable"}
    assert (f.loc[truth & fl, "duplicate_of"].to_numpy() == src[fl[truth]]).all()

    short = _honest(n, 5, 4, 3, load=0.7, shift=0.8)
    ss = pd.concat([short, short.iloc[src]], ignore_index=True)
    base = screen(ss, items=list(short.columns), duration=None).flags["flag_duplicate"].to_numpy()
    assert base.sum() == 0  # identical answers alone: not enough on 5 four-point items
    ss["ip"] = [f"10.0.{i // 250}.{i % 250}" for i in range(n)] + [f"10.0.{i // 250}.{i % 250}" for i in src]
    ss["submit_time"] = pd.Timestamp("2024-05-01") + pd.to_timedelta(
        np.r_[np.arange(n) * 3600, src * 3600 + 300], unit="s")
    ss["respondent_id"] = [f"P{i}" for i in range(n)] + [f"P{i}" for i in src]
    for col, why in [("ip", "ip"), ("submit_time", "time"), ("respondent_id", "id")]:
        kw = {"ip": None, "submit_time": None, "respondent_id": None, col: col}
        f = screen(ss, items=list(short.columns), duration=None, **kw).flags
        fl = f["flag_duplicate"].to_numpy()
        # straight lines are left to longstring (duplicates_ignore_constant)
        constant = (ss[short.columns].nunique(axis=1) == 1).to_numpy()
        assert fl[truth & ~constant].mean() == 1.0, col
        assert not fl[constant].any()
        assert fl[~truth].mean() == 0.0, col
        assert set(f.loc[truth & ~constant, "duplicate_evidence"]) == {why}


def test_empty_rows_and_screen_outs_are_their_own_step():
    x = _honest(200, 17, 4, 9)
    x.loc[[5, 6, 7], :] = np.nan  # opened the survey, answered nothing
    x.loc[8, :] = np.nan
    x.loc[8, ["q0", "q1", "q2"]] = 3.0  # three identical answers to a 17-item scale
    x["duration_s"] = np.linspace(400, 600, 200)
    x.loc[[5, 6, 7], "duration_s"] = 5.0  # empty rows are fast, but are not speeders
    x["finished"] = 1
    x.loc[[7, 9, 10], "finished"] = 0  # 7 is also empty
    items = [f"q{j}" for j in range(17)]
    res = screen(x, items=items)
    f = res.flags
    assert f["flag_empty"].tolist()[4:11] == [False, True, True, True, False, False, False]
    assert f.loc[[7, 9, 10], "flag_screen_out"].all()
    assert f["flag_screen_out"].sum() == 3
    other = [c for c in f.columns if c.startswith("flag_") and c not in ("flag_empty", "flag_screen_out")]
    assert not f.loc[[5, 6, 7], other].to_numpy().any()
    assert not f.loc[8, "flag_longstring"]  # 3 of 17 answered: below longstring_min_answered
    assert screen(x, items=items, longstring_min_answered=0.1).flags.loc[8, "flag_longstring"]
    out = apply_exclusions(x, res)
    flow = out.flow.set_index(out.flow["reason"].where(out.flow["reason"] != "", out.flow["step"]))
    assert flow.loc["empty", "n"] == 3
    assert flow.loc["screen_out", "n"] == 2  # row 7 is counted once, as empty
    assert flow.loc["screen_out", "n_flagged"] == 3
    assert out.n_analysed == 200 - out.n_excluded
    assert not out.kept.index.isin([5, 6, 7, 9, 10]).any()
    x = x.astype({"finished": object})
    x.loc[3, "finished"] = "maybe"
    with pytest.raises(SchemaError, match="finished"):
        screen(x, items=items)
