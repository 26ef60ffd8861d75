"""``servicestudy verify [DIR] [--manifest M]``: check raw data against its SHA-256 manifest.

Exit status 0 when every listed file is present and unchanged, 1 when a file is missing or
changed (or, with ``--strict``, unlisted), 2 when the folder or the manifest cannot be read.
``--write`` (re)writes the manifest instead of checking it.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", default="data/raw", help="the folder to check (default: data/raw)")
    parser.add_argument("--manifest", default=None, help="the manifest (default: FOLDER/MANIFEST.sha256)")
    parser.add_argument("--strict", action="store_true", help="also fail on files the manifest does not list")
    parser.add_argument("--write", action="store_true",
                        help="write the manifest from the files now present instead of checking")


def run(args: argparse.Namespace) -> int:
    from ..provenance import verify_manifest, write_manifest

    out = sys.stdout
    if args.write:
        path = write_manifest(args.folder, out=args.manifest)
        n = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        print(f"wrote {path} ({n} file(s))", file=out)
        return 0
    res = verify_manifest(args.folder, args.manifest, strict=args.strict)
    for p in res.missing:
        print(f"MISSING  {p}", file=out)
    for p in res.changed:
        print(f"CHANGED  {p}", file=out)
    for p in res.extra:
        print(f"{'EXTRA' if args.strict else 'unlisted'}  {p}", file=out)
    status = "OK" if res.ok else "FAILED"
    print(
        f"{status}: {res.n_checked - len(res.changed)} of {res.n_listed} listed file(s) verified "
        f"against {res.manifest}; {len(res.missing)} missing, {len(res.changed)} changed, "
        f"{len(res.extra)} unlisted",
        file=out,
    )
    return 0 if res.ok else 1
