"""Same inputs, same bytes: building twice gives byte-identical files.

``write_processed`` (through ``servicestudy code``), the report's prepared data and the whole
report pipeline (results JSON, tables, figures, the PDF) are run twice on the same export and
every file is compared byte for byte. Respondent pseudonyms are keyed, so the key is fixed
here (without a key they differ between runs by design). The report run also checks that no
identifier injected into the export reaches any report output (the PDF's text via
``pypdf``, tables, results).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pandas as pd
import pypdf
import pytest

from servicestudy.cli import main
from test_privacy import KEY, _leaks, make_identified_export


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return make_identified_export(tmp_path_factory.mktemp("raw") / "wave_pii.xlsx")


def test_code_twice_gives_identical_files(export, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SERVICESTUDY_KEY", KEY)
    monkeypatch.delenv("SERVICESTUDY_KEY_FILE", raising=False)
    for name in ("a", "b"):
        assert main(["code", str(export), "--out", str(tmp_path / name), "--seed", "3"]) == 0
    capsys.readouterr()
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert len(a) == 4
    assert a == b


def test_code_without_key_differs_only_in_pseudonyms(export, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SERVICESTUDY_KEY", raising=False)
    monkeypatch.delenv("SERVICESTUDY_KEY_FILE", raising=False)
    for name in ("a", "b"):
        assert main(["code", str(export), "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    da = pd.read_parquet(tmp_path / "a" / "responses.parquet")
    db = pd.read_parquet(tmp_path / "b" / "responses.parquet")
    assert not (da["resp_id"] == db["resp_id"]).any()  # a fresh random key each run
    pd.testing.assert_frame_equal(da.drop(columns="resp_id"), db.drop(columns="resp_id"))


def test_prepared_report_data_twice_identical(export, tmp_path):
    from servicestudy.report import prepare

    for name in ("a", "b"):
        prepare(export).save(tmp_path / name)
    a, b = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert set(a) == {"data.parquet", "flow.csv", "prepared.json"}
    assert a == b


def test_manifest_twice_identical(tmp_path):
    from servicestudy.provenance import write_manifest

    (tmp_path / "x.csv").write_text("1,2\n")
    first = write_manifest(tmp_path).read_bytes()
    assert write_manifest(tmp_path).read_bytes() == first


def test_table_xlsx_twice_identical(tmp_path):
    """openpyxl stamps docProps/core.xml's <dcterms:modified> with the clock at save; the
    tables module must fix it (fixed in 1812f0a)."""
    import time

    from servicestudy.tables import Table

    table = Table(title="T", data=pd.DataFrame({"estimate": [0.5, 1.25]}, index=["a", "b"]))
    table.to_xlsx(tmp_path / "a.xlsx")
    time.sleep(1.1)  # openpyxl's timestamp has one-second resolution
    table.to_xlsx(tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def _xlsx_cells(path: Path) -> list[list[object]]:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    return [[c.value for c in row] for ws in wb.worksheets for row in ws.iter_rows()]


def _text_of(path: Path) -> str:
    suffix = path.suffix
    if suffix in (".json", ".csv", ".typ", ".tex", ".html", ".md", ".txt"):
        return path.read_text(encoding="utf-8-sig")
    if suffix == ".parquet":
        return pd.read_parquet(path).reset_index().astype(str).to_csv(index=False)
    if suffix == ".xlsx":
        return "\n".join(" ".join(map(str, r)) for r in _xlsx_cells(path))
    if suffix == ".docx":
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml"))
    if suffix == ".pdf":
        # pypdf is a locked test dependency, so this check never depends on system tools
        return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    return ""


@pytest.mark.slow
def test_report_twice_identical_and_free_of_identifiers(export, tmp_path):
    """The whole report pipeline, twice (about a minute): byte-identical outputs, and none of
    the injected identifiers in any output."""
    from servicestudy.report import run_pipeline

    runs = []
    for name in ("a", "b"):
        run_pipeline(export, out=tmp_path / name, lang="en", quiet=True)
        runs.append(snapshot(tmp_path / name))
    a, b = runs
    assert set(a) == set(b)
    assert "report.pdf" in a
    assert any(k.startswith("figures/") for k in a)
    assert sorted(k for k in a if a[k] != b[k]) == []

    checked = 0
    for path in sorted((tmp_path / "a").rglob("*")):
        if not path.is_file():
            continue
        text = _text_of(path)
        if text:
            checked += 1
        assert _leaks(text) == [], path
    assert checked > 20
    pdf_text = _text_of(tmp_path / "a" / "report.pdf")
    assert len(pdf_text) > 1000


def test_pdf_text_extraction_works_on_a_known_string(tmp_path):
    """_text_of must really see text in a PDF, or the privacy check above would pass vacuously."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.1, 0.5, "13957712345 zw_19880712")
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    (tmp_path / "t.pdf").write_bytes(buf.getvalue())
    assert _leaks(_text_of(tmp_path / "t.pdf")) == ["13957712345", "zw_19880712"]
