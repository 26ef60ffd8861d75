"""``servicestudy text``: code open answers and interview notes by theme; count, quote, agree.

Everything is read and masked first, computed next, and only then written (CSV, UTF-8 with a
BOM-free header), so a bad input never leaves partial output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .validate import sheet_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export", nargs="?", default=None,
                        help="a survey export whose open-text columns are coded (optional)")
    parser.add_argument("--codebook", default="k_station",
                        help="the questionnaire codebook (default: k_station)")
    parser.add_argument("--themes", default="k_station",
                        help="a theme codebook YAML or the name of a shipped one (default: k_station)")
    parser.add_argument("--interviews", default=None,
                        help="interview metadata (CSV/XLSX/YAML: id, file, role, date, consent)")
    parser.add_argument("--sheets", nargs="+", default=None,
                        help="manual coding sheets (CSV/XLSX: segment_id, coder, theme) for agreement")
    parser.add_argument("--group", action="append", default=None,
                        help="a categorical of the export for frequencies by group (repeatable)")
    parser.add_argument("--platform", default="auto",
                        choices=["auto", "generic", "wenjuanxing", "qualtrics", "spss", "stata"])
    parser.add_argument("--encoding", default=None, help="text encoding of a CSV export (default: detect)")
    parser.add_argument("--sheet", default=None, help="sheet name or 0-based number of the export")
    parser.add_argument("--out", required=True, help="folder for the CSV tables")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from .._atomic import atomic_write_text
    from ..errors import DataError
    from ..privacy import mask_identifiers
    from ..qualitative import analyse_qualitative, coder_agreement, combine_codings, survey_evidence
    from ..textio import interview_segments, load_themes, read_coding_sheet, read_interviews

    if args.export is None and args.interviews is None and args.sheets is None:
        raise DataError("nothing to code", expected="an EXPORT, --interviews or --sheets")
    themes = load_themes(args.themes)
    answers = groups = sat = survey = None
    if args.export is not None:
        from ..codebook import load_codebook
        from ..coding import code_responses
        from ..io import read_export

        cb = load_codebook(args.codebook)
        if not cb.texts:
            raise DataError("the codebook has no open (text) question", file=args.codebook,
                            expected="a 'texts:' section naming the open-answer column")
        raw = read_export(args.export, cb, platform=args.platform, encoding=args.encoding,
                          sheet=sheet_arg(args.sheet))
        coded = code_responses(raw, cb)
        data = coded.data
        tcols = [t for t in cb.texts if t in data.columns]
        if not tcols:
            raise DataError("no open-text column found in the export", file=args.export,
                            expected=f"a column for {', '.join(cb.texts)}")
        # one segment per respondent: the open answers joined, masked before anything else
        joined = data[tcols].apply(
            lambda r: " ".join(str(v) for v in r if isinstance(v, str) and v.strip()), axis=1)
        answers = pd.Series([mask_identifiers(v) for v in joined], dtype=object,
                            index=[f"S{k + 1:04d}" for k in range(len(joined))])
        if args.group:
            missing = [g for g in args.group if g not in data.columns]
            if missing:
                raise DataError("not a column of the coded export", column=missing[0],
                                expected=f"one of {', '.join(cb.categoricals)}")
            groups = pd.DataFrame({g: data[g].to_numpy() for g in args.group}, index=answers.index)
        overall = cb.items_of("overall")
        if overall and all(i in coded.scores.columns or i in data.columns for i in overall):
            sat = pd.Series(data[overall].astype(float).mean(axis=1).to_numpy(), index=answers.index)
        survey = survey_evidence(themes, coded.scores)
    segments = None
    if args.interviews is not None:
        segments = interview_segments(read_interviews(args.interviews))
    agreement = combined = None
    if args.sheets:
        sheet = read_coding_sheet(*args.sheets, themes=themes)
        if sheet["coder"].nunique() == 2:
            agreement = coder_agreement(sheet, themes=themes)
        combined = combine_codings(sheet, themes=themes)
    res = analyse_qualitative(answers, themes, groups=groups, satisfaction=sat, interviews=segments,
                              survey=survey)
    tables = dict(res.summary())
    if res.answers is not None:
        tables["answers_coded"] = res.answers.to_frame().assign(text=answers.to_numpy())
    if res.interviews is not None:
        frame = res.interviews.to_frame()
        said = segments[segments["speaker"] == "interviewee"]
        tables["interviews_coded"] = frame.assign(interview=said["interview"].to_numpy(),
                                                  role=said["role"].to_numpy(), text=said["text"].to_numpy())
    if agreement is not None:
        tables["agreement"] = agreement.to_frame()
    if combined is not None:
        tables["manual_codes"] = combined.reset_index()
    out = Path(args.out)
    for name in sorted(tables):
        t = tables[name]
        index = name.endswith("_cooccurrence")
        atomic_write_text(out / f"{name}.csv", t.to_csv(index=index, lineterminator="\n"))
    print(f"wrote {len(tables)} table(s) to {out}", file=sys.stdout)
    if agreement is not None:
        print(f"agreement of {agreement.coders[0]} and {agreement.coders[1]} on {agreement.n_segments} "
              f"segment(s): kappa {agreement.kappa_pooled:.3f}, alpha {agreement.alpha_pooled:.3f} (pooled)",
              file=sys.stdout)
    return 0
