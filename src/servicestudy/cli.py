"""The ``servicestudy`` command line.

Each subcommand lives in ``servicestudy/commands/<name>.py`` and defines
``add_arguments(parser)`` and ``run(args) -> int``. Errors that servicestudy raises on bad
input are printed as one line on standard error, with exit status 2 and no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from . import __version__
from .errors import ServicestudyError

# name -> (module under servicestudy.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("validate", "check an export against a codebook: what matched, what did not, bad values"),
    "code": ("code", "code an export and write the processed data"),
    "simulate": ("simulate", "simulate a survey wave from the study's model"),
    "screen": ("screen", "flag careless responses in an export"),
    "report": ("report", "run the whole pipeline on an export and build the report"),
    "text": ("text", "code open answers and interview notes by theme: counts, quotes, agreement"),
    "verify": ("verify", "check data/raw against its manifest of SHA-256 hashes"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicestudy",
        description="Reproducible analysis of public-service satisfaction surveys.",
    )
    parser.add_argument("--version", action="version", version=f"servicestudy {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        try:
            mod = importlib.import_module(f".commands.{module}", __package__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.commands.{module}":
                raise
            continue  # not built yet
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``servicestudy`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except ServicestudyError as exc:
        print(f"servicestudy {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader went away (``servicestudy validate x | head``): stop quietly, as cat does
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:  # pragma: no cover
        print("servicestudy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
