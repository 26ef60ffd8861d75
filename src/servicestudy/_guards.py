"""Checks an input file must pass before any parser touches it.

:func:`check_file` refuses, with a one-line :class:`~servicestudy.errors.ReadError`, the files
that would otherwise crash a parser, hang it or exhaust memory: a missing path, a folder, an
empty file, a file larger than a cap, a corrupt zip, an Office file protected by a password
(an encrypted ``.xlsx`` is not a zip but a Compound File Binary container holding an
``EncryptedPackage`` stream), and a "zip bomb" (an ``.xlsx`` whose members decompress to far
more than the file's size). It then returns the format sniffed from the file's first bytes
(the magic number), which wins over the extension: platforms are known to save ``.xls`` files
that are really ``.xlsx`` workbooks.

Only the standard library and numpy are used (``zipfile`` reads the central directory; the CFB
directory is parsed by hand, following [MS-CFB] sections 2.2-2.6). The only member decompressed
is the worksheet XML, streamed in 1 MiB pieces to find the cells' extent; its cell references
are located with numpy (about 4 ms per MiB) rather than a regular expression per reference.

Validated against: the real Wenjuanxing ``.xls`` fixtures (their CFB directories list
``Workbook`` and the two property-set streams), a hand-built encrypted-package container, and
Hypothesis fuzzing with random bytes (``tests/test_guards.py``, ``tests/test_fuzz.py``).

References
----------
Microsoft. *[MS-CFB]: Compound File Binary File Format*; *[MS-OFFCRYPTO]: Office Document
Cryptography Structure* (the ``EncryptionInfo`` and ``EncryptedPackage`` streams).
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import ReadError

__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "MAX_ZIP_ENTRIES",
    "RATIO_FLOOR",
    "cfb_stream_names",
    "check_file",
]

#: The formats :func:`check_file` can return.
FORMATS = ("xlsx", "xls", "sav", "dta", "csv")
#: Default cap on the size of an input file on disk: 256 MiB.
MAX_BYTES = 256 * 2**20
#: Default cap on the total declared uncompressed size of an xlsx's members: 1 GiB.
MAX_UNCOMPRESSED = 2**30
#: Default cap on (total uncompressed size) / (file size) of an xlsx.
MAX_RATIO = 200.0
#: The ratio cap applies only once the members declare more than this many bytes (16 MiB), so
#: that a tiny, highly repetitive but harmless workbook is not refused.
RATIO_FLOOR = 16 * 2**20
#: Default cap on the columns of a text file's first line: Excel's own limit (XFD).
MAX_COLUMNS = 16_384
#: Default cap on the number of members in an xlsx.
MAX_ZIP_ENTRIES = 10_000
#: Default cap on the cells a worksheet spans (last row x last column): readers build a dense
#: grid, so one cell at XFD1048576 in a 5 KB file would ask for 17 billion cells.
MAX_CELLS = 10_000_000

# a cell's reference (<c r="B7" ...>; "ref=" and "r:id=" are other attributes) and a row's number
_CELL_REF = re.compile(rb'\sr="([A-Z]{1,3})([0-9]{1,7})"')
_ROW_REF = re.compile(rb'\sr="([0-9]{1,7})"')
_ROW_TAG = re.compile(rb"<(?:[A-Za-z]\w*:)?row[\s>/]")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAV_MAGIC = (b"$FL2", b"$FL3")
_DTA_NEW = b"<stata_dta>"
_EXPECTED = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
}
_WHAT = {
    "xlsx": "an Excel workbook (.xlsx, a zip container)",
    "xls": "an Excel 97-2003 workbook (.xls)",
    "sav": "an SPSS data file (.sav, starting with $FL2 or $FL3)",
    "dta": "a Stata data file (.dta)",
    "csv": "a text file (.csv)",
}


def cfb_stream_names(head: bytes, path: str | os.PathLike[str]) -> list[str] | None:
    """Names of the entries in a Compound File Binary (OLE2) container's directory.

    Returns ``None`` when the directory cannot be parsed (the caller falls back to a byte
    search). Reads only the header, the FAT sectors and the directory sectors.
    """
    try:
        with open(path, "rb") as fh:
            data_size = os.fstat(fh.fileno()).st_size
            header = head[:512] if len(head) >= 512 else fh.read(512)
            if len(header) < 512 or header[:8] != _CFB_MAGIC:
                return None
            shift = struct.unpack_from("<H", header, 0x1E)[0]
            if shift not in (9, 12):
                return None
            size = 1 << shift
            n_fat = struct.unpack_from("<I", header, 0x2C)[0]
            first_dir = struct.unpack_from("<I", header, 0x30)[0]
            first_difat = struct.unpack_from("<I", header, 0x44)[0]
            n_difat = struct.unpack_from("<I", header, 0x48)[0]
            max_sectors = data_size // size + 1
            if n_fat > max_sectors or n_difat > max_sectors:
                return None

            def sector(i: int) -> bytes:
                if i >= max_sectors:
                    raise ValueError("sector out of range")
                fh.seek((i + 1) * size)
                return fh.read(size)

            fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < 0xFFFFFFFA]
            nxt, seen = first_difat, 0
            while nxt < 0xFFFFFFFA and seen < n_difat:
                block = sector(nxt)
                entries = struct.unpack(f"<{size // 4}I", block)
                fat_sectors.extend(s for s in entries[:-1] if s < 0xFFFFFFFA)
                nxt, seen = entries[-1], seen + 1
            fat: list[int] = []
            for s in fat_sectors[:n_fat]:
                block = sector(s)
                fat.extend(struct.unpack(f"<{len(block) // 4}I", block[: len(block) // 4 * 4]))
            names: list[str] = []
            cur, steps = first_dir, 0
            while cur < 0xFFFFFFFA:
                steps += 1
                if steps > max_sectors or cur >= len(fat):
                    return None  # a cycle or a chain out of the FAT
                block = sector(cur)
                for off in range(0, len(block) - 127, 128):
                    entry = block[off : off + 128]
                    name_len = struct.unpack_from("<H", entry, 64)[0]
                    kind = entry[66]
                    if kind == 0 or not 2 <= name_len <= 64:
                        continue
                    names.append(entry[: name_len - 2].decode("utf-16-le", errors="replace"))
                cur = fat[cur]
            return names
    except (OSError, ValueError, struct.error):
        return None


def _fail(path: Path, message: str, expected: str | None = None) -> ReadError:
    return ReadError(message, file=path, expected=expected)


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _refs_max_re(block: bytes) -> tuple[int, int]:
    """(largest column, largest row) named by the cell references (``_CELL_REF``) and row numbers
    (``_ROW_REF``) in ``block``; 0 where there is none. The plain-regex reference version of
    :func:`_refs_max`."""
    col = row = 0
    refs = set(_CELL_REF.findall(block))
    if refs:
        col = max(_column_number(c) for c in {c for c, _ in refs})
        row = max(int(r) for r in {r for _, r in refs})
    rows = set(_ROW_REF.findall(block))
    if rows:
        row = max(row, max(int(r) for r in rows))
    return col, row


_WS = np.zeros(256, dtype=bool)
_WS[[9, 10, 11, 12, 13, 32]] = True  # what \s matches in a bytes pattern


def _refs_max(block: bytes) -> tuple[int, int]:
    r""":func:`_refs_max_re` vectorised with numpy (a 350 MB sheet holds millions of references).

    Every match of ``\sr="[A-Z]{1,3}[0-9]{1,7}"`` / ``\sr="[0-9]{1,7}"`` starts at a whitespace
    byte and contains none, so the matches cannot overlap and are exactly the positions where
    the pattern matches: those are tested all at once, around each ``=``.
    """
    a = np.frombuffer(block, dtype=np.uint8)
    n = a.size
    if n < 6:
        return _refs_max_re(block)
    p = np.flatnonzero(a[2 : n - 3] == 61) + 2  # '=' with room for \s r before, "x" after
    p = p[(a[p - 1] == 114) & (a[p + 1] == 34) & _WS[a[p - 2]]]
    if not p.size:
        return 0, 0
    p0 = int(p[0])
    padded = np.concatenate([a[p0:], _Z16])
    w = padded[(p - (p0 - 2))[:, None] + _AR12]  # the 12 bytes after r=", 0-padded
    letter = (w - np.uint8(65)) < 26
    digit = (w - np.uint8(48)) < 10
    quote = w == 34
    n_let = np.argmax(~letter[:, :4], axis=1)  # letters before the first non-letter
    q = np.argmax(quote, axis=1)  # the first quote
    good = digit | (n_let[:, None] > _AR12)  # letters, then digits
    first_bad = np.argmax(~good, axis=1)
    rows = np.arange(len(p))
    n_dig = q - n_let
    ok = ~letter[rows, n_let] & quote[rows, q] & (first_bad == q) & (n_dig >= 1) & (n_dig <= 7)
    if not ok.all():
        if not ok.any():
            return 0, 0
        w, n_let, q = w[ok], n_let[ok], q[ok]
    d = w.astype(np.int32)
    d -= 48
    num = np.einsum("ij,ij->i", d, _PLACE[n_let, q])  # the digits' place values
    c = d[:, :3] - 16  # A = 1
    col = np.where(n_let == 1, c[:, 0], np.where(n_let == 2, c[:, 0] * 26 + c[:, 1],
                                                   c[:, 0] * 676 + c[:, 1] * 26 + c[:, 2]))
    col = np.where(n_let > 0, col, 0)  # row numbers (r="7") name no column
    return int(col.max()), int(num.max())


_AR12 = np.arange(12)
_Z16 = np.zeros(16, dtype=np.uint8)
# _PLACE[letters, quote position, k]: the place value of byte k of a reference, 0 outside its digits
_PLACE = np.zeros((4, 12, 12), dtype=np.int32)
for _nl in range(4):
    for _q in range(_nl + 1, min(_nl + 8, 12)):
        _PLACE[_nl, _q, _nl:_q] = 10 ** np.arange(_q - 1 - _nl, -1, -1)


def _row_tags_count(block: bytes) -> int:
    """``block.count(b"<row") + block.count(b":row")``, vectorised (neither can overlap itself
    or the other)."""
    a = np.frombuffer(block, dtype=np.uint8)
    n = a.size
    if n < 4:
        return block.count(b"<row") + block.count(b":row")
    r = np.flatnonzero(a[1 : n - 2] == 114) + 1
    r = r[(a[r + 1] == 111) & (a[r + 2] == 119)]
    return int(((a[r - 1] == 60) | (a[r - 1] == 58)).sum())


def _sheet_extent(zf: zipfile.ZipFile, name: str) -> tuple[int, int]:
    """(last row, last column) a worksheet's cells reach, read by streaming its XML."""
    max_row = max_col = n_rows = 0
    tail = b""

    def scan(block: bytes) -> None:
        nonlocal max_row, max_col, n_rows
        col, row = _refs_max(block)
        max_col, max_row = max(max_col, col), max(max_row, row)
        n_rows += _row_tags_count(block)

    with zf.open(name) as fh:
        while chunk := fh.read(2**20):
            block = tail + chunk
            # a reference cut by the chunk boundary is seen whole with the next chunk
            cut = block.rfind(b"<")
            if cut <= 0:  # no tag in this block (a long text value): scan it, keep a short tail
                if len(block) > 2**21:
                    scan(block[:-64])
                    block = block[-64:]
                tail = block
                continue
            scan(block[:cut])
            tail = block[cut:]
        scan(tail)
    return max(max_row, n_rows), max_col


