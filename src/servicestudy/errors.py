"""The exceptions servicestudy raises on bad input.

Every error the library raises on purpose derives from :class:`ServicestudyError`. Each one
carries, where known, the file, row, column and value at fault and what was expected, and
renders as **one line**, so that the command-line interface can print it without a traceback
and exit with status 2.

Hierarchy::

    ServicestudyError
    ├── ReadError          the file cannot be read at all (empty, corrupt, encrypted, too large,
    │                      undecodable, unsupported format)
    ├── SchemaError        the table's shape is wrong (duplicate or missing headers, ragged rows,
    │                      required items absent, a column that is not what the codebook says)
    ├── CodebookError      an invalid codebook (all problems are collected in ``problems``)
    ├── CodingError        a cell cannot be coded (unknown label, out-of-range or non-numeric code)
    ├── DataError          input to a statistic is unusable (too few items or rows, a constant
    │                      item, a singular matrix, unknown variables); also a ``ValueError``
    ├── ConvergenceError   an iterative fit did not converge (EFA, CFA, raking, ordinal logit)
    ├── WeightingError     margins that do not match the data or do not sum to one
    └── OutputError        an output path that escapes its folder or cannot be written

Row numbers are 1-based **data** rows as a spreadsheet user sees them (the first response is
row 2 in a file with one header row); the message says which convention it uses.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CodebookError",
    "CodingError",
    "ConvergenceError",
    "DataError",
    "OutputError",
    "ReadError",
    "SchemaError",
    "ServicestudyError",
    "WeightingError",
]


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.replace("\n", "\\n").replace("\r", "\\r")


class ServicestudyError(Exception):
    """Base class: a one-line message naming file, row, column, value and what was expected.

    Parameters
    ----------
    message
        What went wrong, in words.
    file, row, column, value, expected
        Location and content of the fault, where known. ``value`` is shown with ``repr`` and
        truncated to 60 characters.

    Examples
    --------
    >>> err = CodingError("unknown label", file="wave.xlsx", row=7, column="Q5",
    ...                   value="很满意!", expected="one of 1-5 or a label of scale 'agree5'")
    >>> print(err)
    wave.xlsx: row 7, column 'Q5', value '很满意!': unknown label; expected one of 1-5 or a label of scale 'agree5'
    """

    def __init__(
        self,
        message: str,
        *,
        file: Any = None,
        row: int | None = None,
        column: Any = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where: list[str] = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {_short(self.value)}")
        text = ", ".join(where)
        if self.file is not None:
            text = f"{self.file}: {text}" if text else self.file
        text = f"{text}: {self.message}" if text else self.message
        if self.expected:
            text += f"; expected {self.expected}"
        return " ".join(text.split("\n"))


class ReadError(ServicestudyError):
    """The file cannot be read at all."""


class SchemaError(ServicestudyError):
    """The table's headers or shape do not fit what is required."""


class CodebookError(ServicestudyError):
    """An invalid codebook. ``problems`` lists every problem found, not just the first."""

    def __init__(self, message: str, *, problems: list[str] | None = None, **kw: Any) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = f"{message}: " + "; ".join(self.problems)
        super().__init__(message, **kw)


class CodingError(ServicestudyError):
    """A cell that cannot be coded with the codebook."""


class DataError(ServicestudyError, ValueError):
    """Input to a statistic that cannot give a meaningful number."""


class ConvergenceError(ServicestudyError):
    """An iterative procedure did not converge."""


class WeightingError(ServicestudyError, ValueError):
    """Population margins that do not fit the data."""


class OutputError(ServicestudyError):
    """An output that cannot or must not be written."""
