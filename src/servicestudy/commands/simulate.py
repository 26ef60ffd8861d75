"""``servicestudy simulate``: draw a wave from the study's model and write it as an export.

Example (the bundled wave; ``make data`` runs exactly this)::

    servicestudy simulate --n 420 --seed 20220315 --out data/raw/servicestudy_wave1.xlsx \\
        --truth data/raw/servicestudy_wave1_truth.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=420, help="number of submissions (default 420)")
    parser.add_argument("--seed", type=int, default=20220315, help="random seed (default 20220315)")
    parser.add_argument("--codebook", default="k_station", help="codebook name or YAML file (default k_station)")
    parser.add_argument("--out", required=True, type=Path, help="output file (.xlsx, .csv or .sav)")
    parser.add_argument("--format", choices=("xlsx", "csv", "sav"), default=None,
                        help="output format (default: from the suffix of --out, else xlsx)")
    parser.add_argument("--download", choices=("text", "code"), default="text",
                        help="Wenjuanxing download: option text or option numbers (default text)")
    parser.add_argument("--truth", type=Path, default=None, help="also write the true parameters as JSON")
    parser.add_argument("--with-identifiers", action="store_true",
                        help="put obviously fake identifier-like strings into some suggestions (privacy tests)")


def run(args: argparse.Namespace) -> int:
    from ..simulate import simulate, write_sav, write_truth, write_wenjuanxing

    fmt = args.format
    if fmt is None:
        suffix = args.out.suffix.lower().lstrip(".")
        fmt = suffix if suffix in ("xlsx", "csv", "sav") else "xlsx"
    if args.out.suffix.lower() != f".{fmt}":
        raise DataError(f"--out {args.out} does not end in .{fmt} (the --format)")
    wave = simulate(args.n, seed=args.seed, codebook=args.codebook, with_identifiers=args.with_identifiers)
    if fmt == "sav":
        write_sav(wave.responses, args.out, args.codebook)
    else:
        write_wenjuanxing(wave.responses, args.out, args.codebook, download=args.download)
    print(f"wrote {args.out} ({len(wave.responses)} simulated submissions, seed {args.seed})")
    if args.truth is not None:
        write_truth(wave.truth, args.truth)
        print(f"wrote {args.truth}")
    return 0