def _check_zip(
    path: Path, size: int, *, max_uncompressed: int, max_ratio: float, max_cells: int = MAX_CELLS
) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _fail(path, f"corrupt zip container ({exc})", _WHAT["xlsx"]) from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _fail(path, f"the zip container has {len(infos)} members", f"at most {MAX_ZIP_ENTRIES}")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        raise _fail(path, "a zip file but not an Office workbook (no [Content_Types].xml)", _WHAT["xlsx"])
    if not any(n.startswith("xl/") for n in names):
        raise _fail(path, "an Office file but not an Excel workbook (no xl/ part)", _WHAT["xlsx"])
    total = sum(i.file_size for i in infos)
    if total > max_uncompressed:
        raise _fail(
            path,
            f"refusing a possible zip bomb: its members declare {total} bytes uncompressed",
            f"at most {max_uncompressed} bytes (max_uncompressed)",
        )
    ratio = total / max(size, 1)
    if total > RATIO_FLOOR and ratio > max_ratio:
        raise _fail(
            path,
            f"refusing a possible zip bomb: {total} bytes uncompressed from {size} on disk (ratio {ratio:.0f})",
            f"a compression ratio of at most {max_ratio:g} (max_ratio)",
        )
    sheets = sorted(i.filename for i in infos if i.filename.startswith("xl/worksheets/") and i.filename.endswith(".xml"))
    try:
        with zipfile.ZipFile(path) as zf:
            for name in sheets:
                rows, cols = _sheet_extent(zf, name)
                if rows * cols > max_cells:
                    raise _fail(
                        path,
                        f"refusing a worksheet ({name}) whose cells span {rows} rows x {cols} columns",
                        f"at most {max_cells} cells (max_cells); delete the stray far-away cells and save again",
                    )
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise _fail(path, f"corrupt zip container ({type(exc).__name__}: {exc})", _WHAT["xlsx"]) from None


