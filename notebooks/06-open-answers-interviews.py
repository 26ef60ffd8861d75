# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Open answers and interviews
#
# The qualitative half (docs/qualitative.md): the open suggestion question and the interview
# notes are masked, segmented and coded by rule with the theme codebook; themes are counted
# overall and by group, set against satisfaction, quoted by a fixed rule and set beside the
# survey scores in a joint display. The bundled interview notes in `data/raw/interviews/` are
# SIMULATED. Writes `reports/results/text.json`.

# %%
import os
from pathlib import Path

import servicestudy as ss
from servicestudy import figures, report

ROOT = Path.cwd() if (Path.cwd() / "pyproject.toml").exists() else Path.cwd().parent
PROCESSED = ROOT / os.environ.get("SERVICESTUDY_PROCESSED", "data/processed/report")
OUT = ROOT / os.environ.get("SERVICESTUDY_REPORTS", "reports")
LANG = os.environ.get("SERVICESTUDY_LANG", "both")
INTERVIEWS = ROOT / os.environ.get("SERVICESTUDY_INTERVIEWS", "data/raw/interviews/interviews.csv")

prep = report.load_prepared(PROCESSED)
themes = ss.load_themes("k_station")
themes.to_frame()[["theme", "area", "zh", "keywords"]].head()

# %% [markdown]
# ## Segmentation and rule coding
# Chinese is segmented with rjieba and the shipped user dictionary; coding records which
# words matched, so every code can be checked by hand.

# %%
ss.segment_text("希望推广最多跑一次，户籍和出入境业务都能网上办。")

# %%
segments = ss.interview_segments(ss.read_interviews(INTERVIEWS))  # refuses interviews without consent
said = segments[segments.speaker == "interviewee"].set_index("segment_id")["text"]
coding = ss.code_themes(said, themes)
coding.to_frame().head(8)

# %% [markdown]
# ## Themes by the interviewee's role

# %%
freq = ss.theme_frequencies(coding, by=segments.loc[segments.speaker == "interviewee", "role"])
with figures.style():
    ax = figures.theme_bars(freq, labels={t.id: t.en for t in themes.themes})

# %% [markdown]
# ## Two coders: agreement
# Manual coding sheets (segment_id, coder, theme) are read with `ss.read_coding_sheet` and
# compared with `ss.coder_agreement` (Cohen's kappa, Krippendorff's alpha). Here the rule
# coding plays coder A against a copy of it with two decisions changed, as an illustration.

# %%
import pandas as pd

rows = [(s, "rules", t) for s, r in coding.codes.iterrows() for t, v in r.items() if v]
sheet = pd.DataFrame(rows, columns=["segment_id", "coder", "theme"])
other = sheet.assign(coder="reader")
other.loc[other.index[:2], "theme"] = "participation"
ss.coder_agreement(pd.concat([sheet, other]), themes=themes).to_frame().head()

# %% [markdown]
# ## The report section
# Open answers of the analysed sample, themes vs satisfaction, quotes and the joint display.

# %%
text = report.run_section("text", prep, OUT, lang=LANG, interviews=INTERVIEWS)
text.results["joint"]
