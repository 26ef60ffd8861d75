"""read_export on small generated files of every format, and write_processed/read_processed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from servicestudy.codebook import load_codebook
from servicestudy.coding import code_responses
from servicestudy.errors import ReadError, SchemaError
from servicestudy.io import clean_header, read_export, read_processed, write_processed

CB = load_codebook("k_station")

# headers as a Wenjuanxing text download of the k_station questionnaire would write them
HEADERS = ["序号", "提交答卷时间", "所用时间", "来源", "来自IP", "1、您的性别", "2、您的年龄",
           "3、民警办事态度热情、礼貌", "4、民警更注重管理而不是服务"]
ROWS = [
    ["1", "2022/3/1 10:00:00", "125秒", "手机提交", "1.2.3.4", "男", "30-39岁", "同意", "非常同意"],
    ["2", "2022/3/1 10:05:00", "98秒", "微信", "5.6.7.8", "女", "60岁及以上", "非常同意", "不清楚"],
    ["3", "2022/3/1 10:07:00", "61秒", "链接", "9.9.9.9", "女", "18-29岁", "一般", "不同意"],
]


def _csv_text(headers=HEADERS, rows=ROWS) -> str:
    return "\n".join(",".join(r) for r in [headers, *rows]) + "\n"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("enc", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030")])
def test_csv_encodings(tmp_path: Path, enc: str, expected: str) -> None:
    p = tmp_path / "wave.csv"
    p.write_bytes(_csv_text().encode(enc))
    before = (_sha(p), os.stat(p).st_mtime_ns)
    raw = read_export(p, CB)
    assert raw.encoding == expected
    assert raw.platform == "wenjuanxing"
    assert raw.sha256 == before[0]
    assert (_sha(p), os.stat(p).st_mtime_ns) == before  # never modified
    assert list(raw.data.index) == [2, 3, 4]  # spreadsheet row numbers
    assert raw.data["ATT1"].tolist() == ["同意", "非常同意", "一般"]
    assert raw.data["ATT3"].tolist() == ["非常同意", "不清楚", "不同意"]
    assert raw.data["gender"].tolist() == ["男", "女", "女"]
    assert raw.data["duration_s"].tolist() == ["125秒", "98秒", "61秒"]
    assert raw.data["resp_id"].tolist() == [1.0, 2.0, 3.0]
    assert raw.matched["3、民警办事态度热情、礼貌"] == "ATT1"
    assert raw.matched["来自IP"] == "ip"
    assert raw.unmatched == ()
    assert "CON1" in raw.missing
    assert "ATT1" not in raw.missing


def test_csv_explicit_encoding_and_wrong_one(tmp_path: Path) -> None:
    p = tmp_path / "wave.csv"
    p.write_bytes(_csv_text().encode("gb18030"))
    assert read_export(p, CB, encoding="gbk").encoding == "gbk"
    with pytest.raises(ReadError, match="cannot decode as utf-8"):
        read_export(p, CB, encoding="utf-8")


def test_csv_ragged_row_names_the_row(tmp_path: Path) -> None:
    p = tmp_path / "ragged.csv"
    rows = [list(r) for r in ROWS]
    rows[1] = [*rows[1], "extra"]
    p.write_text(_csv_text(rows=rows), encoding="utf-8")
    with pytest.raises(SchemaError) as exc:
        read_export(p, CB)
    assert exc.value.row == 3
    assert "ragged.csv: row 3" in str(exc.value)


def test_csv_without_codebook_cleans_headers(tmp_path: Path) -> None:
    p = tmp_path / "wave.csv"
    p.write_text(_csv_text(), encoding="utf-8")
    raw = read_export(p)
    assert list(raw.data.columns) == ["序号", "提交答卷时间", "所用时间", "来源", "来自IP", "您的性别",
                                      "您的年龄", "民警办事态度热情、礼貌", "民警更注重管理而不是服务"]
    assert raw.matched == {}
    assert raw.missing == ()


def test_header_matching_normalises_fullwidth_and_aliases(tmp_path: Path) -> None:
    # full-width letters and spaces in the header, English question text, id, alias
    headers = ["Ｉｐ Address", "Officers are courteous and polite", "ATT2", " 民警 更注重管理而不是服务 ", "Unknown Q"]
    p = tmp_path / "h.csv"
    p.write_text(",".join(headers) + "\n1.1.1.1,4,3,2,x\n", encoding="utf-8")
    raw = read_export(p, CB)
    assert list(raw.data.columns) == ["ip", "ATT1", "ATT2", "ATT3"]
    assert raw.unmatched == ("Unknown Q",)


def test_duplicate_match_is_a_schema_error(tmp_path: Path) -> None:
    p = tmp_path / "dup.csv"
    p.write_text("ATT1,民警办事态度热情、礼貌\n1,2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="both match 'ATT1'"):
        read_export(p, CB)


def _xlsx(path: Path, sheets: dict[str, list[list[object]]], merge: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        if merge:
            ws.merge_cells(merge)
    wb.save(path)
    return path


def test_xlsx_sheets_and_merged_header(tmp_path: Path) -> None:
    first = [["ATT1", "ATT2"], [4, 5], [3, None], [None, None], [2, 1]]
    second = [["序号", "民警办事态度热情、礼貌"], [1, "同意"]]
    p = _xlsx(tmp_path / "w.xlsx", {"Data": first, "Other": second})
    raw = read_export(p, CB)
    assert raw.sheet == "Data"
    assert list(raw.data.index) == [2, 3, 5]  # the blank row 4 is skipped, numbering kept
    assert raw.data["ATT1"].tolist() == [4, 3, 2]
    raw2 = read_export(p, CB, sheet="Other")
    assert raw2.data["ATT1"].tolist() == ["同意"]
    assert read_export(p, CB, sheet=1).sheet == "Other"
    with pytest.raises(ReadError, match="no sheet 'Nope'"):
        read_export(p, CB, sheet="Nope")
    # merged header cells (B1:C1): the second one is empty and gets a column-letter name
    m = _xlsx(tmp_path / "m.xlsx", {"S": [["ATT1", "ATT2", None], [1, 2, 3]]}, merge="B1:C1")
    rawm = read_export(m, CB)
    assert rawm.unmatched == ("column C",)
    assert rawm.data["ATT2"].tolist() == [2]


def test_wenjuanxing_style_xlsx(tmp_path: Path) -> None:
    headers = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "1、您的性别",
               "2(民警办事态度热情、礼貌)", "2(民警解答问题耐心细致)", "第2题(民警更注重管理而不是服务)",
               "3、您知道可以通过以下哪些渠道办理派出所业务（多选）", "4、您对派出所改进公共服务有什么意见和建议？"]
    rows = [
        [1, "2022-03-01 10:00:00", "125秒", "微信", "N/A", "1.2.3.4", "男", "同意", "非常同意", "(跳过)",
         "电话┋微信", "多一些窗口"],
        [2, "2022-03-01 10:03:00", "2分5秒", "手机提交", "直接访问", "5.6.7.8", "女", "一般", "同意", "不同意",
         "派出所服务窗口", "(空)"],
    ]
    p = _xlsx(tmp_path / "wjx.xlsx", {"Sheet1": [headers, *rows]})
    raw = read_export(p, CB)
    assert raw.platform == "wenjuanxing"
    assert raw.matched["2(民警办事态度热情、礼貌)"] == "ATT1"
    assert raw.matched["第2题(民警更注重管理而不是服务)"] == "ATT3"
    assert raw.matched["3、您知道可以通过以下哪些渠道办理派出所业务（多选）"] == "channels_known"
    assert raw.unmatched == ()
    coded = code_responses(raw, CB)
    d = coded.data
    assert d["duration_s"].tolist() == [125.0, 125.0]
    assert d["ATT1"].tolist() == [4.0, 3.0]
    assert np.isnan(d.loc[2, "ATT3"])
    assert d.loc[3, "ATT3"] == 4.0
    assert d[[f"channels_known__{k}" for k in range(1, 6)]].to_numpy().tolist() == [
        [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]]
    assert d["suggestion"].iloc[0] == "多一些窗口"
    assert pd.isna(d["suggestion"].iloc[1])
    assert pd.api.types.is_string_dtype(d["suggestion"])
    assert str(d.loc[2, "gender"]) == "Male"


def test_wenjuanxing_number_download_multiselect(tmp_path: Path) -> None:
    headers = ["序号", "1、您的性别", "第2题(派出所服务窗口)", "第2题(网上平台或浙里办APP)", "第2题(电话)",
               "第2题(微信)", "第2题(自助服务终端)", "3、民警办事态度热情、礼貌"]
    p = _xlsx(tmp_path / "num.xlsx", {"Sheet1": [headers, [1, 1, 0, 0, 1, 1, 0, 4], [2, 2, 1, 0, 0, 0, 0, 5]]})
    raw = read_export(p, CB)
    assert raw.matched["第2题(电话)"] == "channels_known__3"
    assert "channels_known" not in raw.missing
    coded = code_responses(raw, CB)
    assert coded.data[[f"channels_known__{k}" for k in range(1, 6)]].to_numpy().tolist() == [
        [0, 0, 1, 1, 0], [1, 0, 0, 0, 0]]
    assert coded.data["gender"].astype(str).tolist() == ["Male", "Female"]


def test_sav_value_labels_and_user_missing(tmp_path: Path) -> None:
    import pyreadstat  # locked dependency: never skipped
    df = pd.DataFrame({"ATT1": [1.0, 2.0, 9.0, 5.0], "gender": [1.0, 2.0, 1.0, 2.0], "other": [0.0, 1.0, 2.0, 3.0]})
    p = tmp_path / "w.sav"
    pyreadstat.write_sav(df, p, column_labels={"ATT1": "民警办事态度热情、礼貌", "gender": "您的性别", "other": "x"},
                         variable_value_labels={"gender": {1.0: "男", 2.0: "女"}}, missing_ranges={"ATT1": [9.0]})
    raw = read_export(p, CB)
    assert raw.platform == "spss"
    assert list(raw.data.index) == [1, 2, 3, 4]
    assert raw.value_labels["gender"] == {1.0: "男", 2.0: "女"}
    assert raw.variable_labels["ATT1"] == "民警办事态度热情、礼貌"
    assert raw.data["ATT1"].isna().tolist() == [False, False, True, False]
    assert raw.user_missing.to_dict("records") == [{"column": "ATT1", "value": 9.0, "count": 1}]
    assert raw.unmatched == ("other",)
    coded = code_responses(raw, CB)
    assert ("ATT1", "user missing -> NA", 1) in set(coded.audit.itertuples(index=False, name=None))
    # matched by variable label when the name is not an id
    p2 = tmp_path / "w2.sav"
    pyreadstat.write_sav(df[["other"]].rename(columns={"other": "q7"}), p2, column_labels={"q7": "民警解答问题耐心细致"})
    assert read_export(p2, CB).matched == {"q7": "ATT2"}


def test_dta_value_labels_and_user_missing(tmp_path: Path) -> None:
    import pyreadstat  # locked dependency: never skipped
    df = pd.DataFrame({"ATT1": [1.0, 2.0, "a", 4.0], "gender": [1.0, 2.0, 1.0, 2.0]}, dtype=object)
    df["gender"] = df["gender"].astype(float)
    p = tmp_path / "w.dta"
    pyreadstat.write_dta(df, p, variable_value_labels={"gender": {1: "男", 2: "女"}}, missing_user_values={"ATT1": ["a"]})
    raw = read_export(p, CB)
    assert raw.platform == "stata"
    assert raw.value_labels["gender"] == {1: "男", 2: "女"}
    assert raw.data["ATT1"].tolist()[:2] == [1.0, 2.0]
    assert pd.isna(raw.data["ATT1"].iloc[2])
    assert raw.user_missing.to_dict("records") == [{"column": "ATT1", "value": "a", "count": 1}]
    coded = code_responses(raw, CB)
    assert coded.data["gender"].astype(str).tolist() == ["Male", "Female", "Male", "Female"]


def test_qualtrics_three_header_rows(tmp_path: Path) -> None:
    lines = [
        "StartDate,EndDate,Duration (in seconds),ResponseId,IPAddress,Q1,Q2_1,Q2_2",
        'Start Date,End Date,Duration (in seconds),Response ID,IP Address,Gender,'
        '"How much do you agree? - Officers are courteous and polite","How much do you agree? - Officers answer questions patiently and carefully"',
        '"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""duration""}",'
        '"{""ImportId"":""_recordId""}","{""ImportId"":""ipAddress""}","{""ImportId"":""QID1""}",'
        '"{""ImportId"":""QID2_1""}","{""ImportId"":""QID2_2""}"',
        "2022-03-01 10:00:00,2022-03-01 10:02:05,125,R_abc,1.2.3.4,Female,Agree,Strongly agree",
        "2022-03-01 11:00:00,2022-03-01 11:01:00,60,R_def,5.6.7.8,Male,Neutral,Disagree",
    ]
    p = tmp_path / "q.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = read_export(p, CB)
    assert raw.platform == "qualtrics"
    assert list(raw.data.index) == [4, 5]
    assert raw.matched == {"EndDate": "submit_time", "Duration (in seconds)": "duration_s", "ResponseId": "resp_id",
                           "IPAddress": "ip", "Q1": "gender", "Q2_1": "ATT1", "Q2_2": "ATT2"}
    assert raw.unmatched == ("StartDate",)
    coded = code_responses(raw, CB)
    assert coded.data["ATT1"].tolist() == [4.0, 3.0]
    assert coded.data["ATT2"].tolist() == [5.0, 2.0]
    assert coded.data["duration_s"].tolist() == [125.0, 60.0]


def test_bad_files_raise_read_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match="empty"):
        read_export(empty, CB)
    corrupt = tmp_path / "bad.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 this is not a workbook at all" * 10)
    with pytest.raises(ReadError, match=r"bad\.xlsx"):
        read_export(corrupt, CB)
    fake_sav = tmp_path / "bad.sav"
    fake_sav.write_bytes(b"$FL2" + b"\x00" * 100)
    with pytest.raises(ReadError, match=r"bad\.sav"):
        read_export(fake_sav, CB)
    with pytest.raises(ReadError):
        read_export(tmp_path / "absent.csv", CB)
    with pytest.raises(ValueError, match="'platform' parameter of read_export"):
        read_export(empty, CB, platform="surveymonkey")


def test_clean_header() -> None:
    assert clean_header("12、 您的年龄 ") == "您的年龄"
    assert clean_header("9(民警态度热情)") == "9(民警态度热情)"
    assert clean_header("序号") == "序号"


# --- processed data -------------------------------------------------------------------


def _coded(tmp_path: Path):
    p = tmp_path / "wave.csv"
    p.write_text(_csv_text(), encoding="utf-8")
    return code_responses(read_export(p, CB), CB)


def test_write_processed_is_deterministic_and_drops_identifiers(tmp_path: Path) -> None:
    coded = _coded(tmp_path)
    key = "0123456789abcdef-test-key"  # respondent pseudonyms are keyed; random without a key
    a = write_processed(coded, tmp_path / "a", seed=7, key=key)
    b = write_processed(coded, tmp_path / "b", seed=7, key=key)
    assert set(a) == {"parquet", "csv", "audit", "provenance"}
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    csv_bytes = a["csv"].read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    assert b"1.2.3.4" not in csv_bytes
    assert b"5.6.7.8" not in csv_bytes
    assert "ip" not in read_processed(a["parquet"]).columns
    assert "ip" in coded.data.columns  # kept in memory for screening
    prov = json.loads(a["provenance"].read_text(encoding="utf-8"))
    assert prov["raw_sha256"] == _sha(tmp_path / "wave.csv")
    assert prov["codebook_sha256"] == CB.sha256
    assert prov["seed"] == 7
    assert not [k for k in prov if "time" in k or "date" in k]
    assert not list((tmp_path / "a").glob(".*.tmp"))


def test_read_processed_roundtrip(tmp_path: Path) -> None:
    coded = _coded(tmp_path)
    paths = write_processed(coded, tmp_path / "out")
    back = read_processed(tmp_path / "out")
    expected = coded.data.drop(columns=["ip"])
    assert list(back.columns) == list(expected.columns)
    pd.testing.assert_series_equal(back["ATT1"], expected["ATT1"])
    assert back["gender"].astype(str).tolist() == expected["gender"].astype(str).tolist()
    assert list(back.index) == [2, 3, 4]
    audit = pd.read_csv(paths["audit"], encoding="utf-8-sig")
    assert list(audit.columns) == ["column", "rule", "count"]
    with pytest.raises(ReadError):
        read_processed(tmp_path / "nowhere")


def test_header_only_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("ATT1,ATT2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="no responses") as exc:
        read_export(p, CB)
    assert exc.value.file == str(p)


def test_option_columns_by_id(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("ATT1,channels_known__1,channels_known__3\n4,1,0\n", encoding="utf-8")
    raw = read_export(p, CB)
    assert raw.matched == {"ATT1": "ATT1", "channels_known__1": "channels_known__1",
                           "channels_known__3": "channels_known__3"}
    coded = code_responses(raw, CB)
    assert coded.data.loc[2, "channels_known__1"] == 1.0
    assert np.isnan(coded.data.loc[2, "channels_known__5"])  # an option column that is absent


def test_export_without_any_codebook_item_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("序号,1、您的性别,x\n1,男,3\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="none of the codebook's 30 items"):
        read_export(p, CB)
    # a cover sheet first: the message points to the other sheets
    wb = _xlsx(tmp_path / "c.xlsx", {"说明": [["问卷说明"]], "数据": [["ATT1"], [4]]})
    with pytest.raises(SchemaError, match="also has sheet\\(s\\) '数据'"):
        read_export(wb, CB)
    assert read_export(wb, CB, sheet="数据").data["ATT1"].tolist() == [4]


def test_identical_duplicate_headers(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("ATT1,ATT3,ATT3,x,x\n1,2,3,4,5\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="'ATT3' appears twice \\(columns B and C\\)"):
        read_export(p, CB)
    p.write_text("ATT1,x,x\n1,4,5\n", encoding="utf-8")
    assert read_export(p, CB).unmatched == ("x", "x")  # unmatched duplicates are only listed
    assert list(read_export(p).data.columns) == ["ATT1", "x", "x_2"]


def test_leading_blank_lines_keep_row_numbers(tmp_path: Path) -> None:
    p = tmp_path / "b.csv"
    p.write_text("\n\nATT1,ATT2\n4,5\n3\n", encoding="utf-8")
    with pytest.raises(SchemaError) as exc:
        read_export(p, CB)
    assert exc.value.row == 5
    p.write_text("\n\nATT1,ATT2\n4,5\n3,2\n", encoding="utf-8")
    assert list(read_export(p, CB).data.index) == [4, 5]


def test_tab_and_semicolon_separated(tmp_path: Path) -> None:
    for sep in ("\t", ";"):
        p = tmp_path / "s.txt"
        p.write_text(f"\nATT1{sep}ATT2\n4{sep}5\n", encoding="utf-8")
        assert read_export(p, CB).data.loc[3].tolist() == [4.0, 5.0]


def test_openpyxl_fallback(tmp_path: Path, monkeypatch) -> None:
    import python_calamine

    p = _xlsx(tmp_path / "f.xlsx", {"S": [["ATT1", "ATT2"], [4, "同意"], [None, 2]]})
    fast = read_export(p, CB)

    def broken(*args, **kwargs):
        raise RuntimeError("calamine unavailable")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", broken)
    slow = read_export(p, CB)
    assert slow.data.to_dict("list") == fast.data.to_dict("list") == {"ATT1": [4, None], "ATT2": ["同意", 2]}


def test_write_processed_failure_leaves_no_file(tmp_path: Path, monkeypatch) -> None:
    import servicestudy.io as sio

    coded = _coded(tmp_path)

    def broken(df):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sio, "neutralize", broken)
    with pytest.raises(RuntimeError):
        write_processed(coded, tmp_path / "out", key="0123456789abcdef-test-key")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


# --- fast paths == the plain row-by-row code (issue 9) ----------------------------------

_CELLS = [None, "", "  ", "\t", float("nan"), 0, 1, 1.0, True, False, "x", " x ", "同意", "NULL", -3.0,
          pd.Timestamp("2022-01-01").to_pydatetime()]


def _table_both_ways(rows, n_header, monkeypatch):
    import servicestudy.io as sio

    def run():
        try:
            headers, df = sio._table_from_rows(Path("t.xlsx"), rows, n_header, 2)
        except SchemaError as exc:
            return ("error", str(exc))
        return headers, df

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(sio, "_body_by_columns", lambda *a: None)
        slow = run()
    return fast, slow


@pytest.mark.parametrize("seed", range(60))
def test_table_by_columns_equals_the_row_loop(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    width = int(rng.integers(1, 5))
    length = int(rng.integers(0, 7))  # rows shorter, as long as and longer than the header
    n = int(rng.integers(1, 9))
    blank_share = rng.uniform(0, 1)
    header = [f"h{j}" if rng.uniform() > 0.2 else "" for j in range(width)]
    if header[-1] == "":
        header[-1] = "last"

    def cell():
        if rng.uniform() < blank_share:
            return [None, "", "  ", float("nan")][int(rng.integers(0, 4))]
        return _CELLS[int(rng.integers(0, len(_CELLS)))]

    rows = [header] + [[cell() for _ in range(length)] for _ in range(n)]
    fast, slow = _table_both_ways(rows, 1, monkeypatch)
    if slow[0] == "error":
        assert fast == slow
        return
    assert fast[0] == slow[0]
    pd.testing.assert_frame_equal(fast[1], slow[1], check_column_type=True, check_index_type=True)
    for a, b in zip(fast[1].to_numpy().ravel(), slow[1].to_numpy().ravel(), strict=True):
        assert type(a) is type(b)


def test_floats_formatted_once_per_value_give_the_same_csv_bytes():
    """write_processed formats float columns per distinct value; to_csv writes the same bytes."""
    from servicestudy.io import _floats_as_text

    rng = np.random.default_rng(3)
    n = 500
    special = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-300, 1 / 3, 1e22, 5.0, 123456789.123, -2.5])
    df = pd.DataFrame({
        "a": rng.choice(special, size=n),
        "b": rng.integers(1, 6, size=n).astype(float),
        "t": pd.Series(rng.choice(["x", "y, z", None, "=1"], size=n), dtype="str"),
        "i": rng.integers(0, 9, size=n),
        "c": pd.Categorical(rng.choice(["lo", "hi"], size=n)),
        "f32": rng.normal(size=n).astype("float32"),
        "F": pd.array(rng.choice([1.5, None], size=n), dtype="Float64"),
    }, index=pd.Index(np.arange(2, n + 2), name="row"))
    df.insert(2, "a2", df["a"] * -1)
    want = df.to_csv(lineterminator="\r\n")
    assert _floats_as_text(df).to_csv(lineterminator="\r\n") == want
    assert df["a"].dtype == np.float64  # the input is not modified


@pytest.mark.parametrize("cells", [
    {"A1": "h1", "B1": "h2", "A2": 1, "B2": "同意", "A3": True, "B3": "同意", "C4": 2.5},
    {"A3": "x", "D4": 1.5, "B6": "同意"},  # blank rows on top
    {"C3": "x", "D4": 1.5},  # first column empty: read whole
    {"B1": "h", "A2": pd.Timestamp("2022-01-01 10:00").to_pydatetime(), "B2": "", "B3": "  "},
    {"A1": "only"},
])
def test_calamine_rows_streamed_equal_to_python(tmp_path, cells):
    """Rows streamed with shared strings equal calamine's to_python(skip_empty_area=False)."""
    from python_calamine import CalamineWorkbook

    from servicestudy.io import _calamine_rows

    wb = openpyxl.Workbook()
    ws = wb.active
    for ref, v in cells.items():
        ws[ref] = v
    path = tmp_path / "w.xlsx"
    wb.save(path)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    want = [list(r) for r in sheet.to_python(skip_empty_area=False)]
    got = _calamine_rows(sheet)
    assert got == want
    assert [[type(v) for v in r] for r in got] == [[type(v) for v in r] for r in want]
