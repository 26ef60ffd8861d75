"""Reading survey exports and writing processed data.

:func:`read_export` reads what survey platforms and statistics packages write -- CSV (UTF-8,
UTF-8 with BOM, GB18030/GBK), Excel (``.xlsx``, legacy ``.xls``), SPSS ``.sav``, Stata ``.dta``,
Wenjuanxing (问卷星) downloads "by option text" and "by option number", and Qualtrics CSV with
its three header rows -- and matches the headers to a :class:`~servicestudy.codebook.Codebook`.
It never modifies the input file and never codes values: that is
:func:`servicestudy.coding.code_responses`.

:func:`write_processed` writes a coded table (Parquet, a UTF-8-with-BOM CSV for Excel, the
audit log and a provenance JSON) atomically and byte-deterministically; :func:`read_processed`
reads the Parquet back.

The format details are documented in ``docs/importing.md``.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._atomic import atomic_write_bytes, safe_join
from ._guards import check_file
from ._spreadsheet import neutralize
from .codebook import Codebook, normalize_label
from .errors import OutputError, ReadError, SchemaError, ServicestudyError
from .privacy import scrub

__all__ = [
    "PLATFORMS",
    "RawExport",
    "clean_header",
    "read_export",
    "read_processed",
    "write_processed",
]

PLATFORMS = ("auto", "generic", "wenjuanxing", "qualtrics", "spss", "stata")
EXTENSIONS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
              ".sav": "sav", ".zsav": "sav", ".dta": "dta"}

# Wenjuanxing header shapes
_WJX_PREFIX = re.compile(r"^\s*(\d+)\s*[、.．]\s*")  # "12、题干"
_WJX_SUB = re.compile(r"^\s*(?:第\s*(\d+)\s*题|(\d+))\s*[(（](.*)[)）]\s*$", re.S)  # 第6题(运动) / 9(子问题)
_WJX_META = {"序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自ip"}


@dataclass(frozen=True)
class RawExport:
    """An export as read from disk, headers matched to a codebook but values not yet coded.

    Attributes
    ----------
    data
        One row per response. Columns are codebook ids when a codebook was given (items,
        categoricals, texts, meta columns; a multi-select question downloaded as one 0/1 column
        per option becomes ``<id>__<code>``), else the cleaned headers. Values are as in the
        file (label text or numbers; empty cells are missing). The index is the 1-based row
        number in the source file as a spreadsheet user sees it (the first response is row 2
        under one header row, row 4 in a Qualtrics CSV; the case number in ``.sav``/``.dta``).
    file
        The path read.
    sha256
        SHA-256 of the file's raw bytes.
    platform
        ``"wenjuanxing"``, ``"qualtrics"``, ``"spss"``, ``"stata"`` or ``"generic"``.
    encoding
        Text encoding used for CSV (``None`` for binary formats).
    matched
        Original header -> column id.
    unmatched
        Headers that matched nothing in the codebook (their columns are dropped from ``data``
        when a codebook is given).
    missing
        Codebook column ids not found in the file.
    variable_labels, value_labels
        From ``.sav``/``.dta`` (column -> label; column -> {code: label}).
    user_missing
        User-defined missing values set to NA on reading: a DataFrame with columns
        ``column``, ``value``, ``count``.
    """

    data: pd.DataFrame
    file: str
    sha256: str
    platform: str
    encoding: str | None
    matched: Mapping[str, str]
    unmatched: tuple[str, ...]
    missing: tuple[str, ...]
    variable_labels: Mapping[str, str] = field(default_factory=dict)
    value_labels: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    user_missing: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"column": [], "value": [], "count": []})
    )
    sheet: str | None = None

    @property
    def header_of(self) -> dict[str, str]:
        """Column id -> the original header it came from."""
        return {v: k for k, v in self.matched.items()}


# --- small helpers ---------------------------------------------------------------------


def clean_header(text: object) -> str:
    """A header without surrounding whitespace and without the Wenjuanxing ``N、`` prefix.

    >>> clean_header(" 3、性别 ")
    '性别'
    >>> clean_header("第6题(运动)")
    '第6题(运动)'
    """
    s = " ".join(str(text).split())
    m = _WJX_PREFIX.match(s)
    if m and not _WJX_SUB.match(s):
        s = s[m.end():].strip() or s
    return s


def _is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v.strip() == ""
    return bool(isinstance(v, float) and np.isnan(v))


def _check_file(path: Path) -> str:
    """Refuse missing, empty, oversize, corrupt and encrypted files; return the sniffed format."""
    fmt = check_file(path)
    if fmt not in EXTENSIONS.values():  # pragma: no cover - check_file returns a known format
        raise ReadError(f"unsupported format {fmt!r}", file=path, expected="one of " + ", ".join(sorted(EXTENSIONS)))
    return fmt


def _excel_col(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


# --- format readers: each returns (header rows, data rows, first data row number, extras) --


def _decode(raw: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except LookupError:
            raise ReadError(f"unknown encoding {encoding!r}", file=path) from None
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"cannot decode as {encoding} at byte {exc.start}",
                file=path, value=raw[exc.start : exc.start + 4], expected="text in the given encoding",
            ) from None
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as exc:
        # UTF-8 Chinese text before the first invalid byte: mixed encodings, which a GB18030
        # fallback would garble silently (issue 8)
        if sum(ord(ch) >= 0x800 for ch in raw[: exc.start].decode("utf-8-sig", "replace")) >= 2:
            raise ReadError(
                f"mixed text encodings: UTF-8 up to byte {exc.start}, then not UTF-8",
                file=path, row=raw[: exc.start].count(b"\n") + 1, value=raw[exc.start : exc.start + 4],
                expected="one encoding for the whole file (re-save it as UTF-8)",
            ) from None
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"cannot decode the text at byte {exc.start}", file=path,
            value=raw[exc.start : exc.start + 4],
            expected="UTF-8, UTF-8 with BOM or GB18030/GBK text (or pass encoding=)",
        ) from None


def _read_csv_rows(path: Path, raw: bytes, encoding: str | None) -> tuple[list[list[Any]], str]:
    text, used = _decode(raw, path, encoding)
    if "\x00" in text:
        raise ReadError("the file contains NUL bytes (binary or UTF-16 text?)", file=path,
                        expected="UTF-8 or GB18030 text")
    try:
        sample = text[:65536]
        delim = ","
        first = next((line for line in sample.splitlines() if line.strip()), "")
        if first.count("\t") > first.count(",") and first.count("\t") > 0:
            delim = "\t"
        elif first.count(";") > first.count(",") and first.count(";") > 0:
            delim = ";"
        rows = list(csv.reader(_io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error as exc:
        raise ReadError(f"malformed CSV: {exc}", file=path) from None
    return rows, used


def _read_xlsx_rows(path: Path, sheet: str | int | None, fmt: str) -> tuple[list[list[Any]], str, list[str]]:
    errors: list[str] = []
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_path(str(path))
        names = list(wb.sheet_names)
        name = _pick_sheet(path, names, sheet)
        return _calamine_rows(wb.get_sheet_by_name(name)), name, names
    except ServicestudyError:
        raise
    except Exception as exc:  # calamine raises its own error types
        errors.append(f"{type(exc).__name__}: {exc}")
    try:
        if fmt == "xls":
            import xlrd

            book = xlrd.open_workbook(str(path), on_demand=True)
            name = _pick_sheet(path, book.sheet_names(), sheet)
            sh = book.sheet_by_name(name)
            return [sh.row_values(i) for i in range(sh.nrows)], name, list(book.sheet_names())
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb2 = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
            name = _pick_sheet(path, wb2.sheetnames, sheet)
            rows = [list(r) for r in wb2[name].iter_rows(values_only=True)]
            names = list(wb2.sheetnames)
            wb2.close()
        return rows, name, names
    except ServicestudyError:
        raise
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    msg = errors[-1].splitlines()[0] if errors else "unknown error"
    raise ReadError(f"cannot read the workbook ({msg})", file=path, expected=f"a valid .{fmt} file")


def _calamine_rows(sh: Any) -> list[list[Any]]:
    """The cells of a calamine sheet from A1, as ``to_python(skip_empty_area=False)`` gives them.

    Rows are converted one at a time and equal strings share one object (a 100,000-row export
    repeats a few dozen labels millions of times), which halves the peak memory. ``iter_rows``
    starts at the first used column, so a sheet whose first column is empty is read whole.
    """
    start = sh.start
    if not start or start[1] != 0:
        return [list(r) for r in sh.to_python(skip_empty_area=False)]
    memo: dict[str, str] = {}
    get = memo.setdefault
    return [[get(v, v) if v.__class__ is str else v for v in r] for r in sh.iter_rows()]


def _pick_sheet(path: Path, names: list[str], sheet: str | int | None) -> str:
    if not names:
        raise ReadError("the workbook has no sheets", file=path)
    if sheet is None:
        return names[0]
    if isinstance(sheet, int) and not isinstance(sheet, bool):
        if 0 <= sheet < len(names):
            return names[sheet]
    elif str(sheet) in names:
        return str(sheet)
    raise ReadError(f"no sheet {sheet!r}", file=path, expected="one of " + ", ".join(map(repr, names)))


def _read_stat(path: Path, fmt: str) -> tuple[pd.DataFrame, Any]:
    import pyreadstat

    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df, meta = reader(str(path), user_missing=True, apply_value_formats=False)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReadError(f"cannot read the {fmt} file ({first})", file=path,
                        expected=f"a valid .{fmt} file") from None
    return df, meta


# --- header matching -------------------------------------------------------------------


class _Matcher:
    """Header -> codebook id lookups (ids, question texts, aliases; Wenjuanxing prefixes)."""

    def __init__(self, cb: Codebook) -> None:
        self.cb = cb
        self.lookup: dict[str, str] = {}
        from .codebook import iter_headers

        for key, cid in iter_headers(cb):
            if key:
                self.lookup.setdefault(key, cid)
        self.item_lookup: dict[str, str] = {}
        for it in cb.items.values():
            for name in (it.id, it.zh, it.en, *it.aliases):
                if name:
                    self.item_lookup.setdefault(normalize_label(name), it.id)
        self.multi = [c for c in cb.categoricals.values() if c.multiple]
        for c in self.multi:  # one 0/1 column per option, as write_processed names them
            for code in c.codes:
                self.lookup.setdefault(normalize_label(f"{c.id}__{code:g}"), f"{c.id}__{code:g}")

    def single(self, header: str) -> str | None:
        """Match one header to a column id, or None."""
        h = " ".join(str(header).split())
        for cand in (h, clean_header(h)):
            hit = self.lookup.get(normalize_label(cand))
            if hit is not None:
                return hit
        m = _WJX_SUB.match(h)
        if m:  # matrix sub-item: N(sub text) / 第N题(sub text)
            hit = self.item_lookup.get(normalize_label(m.group(3)))
            if hit is not None:
                return hit
        if " - " in h:  # Qualtrics matrix: "Question text - sub text"
            hit = self.item_lookup.get(normalize_label(h.rsplit(" - ", 1)[1]))
            if hit is not None:
                return hit
        return None


def _option_groups(headers: list[str], taken: set[int]) -> dict[str, list[tuple[int, str]]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for j, h in enumerate(headers):
        if j in taken:
            continue
        m = _WJX_SUB.match(str(h))
        if m:
            groups.setdefault(m.group(1) or m.group(2), []).append((j, m.group(3)))
    return groups


def _match_headers(
    headers: list[str], cb: Codebook, alt: list[list[str]] | None = None, path: Path | None = None
) -> tuple[dict[int, str], dict[str, str]]:
    """Column position -> id; and header -> id. ``alt`` are extra header texts per column
    (Qualtrics question texts) tried after the header itself."""
    matcher = _Matcher(cb)
    pos: dict[int, str] = {}
    for j, h in enumerate(headers):
        hit = matcher.single(h)
        if hit is None and alt is not None:
            for text in alt[j]:
                if text:
                    hit = matcher.single(text)
                    if hit is not None:
                        break
        if hit is not None:
            pos[j] = hit
    # multi-select questions downloaded as one 0/1 column per option ("第6题(运动)")
    used = set(pos.values())
    for _q, members in _option_groups(headers, set(pos)).items():
        best: tuple[int, Any] | None = None
        for cat in matcher.multi:
            if cat.id in used:
                continue
            lm = cat.label_map()
            hits = sum(lm.get(normalize_label(_strip_fill(t))) is not None for _, t in members)
            if hits and (best is None or hits > best[0]):
                best = (hits, cat)
        if best is None or best[0] * 2 < len(members):
            continue
        cat = best[1]
        lm = cat.label_map()
        used.add(cat.id)
        for j, t in members:
            code = lm.get(normalize_label(_strip_fill(t)))
            if code is not None:
                pos[j] = f"{cat.id}__{code:g}"
    # duplicates
    seen: dict[str, int] = {}
    for j in sorted(pos):
        cid = pos[j]
        if cid in seen:
            first = seen[cid]
            where = f"columns {_excel_col(first)} and {_excel_col(j)}"
            if headers[first] == headers[j]:
                msg = f"duplicate header: {headers[j]!r} appears twice ({where}), both matching {cid!r}"
            else:
                msg = f"headers {headers[first]!r} and {headers[j]!r} ({where}) both match {cid!r}"
            raise SchemaError(msg, file=path, row=1, column=headers[j], expected="each codebook column at most once")
        seen[cid] = j
    by_header = {str(headers[j]): cid for j, cid in sorted(pos.items())}
    return pos, by_header


def _strip_fill(text: str) -> str:
    """Drop a Wenjuanxing fill-in ("其他【请注明】〖...〗") and the 【请注明】 note."""
    s = re.sub(r"〖.*?〗", "", str(text), flags=re.S)
    return s


# --- read_export -----------------------------------------------------------------------


def _table_from_rows(
    path: Path, rows: list[list[Any]], n_header: int, skipped: int = 0
) -> tuple[list[str], pd.DataFrame]:
    if not rows:
        raise ReadError("the file has no rows", file=path, expected="a header row")
    header = rows[0]
    width = len(header)
    # trailing empty header cells with no data (spreadsheets) are not columns
    while width and _is_blank(header[width - 1]) and all(
        len(r) < width or _is_blank(r[width - 1]) for r in rows[n_header:]
    ):
        width -= 1
    if width == 0:
        raise SchemaError("the header row is empty", file=path, row=1, expected="column headers")
    headers: list[str] = []
    for j in range(width):
        h = header[j] if j < len(header) else None
        name = " ".join(str(h).split()) if not _is_blank(h) else ""
        if isinstance(h, float) and h.is_integer():
            name = str(int(h))
        if not name:  # e.g. merged header cells: name the column by its letter
            name = f"column {_excel_col(j)}"
        headers.append(name)
    fast = _body_by_columns(path, rows[n_header:], width, skipped + n_header)
    if fast is not None:
        return headers, fast
    body: list[list[Any]] = []
    index: list[int] = []
    for k, r in enumerate(rows[n_header:]):
        rownum = skipped + n_header + k + 1
        if all(_is_blank(v) for v in r):
            continue
        if len(r) > width and any(not _is_blank(v) for v in r[width:]):
            raise SchemaError(
                f"the row has {len(r)} cells but the header has {width}",
                file=path, row=rownum, expected=f"{width} cells per row",
            )
        r = list(r[:width]) + [None] * (width - len(r))
        body.append([None if _is_blank(v) else v for v in r])
        index.append(rownum)
    df = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(
        columns=range(width), dtype=object)
    df.index = pd.Index(index, name="row", dtype="int64")
    return headers, df


def _body_by_columns(path: Path, data_rows: list[list[Any]], width: int, first: int) -> pd.DataFrame | None:
    """The data frame of :func:`_table_from_rows`, built column by column; ``None`` when the rows
    differ in length (or hold unhashable cells) and the row-by-row loop must do it.

    Blank cells are found once per distinct value of a column instead of once per cell; the
    result, errors included, is that of the loop (``tests/test_io.py`` compares them).
    """
    n = len(data_rows)
    lengths = set(map(len, data_rows))
    if n == 0 or len(lengths) != 1:
        return None
    (length,) = lengths
    cols = list(zip(*data_rows, strict=True)) if length else []
    blanks: list[set[Any]] = []
    all_blank: list[bool] = []
    for col in cols:
        try:
            uniq = set(col)
        except TypeError:
            return None
        blanks.append({u for u in uniq if _is_blank(u)})  # every NaN object of col is in uniq
        all_blank.append(len(blanks[-1]) == len(uniq))

    def blank_mask(j: int) -> np.ndarray:
        b = blanks[j]
        if not b:
            return np.zeros(n, dtype=bool)
        return np.fromiter((v in b for v in cols[j]), dtype=bool, count=n)

    if length > width:  # cells beyond the header: an error unless they are blank
        beyond = np.zeros(n, dtype=bool)
        for j in range(width, length):
            if not all_blank[j]:
                beyond |= ~blank_mask(j)
        if beyond.any():
            k = int(np.argmax(beyond))
            raise SchemaError(
                f"the row has {length} cells but the header has {width}",
                file=path, row=first + k + 1, expected=f"{width} cells per row",
            )
    if all(blanks):  # rows whose every cell is blank are skipped
        empty = np.ones(n, dtype=bool)
        for j in range(length):
            empty &= blank_mask(j)
    else:
        empty = np.zeros(n, dtype=bool)
    keep = ~empty
    if not keep.any():
        return None
    arrays = []
    for j in range(width):
        arr = np.empty(n, dtype=object)
        if j < length:
            b = blanks[j]
            arr[:] = [None if v in b else v for v in cols[j]] if b else cols[j]
        arr = arr[keep] if empty.any() else arr
        arrays.append(arr)
    df = pd.DataFrame(dict(enumerate(arrays)), columns=range(width), dtype=object)
    df.index = pd.Index(np.arange(first + 1, first + n + 1)[keep], name="row", dtype="int64")
    return df


def _ragged_csv(path: Path, rows: list[list[Any]], n_header: int, skipped: int = 0) -> None:
    width = len(rows[0]) if rows else 0
    for k, r in enumerate(rows):
        if not r:  # blank line
            continue
        if len(r) != width and not (len(r) < width and k >= n_header and all(_is_blank(v) for v in r)):
            raise SchemaError(
                f"the row has {len(r)} fields but the header has {width}",
                file=path, row=skipped + k + 1, expected=f"{width} comma-separated fields per row",
            )


def _numeric_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns whose every non-empty cell is a number into floats."""
    out = {}
    for c in df.columns:
        s = df[c]
        vals = s.dropna()
        head = vals.iloc[:50].astype(str).str.strip()
        if len(vals) and pd.to_numeric(head, errors="coerce").notna().all():  # cheap test first
            conv = pd.to_numeric(vals.astype(str).str.strip(), errors="coerce")
            if conv.notna().all():
                out[c] = conv.astype("float64").reindex(df.index)
                continue
        out[c] = s
    return pd.DataFrame(out, index=df.index)


