from __future__ import annotations

import pytest

from servicestudy._atomic import atomic_path, atomic_write_text, safe_join
from servicestudy.errors import CodebookError, CodingError, OutputError, ServicestudyError


def test_error_message_is_one_line_with_location():
    err = CodingError("unknown label", file="a.csv", row=3, column="Q1", value="x\ny", expected="1-5")
    text = str(err)
    assert "\n" not in text
    assert text == "a.csv: row 3, column 'Q1', value 'x\\ny': unknown label; expected 1-5"
    assert isinstance(err, ServicestudyError)


def test_codebook_error_lists_every_problem():
    err = CodebookError("invalid codebook", file="c.yaml", problems=["a", "b"])
    assert str(err) == "c.yaml: invalid codebook: a; b"
    assert err.problems == ["a", "b"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def fail() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_safe_join_refuses_escape(tmp_path):
    assert safe_join(tmp_path, "a/b.csv") == tmp_path / "a" / "b.csv"
    with pytest.raises(OutputError, match="escapes"):
        safe_join(tmp_path, "../x.csv")
    with pytest.raises(OutputError):
        safe_join(tmp_path, "/etc/passwd")


def test_atomic_output_gets_ordinary_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "x.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
