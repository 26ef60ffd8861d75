"""load_codebook: the shipped codebook, and every problem of a bad one reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from servicestudy.codebook import list_codebooks, load_codebook, normalize_label
from servicestudy.errors import CodebookError

GOOD = """\
format: servicestudy-codebook
version: 1
study: {id: demo, title: {zh: 示例, en: Demo}}
min_answered: 0.5
scales:
  agree5:
    levels:
      - {code: 1, zh: 非常不同意, en: Strongly disagree}
      - {code: 2, zh: 不同意, en: Disagree}
      - {code: 3, zh: 一般, en: Neutral}
      - {code: 4, zh: 同意, en: Agree}
      - {code: 5, zh: 非常同意, en: Strongly agree}
    missing:
      - {code: 9, zh: 不清楚, en: Don't know}
constructs:
  att: {zh: 服务态度, en: Attitude}
items:
  - {id: ATT1, zh: 民警态度热情, en: Officers are courteous, scale: agree5, construct: att}
  - {id: ATT2, zh: 民警更注重管理而不是服务, en: Officers put management before service,
     scale: agree5, construct: att, reverse: true}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cb.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_codebook() -> None:
    assert "k_station" in list_codebooks()
    cb = load_codebook("k_station")
    assert cb.dimensions == ["content", "attitude", "efficiency", "forms", "participation"]
    assert cb.outcomes == ["overall"]
    assert cb.reverse_items() == ["CON4", "ATT3", "FRM4"]
    assert cb.attention_checks() == {"ATTN1": (2.0,)}
    assert cb.meta["ip"].identifier
    assert len(cb.sha256) == 64


def test_minimal_codebook(tmp_path: Path) -> None:
    cb = load_codebook(_write(tmp_path, GOOD))
    assert cb.items_of("att") == ["ATT1", "ATT2"]
    scale = cb.scale_of("ATT2")
    assert (scale.min, scale.max, scale.neutral, scale.missing_codes) == (1.0, 5.0, 3.0, (9.0,))
    assert scale.label_map()[normalize_label("Don't know")] is None


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = GOOD.replace("min_answered: 0.5\n", "min_answered: 0.5\ncolour: blue\n")
    bad = bad.replace("construct: att}", "construct: att, wording: x}", 1)  # unknown item key
    bad = bad.replace("scale: agree5, construct: att, reverse: true}", "scale: agree7, construct: att, reverse: true}")
    bad = bad.replace("constructs:\n", "constructs:\n  eff: {zh: 效率, en: Efficiency}\n")  # no items
    bad += "  - {id: ATT1, zh: 重复, en: Duplicate, scale: agree5}\n"  # duplicate id
    with pytest.raises(CodebookError) as exc:
        load_codebook(_write(tmp_path, bad))
    problems = exc.value.problems
    text = " | ".join(problems)
    assert "codebook: unknown key(s) 'colour'" in text
    assert "items[0]: unknown key(s) 'wording'" in text
    assert "unknown scale 'agree7'" in text
    assert "constructs.eff: has no items" in text
    assert "duplicate id 'ATT1'" in text
    assert len(problems) == 5
    assert "\n" not in str(exc.value)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    # an unclosed flow mapping on line 16: the parser stops at the ':' of "items:" (line 17, column 6)
    bad = GOOD.replace("constructs:\n  att: {zh: 服务态度, en: Attitude}", "constructs:\n  att: {zh: 服务态度, en: Attitude")
    assert bad.splitlines()[16] == "items:"
    with pytest.raises(CodebookError, match=r"YAML error at line 17, column 6: ") as exc:
        load_codebook(_write(tmp_path, bad))
    assert str(exc.value).startswith(str(tmp_path / "cb.yaml"))


def test_exponential_aliases_are_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for k in range(1, 10):
        prev = f"*a{k - 1}"
        lines.append(f"a{k}: &a{k} [{', '.join([prev] * 10)}]")
    bomb = "\n".join(lines) + "\n" + GOOD.replace("format: servicestudy-codebook\n", "format: servicestudy-codebook\nextra: {bomb: *a9}\n")
    with pytest.raises(CodebookError, match=r"alias|nodes"):
        load_codebook(_write(tmp_path, bomb))


def test_not_found_and_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="codebook file not found"):
        load_codebook(tmp_path / "absent.yaml")
    with pytest.raises(CodebookError, match="no shipped codebook named 'nope'"):
        load_codebook("nope")


def test_the_documented_example_loads(tmp_path: Path) -> None:
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "codebook.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, re.S).group(1)
    cb = load_codebook(_write(tmp_path, example))
    assert cb.items_of("att") == ["ATT1", "ATT2"]
    assert cb.importance_items() == {"att": "IMP_att"}
    assert cb.categoricals["channels_known"].multiple


def test_aliases_expanding_inside_a_known_key_are_refused(tmp_path: Path) -> None:
    # few alias events (9 per level), but 9**9 leaves once expanded, hidden under study
    lines = ["extra:", "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for p, c in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  {c}: &{c} [{', '.join([f'*{p}'] * 9)}]")
    text = GOOD.replace("study: {id: demo, title: {zh: 示例, en: Demo}}", "study: {id: demo, notes: *i}")
    text = text.replace("version: 1\n", "version: 1\n" + "\n".join(lines) + "\n")
    with pytest.raises(CodebookError, match="expands to more than"):
        load_codebook(_write(tmp_path, text))


def test_ambiguous_header_texts_are_refused(tmp_path: Path) -> None:
    # the English text of ATT2 equals the Chinese text of ATT1: a header could name either
    bad = GOOD.replace("en: Officers put management before service", "en: 民警态度热情")
    with pytest.raises(CodebookError, match="names both 'ATT1' and 'ATT2'"):
        load_codebook(_write(tmp_path, bad))
