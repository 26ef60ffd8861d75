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
# # 02 · Reliability and validity
#
# Cronbach's alpha (Feldt CI) and omega per scale, KMO and Bartlett's test, parallel analysis,
# an exploratory factor analysis, the confirmatory factor analysis with CR, AVE, HTMT and the
# Fornell-Larcker criterion. Writes `reports/results/reliability.json` with its figures and
# tables. (Simulated data unless you point `SERVICESTUDY_PROCESSED` at your own wave.)

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

# %% [markdown]
# ## One scale by hand
# The library functions take the item columns of a wide DataFrame.

# %%
attitude = data[cb.items_of("attitude")]
ss.alpha(attitude).to_frame().T

# %%
ss.alpha(attitude).items

# %% [markdown]
# ## The whole section

# %%
rel = report.run_section("reliability", prep, OUT, lang=LANG)
{k: v.get("status") for k, v in rel.results.items() if isinstance(v, dict)}

# %%
rel.tables["reliability"]["en"] if "reliability" in rel.tables and "en" in rel.tables["reliability"] else None

# %%
rel.tables["cfa_fit"]["en"] if "cfa_fit" in rel.tables and "en" in rel.tables["cfa_fit"] else None
