"""read_export on the real exports in ../shared/fixtures (skipped when the folder is absent).

The shapes are those documented in ../shared/fixtures/README.md. The Wenjuanxing surveys come
in two downloads of the same answers ("by option text", ``_0``; "by option number", ``_2``);
decoded with a codebook written for the test (tests/data/), they must agree cell by cell.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from servicestudy.cli import main
from servicestudy.codebook import load_codebook
from servicestudy.coding import code_responses
from servicestudy.io import read_export

pytestmark = pytest.mark.fixtures

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("name", "shape"),
    [("wjx_800_800_0.xls", (800, 14)), ("wjx_800_800_2.xls", (800, 36)),
     ("wjx_357_357_0.xls", (204, 9)), ("wjx_357_357_2.xls", (204, 9))],
)
def test_wenjuanxing_shapes(fixtures_dir: Path, name: str, shape: tuple[int, int]) -> None:
    raw = read_export(fixtures_dir / "wenjuanxing" / name)
    assert raw.data.shape == shape
    assert raw.platform == "wenjuanxing"
    assert raw.data.index[0] == 2
    assert raw.data.index[-1] == shape[0] + 1


def test_survey_sav(fixtures_dir: Path) -> None:
    raw = read_export(fixtures_dir / "spss" / "survey.sav")
    assert raw.data.shape == (439, 135)
    assert raw.platform == "spss"
    assert raw.value_labels["sex"] == {1.0: "MALES", 2.0: "FEMALES"}
    assert raw.variable_labels["marital"] == "marital status"
    assert {"op1", "pn20", "pc18"} <= set(raw.data.columns)


@pytest.mark.parametrize("survey", ["800", "357"])
def test_text_and_number_downloads_decode_identically(fixtures_dir: Path, survey: str) -> None:
    cb = load_codebook(DATA / f"wjx{survey}_codebook.yaml")
    folder = fixtures_dir / "wenjuanxing"
    text = read_export(folder / f"wjx_{survey}_{survey}_0.xls", cb)
    number = read_export(folder / f"wjx_{survey}_{survey}_2.xls", cb)
    for raw in (text, number):
        assert raw.unmatched == ()
        assert raw.missing == ()
    a = code_responses(text, cb)
    b = code_responses(number, cb)
    assert a.data.shape == b.data.shape
    assert a.data.shape[0] == {"800": 800, "357": 204}[survey]
    pd.testing.assert_frame_equal(a.data, b.data)
    pd.testing.assert_frame_equal(a.answers, b.answers)
    # the text download codes labels, the number download takes codes as they are
    assert set(a.audit["rule"]) >= {"label -> code"}
    assert "label -> code" not in set(b.audit["rule"])


def test_wjx800_multiselect_counts(fixtures_dir: Path) -> None:
    cb = load_codebook(DATA / "wjx800_codebook.yaml")
    coded = code_responses(read_export(fixtures_dir / "wenjuanxing" / "wjx_800_800_0.xls", cb), cb)
    # counts of the 0/1 columns of the number download, read directly from the file
    number = read_export(fixtures_dir / "wenjuanxing" / "wjx_800_800_2.xls")
    assert coded.data["hobbies__1"].sum() == number.data["第6题(运动)"].sum() == 479
    assert coded.data["news__10"].sum() == number.data["第8题(其他【请注明】)"].sum() == 5
    assert coded.data["income"].isna().sum() == 2  # "不知道/拒绝回答" is declared missing


def test_validate_cli_on_a_real_export(fixtures_dir: Path, capsys) -> None:
    path = fixtures_dir / "wenjuanxing" / "wjx_800_800_2.xls"
    assert main(["validate", str(path), "--codebook", str(DATA / "wjx800_codebook.yaml")]) == 0
    out = capsys.readouterr().out
    assert "第6题(运动) -> hobbies__1" in out
    assert "result: clean" in out
    # with the study's own codebook nothing but the meta columns matches: one line, exit 2
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "wjx_800_800_2.xls: none of the codebook's 30 items is among the 36 headers" in err


def test_xlrd_fallback_reads_the_same_cells(fixtures_dir: Path, monkeypatch) -> None:
    import python_calamine

    path = fixtures_dir / "wenjuanxing" / "wjx_800_800_0.xls"
    fast = read_export(path)

    def broken(*args, **kwargs):
        raise RuntimeError("calamine unavailable")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", broken)
    slow = read_export(path)
    pd.testing.assert_frame_equal(fast.data, slow.data)
