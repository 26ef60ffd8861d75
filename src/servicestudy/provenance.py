"""Provenance: SHA-256 manifests of raw data, in the format of GNU ``sha256sum``.

``data/raw/MANIFEST.sha256`` lists every raw file with its hash, one ``<hash>  <path>`` line
each, sorted by path, paths relative to the folder and written with ``/``. It can be checked
with ``sha256sum -c MANIFEST.sha256`` from inside ``data/raw``, or with
``servicestudy verify`` (:func:`verify_manifest`). The manifest itself, ``MANIFEST*`` files
and hidden files (``.gitkeep``, editor droppings) are not listed.

Regenerate it whenever the raw data change on purpose: ``servicestudy verify --write``.

Validated against: GNU coreutils ``sha256sum -c`` on the written manifest and
:func:`hashlib.sha256` (``tests/test_provenance.py``).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._atomic import atomic_write_text
from ._results import Result
from .errors import ReadError

__all__ = [
    "MANIFEST_NAME",
    "VerifyResult",
    "list_files",
    "read_manifest",
    "sha256_file",
    "verify_manifest",
    "write_manifest",
]

MANIFEST_NAME = "MANIFEST.sha256"
_LINE = re.compile(r"^(?P<hash>[0-9a-fA-F]{64}) [ *](?P<path>.+)$")


def sha256_file(path: str | os.PathLike[str], *, chunk_size: int = 2**20) -> str:
    """The SHA-256 of a file's bytes as 64 lowercase hex digits (read in chunks).

    Parameters
    ----------
    path
        The file.
    chunk_size
        Bytes read at a time (memory stays bounded for large exports); does not change the
        hash.

    Returns
    -------
    str
        64 lowercase hexadecimal digits.

    Raises
    ------
    ReadError
        The file cannot be read.

    Notes
    -----
    :func:`hashlib.sha256` fed block by block; the same digest as ``sha256sum``.

    References
    ----------
    National Institute of Standards and Technology (2015). *Secure Hash Standard (SHS)*.
    FIPS PUB 180-4. https://doi.org/10.6028/NIST.FIPS.180-4

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'

    Validated against: :func:`hashlib.sha256` of the whole file read at once, with a
    7-byte chunk size (tests/test_provenance.py); the example is the FIPS 180-4 test vector
    for "abc".
    """
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(chunk_size):
                digest.update(block)
    except OSError as exc:
        raise ReadError(f"cannot read the file ({exc.strerror or exc})", file=path) from None
    return digest.hexdigest()


def list_files(folder: str | os.PathLike[str]) -> list[str]:
    """Relative ``/``-separated paths of the files a manifest of ``folder`` covers, sorted.

    Hidden files and folders (names starting with ``.``) and ``MANIFEST*`` files are left out.

    Parameters
    ----------
    folder
        The folder to list (recursively).

    Returns
    -------
    list of str
        Paths relative to ``folder``, ``/``-separated, sorted by code point.

    Raises
    ------
    ReadError
        ``folder`` is not a folder.

    Notes
    -----
    Sorting by code point on ``/``-separated paths makes the manifest identical on every
    platform and locale (``sha256sum`` itself does not sort).

    References
    ----------
    Free Software Foundation. *GNU Coreutils manual*, section "sha2 utilities"
    (``sha256sum``). https://www.gnu.org/software/coreutils/manual/

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.csv", "a.xlsx", ".gitkeep", "MANIFEST.sha256"):
    ...     _ = (d / name).write_bytes(b"")
    >>> list_files(d)
    ['a.xlsx', 'b.csv']

    Tested on: a folder with a subfolder, a non-ASCII file name and a hidden file, through
    the manifest written from it (tests/test_provenance.py).
    """
    base = Path(folder)
    if not base.is_dir():
        raise ReadError("not a folder", file=base, expected="a folder of raw data files")
    out: list[str] = []
    for root, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith((".", "MANIFEST")):
                continue
            full = Path(root) / name
            if not full.is_file():
                continue
            out.append(full.relative_to(base).as_posix())
    return sorted(out)


def _check_name(rel: str, where: str) -> None:
    if "\n" in rel or "\r" in rel or "\\" in rel:
        raise ReadError("file names with newlines or backslashes cannot be listed", file=where, value=rel)


def write_manifest(folder: str | os.PathLike[str], *, out: str | os.PathLike[str] | None = None) -> Path:
    """Write a ``sha256sum``-style manifest of the files in ``folder``.

    Parameters
    ----------
    folder
        The folder to hash (recursively).
    out
        Where to write; default ``folder/MANIFEST.sha256``. Written atomically.

    Returns
    -------
    Path
        The manifest's path.

    Raises
    ------
    ReadError
        ``folder`` is not a folder, or a file name holds a line break or a backslash (which
        ``sha256sum`` would escape).

    Notes
    -----
    One line ``<sha256>  <relative path>`` per file of :func:`list_files` (two spaces: text
    mode in ``sha256sum``'s format), UTF-8, ``\\n`` line ends. No time stamp is written, so
    unchanged data give a byte-identical manifest.

    References
    ----------
    Free Software Foundation. *GNU Coreutils manual*, section "sha2 utilities"
    (``sha256sum``). https://www.gnu.org/software/coreutils/manual/

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "b.csv").write_bytes(b"abc")
    >>> print(write_manifest(d).read_text(), end="")
    ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  b.csv

    Validated against: GNU coreutils ``sha256sum -c`` run on the written manifest (when
    installed) and :func:`hashlib.sha256` of each file; writing twice gives the same bytes
    (tests/test_provenance.py).
    """
    base = Path(folder)
    lines = []
    for rel in list_files(base):
        _check_name(rel, str(base))
        lines.append(f"{sha256_file(base / rel)}  {rel}\n")
    target = Path(out) if out is not None else base / MANIFEST_NAME
    return atomic_write_text(target, "".join(lines))


def read_manifest(manifest: str | os.PathLike[str]) -> dict[str, str]:
    """Parse a manifest into ``{relative path: sha256}``; ``#`` comments and blank lines are
    skipped. A malformed line, a duplicate path, or a path that escapes the folder is a
    :class:`~servicestudy.errors.ReadError` naming the line.

    Parameters
    ----------
    manifest
        A manifest file in ``sha256sum`` format (text ``"  "`` or binary ``" *"`` marker).

    Returns
    -------
    dict
        Relative path -> lowercase hex digest, in file order.

    Raises
    ------
    ReadError
        The file is missing or not UTF-8, or a line is malformed, duplicated or escapes the
        folder (absolute or ``..`` paths); the message gives the line number.

    Notes
    -----
    Accepts what ``sha256sum`` writes for plain file names; escaped names (a leading
    backslash) are refused rather than guessed.

    References
    ----------
    Free Software Foundation. *GNU Coreutils manual*, section "sha2 utilities"
    (``sha256sum``). https://www.gnu.org/software/coreutils/manual/

    Examples
    --------
    >>> import tempfile, pathlib
    >>> m = pathlib.Path(tempfile.mkdtemp()) / "MANIFEST.sha256"
    >>> _ = m.write_text("# raw data\\n" + "ab" * 32 + "  sub/a.csv\\n")
    >>> read_manifest(m) == {"sub/a.csv": "ab" * 32}
    True

    Tested on: manifests written by :func:`write_manifest`, the bundled ``data/raw``
    manifest, and malformed, duplicated and escaping lines (tests/test_provenance.py).
    """
    path = Path(manifest)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReadError("manifest not found", file=path, expected="a file written by servicestudy verify --write") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read the manifest ({exc})", file=path) from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ReadError("malformed manifest line", file=path, row=number, value=line,
                            expected="'<64 hex digits>  <relative path>'")
        rel = m.group("path")
        parts = Path(rel).parts
        if Path(rel).is_absolute() or ".." in parts or rel.startswith("/"):
            raise ReadError("manifest path escapes its folder", file=path, row=number, value=rel,
                            expected="a path relative to the folder")
        if rel in entries:
            raise ReadError("path listed twice", file=path, row=number, value=rel)
        entries[rel] = m.group("hash").lower()
    return entries


@dataclass(frozen=True)
class VerifyResult(Result):
    """Outcome of :func:`verify_manifest`.

    ``ok`` is True when every listed file exists with its listed hash. Files present but not
    listed are reported in ``extra`` and do not make ``ok`` False (users keep their own
    exports in ``data/raw``); pass ``strict=True`` to :func:`verify_manifest` to count them.
    """

    ok: bool
    n_listed: int
    n_checked: int
    missing: tuple[str, ...]
    changed: tuple[str, ...]
    extra: tuple[str, ...]
    manifest: str

    def to_frame(self) -> pd.DataFrame:
        """One row per problem file: ``path`` and ``status`` (missing, changed, extra)."""
        rows = [
            *({"path": p, "status": "missing"} for p in self.missing),
            *({"path": p, "status": "changed"} for p in self.changed),
            *({"path": p, "status": "extra"} for p in self.extra),
        ]
        return pd.DataFrame(rows, columns=["path", "status"])


def verify_manifest(
    folder: str | os.PathLike[str],
    manifest: str | os.PathLike[str] | None = None,
    *,
    strict: bool = False,
) -> VerifyResult:
    """Check the files in ``folder`` against a manifest.

    Parameters
    ----------
    folder
        The folder the manifest describes.
    manifest
        The manifest file; default ``folder/MANIFEST.sha256``.
    strict
        Also fail when files are present that the manifest does not list.

    Returns
    -------
    VerifyResult
        ``ok``, and the sorted paths that are ``missing``, ``changed`` or ``extra``.

    Raises
    ------
    ReadError
        When the folder or the manifest cannot be read, or the manifest is malformed.

    Notes
    -----
    Each listed file is re-hashed with :func:`sha256_file` and compared with its listed
    digest (case-insensitively); ``sha256sum -c`` does the same check but ignores unlisted
    files, as the default here does.

    References
    ----------
    Free Software Foundation. *GNU Coreutils manual*, section "sha2 utilities"
    (``sha256sum``). https://www.gnu.org/software/coreutils/manual/

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("1")
    >>> _ = write_manifest(d)
    >>> verify_manifest(d).ok
    True
    >>> _ = (d / "a.csv").write_text("2")
    >>> verify_manifest(d).changed
    ('a.csv',)

    Tested on: a generated folder with missing, changed and extra files, ``strict``, the CLI
    exit codes, and the bundled raw data against their manifest (tests/test_provenance.py).
    """
    base = Path(folder)
    present = set(list_files(base))
    mpath = Path(manifest) if manifest is not None else base / MANIFEST_NAME
    listed = read_manifest(mpath)
    missing: list[str] = []
    changed: list[str] = []
    checked = 0
    for rel, digest in sorted(listed.items()):
        full = base / rel
        if not full.is_file():
            missing.append(rel)
            continue
        checked += 1
        if sha256_file(full) != digest:
            changed.append(rel)
    extra = sorted(present - set(listed))
    ok = not missing and not changed and (not strict or not extra)
    return VerifyResult(
        ok=ok, n_listed=len(listed), n_checked=checked, missing=tuple(missing),
        changed=tuple(changed), extra=tuple(extra), manifest=str(mpath),
    )
