"""code_responses: labels to codes, missing codes, reverse keying, scores, errors, audit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicestudy.codebook import load_codebook
from servicestudy.coding import code_responses, decode_labels, parse_duration, reverse_code
from servicestudy.errors import CodingError
from servicestudy.io import RawExport

CB = load_codebook("k_station")


def _raw(df: pd.DataFrame, platform: str = "generic", file: str = "wave.xlsx") -> RawExport:
    return RawExport(data=df, file=file, sha256="", platform=platform, encoding=None,
                     matched={}, unmatched=(), missing=())


def _audit(coded) -> set[tuple[str, str, int]]:
    return set(coded.audit.itertuples(index=False, name=None))


def test_labels_in_both_languages_aliases_and_normalisation() -> None:
    df = pd.DataFrame({"ATT1": ["非常同意", "Strongly disagree", " 比较 同意 ", "ＡＧＲＥＥ", "３", 2, 4.0, None]},
                      index=range(2, 10))
    coded = code_responses(_raw(df), CB)
    assert coded.data["ATT1"].tolist()[:7] == [5.0, 1.0, 4.0, 4.0, 3.0, 2.0, 4.0]
    assert np.isnan(coded.data["ATT1"].iloc[7])
    assert ("ATT1", "label -> code", 4) in _audit(coded)  # "３" is a number, not a label


def test_missing_codes_and_labels_become_na_with_a_record() -> None:
    df = pd.DataFrame({"ATT1": [6, "不清楚", "Don't know", "(跳过)", 1]}, index=range(2, 7))
    coded = code_responses(_raw(df), CB)
    assert coded.data["ATT1"].isna().tolist() == [True, True, True, True, False]
    audit = _audit(coded)
    assert ("ATT1", "missing code -> NA", 1) in audit
    assert ("ATT1", "missing label -> NA", 2) in audit
    assert ("ATT1", "platform missing marker -> NA", 1) in audit


def test_wenjuanxing_skip_codes_only_for_wenjuanxing() -> None:
    df = pd.DataFrame({"ATT1": [-3, 4]}, index=[2, 3])
    coded = code_responses(_raw(df, platform="wenjuanxing"), CB)
    assert coded.data["ATT1"].isna().tolist() == [True, False]
    with pytest.raises(CodingError, match="out of range"):
        code_responses(_raw(df), CB)


def test_reverse_keyed_items_and_answers() -> None:
    df = pd.DataFrame({"CON4": [1, 2, 5, None], "CON1": [1, 2, 5, None]}, index=range(2, 6))
    coded = code_responses(_raw(df), CB)
    assert coded.data["CON4"].tolist()[:3] == [5.0, 4.0, 1.0]  # (1 + 5) - x
    assert coded.answers["CON4"].tolist()[:3] == [1.0, 2.0, 5.0]
    assert coded.data["CON1"].tolist()[:3] == [1.0, 2.0, 5.0]
    assert ("CON4", "reversed", 3) in _audit(coded)
    assert not any(r[0] == "CON1" and r[1] == "reversed" for r in _audit(coded))


def test_scores_respect_min_answered() -> None:
    # attitude: ATT1..ATT5 (ATT3 reversed); min_answered 0.5 of the 5 items
    df = pd.DataFrame(
        {"ATT1": [5, 4, 1], "ATT2": [4, None, None], "ATT3": [2, 2, None], "ATT4": [None, None, None],
         "ATT5": [3, None, None]}, index=[2, 3, 4])
    coded = code_responses(_raw(df), CB)
    # row 2: 4 of 5 answered -> mean(5, 4, 6-2, 3) = 4; row 3: 2 of 5 < 0.5 -> NA; row 4: 1 of 5 -> NA
    assert coded.scores.loc[2, "attitude"] == pytest.approx(4.0, rel=1e-12)
    assert coded.scores["attitude"].isna().tolist() == [False, True, True]
    assert coded.data["score_attitude"].equals(coded.scores["attitude"])
    df3 = pd.DataFrame({"ATT1": [5], "ATT2": [4], "ATT3": [1], "ATT4": [None], "ATT5": [None]}, index=[2])
    # 3 of 5 = 0.6 >= 0.5 -> mean(5, 4, 6 - 1) = 14/3
    assert code_responses(_raw(df3), CB).scores.loc[2, "attitude"] == pytest.approx(14 / 3, rel=1e-12)


def test_unknown_label_error_names_file_row_column_value_expected() -> None:
    df = pd.DataFrame({"ATT1": ["同意", "很满意!"]}, index=[2, 3])
    with pytest.raises(CodingError) as exc:
        code_responses(_raw(df), CB)
    err = exc.value
    assert (err.file, err.row, err.column, err.value) == ("wave.xlsx", 3, "ATT1", "很满意!")
    assert "scale 'agree5'" in err.expected
    assert "\n" not in str(err)
    assert str(err).startswith("wave.xlsx: row 3, column 'ATT1', value '很满意!': unknown label")


@pytest.mark.parametrize("value", [7, 0, 2.5, "8"])
def test_out_of_range_codes_raise(value) -> None:
    df = pd.DataFrame({"SAT1": [value]}, index=[5])
    with pytest.raises(CodingError, match="out of range") as exc:
        code_responses(_raw(df), CB)
    assert exc.value.row == 5
    assert "one of 1, 2, 3, 4, 5" in exc.value.expected


def test_collect_gathers_every_problem() -> None:
    df = pd.DataFrame({"ATT1": ["x", "y", 4], "SAT1": [9, 1, 2], "gender": ["男", "other", "女"]}, index=[2, 3, 4])
    coded = code_responses(_raw(df), CB, errors="collect")
    where = sorted((e.column, e.row) for e in coded.problems)
    assert where == [("ATT1", 2), ("ATT1", 3), ("SAT1", 2), ("gender", 3)]
    assert coded.data["ATT1"].isna().tolist() == [True, True, False]
    assert ("ATT1", "unknown label -> NA", 2) in _audit(coded)
    assert ("SAT1", "out-of-range -> NA", 1) in _audit(coded)


def test_categoricals_labels_order_and_language() -> None:
    df = pd.DataFrame({"age_group": ["30～39岁", 1, "60岁以上"], "gender": ["女", "Male", 2]}, index=[2, 3, 4])
    en = code_responses(_raw(df), CB)
    age = en.data["age_group"]
    assert isinstance(age.dtype, pd.CategoricalDtype)
    assert age.cat.ordered
    assert list(age.cat.categories) == ["18-29", "30-39", "40-49", "50-59", "60 and over"]
    assert age.astype(str).tolist() == ["30-39", "18-29", "60 and over"]
    assert not en.data["gender"].cat.ordered
    zh = code_responses(_raw(df), CB, lang="zh")
    assert zh.data["gender"].astype(str).tolist() == ["女", "男", "女"]
    with pytest.raises(ValueError, match="'lang' parameter"):
        code_responses(_raw(df), CB, lang="fr")


def test_multiselect_text_and_codes() -> None:
    df = pd.DataFrame({"channels_known": ["电话┋微信", "1┋5", "Phone", None]}, index=[2, 3, 4, 5])
    coded = code_responses(_raw(df), CB)
    cols = [f"channels_known__{k}" for k in range(1, 6)]
    got = coded.data[cols].to_numpy()
    assert got[:3].tolist() == [[0, 0, 1, 1, 0], [1, 0, 0, 0, 1], [0, 0, 1, 0, 0]]
    assert np.isnan(got[3]).all()
    with pytest.raises(CodingError, match="unknown option"):
        code_responses(_raw(pd.DataFrame({"channels_known": ["电话┋信鸽"]}, index=[2])), CB)


def test_meta_and_text_columns() -> None:
    df = pd.DataFrame({"resp_id": ["1", "2"], "duration_s": ["125秒", "NULL"], "ip": ["1.2.3.4", None],
                       "suggestion": ["无", "(空)"]}, index=[2, 3])
    coded = code_responses(_raw(df), CB)
    assert coded.data["resp_id"].tolist() == [1, 2]
    assert coded.data["duration_s"].iloc[0] == 125.0
    assert np.isnan(coded.data["duration_s"].iloc[1])
    assert coded.identifier_columns == ["ip"]
    assert pd.isna(coded.data["suggestion"].iloc[1])


def test_parse_duration() -> None:
    assert parse_duration("1小时2分3秒") == 3723.0
    assert parse_duration(" 45 ") == 45.0
    assert np.isnan(parse_duration("abc"))


# --- properties -----------------------------------------------------------------------

SCALES = sorted(CB.scales)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SCALES), st.lists(st.integers(0, 10), min_size=1, max_size=30))
def test_reverse_twice_is_identity(scale_id: str, picks: list[int]) -> None:
    scale = CB.scales[scale_id]
    codes = pd.Series([scale.codes[k % len(scale.codes)] if k < 9 else np.nan for k in picks], dtype="float64")
    once = reverse_code(codes, scale)
    assert once.dropna().isin(scale.codes).all()
    pd.testing.assert_series_equal(reverse_code(once, scale), codes)


ITEMS_BY_SCALE = {s: next(i.id for i in CB.items.values() if i.scale == s) for s in SCALES}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SCALES), st.sampled_from(["zh", "en"]), st.lists(st.integers(0, 20), min_size=1, max_size=25))
def test_labels_round_trip(scale_id: str, lang: str, picks: list[int]) -> None:
    scale = CB.scales[scale_id]
    codes = pd.Series([scale.codes[k % len(scale.codes)] for k in picks], dtype="float64",
                      index=range(2, 2 + len(picks)))
    labels = decode_labels(codes, scale, lang=lang)
    item = ITEMS_BY_SCALE[scale_id]
    coded = code_responses(_raw(pd.DataFrame({item: labels})), CB)
    pd.testing.assert_series_equal(coded.answers[item], codes, check_names=False)


def test_submit_times_become_datetimes_when_they_all_parse() -> None:
    df = pd.DataFrame({"submit_time": ["2022/3/1 10:00:00", "NULL", "2022/3/2 9:05:00"]}, index=[2, 3, 4])
    got = code_responses(_raw(df), CB).data["submit_time"]
    assert pd.api.types.is_datetime64_any_dtype(got)
    assert got.iloc[2] == pd.Timestamp(2022, 3, 2, 9, 5)
    assert pd.isna(got.iloc[1])
    odd = pd.DataFrame({"submit_time": ["2022/3/1 10:00:00", "yesterday"]}, index=[2, 3])
    assert code_responses(_raw(odd), CB).data["submit_time"].tolist() == ["2022/3/1 10:00:00", "yesterday"]


def test_a_repeated_bad_value_is_reported_once_with_its_count() -> None:
    df = pd.DataFrame({"ATT1": [1, "好", 2, "好", "好"]}, index=range(2, 7))
    coded = code_responses(_raw(df), CB, errors="collect")
    assert len(coded.problems) == 1
    assert coded.problems[0].row == 3
    assert "in 3 rows; the first is shown" in str(coded.problems[0])


# --- _multi_from_text: per distinct value == the old per-cell loop (issue 9) ------------

def _multi_from_text_loop(coder, s, cat, lm):
    """The per-cell loop that coding._multi_from_text replaced (kept to compare with)."""
    import re

    from servicestudy.codebook import normalize_label
    from servicestudy.coding import (
        _FILL,
        MULTI_SEPARATORS,
        PLATFORM_MISSING,
        _as_number,
        _fmt,
        _is_na,
    )

    names = {c: f"{cat.id}__{c:g}" for c in cat.codes}
    mat = np.full((len(s), len(names)), np.nan)
    pos = {c: k for k, c in enumerate(cat.codes)}
    expected = f"options of {cat.id!r} separated by '┋' (one of {_fmt(cat.codes)} or their labels)"
    for r, (idx, v) in enumerate(s.items()):
        if _is_na(v):
            continue
        if isinstance(v, str) and normalize_label(v) in PLATFORM_MISSING:
            coder.note(cat.id, "platform missing marker -> NA", 1)
            continue
        if not isinstance(v, str) or normalize_label(_FILL.sub("", v)) in lm:
            parts = [v]
        else:
            parts = re.split("|".join(map(re.escape, MULTI_SEPARATORS)), v)
        row = np.zeros(len(names))
        ok = True
        for p in parts:
            text = _FILL.sub("", p) if isinstance(p, str) else p
            if isinstance(p, str) and text != p:
                coder.note(cat.id, "fill-in text dropped", 1)
            key = normalize_label(text)
            if not key:
                continue
            code = lm.get(key, "?")
            if code == "?":
                num = _as_number(text)
                code = num if num in pos else "?"
            if code is None:
                coder.note(cat.id, "missing label -> NA", 1)
                ok = False
                break
            if code == "?":
                coder.fail(f"unknown option for {cat.id}", column=cat.id, rows=[idx], value=p, expected=expected)
                coder.note(cat.id, "unknown label -> NA", 1)
                ok = False
                break
            row[pos[code]] = 1.0
        if ok:
            mat[r] = row
            coder.note(cat.id, "label -> code", 1)
    return {names[c]: pd.Series(mat[:, pos[c]], index=s.index) for c in cat.codes}


_MULTI_PARTS = ["派出所服务窗口", "电话", "微信", "Phone", "1", "3", "9", " ", "其他〖亲友〗", "电话〖x〗", "(跳过)", "NULL",
                "很好", ""]
_MULTI_CELLS = [None, float("nan"), "", "  ", 1, 2.0, True, 9, 3.5, "(空)"]


@pytest.mark.parametrize("errors", ["collect", "raise"])
@pytest.mark.parametrize("seed", range(25))
def test_multi_select_by_distinct_value_equals_the_cell_loop(seed, errors):
    from servicestudy.coding import _Coder, _multi_from_text

    cb = load_codebook("k_station")
    cat = cb.categoricals["channels_known"]
    rng = np.random.default_rng(seed)
    pool = []
    for _ in range(12):
        if rng.uniform() < 0.3:
            pool.append(_MULTI_CELLS[int(rng.integers(len(_MULTI_CELLS)))])
        else:
            parts = rng.choice(_MULTI_PARTS, size=int(rng.integers(1, 4)))
            sep = "┋" if rng.uniform() < 0.9 else "|"
            pool.append(sep.join(parts))
    n = int(rng.integers(1, 80))
    s = pd.Series([pool[int(i)] for i in rng.integers(0, len(pool), size=n)], index=np.arange(2, n + 2), dtype=object)
    raw = RawExport(data=pd.DataFrame({"channels_known": s}), file="w.xlsx", sha256="", platform="wenjuanxing",
                    encoding=None, matched={}, unmatched=(), missing=())
    results = []
    for fn in (_multi_from_text, _multi_from_text_loop):
        coder = _Coder(raw, cb, errors)
        try:
            out = fn(coder, s, cat, cat.label_map())
        except CodingError as exc:
            results.append(("raised", str(exc), list(coder.audit.items())))
            continue
        results.append((pd.DataFrame(out), list(coder.audit.items()), [str(p) for p in coder.problems]))
    new, old = results
    if isinstance(old[0], str):
        assert new == old
        return
    pd.testing.assert_frame_equal(new[0], old[0])
    assert new[1:] == old[1:]


def test_durations_parsed_once_per_text_equal_parse_duration():
    from servicestudy.coding import _durations

    cells = ["125秒", "125秒", "2分5秒", None, float("nan"), 30, 30.0, True, "NULL", " 7 ", "1小时2分", "", "x", "125秒"]
    got = _durations(pd.Series(cells, dtype=object))
    want = [parse_duration(v) for v in cells]
    assert np.array_equal(np.array(got), np.array(want), equal_nan=True)
    assert [type(v) for v in got] == [type(v) for v in want]
