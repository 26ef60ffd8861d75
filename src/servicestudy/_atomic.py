"""Atomic file output: write to a temporary file in the same folder, then rename.

A reader never sees a half-written file and a failure never leaves a partial output behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import OutputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "safe_join"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    On any exception the temporary file is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the output the permissions an ordinary file would get
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically (``\\n`` line endings) and return the path."""
    return atomic_write_bytes(target, text.encode(encoding))


def atomic_write_with(target: str | os.PathLike[str], writer: Callable[[Path], None]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def safe_join(folder: str | os.PathLike[str], name: str) -> Path:
    """Join ``name`` under ``folder``, refusing any path that escapes it.

    >>> safe_join("out", "tables/t1.csv").as_posix()
    'out/tables/t1.csv'
    >>> safe_join("out", "../etc/passwd")
    Traceback (most recent call last):
    ...
    servicestudy.errors.OutputError: ../etc/passwd: output path escapes its folder; expected a path inside 'out'
    """
    base = Path(folder)
    candidate = base / name
    resolved_base = base.resolve()
    resolved = candidate.resolve()
    if Path(name).is_absolute() or not resolved.is_relative_to(resolved_base):
        raise OutputError("output path escapes its folder", file=name, expected=f"a path inside {str(folder)!r}")
    return candidate
