"""servicestudy: reproducible analysis of public-service satisfaction surveys.

The public API is flat: ``servicestudy.read_export``, ``servicestudy.alpha``, ... Names are
imported lazily from their modules on first use, so ``import servicestudy`` stays fast and a
command that only reads a file does not import statsmodels or matplotlib.

The flow, one direction, each step a function of the one before::

    read_export -> code_responses -> screen / apply_exclusions -> [rake]
      -> alpha, omega, efa, cfa, ... / describe_items, compare_groups, ols, ipa, ...
      -> figures / tables -> report
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "ServicestudyError": "errors",
    "ReadError": "errors",
    "SchemaError": "errors",
    "CodebookError": "errors",
    "CodingError": "errors",
    "DataError": "errors",
    "ConvergenceError": "errors",
    "WeightingError": "errors",
    "OutputError": "errors",
    # codebook, import, coding
    "Codebook": "codebook",
    "load_codebook": "codebook",
    "list_codebooks": "codebook",
    "read_export": "io",
    "write_processed": "io",
    "read_processed": "io",
    "RawExport": "io",
    "CodedResponses": "coding",
    "code_responses": "coding",
    # simulation
    "simulate": "simulate",
    "implied_population": "simulate",
    "write_wenjuanxing": "simulate",
    # reliability and validity
    "alpha": "reliability",
    "omega": "reliability",
    "split_half": "reliability",
    "polychoric": "reliability",
    "ordinal_alpha": "reliability",
    "kmo": "reliability",
    "bartlett": "reliability",
    "parallel_analysis": "factor",
    "efa": "factor",
    "cfa": "validity",
    "composite_reliability": "validity",
    "ave": "validity",
    "htmt": "validity",
    "fornell_larcker": "validity",
    "reliability_report": "validity",
    "item_analysis": "items",
    "correlation_table": "correlation",
    "significance_stars": "correlation",
    # description, comparison, drivers
    "describe_items": "describe",
    "ttest": "compare",
    "mann_whitney": "compare",
    "anova": "compare",
    "kruskal": "compare",
    "tukey_hsd": "compare",
    "games_howell": "compare",
    "chi_square": "compare",
    "compare_groups": "compare",
    "weighted_group_test": "compare",
    "ols": "drivers",
    "ordinal_logit": "drivers",
    "relative_importance": "drivers",
    "ipa": "drivers",
    "ipa_from_data": "drivers",
    "p_adjust": "compare",
    # data quality
    "screen": "screening",
    "apply_exclusions": "screening",
    "chance_match": "screening",
    "missing_summary": "missing",
    "little_mcar": "missing",
    "impute_ols": "missing",
    "rake": "weighting",
    "read_margins": "weighting",
    "weighted_mean": "weighting",
    "weighted_proportion": "weighting",
    "weighted_cov": "weighting",
    "pool_rubin": "missing",
    # privacy and provenance
    "find_identifiers": "privacy",
    "pseudonymize": "privacy",
    "mask_identifiers": "privacy",
    "scrub": "privacy",
    "verify_manifest": "provenance",
    "write_manifest": "provenance",
    # the qualitative half: open answers and interview notes
    "segment_text": "qualitative",
    "code_themes": "qualitative",
    "theme_frequencies": "qualitative",
    "theme_cooccurrence": "qualitative",
    "keyword_frequencies": "qualitative",
    "theme_satisfaction": "qualitative",
    "representative_quotes": "qualitative",
    "cohen_kappa": "qualitative",
    "krippendorff_alpha": "qualitative",
    "coder_agreement": "qualitative",
    "combine_codings": "qualitative",
    "joint_display": "qualitative",
    "analyse_qualitative": "qualitative",
    "survey_evidence": "qualitative",
    "load_themes": "textio",
    "read_interviews": "textio",
    "interview_segments": "textio",
    "read_coding_sheet": "textio",
    # tables and the report
    "Table": "tables",
    "run_pipeline": "report",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'servicestudy' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
