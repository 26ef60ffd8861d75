"""``servicestudy validate`` and ``servicestudy code``: output, exit status, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from servicestudy.cli import main
from servicestudy.io import read_processed

ROOT = Path(__file__).resolve().parents[1]
GOOD = "序号,来自IP,1、您的性别,2、民警办事态度热情、礼貌,3、民警更注重管理而不是服务\n1,1.2.3.4,男,同意,非常同意\n2,5.6.7.8,女,5,不清楚\n"


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _small_codebook(tmp_path: Path) -> Path:
    cb = """\
format: servicestudy-codebook
version: 1
study: {id: mini, title: {zh: 小, en: Mini}}
scales:
  agree5:
    levels:
      - {code: 1, zh: 非常不同意, en: Strongly disagree}
      - {code: 2, zh: 不同意, en: Disagree}
      - {code: 3, zh: 一般, en: Neutral}
      - {code: 4, zh: 同意, en: Agree}
      - {code: 5, zh: 非常同意, en: Strongly agree}
    missing:
      - {code: 6, zh: 不清楚, en: Don't know}
constructs:
  att: {zh: 态度, en: Attitude}
items:
  - {id: ATT1, zh: 民警办事态度热情、礼貌, en: Courteous, scale: agree5, construct: att}
  - {id: ATT3, zh: 民警更注重管理而不是服务, en: Management first, scale: agree5, construct: att, reverse: true}
categoricals:
  - id: gender
    zh: 您的性别
    en: Gender
    categories:
      - {code: 1, zh: 男, en: Male}
      - {code: 2, zh: 女, en: Female}
meta:
  respondent_id: {id: resp_id, aliases: [序号]}
  ip: {id: ip, aliases: [来自IP]}
"""
    return _write(tmp_path, "mini.yaml", cb)


def test_validate_clean_export_exits_0(tmp_path: Path, capsys) -> None:
    p = _write(tmp_path, "w.csv", GOOD)
    assert main(["validate", str(p), "--codebook", str(_small_codebook(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "2、民警办事态度热情、礼貌 -> ATT1" in out
    assert "export columns the codebook does not use: 0" in out
    assert "result: clean" in out


def test_validate_reports_problems_and_exits_1(tmp_path: Path, capsys) -> None:
    text = GOOD.replace("1,1.2.3.4,男,同意", "1,1.2.3.4,男,同意吧").replace("2,5.6.7.8,女,5", "2,5.6.7.8,女,8")
    p = _write(tmp_path, "w.csv", text.replace("序号,", "序号X,"))
    assert main(["validate", str(p), "--codebook", str(_small_codebook(tmp_path))]) == 1
    out = capsys.readouterr().out
    assert "export columns the codebook does not use: 1 (information, not a problem)\n  序号X" in out
    assert "codebook columns not in the file: 1\n  resp_id" in out
    assert "values that cannot be coded: 2" in out
    assert "row 2, column 'ATT1 (2、民警办事态度热情、礼貌)', value '同意吧': unknown label" in out
    assert "row 3, column 'ATT1 (2、民警办事态度热情、礼貌)', value '8': code out of range" in out
    assert "result: problems found" in out


def test_validate_default_codebook_is_k_station(tmp_path: Path, capsys) -> None:
    p = _write(tmp_path, "w.csv", GOOD)
    assert main(["validate", str(p)]) == 1  # most k_station columns are absent
    out = capsys.readouterr().out
    assert "k_station" in out
    assert "  CON1" in out


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.csv", b"", "empty"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5\n", "row 3"),
        ("bad.xlsx", b"PK\x03\x04" + b"garbage" * 50, "bad.xlsx"),
        ("bad.sav", b"$FL2" + b"\x00" * 64, "bad.sav"),
        ("notes.pdf", b"%PDF-1.4 binary \x00\x01\x02\x03" * 10, "notes.pdf"),
    ],
)
def test_malformed_file_gives_one_line_and_exit_2(tmp_path: Path, capsys, name, content, needle) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    for cmd in (["validate", str(p)], ["code", str(p), "--out", str(tmp_path / "out")]):
        assert main(cmd) == 2
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert "\n" not in err
        assert err.startswith(f"servicestudy {cmd[0]}: error: ")
        assert needle in err
        assert "Traceback" not in captured.err


def test_code_writes_processed_files(tmp_path: Path, capsys) -> None:
    p = _write(tmp_path, "w.csv", GOOD, encoding="gb18030")
    out = tmp_path / "processed"
    assert main(["code", str(p), "--codebook", str(_small_codebook(tmp_path)), "--out", str(out), "--lang", "zh"]) == 0
    assert "coded 2 rows" in capsys.readouterr().out
    df = read_processed(out)
    assert "ip" not in df.columns
    assert df["ATT1"].tolist() == [4.0, 5.0]
    assert df["ATT3"].iloc[0] == 1.0  # 非常同意 = 5, reverse keyed
    assert df["gender"].astype(str).tolist() == ["男", "女"]
    assert sorted(q.name for q in out.iterdir()) == [
        "responses.csv", "responses.parquet", "responses_audit.csv", "responses_provenance.json"]


def test_code_stops_on_a_bad_value_with_one_line(tmp_path: Path, capsys) -> None:
    p = _write(tmp_path, "w.csv", GOOD.replace("女,5", "女,7"))
    assert main(["code", str(p), "--codebook", str(_small_codebook(tmp_path)), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "w.csv: row 3, column 'ATT1 (2、民警办事态度热情、礼貌)', value '7': code out of range for ATT1; expected one of 1, 2, 3, 4, 5 (missing: 6)" in err
    assert not (tmp_path / "o").exists()


def test_console_script_subprocess(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "servicestudy"
    if not exe.exists():
        pytest.skip("the servicestudy console script is not installed in this environment")
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    res = subprocess.run([str(exe), "validate", str(bad)], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "empty.csv" in lines[0]
    assert "empty" in lines[0]


def test_bundled_simulated_wave_validates_clean(capsys) -> None:
    files = sorted((ROOT / "data" / "raw").glob("*.xlsx"))
    assert files, "data/raw/servicestudy_wave1.xlsx is tracked in git but absent"
    for f in files:
        assert main(["validate", str(f)]) == 0, f
        out = capsys.readouterr().out
        assert "export columns the codebook does not use: 0" in out
        assert "codebook columns not in the file: 0" in out
        assert "values that cannot be coded: 0" in out


def test_a_closed_pipe_ends_quietly():
    """`servicestudy validate FILE | head`: no BrokenPipeError traceback."""
    import subprocess
    import sys

    wave = Path(__file__).resolve().parents[1] / "data" / "raw" / "servicestudy_wave1.xlsx"
    proc = subprocess.Popen([sys.executable, "-m", "servicestudy", "validate", str(wave)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"file:")
    proc.stdout.close()  # the reader goes away after one line
    _out, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err
    assert proc.returncode in (0, 141)


def test_code_refuses_to_write_into_the_raw_exports_folder(tmp_path, capsys):
    """Raw data is never modified: processed files may not land beside the raw export."""
    import shutil

    from servicestudy.cli import main

    wave = Path(__file__).resolve().parents[1] / "data" / "raw" / "servicestudy_wave1.xlsx"
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    shutil.copy(wave, raw_dir / wave.name)
    assert main(["code", str(raw_dir / wave.name), "--out", str(raw_dir)]) == 2
    err = capsys.readouterr().err
    assert "raw export's own folder" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in raw_dir.iterdir()) == [wave.name]


def test_report_refuses_to_write_into_the_raw_exports_folder(tmp_path, capsys):
    import shutil

    from servicestudy.cli import main

    wave = Path(__file__).resolve().parents[1] / "data" / "raw" / "servicestudy_wave1.xlsx"
    shutil.copy(wave, tmp_path / wave.name)
    assert main(["report", str(tmp_path / wave.name), "--out", str(tmp_path), "--quiet"]) == 2
    assert "raw export's own folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [wave.name]
