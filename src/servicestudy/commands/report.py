"""``servicestudy report EXPORT --out DIR``: run the whole pipeline on an export and build the
report PDF(s), without notebooks."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", help="the survey export (CSV, xlsx, xls, sav, dta)")
    parser.add_argument("--codebook", default="k_station",
                        help="a codebook YAML file or the name of a shipped one (default: k_station)")
    parser.add_argument("--out", required=True, help="output folder (figures/, tables/, results/, the PDFs)")
    parser.add_argument("--lang", default="both", choices=["en", "zh", "both"],
                        help="report language: en (report.pdf), zh (report_zh.pdf) or both (default)")
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first failing analysis instead of reporting it in the PDF")
    parser.add_argument("--interviews", default="auto",
                        help="interview metadata (CSV/XLSX/YAML) for the open-answers and interviews section "
                             "(default: interviews/interviews.csv beside the export, if present; 'none': none)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")


def run(args: argparse.Namespace) -> int:
    from ..report import run_pipeline

    pdfs = run_pipeline(args.export, codebook=args.codebook, out=args.out, lang=args.lang,
                        strict=args.strict, quiet=args.quiet,
                        interviews=None if args.interviews == "none" else args.interviews)
    for pdf in pdfs:
        print(pdf, file=sys.stdout)
    return 0
