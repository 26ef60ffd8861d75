"""``servicestudy screen EXPORT``: flag careless responses and show the respondent flow.

Prints how many respondents each flag catches and the flow of the exclusion rule (received,
excluded per reason, analysed). ``--out FILE.csv`` writes the per-respondent indices and flags
(no identifier columns: the IP address is used for near duplicates but not written). No row is
dropped from any file.
"""

from __future__ import annotations

import argparse
import sys

from .validate import add_common, sheet_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    add_screening_options(parser)
    parser.add_argument("--out", default=None, help="write the flags table to this CSV file")


def add_screening_options(parser: argparse.ArgumentParser) -> None:
    """``--rule`` and ``--set``, shared by ``screen`` and ``report``."""
    from ..screening import DEFAULT_RULE, FLAGS

    parser.add_argument(
        "--rule",
        default=None,
        help=f"comma-separated flags that exclude, in order (default: the codebook's screening.rule, "
        f"else {','.join(DEFAULT_RULE)}; available: {','.join(FLAGS)}; 'any' for all)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a screening threshold, e.g. --set speed_share=0.3 (repeatable; "
        "the codebook's screening.thresholds are the defaults)",
    )


def rule_arg(value: str | None, codebook: object) -> str | list[str] | tuple[str, ...]:
    """The exclusion rule from ``--rule`` (None: the codebook's, else the default)."""
    from ..screening import default_rule

    if value is None:
        return default_rule(codebook)
    rule = [r.strip() for r in value.split(",") if r.strip()]
    return "any" if rule == ["any"] else rule


def thresholds_arg(pairs: list[str]) -> dict[str, object]:
    from ..errors import DataError
    from ..screening import DEFAULT_THRESHOLDS

    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULT_THRESHOLDS:
            raise DataError(
                f"--set {pair!r}: expected NAME=VALUE with NAME one of {', '.join(DEFAULT_THRESHOLDS)}"
            )
        default = DEFAULT_THRESHOLDS[name]
        if isinstance(default, bool):
            if value.strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise DataError(f"--set {name}: expected true or false", value=value)
            out[name] = value.strip().lower() in {"true", "1", "yes"}
        else:
            try:
                out[name] = type(default)(float(value)) if isinstance(default, int) else float(value)
            except ValueError:
                raise DataError(f"--set {name}: expected a number", value=value) from None
    return out


def run(args: argparse.Namespace) -> int:
    from .._atomic import atomic_write_text
    from ..codebook import load_codebook
    from ..coding import code_responses
    from ..io import read_export
    from ..screening import apply_exclusions, screen

    out = sys.stdout
    cb = load_codebook(args.codebook)
    raw = read_export(args.export, cb, platform=args.platform, encoding=args.encoding,
                      sheet=sheet_arg(args.sheet))
    coded = code_responses(raw, cb)
    res = screen(coded, **thresholds_arg(args.set))
    excl = apply_exclusions(coded, res, rule_arg(args.rule, cb))
    print(f"file: {raw.file}; {res.n_obs} respondents, {res.n_items} items", file=out)
    print("flags (respondents flagged):", file=out)
    for row in res.summary.itertuples(index=False):
        print(f"  {row.flag:<15} {row.n_flagged:>5}  ({100 * row.share:.1f}%)", file=out)
    print("respondent flow:", file=out)
    for row in excl.flow.itertuples(index=False):
        label = row.step if not row.reason else f"excluded: {row.reason}"
        extra = "" if row.step != "excluded" else f"  (flagged: {int(row.n_flagged)})"
        print(f"  {label:<28} {row.n:>5}{extra}", file=out)
    if args.out:
        table = res.flags.copy()
        path = atomic_write_text(args.out, table.to_csv(index_label="row"))
        print(f"flags: {path}", file=out)
    return 0
