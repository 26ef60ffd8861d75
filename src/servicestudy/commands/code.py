"""``servicestudy code EXPORT --out DIR``: code an export and write the processed data."""

from __future__ import annotations

import argparse
import sys

from .validate import add_common, sheet_arg


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--out", required=True, help="folder for the processed files")
    parser.add_argument("--name", default="responses", help="base name of the files (default: responses)")
    parser.add_argument("--lang", default="en", choices=["en", "zh"], help="label language of categoricals")
    parser.add_argument("--seed", type=int, default=None, help="seed recorded in the provenance")


def run(args: argparse.Namespace) -> int:
    from ..codebook import load_codebook
    from ..coding import code_responses
    from ..io import read_export, write_processed

    cb = load_codebook(args.codebook)
    raw = read_export(args.export, cb, platform=args.platform, encoding=args.encoding,
                      sheet=sheet_arg(args.sheet))
    coded = code_responses(raw, cb, lang=args.lang)
    paths = write_processed(coded, args.out, name=args.name, seed=args.seed)
    print(f"coded {len(coded.data)} rows x {coded.data.shape[1]} columns from {raw.file}", file=sys.stdout)
    if raw.unmatched:
        print(f"unmatched headers (not coded): {', '.join(raw.unmatched)}", file=sys.stdout)
    if raw.missing:
        print(f"codebook columns not in the file: {', '.join(raw.missing)}", file=sys.stdout)
    for kind, path in paths.items():
        print(f"{kind}: {path}", file=sys.stdout)
    return 0
