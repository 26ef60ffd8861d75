"""The qualitative half: segmentation, rule coding, agreement, frequencies, quotes, interviews."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from conftest import REFERENCE
from servicestudy.errors import CodebookError, DataError, ReadError
from servicestudy.qualitative import (
    code_themes,
    coder_agreement,
    cohen_kappa,
    combine_codings,
    joint_display,
    keyword_frequencies,
    krippendorff_alpha,
    parse_themes,
    representative_quotes,
    segment_text,
    theme_cooccurrence,
    theme_frequencies,
    theme_satisfaction,
)
from servicestudy.textio import interview_segments, load_themes, read_coding_sheet, read_interviews
from test_privacy import INJECTED, _leaks

REF = json.loads((REFERENCE / "qualitative.json").read_text(encoding="utf-8"))
THEMES = load_themes("k_station")

# --- segmentation on a small fixed corpus -----------------------------------------------------

CORPUS = [
    ("派出所民警态度很好，但是排队时间太长。", ["派出所", "民警", "态度", "好", "排队", "时间", "长"]),
    ("希望推广最多跑一次，户籍和出入境业务都能网上办。",
     ["推广", "最多跑一次", "户籍", "出入境", "业务", "网上办"]),
    ("遇到紧急情况拨打110，民警很快就到了。", ["遇到", "紧急情况", "拨打", "110", "民警", "很快"]),
    ("社区民警工作量大，警力不足。", ["社区民警", "工作量", "大", "警力不足"]),
    ("The station should offer more online services and longer opening hours.",
     ["station", "should", "offer", "online", "services", "longer", "opening", "hours"]),
    ("电话[手机号]，ＦＵＬＬ－ＷＩＤＴＨ ok", ["电话", "full", "width", "ok"]),
]


@pytest.mark.parametrize(("text", "tokens"), CORPUS)
def test_segmentation_fixed_corpus(text, tokens):
    expected = [t for t in tokens if t != "should"]  # 'should' is an English stop word
    assert segment_text(text) == expected


def test_segmentation_options_and_user_terms():
    # without the shipped user dictionary jieba splits the campaign slogan; with it, one word
    import rjieba

    assert rjieba.Jieba().cut("最多跑一次", hmm=False) != ["最多跑一次"]
    assert "最多跑一次" in segment_text("最多跑一次")
    assert segment_text("我的派出所", stopwords=False) == ["我", "的", "派出所"]
    assert segment_text("一窗通办真好", userdict=["一窗通办"])[0] == "一窗通办"
    assert segment_text("派出所民警", min_length=3) == ["派出所"]
    assert segment_text(None) == []
    assert segment_text("  ") == []
    assert segment_text(float("nan")) == []


# --- theme codebook ---------------------------------------------------------------------------


def test_theme_codebook_structure():
    assert THEMES.version == "1.0.0"
    areas = {g: s["area"] for g, s in THEMES.groups.items()}
    assert [g for g, a in areas.items() if a == "problem"] == ["limited_content", "management_first", "narrow_forms"]
    assert [g for g, a in areas.items() if a == "cause"] == [
        "workload", "weak_awareness", "unclear_boundaries", "citizens_left_out"]
    assert [g for g, a in areas.items() if a == "recommendation"] == [
        "resourcing", "service_awareness", "wider_services", "participation"]
    assert all(THEMES.themes_in(group=g) for g in areas)  # every group has a theme
    for t in THEMES.themes:
        assert t.zh
        assert t.en
        assert (t.keywords or t.patterns)


def _doc(**theme):
    base = {"id": "q", "group": "g", "zh": "排队", "en": "Queues", "keywords": ["排队"]}
    base.update(theme)
    return {"format": "servicestudy-themes", "version": 1, "study": "s", "themes_version": "1",
            "areas": {"problem": {"zh": "问题", "en": "Problems"}},
            "groups": {"g": {"area": "problem", "zh": "组", "en": "Group"}}, "themes": [base]}


@pytest.mark.parametrize(("theme", "message"), [
    ({"group": "nope"}, "unknown group"),
    ({"keywords": None}, "keywords or patterns"),
    ({"patterns": ["(unclosed"]}, "not a regular expression"),
    ({"keywords": "排队"}, "list of non-empty terms"),
])
def test_bad_theme_codebooks(theme, message):
    with pytest.raises(CodebookError, match=message):
        parse_themes(_doc(**theme), source="t.yaml")


def test_bad_theme_codebook_file(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("format: [", encoding="utf-8")
    with pytest.raises(CodebookError, match=r"t\.yaml"):
        load_themes(p)
    with pytest.raises(CodebookError, match="no theme codebook"):
        load_themes("nope")


# --- rule coding ------------------------------------------------------------------------------


def test_rule_coding_is_explainable():
    texts = pd.Series({
        "a": "希望开通网上办理，不用排队",          # exclusion: 不用排队 is not a queue complaint
        "b": "警力不足，排队太久，建议增加警力",
        "c": "不听取群众意见，希望多听取群众意见",  # left_out; participation only from the 2nd phrase
        "d": "The station is understaffed; please add more ONLINE services.",
        "e": "",
        "f": None,
    })
    c = code_themes(texts, THEMES)
    coded = {sid: sorted(t for t, v in row.items() if v) for sid, row in c.codes.iterrows()}
    assert coded == {
        "a": ["online_services"],
        "b": ["in_person_only", "more_resources", "workload"],
        "c": ["left_out", "participation"],
        "d": ["online_services", "workload"],
        "e": [], "f": [],
    }
    assert c.answered.tolist() == [True, True, True, True, False, False]
    m = c.matches
    assert m[m.segment_id == "c"][["theme", "term", "start", "end"]].to_numpy().tolist() == [
        ["left_out", "不听取群众意见", 0, 7], ["participation", "听取群众意见", 11, 17]]
    assert m[m.segment_id == "d"]["term"].tolist() == ["understaffed", "online"]
    frame = c.to_frame()
    assert frame.loc[1, "matched"] == "in_person_only:排队; workload:警力不足; more_resources:增加警力"


def test_rule_coding_longest_match_no_overlap():
    c = code_themes(["推行最多跑一次"], THEMES)
    assert c.matches["term"].tolist() == ["最多跑一次"]  # not also 跑一次


def test_rule_coding_rejects_duplicate_ids():
    with pytest.raises(DataError, match="unique"):
        code_themes(pd.Series(["a", "b"], index=[1, 1]), THEMES)


# --- frequencies, co-occurrence, keywords, satisfaction ---------------------------------------


def test_theme_frequencies_by_group_and_wilson_against_r():
    codes = pd.DataFrame({"x": [True] * 17 + [False] * 43})
    for case in REF["wilson"]:
        codes = pd.DataFrame({"x": [True] * case["x"] + [False] * (case["n"] - case["x"])})
        row = theme_frequencies(codes).to_frame().iloc[0]
        assert row["ci_low"] == pytest.approx(case["ci_low"], rel=1e-9, abs=1e-12)
        assert row["ci_high"] == pytest.approx(case["ci_high"], rel=1e-9, abs=1e-12)
    c = code_themes(["网上办理", "排队", "网上", "", "网上 排队"], THEMES)
    by = pd.Series(pd.Categorical(["a", "b", "a", "a", "b"], categories=["b", "a"]))
    t = theme_frequencies(c, by=by).to_frame().set_index(["group", "theme"])
    assert list(dict.fromkeys(t.index.get_level_values(0))) == ["all", "b", "a"]
    assert t.loc[("all", "online_services"), ["count", "n_obs"]].tolist() == [3, 4]
    assert t.loc[("a", "online_services"), ["count", "n_obs"]].tolist() == [2, 2]
    assert t.loc[("b", "in_person_only"), "proportion"] == 1.0
    assert theme_frequencies(c, base="all").to_frame().loc[0, "n_obs"] == 5
    with pytest.raises(DataError, match="base"):
        theme_frequencies(c, base="x")


def test_cooccurrence_and_keywords():
    c = code_themes(["网上 排队", "网上", "警力不足 排队"], THEMES)
    co = theme_cooccurrence(c).to_frame()
    assert co.loc["online_services", "in_person_only"] == 1
    assert co.loc["in_person_only", "in_person_only"] == 2
    assert (co.to_numpy() == co.to_numpy().T).all()
    kw = keyword_frequencies(["网上办理很方便", "希望网上办理更多业务", "排队排队"]).to_frame()
    assert kw.iloc[0].tolist() == ["办理", 2, 2]
    assert kw.set_index("word").loc["排队"].tolist() == [2, 1]


def test_theme_satisfaction_against_r_ttest():
    r = REF["ttest"]
    sat = pd.Series([*r["with"], *r["without"]])
    codes = pd.DataFrame({"x": [True] * len(r["with"]) + [False] * len(r["without"])})
    row = theme_satisfaction(codes, sat).to_frame().iloc[0]
    assert row["mean_with"] == pytest.approx(r["mean_with"], rel=1e-12)
    assert row["ci_low"] == pytest.approx(r["ci_low"], rel=1e-9)
    assert row["ci_high"] == pytest.approx(r["ci_high"], rel=1e-9)
    assert row["difference"] == pytest.approx(r["diff"], rel=1e-12)
    assert row["diff_ci_low"] == pytest.approx(r["diff_ci_low"], rel=1e-9)
    assert row["diff_ci_high"] == pytest.approx(r["diff_ci_high"], rel=1e-9)
    sat2 = sat.copy()
    sat2.iloc[0] = np.nan
    assert theme_satisfaction(codes, sat2).to_frame().loc[0, "n_missing"] == 1


# --- agreement ---------------------------------------------------------------------------------


def _units(case):
    return pd.DataFrame([[np.nan if v is None else v for v in row] for row in case["units"]], dtype=float)


def test_krippendorff_alpha_against_r_and_published_example():
    c = REF["agreement"][0]
    d = _units(c)
    for level in ("nominal", "interval"):
        res = krippendorff_alpha(d, level=level)
        assert res.estimate == pytest.approx(c[level]["alpha"], rel=1e-12)
        assert res.observed == pytest.approx(c[level]["do"], rel=1e-12)
        assert res.expected == pytest.approx(c[level]["de"], rel=1e-12)
        assert round(res.estimate, 3) == c["published"][level]
    assert krippendorff_alpha(d).n_units == 11  # unit 12 has one code only


@pytest.mark.parametrize("k", [1, 2])
def test_kappa_and_alpha_two_coders_against_r(k):
    c = REF["agreement"][k]
    a, b = c["a"], c["b"]
    res = cohen_kappa(a, b)
    assert res.estimate == pytest.approx(c["kappa"]["kappa"], rel=1e-12)
    assert res.observed == pytest.approx(c["kappa"]["po"], rel=1e-12)
    assert res.n_units == c["kappa"]["n"]
    al = krippendorff_alpha(pd.DataFrame({"a": a, "b": b}))
    assert al.estimate == pytest.approx(c["nominal"]["alpha"], rel=1e-12)


def test_kappa_undefined_and_length_mismatch():
    assert math.isnan(cohen_kappa([1, 1], [1, 1]).estimate)
    with pytest.raises(DataError, match="length"):
        cohen_kappa([1], [1, 2])
    with pytest.raises(DataError, match="level"):
        krippendorff_alpha(pd.DataFrame({"a": [1]}), level="ratio")


def _sheets(tmp_path):
    a = tmp_path / "coder_a.csv"
    b = tmp_path / "coder_b.xlsx"
    a.write_text("segment_id,coder,theme\nI01-02,A,workload\nI01-02,A,more_resources\n"
                 "I01-03,A,\nI02-02,A,online_services\n", encoding="utf-8")
    pd.DataFrame({"segment_id": ["I01-02", "I01-03", "I02-02", "I02-02"], "coder": ["B"] * 4,
                  "theme": ["workload", "online_services", "online_services", None]}).to_excel(b, index=False)
    return a, b


def test_coding_sheets_agreement_and_combination(tmp_path):
    a, b = _sheets(tmp_path)
    sheet = read_coding_sheet(a, b, themes=THEMES)
    assert len(sheet) == 8
    assert set(sheet["coder"]) == {"A", "B"}
    agr = coder_agreement(sheet, themes=["workload", "online_services", "more_resources"])
    t = agr.to_frame().set_index("theme")
    assert t.loc["workload", "agreement"] == 1.0
    assert t.loc["online_services", "agreement"] == pytest.approx(2 / 3)
    # pooled: 9 decisions, 7 agreements; independent check with the R-validated kappa
    va = [1, 0, 1, 0, 0, 0, 0, 1, 0]
    vb = [1, 0, 0, 0, 1, 0, 0, 1, 0]
    assert agr.kappa_pooled == pytest.approx(cohen_kappa(va, vb).estimate)
    union = combine_codings(sheet, rule="union")
    both = combine_codings(sheet, rule="all")
    assert union.loc["I01-03", "online_services"]
    assert not both.loc["I01-03", "online_services"]
    assert both.loc["I02-02", "online_services"]
    with pytest.raises(DataError, match="rule"):
        combine_codings(sheet, rule="any")


def test_coding_sheet_errors(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("segment_id,coder,theme\n1,A,nonsense\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"c.csv: row 2, column 'theme', value 'nonsense'"):
        read_coding_sheet(p, themes=THEMES)
    p.write_text("segment,coder,theme\n1,A,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="segment_id"):
        read_coding_sheet(p)
    s = pd.DataFrame({"segment_id": ["1", "2"], "coder": ["A", "B"], "theme": ["x", "x"]})
    with pytest.raises(DataError, match="coded by 'A' only"):
        coder_agreement(s)
    with pytest.raises(DataError, match="exactly two coders"):
        coder_agreement(s.assign(coder=["A", "A"]))


# --- interviews: consent, masking, segments ----------------------------------------------------


def _interviews(tmp_path, consent="yes", extra=""):
    (tmp_path / "I01.md").write_text(
        "# I01 (SIMULATED)\n\n问：您怎么看？\n\n"
        f"答：我叫{INJECTED['name']}，电话{INJECTED['mobile']}。警力不足，排队太久。\n\n"
        f"邮箱 {INJECTED['email']}，微信号：{INJECTED['wechat']}，身份证号{INJECTED['id_number']}，"
        f"IP {INJECTED['ipv4']}。希望网上办理。\n", encoding="utf-8")
    import docx

    d = docx.Document()
    d.add_paragraph("答：社区走访很重要。")
    d.add_paragraph("多听取群众意见。")
    d.save(str(tmp_path / "I02.docx"))
    meta = tmp_path / "interviews.csv"
    meta.write_text("id,file,role,date,consent,name\n"
                    f"I01,I01.md,民警,2022-03-01,{consent},{INJECTED['name']}\n"
                    f"I02,I02.docx,community worker,2022-03-02,是,x\n{extra}", encoding="utf-8")
    return meta


def test_interviews_are_masked_segmented_and_coded(tmp_path):
    iv = read_interviews(_interviews(tmp_path))
    assert iv[["interview", "role", "date"]].to_numpy().tolist() == [
        ["I01", "officer", "2022-03-01"], ["I02", "community_worker", "2022-03-02"]]
    assert "name" not in iv.columns
    seg = interview_segments(iv)
    assert seg["segment_id"].tolist() == ["I01-01", "I01-02", "I01-03", "I02-01", "I02-02"]
    assert seg["speaker"].tolist() == ["interviewer", "interviewee", "interviewee", "interviewee", "interviewee"]
    said = seg[seg.speaker == "interviewee"].set_index("segment_id")["text"]
    c = code_themes(said, THEMES)
    q = representative_quotes(c, said, ids=[f"{i} ({r})" for i, r in zip(
        seg[seg.speaker == "interviewee"]["interview"], seg[seg.speaker == "interviewee"]["role"], strict=True)])
    # no identifier of the privacy suite survives into any text output
    outputs = [iv.to_csv(), seg.to_csv(), c.to_frame().to_csv(), c.matches.to_csv(), q.to_frame().to_csv(),
               keyword_frequencies(said, top=200).to_frame().to_csv()]
    for text in outputs:
        assert _leaks(text) == [], text
    assert "[手机号]" in seg.loc[1, "text"]
    assert "[姓名]" in seg.loc[1, "text"]
    assert c.codes.loc["I01-02", "workload"]
    assert c.codes.loc["I02-02", "participation"]


def test_interview_without_consent_is_refused(tmp_path):
    with pytest.raises(DataError) as err:
        read_interviews(_interviews(tmp_path, consent="no"))
    msg = str(err.value)
    assert "\n" not in msg
    assert "interviews.csv: row 2, column 'consent'" in msg
    assert "I01 has no recorded consent" in msg


@pytest.mark.parametrize(("extra", "message"), [
    ("I03,I01.md,mayor,2022-03-01,yes\n", "row 4, column 'role'"),
    ("I03,I01.md,resident,01/03/2022,yes\n", "row 4, column 'date'"),
    ("I03,I01.md,resident,2022-03-01,maybe\n", "row 4, column 'consent'"),
    ("I01,I01.md,resident,2022-03-01,yes\n", "duplicate interview id"),
    ("I03,I03.pdf,resident,2022-03-01,yes\n", "row 4, column 'file'"),
    ("13957712345,I01.md,resident,2022-03-01,yes\n", "looks like personal data"),
])
def test_bad_interview_metadata(tmp_path, extra, message):
    with pytest.raises(DataError, match=message) as err:
        read_interviews(_interviews(tmp_path, extra=extra))
    assert INJECTED["mobile"] not in str(err.value)


def test_interview_notes_not_utf8(tmp_path):
    meta = _interviews(tmp_path)
    (tmp_path / "I01.md").write_bytes("警力不足".encode("gbk"))
    with pytest.raises(ReadError, match="not UTF-8"):
        read_interviews(meta)


# --- quotes and joint display -------------------------------------------------------------------


def test_quotes_rule_and_joint_display():
    texts = pd.Series(["警力不足，人手不够", "警力不足", "希望网上办理，最多跑一次", "增加警力", "社区走访"])
    c = code_themes(texts, THEMES)
    q = representative_quotes(c, texts, per_theme=2).to_frame()
    w = q[q.theme == "workload"]
    assert w["id"].tolist() == ["S001", "S002"]
    assert w["terms"].tolist() == ["警力不足; 人手不够", "警力不足"]
    survey = pd.DataFrame({"construct": ["efficiency", "forms"], "estimate": [3.5, 3.1],
                           "ci_low": [3.4, 3.0], "ci_high": [3.6, 3.2]},
                          index=["resourcing", "wider_services"])
    jd = joint_display(THEMES, survey=survey, answers=c, interviews=c, quotes=q, lang="zh").to_frame()
    assert jd["group"].tolist() == ["resourcing", "service_awareness", "wider_services", "participation"]
    r = jd.set_index("group")
    assert r.loc["resourcing", "survey_estimate"] == 3.5
    assert math.isnan(r.loc["participation", "survey_estimate"])
    assert r.loc["wider_services", "answers_count"] == 1
    assert r.loc["wider_services", "quote"] == "希望网上办理，最多跑一次"
    assert r.loc["resourcing", "label"] == "充实警力与保障"


# --- bundled simulated interviews and figures ----------------------------------------------------


def _bundled():
    from conftest import ROOT

    iv = read_interviews(ROOT / "data" / "raw" / "interviews" / "interviews.csv")
    seg = interview_segments(iv)
    said = seg[seg.speaker == "interviewee"].set_index("segment_id")["text"]
    return iv, seg, said


def test_bundled_interviews_are_labelled_simulated_masked_and_coded():
    iv, _seg, said = _bundled()
    assert iv["role"].value_counts().to_dict() == {"resident": 3, "officer": 3, "community_worker": 2}
    assert all("SIMULATED" in t for t in iv["text"])
    assert "1380000" not in "".join(iv["text"])
    assert "[手机号]" in "".join(iv["text"])
    c = code_themes(said, THEMES)
    by_area = {a: c.codes[THEMES.themes_in(area=a)].any(axis=1).sum() for a in ("problem", "cause", "recommendation")}
    assert all(v > 0 for v in by_area.values())
    assert c.codes.any(axis=0).all()  # every theme appears in the bundled notes


def test_theme_figures_return_axes():
    import matplotlib.pyplot as plt

    from servicestudy import figures

    _iv, seg, said = _bundled()
    c = code_themes(said, THEMES)
    roles = seg[seg.speaker == "interviewee"]["role"].reset_index(drop=True)
    freq = theme_frequencies(c, by=roles)
    with figures.style():
        fig, ax = plt.subplots()
        assert figures.theme_bars(freq, ax=ax, labels={t.id: t.zh for t in THEMES.themes}) is ax
        assert len(ax.patches) == 4 * len(THEMES.themes)  # all + three roles
        ax2 = figures.cooccurrence_heatmap(theme_cooccurrence(c))
        assert ax2.figure is not fig
        assert len(ax2.get_xticklabels()) == len(THEMES.themes)
        with pytest.raises(DataError, match="theme_bars"):
            figures.theme_bars(pd.DataFrame({"x": [1]}))
    plt.close("all")


# --- the command line ----------------------------------------------------------------------------


def test_cli_text_masks_everything_and_is_deterministic(tmp_path, capsys):
    from servicestudy.cli import main
    from test_privacy import make_identified_export

    export = make_identified_export(tmp_path / "wave_pii.xlsx", n=60)
    meta = _interviews(tmp_path)
    a, b = _sheets(tmp_path)
    outs = []
    for k in (1, 2):
        out = tmp_path / f"out{k}"
        rc = main(["text", str(export), "--interviews", str(meta), "--sheets", str(a), str(b),
                   "--group", "residence", "--out", str(out)])
        assert rc == 0
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outs[0] == outs[1]  # byte-identical
    assert {"answers_coded.csv", "interviews_coded.csv", "answer_quotes.csv", "interview_quotes.csv",
            "joint_display.csv", "agreement.csv", "answer_frequencies.csv", "theme_satisfaction.csv"} <= set(outs[0])
    for name, data in outs[0].items():
        assert _leaks(data.decode("utf-8")) == [], name
    stdout = capsys.readouterr().out
    assert "kappa" in stdout
    assert _leaks(stdout) == []
    jd = pd.read_csv(tmp_path / "out1" / "joint_display.csv")
    assert jd["survey_construct"].tolist() == ["efficiency", "attitude", "forms", "participation"]


def test_cli_text_refuses_interview_without_consent(tmp_path, capsys):
    from servicestudy.cli import main

    meta = _interviews(tmp_path, consent="no")
    rc = main(["text", "--interviews", str(meta), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1
    assert "no recorded consent" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- simulated open answers ---------------------------------------------------------------------


def test_simulated_phrases_code_exactly_their_theme():
    from servicestudy._open_answers import NEUTRAL, PHRASES, THEME_RATES

    assert list(THEME_RATES) == THEMES.ids
    texts, expect = [], []
    for theme, phrases in PHRASES.items():
        for p in phrases:
            texts.append(f"希望{p}。")
            expect.append([theme])
    texts += [f"建议{p}。" for p in NEUTRAL]
    expect += [[] for _ in NEUTRAL]
    c = code_themes(texts, THEMES)
    got = [[t for t, v in row.items() if v] for _, row in c.codes.iterrows()]
    assert got == expect


def test_simulated_phrases_survive_masking():
    from servicestudy._open_answers import NEUTRAL, PHRASES
    from servicestudy.privacy import mask_identifiers

    for p in [*NEUTRAL, *(p for ps in PHRASES.values() for p in ps)]:
        assert mask_identifiers(f"希望{p}") == f"希望{p}"
