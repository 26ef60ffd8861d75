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
# # 03 · Satisfaction by dimension and by group
#
# Dimension means with 95% confidence intervals, item distributions (diverging bars centred on
# the neutral category) and group comparisons of every dimension score by gender, age group,
# education and residence status (Welch tests, Holm-adjusted). Writes
# `reports/results/satisfaction.json` and `reports/results/groups.json`.

# %%
import os
from pathlib import Path

import servicestudy as ss
from servicestudy import figures, report

ROOT = Path.cwd() if (Path.cwd() / "pyproject.toml").exists() else Path.cwd().parent
PROCESSED = ROOT / os.environ.get("SERVICESTUDY_PROCESSED", "data/processed/report")
OUT = ROOT / os.environ.get("SERVICESTUDY_REPORTS", "reports")
LANG = os.environ.get("SERVICESTUDY_LANG", "both")

prep = report.load_prepared(PROCESSED)
cb = prep.codebook
data = prep.data

# %% [markdown]
# ## Item distributions for one dimension
# The figure functions take data and return the Axes; they never save.

# %%
with figures.style():
    ax = figures.likert_bars(data[cb.items_of("efficiency")],
                             levels={lv.code: lv.en for lv in cb.scales["agree5"].levels})

# %% [markdown]
# ## Satisfaction by dimension

# %%
sat = report.run_section("satisfaction", prep, OUT, lang=LANG)
sat.tables["dimension_means"]["en"] if "en" in sat.tables["dimension_means"] else sat.tables["dimension_means"]["zh"]

# %% [markdown]
# ## Group differences

# %%
ss.compare_groups(data, ["score_attitude", "score_overall"], ["residence"]).table

# %%
groups = report.run_section("groups", prep, OUT, lang=LANG)
groups.results["tests"].get("significant", groups.results["tests"])
