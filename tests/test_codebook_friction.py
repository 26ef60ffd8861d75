"""Codebook friction (issue 18): either language is enough, numeric recodes, uneven code
spacing warned about, unused export columns are information, the screening section."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from servicestudy.cli import main
from servicestudy.codebook import load_codebook
from servicestudy.coding import code_responses
from servicestudy.errors import CodebookError
from servicestudy.screening import DEFAULT_RULE, apply_exclusions, default_rule, screen

ENGLISH = """\
format: servicestudy-codebook
version: 1
study: {id: en_only, title: {en: English only}}
scales:
  agree7:
    levels:
      - {code: 1, en: Strongly disagree}
      - {code: 2, en: Disagree}
      - {code: 3, en: Neutral}
      - {code: 4, en: Agree}
      - {code: 5, en: Strongly agree}
    recode: {5: 3, 6: 4, 7: 5}
  gappy:
    levels:
      - {code: 1, en: No}
      - {code: 2, en: Somewhat}
      - {code: 5, en: Yes}
constructs:
  trust: {en: Trust}
items:
  - {id: T1, en: I trust the police, scale: agree7, construct: trust}
  - {id: T2, en: The police are fair, scale: agree7, construct: trust}
  - {id: T3, zh: 警察可靠, scale: gappy, construct: trust}
categoricals:
  - id: region
    en: Region
    categories:
      - {code: 1, en: North}
      - {code: 2, en: South}
groups: [region]
screening:
  rule: [empty, duplicate]
  thresholds: {duplicate_alpha: 0.01, longstring_min_answered: 0.8}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_either_language_is_enough_and_sections_are_read(tmp_path):
    cb = load_codebook(_write(tmp_path, "cb.yaml", ENGLISH))
    assert cb.items["T1"].zh == cb.items["T1"].en == "I trust the police"
    assert cb.items["T3"].en == "警察可靠"
    assert cb.scales["agree7"].levels[0].zh == "Strongly disagree"
    assert cb.constructs["trust"].zh == "Trust"
    assert cb.groups == ("region",)
    assert cb.screening["rule"] == ("empty", "duplicate")
    assert default_rule(cb) == ("empty", "duplicate")
    assert default_rule(None) == DEFAULT_RULE
    assert cb.scales["agree7"].recode == {5.0: 3.0, 6.0: 4.0, 7.0: 5.0}
    assert cb.scales["agree7"].evenly_spaced
    assert not cb.scales["gappy"].evenly_spaced
    assert cb.scales["agree7"].midpoint == 3.0


def test_bad_sections_are_reported(tmp_path):
    bad = (ENGLISH.replace("{code: 2, en: South}", "{code: 2}")
           .replace("groups: [region]", "groups: [nope]")
           .replace("rule: [empty, duplicate]", "rule: [empty, dupe]")
           .replace("duplicate_alpha: 0.01", "duplicate_alpha: lots")
           .replace("{5: 3, 6: 4, 7: 5}", "{5: 3, 6: 4, 7: 9}"))
    with pytest.raises(CodebookError) as err:
        load_codebook(_write(tmp_path, "bad.yaml", bad))
    text = str(err.value)
    assert "needs a text in zh or en" in text
    assert "groups: 'nope'" in text
    assert "unknown flag(s) 'dupe'" in text
    assert "duplicate_alpha: expected a number" in text
    assert "recode[7]: 9 is not a code of the scale" in text


def test_recode_applies_before_the_range_check(tmp_path):
    cb = load_codebook(_write(tmp_path, "cb.yaml", ENGLISH))
    raw = pd.DataFrame({"T1": [1, 2, 5, 6, 7], "T2": [7, 7, 1, 2, 5], "T3": [1, 2, 5, 5, 1], "region": [1, 2, 1, 2, 1]})
    coded = code_responses(raw, cb)
    assert coded.data["T1"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert coded.data["T2"].tolist() == [5.0, 5.0, 1.0, 2.0, 3.0]
    assert coded.data["T3"].tolist() == [1.0, 2.0, 5.0, 5.0, 1.0]  # gappy has no recode
    audit = coded.audit.set_index(["column", "rule"])["count"]
    assert audit[("T1", "numeric recode (codebook)")] == 3


def test_screening_thresholds_and_rule_come_from_the_codebook(tmp_path):
    cb = load_codebook(_write(tmp_path, "cb.yaml", ENGLISH))
    raw = pd.DataFrame({"T1": [1, 2, 5, None], "T2": [7, 7, 1, None], "T3": [1, 2, 5, None], "region": [1, 2, 1, 2]})
    coded = code_responses(raw, cb)
    res = screen(coded)
    assert res.thresholds["duplicate_alpha"] == 0.01
    assert res.thresholds["longstring_min_answered"] == 0.8
    assert screen(coded, duplicate_alpha=0.5).thresholds["duplicate_alpha"] == 0.5  # keyword wins
    flow = apply_exclusions(coded, res).flow
    assert flow.loc[flow["step"] == "excluded", "reason"].tolist() == ["empty", "duplicate"]
    assert flow.loc[flow["reason"] == "empty", "n"].item() == 1


def test_validate_unused_columns_are_information_and_uneven_codes_a_warning(tmp_path, capsys):
    cb = _write(tmp_path, "cb.yaml", ENGLISH)
    export = _write(tmp_path, "x.csv", "T1,T2,T3,region,StartDate,Browser\n1,7,5,1,2024-01-01,Firefox\n6,2,1,2,2024-01-02,Edge\n")
    assert main(["validate", str(export), "--codebook", str(cb)]) == 0
    out = capsys.readouterr().out
    assert "export columns the codebook does not use: 2 (information, not a problem)\n  StartDate\n  Browser" in out
    assert "warning: scale 'gappy' has unevenly spaced codes (1, 2, 5)" in out
    assert "agree7" not in out.split("warning:")[1]
    assert "result: clean" in out
