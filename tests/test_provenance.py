"""Tests of servicestudy.provenance and ``servicestudy verify``."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from servicestudy.cli import main
from servicestudy.errors import ReadError
from servicestudy.provenance import read_manifest, sha256_file, verify_manifest, write_manifest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "raw"
    (d / "sub").mkdir(parents=True)
    (d / "b.csv").write_bytes(b"x,y\n1,2\n")
    (d / "a.xlsx").write_bytes(bytes(range(256)) * 10)
    (d / "sub" / "c 数据.txt").write_text("文本", encoding="utf-8")
    (d / ".gitkeep").write_bytes(b"")
    return d


def test_sha256_file_matches_hashlib(folder):
    data = (folder / "a.xlsx").read_bytes()
    assert sha256_file(folder / "a.xlsx", chunk_size=7) == hashlib.sha256(data).hexdigest()


def test_manifest_format_is_sha256sum(folder):
    path = write_manifest(folder)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split("  ", 1)[1] for line in lines] == ["a.xlsx", "b.csv", "sub/c 数据.txt"]
    for line in lines:
        digest, rel = line.split("  ", 1)
        assert digest == hashlib.sha256((folder / rel).read_bytes()).hexdigest()
    if shutil.which("sha256sum"):
        run = subprocess.run(["sha256sum", "-c", path.name], cwd=folder, capture_output=True, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
    # writing twice gives the same bytes; the manifest does not list itself
    first = path.read_bytes()
    assert write_manifest(folder).read_bytes() == first


def test_verify_reports_missing_changed_extra(folder):
    write_manifest(folder)
    assert verify_manifest(folder).ok
    (folder / "b.csv").write_bytes(b"x,y\n1,3\n")
    (folder / "a.xlsx").unlink()
    (folder / "new.csv").write_text("1")
    res = verify_manifest(folder)
    assert not res.ok
    assert res.missing == ("a.xlsx",)
    assert res.changed == ("b.csv",)
    assert res.extra == ("new.csv",)
    assert res.to_frame()["status"].tolist() == ["missing", "changed", "extra"]


def test_extra_files_fail_only_when_strict(folder):
    write_manifest(folder)
    (folder / "mine.xlsx").write_bytes(b"PK")
    assert verify_manifest(folder).ok
    assert not verify_manifest(folder, strict=True).ok


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("not a hash  a.csv\n", "malformed manifest line"),
        (f"{'0' * 64}  ../etc/passwd\n", "escapes"),
        (f"{'0' * 64}  a.csv\n{'1' * 64}  a.csv\n", "listed twice"),
    ],
)
def test_bad_manifest(folder, text, match):
    m = folder / "MANIFEST.sha256"
    m.write_text(text)
    with pytest.raises(ReadError, match=match) as info:
        read_manifest(m)
    assert "MANIFEST.sha256" in str(info.value)
    assert "row" in str(info.value)


def test_cli_exit_codes(folder, capsys):
    assert main(["verify", str(folder), "--write"]) == 0
    assert "3 file(s)" in capsys.readouterr().out
    assert main(["verify", str(folder)]) == 0
    assert "OK" in capsys.readouterr().out
    (folder / "b.csv").write_text("changed")
    assert main(["verify", str(folder)]) == 1
    assert "CHANGED  b.csv" in capsys.readouterr().out
    assert main(["verify", str(folder / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("servicestudy verify: error:")
    assert "Traceback" not in err
    assert main(["verify", str(folder), "--manifest", str(folder / "absent.sha256")]) == 2


def test_bundled_raw_data_match_their_manifest():
    manifest = RAW / "MANIFEST.sha256"
    if not manifest.is_file():
        pytest.fail("data/raw/MANIFEST.sha256 is missing: run `servicestudy verify --write`")
    res = verify_manifest(RAW)
    assert res.ok, f"data/raw differs from its manifest: missing {res.missing}, changed {res.changed}"
    # every bundled file is listed (users' own exports may sit unlisted beside them)
    listed = set(read_manifest(manifest))
    bundled = {p.name for p in RAW.iterdir() if p.is_file() and p.name.startswith("servicestudy_wave1")}
    assert bundled <= listed
    assert "README.md" in listed
