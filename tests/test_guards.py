"""Tests of servicestudy._guards.check_file (the checks before any parser runs)."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicestudy._guards import cfb_stream_names, check_file
from servicestudy.errors import ReadError

FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def make_cfb(names: list[str]) -> bytes:
    """A minimal Compound File Binary (OLE2) container whose directory lists ``names``
    (empty streams), as an encrypted Office file has ``EncryptionInfo`` and
    ``EncryptedPackage``. Layout: header, sector 0 = FAT, sector 1 = directory."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, END, 0, END, 0)
    difat = [0] + [FREE] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = [FATSECT, END] + [FREE] * 126
    fat_sector = struct.pack("<128I", *fat)

    def entry(name: str, kind: int, child: int = NOSTREAM, right: int = NOSTREAM) -> bytes:
        raw = name.encode("utf-16-le") + b"\x00\x00"
        e = bytearray(128)
        e[: len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, NOSTREAM, right, child)
        struct.pack_into("<IQ", e, 116, END, 0)
        return bytes(e)

    entries = [entry("Root Entry", 5, child=1 if names else NOSTREAM)]
    for k, name in enumerate(names):
        right = k + 2 if k + 1 < len(names) else NOSTREAM
        entries.append(entry(name, 2, right=right))
    directory = b"".join(entries).ljust(512, b"\x00")
    assert len(directory) == 512, "at most 4 directory entries in this helper"
    return bytes(header) + fat_sector + directory


def make_encrypted_xlsx(path: Path) -> Path:
    path.write_bytes(make_cfb(["EncryptionInfo", "EncryptedPackage"]))
    return path


