"""Report section ``text`` (``servicestudy.report``): the open answers and interview notes (the qualitative half).

Open answers come from the prepared data's text columns; interview notes from a metadata file
(``interviews``, by default ``interviews/interviews.csv`` beside the export). Everything is
masked before it is counted, quoted or written. Parts that the data cannot support are
recorded with ``status`` and a message ("not computable because ...").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .report import LANGS, Prepared, _cat_label, _label, _Section, _t
from .tables import Table

TEXT_GROUP = "residence"


def _fig(draw: Any) -> Any:
    from .report import _fig as fig

    return fig(draw)


def section_text(prep: Prepared, *, langs: Sequence[str] = LANGS, strict: bool = False,
                 interviews: str | Path | None = None, themes: str | Path = "k_station") -> _Section:
    """Themes of the open answers and interviews, themes vs satisfaction, quotes, joint display."""
    from . import figures
    from .privacy import mask_identifiers
    from .qualitative import analyse_qualitative, survey_evidence
    from .textio import interview_segments, load_themes, read_interviews

    cb, data = prep.codebook, prep.data
    th = load_themes(themes)
    sec = _Section("text", {"status": "ok", "themes_version": th.version, "simulated_interviews": False})
    tcols = [t for t in cb.texts if t in data.columns]
    answers = groups = sat = None
    if tcols:
        joined = data[tcols].apply(lambda r: " ".join(str(v) for v in r if isinstance(v, str) and v.strip()), axis=1)
        answers = pd.Series([mask_identifiers(v) for v in joined], dtype=object,
                            index=[f"S{k + 1:04d}" for k in range(len(joined))])
        if TEXT_GROUP in data.columns:
            groups = pd.DataFrame({TEXT_GROUP: data[TEXT_GROUP].to_numpy()}, index=answers.index)
        if "score_overall" in data.columns:
            sat = pd.Series(data["score_overall"].astype(float).to_numpy(), index=answers.index)
    segments = None
    if interviews is not None and Path(interviews).is_file():
        iv = read_interviews(interviews)
        segments = interview_segments(iv)
        sec.results["simulated_interviews"] = bool(iv["text"].str.contains("SIMULATED").all())
        sec.results["interviews"] = {"n": len(iv), "roles": iv["role"].value_counts().sort_index().to_dict(),
                                     "n_segments": int((segments["speaker"] == "interviewee").sum())}
    scores = pd.DataFrame({c: data[f"score_{c}"].astype(float) for c in cb.dimensions if f"score_{c}" in data.columns})
    survey = survey_evidence(th, scores) if len(scores.columns) else None
    if answers is None and segments is None:
        sec.results.update(status="not_computable", message="no open-answer column in the export and no interview notes")
        return sec
    res = analyse_qualitative(answers, th, groups=groups, satisfaction=sat, interviews=segments, survey=survey)
    t = res.summary()
    lab = {lang: {x.id: x.label(lang) for x in th.themes} for lang in ("en", "zh")}
    area = {x.id: x.area for x in th.themes}

    def _freq_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [{"theme": r.theme, "en": lab["en"][r.theme], "zh": lab["zh"][r.theme], "area": area[r.theme],
                 "count": int(r.count), "n_obs": int(r.n_obs), "proportion": r.proportion,
                 "ci_low": r.ci_low, "ci_high": r.ci_high}
                for r in frame.sort_values(["count", "theme"], ascending=[False, True]).itertuples()]

    if answers is not None:
        fa = t["answer_frequencies"]
        overall = fa[fa["variable"] == "all"]
        sec.results["answers"] = {"status": "ok", "n": len(answers), "n_answered": res.answers.n_answered,
                                  "themes": _freq_rows(overall)}
        if res.answers.n_answered == 0:
            sec.results["answers"] = {"status": "not_computable", "message": "no respondent wrote an open answer"}
    else:
        sec.results["answers"] = {"status": "not_computable", "message": "the export has no open-answer column"}
    if segments is not None:
        fi = t["interview_frequencies"]
        cnt = t["interview_counts"].set_index("theme")
        rows = _freq_rows(fi[fi["variable"] == "all"])
        for r in rows:
            r["interviews"] = int(cnt.loc[r["theme"], "interviews"])
        sec.results["interview_themes"] = {"status": "ok", "themes": rows}
    else:
        sec.results["interview_themes"] = {"status": "not_computable",
                                           "message": "no interview notes were given (interviews/interviews.csv beside the export)"}
    if "theme_satisfaction" in t:
        ts = t["theme_satisfaction"]
        sec.results["satisfaction"] = [
            {"theme": r.theme, "en": lab["en"][r.theme], "zh": lab["zh"][r.theme], "n_with": int(r.n_with),
             "mean_with": r.mean_with, "mean_without": r.mean_without, "difference": r.difference,
             "diff_ci_low": r.diff_ci_low, "diff_ci_high": r.diff_ci_high}
            for r in ts.itertuples() if r.n_with >= 2]
    jd = t["joint_display"]
    sec.results["joint"] = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                            for row in jd.to_dict("records")]
    sec.results["themes"] = [{"id": x.id, "group": x.group, "area": x.area, "en": x.en, "zh": x.zh} for x in th.themes]

    for lang in langs:
        L = lab[lang]
        if answers is not None and res.answers.n_answered:
            fa = t["answer_frequencies"]
            sub = fa[fa["variable"].isin(["all", TEXT_GROUP])].copy()
            sub["group"] = [(_t(lang, "All", "全部") if g == "all" else _cat_label(cb, TEXT_GROUP, g, lang)) for g in sub["group"]]
            sec.figures.setdefault("answer_themes", {})[lang] = _fig(lambda ax, sub=sub, L=L, lang=lang: figures.theme_bars(
                sub, labels=L, ax=ax, xlabel=_t(lang, "Share of written answers (95% Wilson CI)", "占填写回答的比例（95% Wilson 置信区间）")))
            co = t["answer_cooccurrence"]
            sec.figures.setdefault("answer_cooccurrence", {})[lang] = _fig(
                lambda ax, co=co, L=L: figures.cooccurrence_heatmap(co, labels=L, ax=ax))
            ov = fa[fa["variable"] == "all"].set_index("theme")
            tab = pd.DataFrame({"area": [_t(lang, *{"problem": ("Problem", "问题"), "cause": ("Cause", "成因"),
                                                   "recommendation": ("Recommendation", "建议")}[area[x]]) for x in ov.index],
                                "count": ov["count"].to_numpy(), "proportion": 100 * ov["proportion"].to_numpy(),
                                "ci_low": 100 * ov["ci_low"].to_numpy(), "ci_high": 100 * ov["ci_high"].to_numpy()},
                               index=pd.Index([L[x] for x in ov.index], name=_t(lang, "Theme", "主题")))
            if "theme_satisfaction" in t:
                ts = t["theme_satisfaction"].set_index("theme")
                tab["mean_with"] = ts.loc[ov.index, "mean_with"].to_numpy()
                tab["difference"] = ts.loc[ov.index, "difference"].to_numpy()
            sec.tables.setdefault("answer_themes", {})[lang] = Table(
                _t(lang, "Themes of the open answers", "开放题回答的主题"), tab,
                formats={"count": "d", "proportion": ".1f", "ci_low": ".1f", "ci_high": ".1f", "mean_with": ".2f", "difference": ".2f"},
                labels={"area": _t(lang, "Area", "类别"), "count": "n", "proportion": "%",
                        "ci_low": _t(lang, "95% CI low", "95% CI 下限"), "ci_high": _t(lang, "95% CI high", "95% CI 上限"),
                        "mean_with": _t(lang, "Sat. (raised)", "满意度（提及者）"), "difference": _t(lang, "Diff.", "差值")},
                note=_t(lang, f"Rule coding with theme codebook {th.version}; % of the {res.answers.n_answered} written answers. Sat. = mean overall satisfaction (1-5) of respondents raising the theme; Diff. = minus the others who wrote an answer (descriptive: respondents choose what they write).",
                        f"按主题编码表 {th.version} 规则编码；百分比以 {res.answers.n_answered} 条填写的回答为基数。满意度为提及该主题者的总体满意度均值（1-5）；差值为其减去其他填写者的均值（描述性：受访者自行选择写什么）。"))
        if segments is not None:
            fi = t["interview_frequencies"]
            sub = fi.copy()
            sub["group"] = [_t(lang, "All", "全部") if g == "all" else _t(lang, *{"resident": ("Residents", "居民"), "officer": ("Officers", "民警"), "community_worker": ("Community workers", "社区工作者")}[g]) for g in sub["group"]]
            sec.figures.setdefault("interview_themes", {})[lang] = _fig(lambda ax, sub=sub, L=L, lang=lang: figures.theme_bars(
                sub, labels=L, ax=ax, xlabel=_t(lang, "Share of interview segments", "占访谈段落的比例")))
        jt = jd.copy()
        frame = pd.DataFrame({
            "survey": [("–" if r.survey_construct in (None, "") or (isinstance(r.survey_estimate, float) and math.isnan(r.survey_estimate))
                        else f"{_label(cb, r.survey_construct, lang)}: M = {r.survey_estimate:.2f} [{r.survey_ci_low:.2f}, {r.survey_ci_high:.2f}]")
                       for r in jt.itertuples()],
            "answers": [f"{r.answers_count}/{r.answers_n}" if r.answers_n else "–" for r in jt.itertuples()],
            "interviews": [f"{r.interviews_count}/{r.interviews_n}" if r.interviews_n else "–" for r in jt.itertuples()],
            "quote": [f"“{r.quote}” — {r.quote_id}" if r.quote else "–" for r in jt.itertuples()],
        }, index=pd.Index([th.group_label(g, lang) for g in jt["group"]], name=_t(lang, "Recommendation area", "建议方面")))
        sec.tables.setdefault("joint_display", {})[lang] = Table(
            _t(lang, "Joint display: survey and interview evidence for the four recommendation areas", "联合展示：四类对策建议的问卷证据与访谈证据"),
            frame, labels={"survey": _t(lang, "Survey score", "问卷得分"), "answers": _t(lang, "Open answers raising it", "提及的开放题回答"),
                           "interviews": _t(lang, "Interview segments raising it", "提及的访谈段落"), "quote": _t(lang, "Quote", "引述")},
            note=_t(lang, "Survey score: mean construct score (1-5) with 95% t CI. Counts: segments coded with any theme of the area. Quotes chosen by a fixed rule, masked, with pseudonymous ids. The interviews are SIMULATED when the bundled wave is used.",
                    "问卷得分：构念得分均值（1-5）及 95% t 置信区间。计数：编码为该方面任一主题的段落数。引述按固定规则选取，已脱敏，使用化名编号。使用随附数据时访谈为模拟数据。"))
        if segments is not None and "interview_quotes" in t:
            q = t["interview_quotes"]
            q = q[q["rank"] == 1]
            qf = pd.DataFrame({"id": q["id"].to_numpy(), "quote": q["quote"].to_numpy()},
                              index=pd.Index([L[x] for x in q["theme"]], name=_t(lang, "Theme", "主题")))
            sec.tables.setdefault("interview_quotes", {})[lang] = Table(
                _t(lang, "Representative interview quotes", "代表性访谈引述"), qf,
                labels={"id": _t(lang, "Interview", "访谈"), "quote": _t(lang, "Quote (masked)", "引述（已脱敏）")},
                note=_t(lang, "Per theme the segment with the most distinct matched terms, then the shortest, then the first.",
                        "每个主题选取匹配词最多的段落，其次最短，再次最早。"))
    return sec
