"""Fuzzing the importers and the coder: only documented ServicestudyError subclasses may escape.

Hypothesis generates (a) random bytes under every supported extension, with and without each
format's magic number in front, (b) random small tables written as CSV and as xlsx, and (c)
random tables of labels, codes and junk for the coder. Whatever the input, ``read_export`` and
``code_responses`` either succeed or raise a :class:`~servicestudy.errors.ServicestudyError`
subclass with a one-line message; anything else (``KeyError``, ``IndexError``, a parser's own
exception, a warning turned into an error) fails the test. Each test runs at most 200
examples (``deadline=None``: parsers' first calls are slow).
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from servicestudy.codebook import load_codebook
from servicestudy.coding import code_responses
from servicestudy.errors import (
    CodingError,
    ReadError,
    SchemaError,
    ServicestudyError,
)
from servicestudy.io import read_export

CB = load_codebook("k_station")
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run: failures are reproducible in CI
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
EXTENSIONS = [".csv", ".txt", ".xlsx", ".xls", ".sav", ".dta", ".zsav", ".xlsm"]
MAGIC = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06" + b"\x00" * 18,
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"$FL2",
    b"$FL3",
    b"<stata_dta><header><release>118</release>",
    b"\x72\x02\x01\x00",  # old Stata 114 header
    b"\xef\xbb\xbf",
    b"\xff\xfe",
]
READ_ERRORS = (ReadError, SchemaError)

_DIRS: list[Path] = []


def _path(name: str) -> Path:
    """A scratch file, rewritten by every example (Hypothesis cannot use tmp_path per example)."""
    if not _DIRS:
        _DIRS.append(Path(tempfile.mkdtemp(prefix="servicestudy-fuzz-")))
    return _DIRS[0] / name


def _check_error(exc: ServicestudyError, allowed: tuple[type, ...] = (ServicestudyError,)) -> None:
    event(f"raised {type(exc).__name__}: {exc.message[:40]}")
    assert isinstance(exc, allowed), type(exc)
    assert "\n" not in str(exc)
    assert str(exc)


@FUZZ
@given(ext=st.sampled_from(EXTENSIONS), magic=st.sampled_from(MAGIC), body=st.binary(max_size=2048))
def test_random_bytes_never_crash_the_importer(ext: str, magic: bytes, body: bytes) -> None:
    path = _path(f"random{ext}")
    path.write_bytes(magic + body)
    try:
        raw = read_export(path, CB)
    except READ_ERRORS as exc:
        _check_error(exc)
        return
    try:
        code_responses(raw, CB)
        event("read and coded")
    except ServicestudyError as exc:
        _check_error(exc)


LABELS = sorted({lab for s in CB.scales.values() for lv in (*s.levels, *s.missing) for lab in lv.labels()})
HEADERS = ["序号", "来自IP", "提交答卷时间", "所用时间", *list(CB.items)[:8], "suggestion", "1、您的性别", "x"]
cell = st.one_of(
    st.none(),
    st.sampled_from(LABELS),
    st.integers(min_value=-5, max_value=12),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(max_size=12),
    st.sampled_from(["(跳过)", "(空)", "NULL", "-3", "=1+1", "@x", "1e400", " 5 ", "５", "同 意"]),
)
header = st.one_of(st.sampled_from(HEADERS), st.text(max_size=10))


@st.composite
def tables(draw) -> tuple[list[str], list[list[object]]]:
    n_cols = draw(st.integers(min_value=1, max_value=8))
    heads = draw(st.lists(header, min_size=n_cols, max_size=n_cols))
    n_rows = draw(st.integers(min_value=0, max_value=6))
    widths = st.sampled_from([n_cols] * 6 + [max(n_cols - 1, 0), n_cols + 1])  # mostly rectangular
    rows = []
    for _ in range(n_rows):
        width = draw(widths)
        rows.append(draw(st.lists(cell, min_size=width, max_size=width)))
    return heads, rows


def _as_csv_text(v: object) -> str:
    if v is None:
        return ""
    return str(v)


@FUZZ
@given(table=tables(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_random_csv_tables(table, encoding: str) -> None:
    heads, rows = table
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([heads, *[[_as_csv_text(v) for v in r] for r in rows]])
    path = _path("table.csv")
    try:
        path.write_bytes(buf.getvalue().encode(encoding))
    except UnicodeEncodeError:
        path.write_bytes(buf.getvalue().encode("utf-8"))
    try:
        raw = read_export(path, CB)
        code_responses(raw, CB)
        event("read and coded")
    except ServicestudyError as exc:
        _check_error(exc)


def _xlsx_value(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None  # openpyxl cannot store NaN/inf
    if isinstance(v, str):
        # characters XML 1.0 cannot carry make openpyxl refuse the cell: not our input
        return "".join(ch for ch in v if ch in "\t\n\r" or ord(ch) >= 32) or None
    return v


@FUZZ
@given(table=tables())
def test_random_xlsx_tables(table) -> None:
    heads, rows = table
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([_xlsx_value(h) for h in heads])
    for r in rows:
        ws.append([_xlsx_value(v) for v in r])
    path = _path("table.xlsx")
    wb.save(path)
    try:
        raw = read_export(path, CB)
        code_responses(raw, CB)
        event("read and coded")
    except ServicestudyError as exc:
        _check_error(exc)


ITEMS = ["CON1", "ATT1", "ATT3", "EFF2", "SAT1", "IMP_content"]


@FUZZ
@given(
    columns=st.lists(st.sampled_from([*ITEMS, "gender", "suggestion", "duration_s", "zzz"]), min_size=1, max_size=6,
                     unique=True),
    n=st.integers(min_value=0, max_value=8),
    data=st.data(),
)
def test_random_label_tables_code_or_raise_coding_error(columns, n, data) -> None:
    df = pd.DataFrame(
        {c: pd.Series(data.draw(st.lists(cell, min_size=n, max_size=n)), dtype=object) for c in columns},
        index=pd.RangeIndex(2, 2 + n),
    )
    try:
        coded = code_responses(df, CB)
    except ServicestudyError as exc:
        _check_error(exc, (CodingError, SchemaError))
        return
    event("coded")
    for item in (c for c in columns if c in CB.items):
        scale = CB.scale_of(item)
        values = coded.data[item].dropna()
        assert values.isin(scale.codes).all(), (item, values.tolist())
    collected = code_responses(df, CB, errors="collect")
    assert not collected.problems


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    for folder in _DIRS:
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()
    _DIRS.clear()
