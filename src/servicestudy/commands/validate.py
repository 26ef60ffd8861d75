"""``servicestudy validate EXPORT``: what matched the codebook, what did not, bad values.

Exit status 0 when the export is clean, 1 when problems were found (codebook columns absent,
values that cannot be coded), 2 when the file cannot be read. Export columns the codebook does
not use (platform bookkeeping, questions not analysed) are listed as information, not a
problem; so are warnings on the codebook itself (unevenly spaced scale codes).
"""

from __future__ import annotations

import argparse
import sys

MAX_LISTED = 50


def add_common(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``validate`` and ``code``."""
    parser.add_argument("export", help="the survey export (.csv, .xlsx, .xls, .sav, .dta)")
    parser.add_argument("--codebook", default="k_station",
                        help="a YAML codebook or the name of a shipped one (default: k_station)")
    parser.add_argument("--platform", default="auto",
                        choices=["auto", "generic", "wenjuanxing", "qualtrics", "spss", "stata"])
    parser.add_argument("--encoding", default=None, help="text encoding of a CSV (default: detect)")
    parser.add_argument("--sheet", default=None, help="sheet name or 0-based number (default: the first)")


def sheet_arg(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def codebook_warnings(cb: object) -> list[str]:
    """Things in a valid codebook a researcher should look at: scales whose codes are not
    evenly spaced (a mean on 1,2,5,6,7 is not a mean on a five-point scale; add a ``recode:``)."""
    out = []
    for sc in getattr(cb, "scales", {}).values():
        if not sc.evenly_spaced:
            codes = ", ".join(f"{c:g}" for c in sc.codes)
            out.append(f"scale {sc.id!r} has unevenly spaced codes ({codes}): means, midpoints and "
                       "reverse keying assume equal steps; recode them in the codebook, e.g. "
                       "recode: {5: 3, 6: 4, 7: 5}")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)


def run(args: argparse.Namespace) -> int:
    from ..codebook import load_codebook
    from ..coding import code_responses
    from ..io import read_export

    out = sys.stdout
    cb = load_codebook(args.codebook)
    raw = read_export(args.export, cb, platform=args.platform, encoding=args.encoding,
                      sheet=sheet_arg(args.sheet))
    coded = code_responses(raw, cb, errors="collect")
    print(f"file: {raw.file}", file=out)
    print(f"sha256: {raw.sha256}", file=out)
    extra = f", encoding {raw.encoding}" if raw.encoding else ""
    extra += f", sheet {raw.sheet!r}" if raw.sheet else ""
    print(f"platform: {raw.platform}{extra}; {len(raw.data)} rows", file=out)
    print(f"codebook: {cb.source} ({cb.title('en')})", file=out)
    print(f"matched: {len(raw.matched)} column(s)", file=out)
    for header, cid in raw.matched.items():
        print(f"  {header} -> {cid}", file=out)
    info = " (information, not a problem)" if raw.unmatched else ""
    print(f"export columns the codebook does not use: {len(raw.unmatched)}{info}", file=out)
    for header in raw.unmatched:
        print(f"  {header}", file=out)
    print(f"codebook columns not in the file: {len(raw.missing)}", file=out)
    for cid in raw.missing:
        print(f"  {cid}", file=out)
    problems = coded.problems
    print(f"values that cannot be coded: {len(problems)}", file=out)
    for err in problems[:MAX_LISTED]:
        print(f"  {err}", file=out)
    if len(problems) > MAX_LISTED:
        print(f"  ... and {len(problems) - MAX_LISTED} more", file=out)
    recodes = coded.audit
    if len(recodes):
        summary = recodes.groupby("rule", sort=True)["count"].sum()
        print("recodes: " + "; ".join(f"{rule}: {int(n)}" for rule, n in summary.items()), file=out)
    for w in codebook_warnings(cb):
        print(f"warning: {w}", file=out)
    clean = not raw.missing and not problems
    print("result: clean" if clean else "result: problems found", file=out)
    return 0 if clean else 1