def make_zip_bomb(path: Path, *, megabytes: int = 40) -> Path:
    """A structurally plausible xlsx whose sheet XML is ``megabytes`` MiB of repeated cells
    (about 40 KiB on disk)."""
    chunk = b"<c><v>1</v></c>" * (2**20 // 15)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for _ in range(megabytes):
                fh.write(chunk)
    return path


def test_cfb_helper_is_parsed(tmp_path):
    data = make_cfb(["EncryptionInfo", "EncryptedPackage"])
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    assert cfb_stream_names(data, path) == ["Root Entry", "EncryptionInfo", "EncryptedPackage"]


@pytest.fixture
def xlsx(tmp_path) -> Path:
    path = tmp_path / "wave.xlsx"
    pd.DataFrame({"Q1": [1, 2], "Q2": ["a", "b"]}).to_excel(path, index=False)
    return path


def test_formats_are_sniffed(tmp_path, xlsx):
    assert check_file(xlsx) == "xlsx"
    csv = tmp_path / "wave.csv"
    csv.write_text("Q1,Q2\n1,2\n", encoding="utf-8")
    assert check_file(csv) == "csv"
    bom16 = tmp_path / "wave16.csv"
    bom16.write_bytes("Q1\tQ2\n1\t2\n".encode("utf-16"))
    assert check_file(bom16) == "csv"
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("题目,答案\n满意,5\n".encode("gbk"))
    assert check_file(gbk) == "csv"
    dta = tmp_path / "wave.dta"
    pd.DataFrame({"q1": [1.0, 2.0]}).to_stata(dta, write_index=False)
    assert check_file(dta) == "dta"
    sav = tmp_path / "wave.sav"
    sav.write_bytes(b"$FL2@(#) SPSS DATA FILE" + b"\x00" * 200)
    assert check_file(sav) == "sav"


def test_xlsx_saved_as_xls_is_sniffed_as_xlsx(tmp_path, xlsx):
    fake = tmp_path / "wjx.xls"
    fake.write_bytes(xlsx.read_bytes())
    assert check_file(fake) == "xlsx"


def test_real_xls_and_sav_pass(fixtures_dir):
    for path in sorted((fixtures_dir / "wenjuanxing").glob("*.xls")):
        assert check_file(path) == "xls"
    assert check_file(fixtures_dir / "spss" / "survey.sav") == "sav"


def test_missing_folder_empty(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        check_file(tmp_path / "nope.xlsx")
    with pytest.raises(ReadError, match="a folder"):
        check_file(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match=r"empty \(0 bytes\)") as info:
        check_file(empty)
    assert "empty.csv" in str(info.value)
    assert "\n" not in str(info.value)


def test_too_large(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("a\n" * 1000)
    assert check_file(big) == "csv"
    with pytest.raises(ReadError, match="at most 100 bytes"):
        check_file(big, max_bytes=100)


def test_password_protected_xlsx(tmp_path):
    path = make_encrypted_xlsx(tmp_path / "locked.xlsx")
    with pytest.raises(ReadError, match="password-protected") as info:
        check_file(path)
    assert "locked.xlsx" in str(info.value)


def test_cfb_without_workbook_is_refused(tmp_path):
    path = tmp_path / "memo.xls"
    path.write_bytes(make_cfb(["WordDocument"]))
    with pytest.raises(ReadError, match="without a Workbook stream"):
        check_file(path)
    ok = tmp_path / "book.xls"
    ok.write_bytes(make_cfb(["Workbook"]))
    assert check_file(ok) == "xls"


def test_corrupt_zip(tmp_path, xlsx):
    data = xlsx.read_bytes()
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError, match="corrupt zip"):
        check_file(bad)


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(ReadError, match="not an Office workbook"):
        check_file(path)


def test_zip_bomb(tmp_path):
    path = make_zip_bomb(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 200_000
    with pytest.raises(ReadError, match="zip bomb") as info:
        check_file(path)
    assert "ratio" in str(info.value)
    with pytest.raises(ReadError, match="max_uncompressed"):
        check_file(path, max_uncompressed=10 * 2**20, max_ratio=1e9)
    assert check_file(path, max_ratio=1e9) == "xlsx"


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("wave.xlsx", b"Q1,Q2\n1,2\n", "no xlsx signature"),
        ("wave.sav", b"just text", "no sav signature"),
        ("wjx.xls", b"<html><table><tr><td>1</td></tr></table></html>", "HTML"),
        ("wave.csv", bytes(range(256)) * 4, "binary"),
        ("wave.bin", b"\x00\x01\x02\x03" * 50, "unsupported"),
    ],
)
def test_mislabelled_or_binary(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError, match=match):
        check_file(path)


def make_far_cell_xlsx(path: Path, *, row: int = 1048576, column: int = 16384) -> Path:
    """A 5 KB workbook with one stray cell far away (XFD1048576 by default): readers that
    build a dense grid would ask for row x column cells."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "ATT1"])
    ws.append([1, "同意"])
    ws.cell(row=row, column=column, value="x")
    wb.save(path)
    return path


def test_far_away_cell_is_refused(tmp_path):
    path = make_far_cell_xlsx(tmp_path / "far.xlsx")
    assert path.stat().st_size < 10_000
    with pytest.raises(ReadError, match=r"1048576 rows x 16384 columns") as info:
        check_file(path)
    assert "far.xlsx" in str(info.value)
    assert "max_cells" in str(info.value)
    near = make_far_cell_xlsx(tmp_path / "near.xlsx", row=2000, column=60)
    assert check_file(near) == "xlsx"
    with pytest.raises(ReadError, match="2000 rows x 60 columns"):
        check_file(near, max_cells=100_000)


def test_sheet_extent_across_chunk_boundaries(tmp_path):
    """References are found whole even when the XML is read in 1 MiB pieces."""
    import zipfile as zf_mod

    from servicestudy._guards import _sheet_extent

    rows = "".join(f'<row r="{i}"><c r="A{i}" t="s"><v>{i}</v></c><c r="BC{i}"><v>{i}.5</v></c></row>'
                   for i in range(1, 40001))
    xml = f'<worksheet><dimension ref="A1:B2"/><sheetData>{rows}</sheetData></worksheet>'
    assert len(xml) > 2**21
    path = tmp_path / "s.zip"
    with zf_mod.ZipFile(path, "w", compression=zf_mod.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
    with zf_mod.ZipFile(path) as z:
        assert _sheet_extent(z, "xl/worksheets/sheet1.xml") == (40000, 55)


def test_too_many_columns_in_a_text_file(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text("\n\n" + ",".join(f"c{i}" for i in range(20_000)) + "\n1\n", encoding="utf-8")
    with pytest.raises(ReadError, match="more than 16384 fields") as info:
        check_file(wide)
    assert "wide.csv" in str(info.value)
    tabs = tmp_path / "tabs.txt"
    tabs.write_bytes(("\t".join("x" * 5 for _ in range(300)) + "\n").encode("utf-16"))
    assert check_file(tabs) == "csv"
    with pytest.raises(ReadError, match="more than 100 fields"):
        check_file(tabs, max_columns=100)
    ok = tmp_path / "ok.csv"
    ok.write_text(",".join(f"c{i}" for i in range(16_384)) + "\n" + ",".join(["9"] * 50_000) + "\n")
    assert check_file(ok) == "csv"  # only the header line counts


_REF_TOKENS = ['<c r="', '<row r="', ' r="', '\tr="', '\x0br="', '\x1cr="', 'r="', '"', '=', " ", "A", "Z", "AB",
               "XFD", "ABCD", "a", "1", "0", "007", "1048576", "12345678", "<", ">", "/>", ":", "\u4e2d"]


@given(st.lists(st.sampled_from(_REF_TOKENS), max_size=60))
@settings(max_examples=400, derandomize=True, deadline=None)
def test_vectorised_reference_scan_equals_the_regex_scan(tokens):
    """The numpy scan of cell/row references gives what the two regexes give, on any bytes."""
    from servicestudy._guards import _refs_max, _refs_max_re

    block = "".join(tokens).encode("utf-8")
    assert _refs_max(block) == _refs_max_re(block)


def test_vectorised_reference_scan_on_a_sheet():
    from servicestudy._guards import _refs_max, _refs_max_re

    xml = "".join(f'<row r="{i}" spans="1:3"><c r="A{i}" s="1"><v>1</v></c><c r="AZ{i}" t="s"><v>2</v></c></row>'
                  for i in range(1, 3000)).encode()
    xml += b'<c\nr="XFD1048576"/><c r="A99999999"/>'
    assert _refs_max(xml) == _refs_max_re(xml) == (16384, 1048576)


def test_vectorised_reference_scan_whitespace_bytes():
    """The byte before r="..." counts as whitespace exactly when the regex's \\s takes it."""
    from servicestudy._guards import _refs_max, _refs_max_re

    for b in range(256):
        block = b'<c r="A1"/>x' + bytes([b]) + b'r="XB70"/>' + bytes([b]) + b'r="900"/>'
        assert _refs_max(block) == _refs_max_re(block), b


@given(st.lists(st.sampled_from(["<row", ":row", "<ro", "row", "<", ":", "w", "r", "o", "x:row r=", "<rows"]), max_size=40))
@settings(max_examples=300, derandomize=True, deadline=None)
def test_vectorised_row_tag_count_equals_bytes_count(tokens):
    from servicestudy._guards import _row_tags_count

    block = "".join(tokens).encode()
    assert _row_tags_count(block) == block.count(b"<row") + block.count(b":row")