def _check_cfb(path: Path, head: bytes) -> None:
    names = cfb_stream_names(head, path)
    if names is None:
        # directory unreadable: fall back to looking for the stream name's UTF-16 bytes
        with open(path, "rb") as fh:
            blob = fh.read(8 * 2**20)
        if "EncryptedPackage".encode("utf-16-le") in blob:
            names = ["EncryptedPackage"]
        else:
            return  # leave the verdict to the xls reader
    lowered = {n.casefold() for n in names}
    if "encryptedpackage" in lowered or "encryptioninfo" in lowered:
        raise _fail(
            path,
            "the workbook is password-protected (encrypted)",
            "an unprotected workbook: open it in Excel/WPS, remove the password and save again",
        )
    if not {"workbook", "book"} & lowered:
        raise _fail(path, "an OLE2/CFB file without a Workbook stream (not a spreadsheet)", _WHAT["xls"])


def _first_line_columns(path: Path, limit: int) -> int:
    """Fields in the first non-blank line (the largest count of ``,``, tab or ``;`` plus one),
    read in pieces; stops once above ``limit``."""
    with open(path, "rb") as fh:
        for _ in range(1000):  # leading blank lines
            counts = dict.fromkeys((b",", b"\t", b";"), 0)
            blank = True
            piece = b""
            while piece := fh.readline(2**16):
                blank = blank and not piece.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")
                for sep in counts:
                    counts[sep] += piece.count(sep)
                if max(counts.values()) > limit or piece.endswith(b"\n"):
                    break
            if not blank or not piece:
                return max(counts.values()) + 1
    return 1


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark
        return True
    if b"\x00" in head:
        return False
    # a stray control character in an open answer is text; a tenth of them is not
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls <= max(2, len(head) // 10)


def check_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_BYTES,
    max_uncompressed: int = MAX_UNCOMPRESSED,
    max_ratio: float = MAX_RATIO,
    max_cells: int = MAX_CELLS,
    max_columns: int = MAX_COLUMNS,
) -> str:
    """Check that ``path`` is a readable input file and return its sniffed format.

    Parameters
    ----------
    path
        The export to read.
    max_bytes
        Refuse files larger than this on disk (default :data:`MAX_BYTES`, 256 MiB).
    max_uncompressed
        Refuse an xlsx whose members declare more than this many bytes in total once
        decompressed (default :data:`MAX_UNCOMPRESSED`, 1 GiB).
    max_ratio
        Refuse an xlsx whose declared uncompressed size exceeds ``max_ratio`` times its size
        on disk, once that size is above :data:`RATIO_FLOOR` (default :data:`MAX_RATIO`, 200).
    max_cells
        Refuse an xlsx with a worksheet whose cells span more than this many cells (last row
        times last column; default :data:`MAX_CELLS`, ten million). Spreadsheet readers build a
        dense grid, so a single stray cell at ``XFD1048576`` would otherwise exhaust memory
        (the Rust reader aborts the whole process).
    max_columns
        Refuse a text file whose first line has more fields than this (default
        :data:`MAX_COLUMNS`, 16,384 as in Excel): a 1 MB CSV with 200,000 columns took the
        importer over two minutes.

    Returns
    -------
    str
        One of ``'xlsx'``, ``'xls'``, ``'sav'``, ``'dta'``, ``'csv'``. The magic bytes decide
        for the binary formats (an ``.xls`` that is really a zip workbook is ``'xlsx'``);
        files without a known signature are ``'csv'`` when they look like text and their
        extension is not a binary format's.

    Raises
    ------
    ReadError
        Missing, not a regular file, empty, too large, corrupt, password-protected, a zip
        bomb, binary content under a text extension, or an unsupported format. The message is
        one line naming the file and what was expected.

    Notes
    -----
    The zip-bomb check trusts the sizes declared in the central directory. That is enough
    for readers built on Python's :mod:`zipfile` (openpyxl, pandas), which stop reading a
    member at its declared size and check its CRC. The worksheets' XML is streamed (never held
    in memory) to find the last row and column their cells reach. Encrypted legacy ``.xls`` files (a
    ``FILEPASS`` record inside the Workbook stream) are left to the xls reader.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "wave.csv"
    >>> _ = p.write_text("id,Q1\\n1,5\\n", encoding="utf-8")
    >>> check_file(p)
    'csv'
    >>> _ = p.write_bytes(b"")
    >>> check_file(p)
    Traceback (most recent call last):
    ...
    servicestudy.errors.ReadError: .../wave.csv: the file is empty (0 bytes); expected a survey export with a header row
    """
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise _fail(p, "no such file", "an existing survey export") from None
    except OSError as exc:
        raise _fail(p, f"cannot access the file ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise _fail(p, f"{what}, not a file", "a survey export file")
    size = st.st_size
    if size == 0:
        raise _fail(p, "the file is empty (0 bytes)", "a survey export with a header row")
    if size > max_bytes:
        raise _fail(p, f"the file is {size} bytes", f"at most {max_bytes} bytes (max_bytes)")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise _fail(p, f"cannot read the file ({exc.strerror or exc})") from None

    ext = p.suffix.lower()
    expected = _EXPECTED.get(ext)
    if head.startswith(_ZIP_MAGIC):
        _check_zip(p, size, max_uncompressed=max_uncompressed, max_ratio=max_ratio, max_cells=max_cells)
        return "xlsx"
    if head.startswith(_CFB_MAGIC):
        _check_cfb(p, head)
        return "xls"
    if head.startswith(_SAV_MAGIC):
        return "sav"
    if head.startswith(_DTA_NEW) or (
        ext == ".dta" and len(head) >= 4 and 102 <= head[0] <= 119 and head[1] in (1, 2) and head[2] == 1
    ):
        return "dta"
    if expected in ("xlsx", "xls", "sav", "dta"):
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if stripped.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
            raise _fail(
                p,
                "an HTML/XML page saved with a spreadsheet extension",
                f"{_WHAT[expected]}; open it in Excel/WPS and save it as .xlsx, or export CSV",
            )
        raise _fail(p, f"no {expected} signature at the start of the file (corrupt or mislabelled)", _WHAT[expected])
    if _looks_like_text(head):
        n_cols = _first_line_columns(p, max_columns)
        if n_cols > max_columns:
            raise _fail(
                p,
                f"the header line has more than {max_columns} fields",
                f"at most {max_columns} columns (max_columns, Excel's own limit)",
            )
        return "csv"
    raise _fail(
        p,
        f"unsupported or binary format (extension {ext or 'none'!r})",
        "one of .xlsx, .xls, .csv, .sav, .dta",
    )