def _detect_platform(headers: list[str], qualtrics: bool) -> str:
    if qualtrics:
        return "qualtrics"
    norm = {normalize_label(h) for h in headers}
    if norm & {normalize_label(x) for x in _WJX_META} and any(
        _WJX_PREFIX.match(h) or _WJX_SUB.match(h) for h in headers
    ):
        return "wenjuanxing"
    if sum(bool(_WJX_PREFIX.match(h)) for h in headers) >= max(1, len(headers) // 3):
        return "wenjuanxing"
    return "generic"


def _is_qualtrics(rows: list[list[Any]]) -> bool:
    if len(rows) < 3:
        return False
    third = [str(v) for v in rows[2] if not _is_blank(v)]
    return bool(third) and sum('"ImportId"' in v or v.startswith("{\"ImportId") for v in third) >= len(third) / 2


def read_export(
    path: str | Path,
    codebook: Codebook | str | Path | None = None,
    *,
    platform: str = "auto",
    encoding: str | None = None,
    sheet: str | int | None = None,
) -> RawExport:
    """Read a survey export and match its headers to a codebook.

    Parameters
    ----------
    path
        A ``.csv``/``.txt``, ``.xlsx``/``.xlsm``, ``.xls``, ``.sav``/``.zsav`` or ``.dta`` file.
    codebook
        A :class:`~servicestudy.codebook.Codebook`, a path to a YAML codebook or the name of a
        shipped one. Without one the columns keep their cleaned headers.
    platform
        ``"auto"`` (detect), ``"generic"``, ``"wenjuanxing"``, ``"qualtrics"``, ``"spss"`` or
        ``"stata"``. Forcing ``"qualtrics"`` makes rows 2-3 header rows.
    encoding
        Text encoding of a CSV. Default: strict UTF-8 (with or without BOM), else GB18030
        (a superset of GBK and GB2312).
    sheet
        Sheet name or 0-based position in a workbook; default the first sheet.

    Returns
    -------
    RawExport

    Notes
    -----
    Headers match a codebook column by id, by question text or alias (compared after
    :func:`~servicestudy.codebook.normalize_label`: NFKC, whitespace removed, case-folded), with
    the Wenjuanxing ``N、`` prefix stripped. Matrix sub-items ``N(sub text)`` /
    ``第N题(sub text)`` (and Qualtrics ``question - sub text``) match an item by its sub text.
    ``第N题(option)`` columns of a Wenjuanxing "by option number" download that name the
    options of a multi-select categorical become ``<id>__<code>``.

    The raw file is never modified; its SHA-256 is kept for provenance. Row labels are the
    file's row numbers (the header is row 1), so messages can point at a spreadsheet row.

    Raises
    ------
    ReadError
        The file is missing, of an unknown or corrupt format, or cannot be decoded.
    SchemaError
        Two headers match the same codebook column, or no header matches any codebook item.
    ValueError
        An unknown ``platform``.

    References
    ----------
    Shafranovich, Y. (2005). *Common Format and MIME Type for Comma-Separated Values (CSV)
    Files*. RFC 4180, IETF.

    Standardization Administration of China (2005). *GB 18030-2005: Information technology -
    Chinese coded character set*.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "w.csv").write_text("序号,ATT1\\n1,同意\\n2,5\\n", encoding="utf-8")
    >>> raw = read_export(d / "w.csv", "k_station")
    >>> raw.data.loc[2, "ATT1"], raw.matched["序号"], raw.data.index.tolist()
    ('同意', 'resp_id', [2, 3])

    Tested on: the real Wenjuanxing fixtures (text and option-number downloads, decoded
    identically) and an SPSS file (tests/test_fixtures_real.py), and generated CSV (UTF-8,
    GB18030, tab/semicolon), xlsx/xls, sav and dta files and Qualtrics-style headers
    (tests/test_io.py).
    """
    if platform not in PLATFORMS:
        raise ValueError(
            f"The 'platform' parameter of read_export must be one of "
            f"{', '.join(map(repr, PLATFORMS))}. Got {platform!r} instead."
        )
    path = Path(path)
    if isinstance(codebook, (str, Path)):
        from .codebook import load_codebook

        codebook = load_codebook(codebook)
    fmt = _check_file(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"cannot read the file ({exc.strerror})", file=path) from None
    sha = hashlib.sha256(raw_bytes).hexdigest()
    try:
        return _read(path, raw_bytes, sha, fmt, codebook, platform, encoding, sheet)
    except ServicestudyError:
        raise
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # an unexpected parser failure: one line, with the file name
        first = (str(exc).splitlines() or [""])[0]
        raise ReadError(f"cannot read the file ({type(exc).__name__}: {first})", file=path) from None


def _read(
    path: Path, raw_bytes: bytes, sha: str, fmt: str, codebook: Codebook | None,
    platform: str, encoding: str | None, sheet: str | int | None,
) -> RawExport:
    variable_labels: dict[str, str] = {}
    value_labels: dict[str, dict[Any, str]] = {}
    user_missing = pd.DataFrame({"column": pd.Series([], dtype=object),
                                 "value": pd.Series([], dtype=object),
                                 "count": pd.Series([], dtype="int64")})
    used_encoding: str | None = None
    sheet_name: str | None = None
    sheet_names: list[str] = []
    alt: list[list[str]] | None = None
    qualtrics = False

    if fmt in ("sav", "dta"):
        df, meta = _read_stat(path, fmt)
        headers = [str(c) for c in df.columns]
        variable_labels = {str(k): str(v) for k, v in (meta.column_names_to_labels or {}).items() if v}
        value_labels = {str(k): dict(v) for k, v in (meta.variable_value_labels or {}).items()}
        df, user_missing = _apply_user_missing(df, meta)
        df.columns = range(df.shape[1])
        df.index = pd.Index(np.arange(1, len(df) + 1), name="row", dtype="int64")
        alt = [[variable_labels.get(h, "")] for h in headers]
        detected = "spss" if fmt == "sav" else "stata"
    else:
        if fmt == "csv":
            rows, used_encoding = _read_csv_rows(path, raw_bytes, encoding)
        else:
            rows, sheet_name, sheet_names = _read_xlsx_rows(path, sheet, fmt)
        skipped = 0
        while skipped < len(rows) and all(_is_blank(v) for v in rows[skipped]):
            skipped += 1  # tolerate leading blank lines; row numbers still count them
        rows = rows[skipped:]
        qualtrics = platform == "qualtrics" or (platform == "auto" and _is_qualtrics(rows))
        n_header = 3 if qualtrics else 1
        if fmt == "csv":
            _ragged_csv(path, rows, n_header, skipped)
        headers, df = _table_from_rows(path, rows, n_header, skipped)
        if qualtrics:
            alt = [[_cell(rows, 1, j), _import_id(_cell(rows, 2, j))] for j in range(len(headers))]
        if fmt == "csv":
            df = _numeric_columns(df)
        detected = _detect_platform(headers, qualtrics)
    if platform != "auto":
        detected = platform

    if codebook is None:
        _require_rows(path, df, sheet_name, sheet_names)
        names: list[str] = []
        seen: dict[str, int] = {}
        for h in headers:
            name = clean_header(h)
            if name in seen:
                seen[name] += 1
                name = f"{name}_{seen[name]}"
            else:
                seen[name] = 1
            names.append(name)
        df.columns = names
        return RawExport(
            data=df, file=str(path), sha256=sha, platform=detected, encoding=used_encoding,
            matched={}, unmatched=tuple(headers), missing=(), variable_labels=variable_labels,
            value_labels=value_labels, user_missing=user_missing, sheet=sheet_name,
        )

    pos, by_header = _match_headers(headers, codebook, alt, path)
    data = df[sorted(pos)].copy()
    data.columns = [pos[j] for j in sorted(pos)]
    present = set(data.columns) | {c.split("__", 1)[0] for c in data.columns if "__" in c}
    missing = tuple(c for c in codebook.columns() if c not in present)
    if not any(c in codebook.items for c in data.columns):
        others = [n for n in sheet_names if n != sheet_name]
        hint = (f"; the workbook also has sheet(s) {', '.join(map(repr, others))} (choose one with sheet= or --sheet)"
                if others else "")
        raise SchemaError(
            f"none of the codebook's {len(codebook.items)} items is among the {len(headers)} headers"
            + (f" of sheet {sheet_name!r}" if sheet_name else "") + hint,
            file=path,
            expected=f"an export of the questionnaire of codebook {codebook.study.get('id', '')!r} (item headers such as "
            + ", ".join(repr(i.zh) for i in list(codebook.items.values())[:2]) + ")",
        )
    _require_rows(path, df, sheet_name, sheet_names)
    unmatched = tuple(h for j, h in enumerate(headers) if j not in pos)
    if fmt in ("sav", "dta"):
        variable_labels = {pos[j]: variable_labels[h] for j, h in enumerate(headers)
                           if j in pos and h in variable_labels}
        value_labels = {pos[j]: value_labels[h] for j, h in enumerate(headers)
                        if j in pos and h in value_labels}
        if len(user_missing):
            ren = {h: pos[j] for j, h in enumerate(headers) if j in pos}
            user_missing = user_missing.assign(column=user_missing["column"].map(lambda c: ren.get(c, c)))
    return RawExport(
        data=data, file=str(path), sha256=sha, platform=detected, encoding=used_encoding,
        matched=by_header, unmatched=unmatched, missing=missing, variable_labels=variable_labels,
        value_labels=value_labels, user_missing=user_missing, sheet=sheet_name,
    )


def _require_rows(path: Path, df: pd.DataFrame, sheet_name: str | None, sheet_names: list[str]) -> None:
    if len(df):
        return
    others = [n for n in sheet_names if n != sheet_name]
    raise SchemaError(
        "no responses: the file has a header row but no data rows"
        + (f" (sheet {sheet_name!r}; the workbook also has {', '.join(map(repr, others))})" if others
           else f" (sheet {sheet_name!r})" if sheet_name else ""),
        file=path, expected="at least one response",
    )


def _cell(rows: list[list[Any]], i: int, j: int) -> str:
    if i < len(rows) and j < len(rows[i]) and not _is_blank(rows[i][j]):
        return str(rows[i][j])
    return ""


def _import_id(text: str) -> str:
    if not text:
        return ""
    try:
        obj = json.loads(text)
    except ValueError:
        return ""
    return str(obj.get("ImportId", "")) if isinstance(obj, dict) else ""


def _apply_user_missing(df: pd.DataFrame, meta: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set declared user-missing values (SPSS missing values/ranges, Stata .a-.z) to NA."""
    records: list[tuple[str, Any, int]] = []
    df = df.copy()
    ranges = getattr(meta, "missing_ranges", None) or {}
    for col, specs in ranges.items():
        if col not in df.columns:
            continue
        s = df[col]
        mask = pd.Series(False, index=s.index)
        for spec in specs:
            lo, hi = spec.get("lo"), spec.get("hi")
            if isinstance(lo, str) or isinstance(hi, str):
                m = s.astype(object).isin([lo, hi])
            else:
                num = pd.to_numeric(s, errors="coerce")
                m = (num >= lo) & (num <= hi)
            m = m.fillna(False).astype(bool)
            for v, n in s[m].value_counts(sort=False).items():
                records.append((str(col), v, int(n)))
            mask |= m
        if mask.any():
            df[col] = s.astype(object).where(~mask, None) if s.dtype == object else s.where(~mask)
    user_vals = getattr(meta, "missing_user_values", None) or {}
    for col, vals in user_vals.items():
        if col not in df.columns:
            continue
        s = df[col]
        m = s.astype(object).isin(list(vals))
        if m.any():
            for v, n in s[m].astype(object).value_counts(sort=False).items():
                records.append((str(col), v, int(n)))
            kept = s.astype(object).where(~m, None)
            num = pd.to_numeric(kept, errors="coerce")
            df[col] = num if num.notna().sum() == kept.notna().sum() else kept
    um = pd.DataFrame(records, columns=["column", "value", "count"])
    um["column"] = um["column"].astype(object)
    um["value"] = um["value"].astype(object)
    um["count"] = um["count"].astype("int64")
    return df, um


# --- processed data --------------------------------------------------------------------


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, bytes):
        return obj.hex()
    return obj


def _floats_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its float64 columns replaced by the text ``to_csv`` writes for them (numpy's
    ``str`` of each value, ``""`` for NaN), formatted once per distinct value instead of once
    per cell; ``to_csv`` of the result gives the same bytes (``tests/test_io.py``)."""
    out = None
    for j in range(df.shape[1]):
        col = df.iloc[:, j]
        if col.dtype != np.dtype("float64"):
            continue
        x = col.to_numpy()
        bits, inverse = np.unique(x.view(np.int64), return_inverse=True)  # -0.0 apart from 0.0
        text = bits.view(np.float64).astype(str).astype(object)[inverse.ravel()]
        text[np.isnan(x)] = ""
        if out is None:
            out = df.copy(deep=False)
        out.isetitem(j, pd.Series(text, index=df.index, dtype=object))
    return df if out is None else out


def write_processed(
    coded: Any,
    out_dir: str | Path,
    *,
    name: str = "responses",
    seed: int | None = None,
    key: bytes | str | None = None,
) -> dict[str, Path]:
    """Write coded responses: Parquet, a CSV for Excel, the audit log and provenance.

    Parameters
    ----------
    coded
        A :class:`~servicestudy.coding.CodedResponses`.
    out_dir
        Folder to write into (created if needed).
    name
        Base name of the files: ``<name>.parquet``, ``<name>.csv``, ``<name>_audit.csv``,
        ``<name>_provenance.json``.
    seed
        Recorded in the provenance (the seed of any random step that produced the data).
    key
        Key for pseudonymising respondent ids (passed to ``servicestudy.privacy.scrub``).

    Returns
    -------
    dict
        ``{"parquet": path, "csv": path, "audit": path, "provenance": path}``.

    Notes
    -----
    Identifier columns (meta columns with ``identifier: true``, e.g. the IP address) never reach
    the files. The CSV is UTF-8 with a byte-order mark so that Excel opens Chinese text
    correctly; cells starting with ``=``, ``+``, ``-`` or ``@`` are neutralised there. No
    wall-clock time is written anywhere: the same input gives byte-identical files. Every file
    is written atomically.

    The provenance JSON records the package version, ``seed``, the raw file's name and
    SHA-256, the codebook's name and SHA-256, the privacy steps applied and the SHA-256 of
    each written file. All files are built in memory first, so a failure leaves none behind.

    Raises
    ------
    OutputError
        ``name`` is not a plain file name, ``out_dir`` is the raw export's own folder, or a
        file cannot be written.
    DataError
        ``key`` is too short (at least 16 bytes).

    References
    ----------
    Shafranovich, Y. (2005). *Common Format and MIME Type for Comma-Separated Values (CSV)
    Files*. RFC 4180, IETF.

    OWASP Foundation. *CSV Injection*. https://owasp.org/www-community/attacks/CSV_Injection

    Examples
    --------
    >>> import tempfile
    >>> from servicestudy.codebook import load_codebook
    >>> from servicestudy.coding import code_responses
    >>> from servicestudy.simulate import simulate
    >>> coded = code_responses(simulate(30, seed=1).responses, load_codebook("k_station"))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = write_processed(coded, d, seed=1, key="doc-example-key-0123")
    ...     print(sorted(p.name for p in paths.values()))
    ['responses.csv', 'responses.parquet', 'responses_audit.csv', 'responses_provenance.json']

    Tested on: byte-identical output of two runs, identifiers absent from every file,
    provenance hashes, and no file left after a failure
    (tests/test_io.py).
    """
    from . import __version__

    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
        raise OutputError("output name is not a plain file name (it could escape its folder)", file=name,
                          expected="letters, digits, '_', '-' or '.' such as 'responses'")
    out = Path(out_dir)
    raw_export = getattr(coded, "raw", None)
    if raw_export is not None and raw_export.file and out.resolve() == Path(raw_export.file).resolve().parent:
        # raw data is immutable: processed files never go into the folder of the raw export
        raise OutputError("the output folder is the raw export's own folder", file=out,
                          expected="another folder, e.g. data/processed (raw data is never modified)")
    codebook: Codebook = coded.codebook
    data, privacy_record = scrub(coded.data, codebook, key=key)
    data = data.copy()
    data.index.name = "row"
    paths = {
        "parquet": safe_join(out, f"{name}.parquet"),
        "csv": safe_join(out, f"{name}.csv"),
        "audit": safe_join(out, f"{name}_audit.csv"),
        "provenance": safe_join(out, f"{name}_provenance.json"),
    }

    # build every file in memory first, so that a failure leaves no file behind
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = _io.BytesIO()
        pq.write_table(pa.Table.from_pandas(data, preserve_index=True), buf, compression="zstd")
        payload = {"parquet": buf.getvalue()}
    except Exception as exc:
        raise OutputError(f"cannot write Parquet ({type(exc).__name__}: {exc})", file=paths["parquet"]) from None
    # CRLF (RFC 4180): the csv writer then quotes cells holding a bare CR, which Excel would
    # otherwise take as a row break (and run a formula after it); issue 8
    payload["csv"] = _floats_as_text(neutralize(data)).to_csv(lineterminator="\r\n").encode("utf-8-sig")
    payload["audit"] = neutralize(coded.audit).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")
    raw = getattr(coded, "raw", None)
    prov = {
        "package": "servicestudy",
        "version": __version__,
        "seed": seed,
        "raw_file": Path(raw.file).name if raw is not None else None,
        "raw_sha256": raw.sha256 if raw is not None else None,
        "platform": raw.platform if raw is not None else None,
        "codebook": Path(codebook.source).name if codebook.source else None,
        "codebook_sha256": codebook.sha256,
        "lang": getattr(coded, "lang", None),
        "n_rows": len(data),
        "columns": [str(c) for c in data.columns],
        "privacy": privacy_record,
        "files": {k: paths[k].name for k in payload},
        "sha256": {k: hashlib.sha256(v).hexdigest() for k, v in payload.items()},
    }
    text = json.dumps(_json_safe(prov), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    payload["provenance"] = text.encode("utf-8")
    for kind, content in payload.items():
        atomic_write_bytes(paths[kind], content)
    return paths


def read_processed(path: str | Path, *, name: str = "responses") -> pd.DataFrame:
    """Read processed responses written by :func:`write_processed` (the Parquet file, or the
    folder holding ``<name>.parquet``).

    Parameters
    ----------
    path
        The ``.parquet`` file, or the folder :func:`write_processed` wrote into.
    name
        Base name of the file when ``path`` is a folder.

    Returns
    -------
    pandas.DataFrame
        The coded responses without identifier columns, indexed by the raw file's row
        numbers (index name ``row``), with the dtypes written (categoricals stay
        categorical).

    Raises
    ------
    ReadError
        The file does not exist or is not readable Parquet.

    Notes
    -----
    Reads the Parquet file with ``pandas.read_parquet`` (pyarrow); the CSV written beside it
    is for Excel users and is not read back, because its numbers are text.

    References
    ----------
    Apache Software Foundation. *Apache Parquet file format*. https://parquet.apache.org/docs/

    Examples
    --------
    >>> import tempfile
    >>> from servicestudy.codebook import load_codebook
    >>> from servicestudy.coding import code_responses
    >>> from servicestudy.simulate import simulate
    >>> coded = code_responses(simulate(30, seed=1).responses, load_codebook("k_station"))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = write_processed(coded, d, key="doc-example-key-0123")
    ...     back = read_processed(d)
    >>> len(back), "ip" in back.columns
    (30, False)

    Tested on: a round trip through :func:`write_processed` (columns, values, index) and a
    missing file (tests/test_io.py).
    """
    p = Path(path)
    if p.is_dir():
        p = p / f"{name}.parquet"
    if not p.is_file():
        raise ReadError("processed data not found", file=p, expected="a .parquet file written by write_processed")
    try:
        return pd.read_parquet(p)
    except Exception as exc:
        raise ReadError(f"cannot read Parquet ({type(exc).__name__})", file=p) from None
