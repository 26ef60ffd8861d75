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
# # 04 · Drivers of overall satisfaction and importance-performance analysis
#
# OLS of the overall-satisfaction score on the five dimension scores (HC3 standard errors,
# standardized betas), relative weights, and the importance-performance grid from the stated
# importance items. Writes `reports/results/drivers.json`.

# %%
import os
from pathlib import Path

import servicestudy as ss
from servicestudy import report

ROOT = Path.cwd() if (Path.cwd() / "pyproject.toml").exists() else Path.cwd().parent
PROCESSED = ROOT / os.environ.get("SERVICESTUDY_PROCESSED", "data/processed/report")
OUT = ROOT / os.environ.get("SERVICESTUDY_REPORTS", "reports")
LANG = os.environ.get("SERVICESTUDY_LANG", "both")

prep = report.load_prepared(PROCESSED)
cb = prep.codebook
data = prep.data
predictors = [f"score_{d}" for d in cb.dimensions]

# %%
fit = ss.ols(data, "score_overall", predictors, cov_type="HC3")
fit.coefficients

# %%
drivers = report.run_section("drivers", prep, OUT, lang=LANG)
drivers.tables["ipa"]["en"] if "ipa" in drivers.tables and "en" in drivers.tables["ipa"] else None

# %% [markdown]
# ## Findings
# The rules that map the results onto the thesis's four recommendation areas run when the
# report is collected (`make report`); here they are previewed from the satisfaction results
# written by notebook 03 and the drivers computed above.

# %%
import json

satisfaction = json.loads((OUT / "results" / "satisfaction.json").read_text(encoding="utf-8"))
[(f["area"], f["status"], f["reasons"]) for f in report.findings({"satisfaction": satisfaction, "drivers": drivers.results})]
