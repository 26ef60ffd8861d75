"""Shared matrix helpers for reliability and factor analysis (private).

Input checking of item tables, pairwise-complete covariance and correlation matrices computed
the way R's ``cov(x, use = "pairwise")`` and ``cor(x, use = "pairwise")`` do, squared multiple
correlations, and psych's ``cor.smooth``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError

__all__: list[str] = []


def check_option(value: str, name: str, func: str, allowed: Sequence[str]) -> str:
    """Check a named string option against a fixed set (conventions.md wording)."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise DataError(
            f"The {name!r} parameter of {func} must be one of {choices}. Got {value!r} instead."
        )
    return value


@dataclass(frozen=True)
class ItemMatrix:
    """Numeric item data as a float array with NaN for missing, plus item names."""

    values: np.ndarray
    names: list[str]
    rows: np.ndarray  # boolean mask of the input rows kept (rows with at least one answer)
    complete: bool = False  # True when no value is missing (``values`` has no NaN)


def as_items(
    items: pd.DataFrame | np.ndarray,
    func: str,
    *,
    min_items: int = 2,
    min_rows: int = 3,
    drop_empty_rows: bool = True,
) -> ItemMatrix:
    """Validate a wide item table and return it as float data.

    Raises :class:`DataError` naming the offending item for non-numeric columns, items with no
    variance, fewer than ``min_items`` items or fewer than ``min_rows`` usable rows. Rows in
    which every item is missing are dropped when ``drop_empty_rows``.
    """
    if isinstance(items, pd.DataFrame):
        frame = items
    elif isinstance(items, np.ndarray) and items.ndim == 2:
        frame = pd.DataFrame(items, columns=[f"V{i + 1}" for i in range(items.shape[1])])
    else:
        raise DataError(f"{func} needs a DataFrame with one column per item", value=type(items))
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        raise DataError(f"{func}: item names must be unique", value=names)
    if len(names) < min_items:
        raise DataError(
            f"{func} needs at least {min_items} items; got {len(names)}",
            value=names,
        )
    fast = _as_items_fast(frame, names, func, min_rows)
    if fast is not None:
        return fast
    cols = []
    for name, col in zip(names, frame.columns, strict=True):
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(
            series.cat.categories.dtype
        ):
            series = series.astype(float)
        if pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
            series.dtype
        ):
            raise DataError(
                f"{func}: item is not numeric (dtype {series.dtype})",
                column=name,
                expected="numeric item scores (code the responses first)",
            )
        cols.append(series.to_numpy(dtype=float, na_value=np.nan))
    x = np.column_stack(cols)
    if not np.all(np.isfinite(x) | np.isnan(x)):
        bad = names[int(np.where(~(np.isfinite(x) | np.isnan(x)))[1][0])]
        raise DataError(f"{func}: item contains an infinite value", column=bad)
    rows = ~np.all(np.isnan(x), axis=1) if drop_empty_rows else np.ones(x.shape[0], dtype=bool)
    x = x[rows]
    for j, name in enumerate(names):
        col = x[:, j]
        col = col[~np.isnan(col)]
        if col.size < 2:
            raise DataError(
                f"{func}: item has fewer than 2 non-missing values", column=name
            )
        if np.all(col == col[0]):
            raise DataError(
                f"{func}: item is constant (every response is {col[0]:g}); drop it",
                column=name,
            )
    if x.shape[0] < min_rows:
        raise DataError(f"{func} needs at least {min_rows} rows with data; got {x.shape[0]}")
    return ItemMatrix(x, names, rows, complete=not np.isnan(x).any())


def _as_items_fast(
    frame: pd.DataFrame, names: list[str], func: str, min_rows: int
) -> ItemMatrix | None:
    """The common case in a few whole-array passes: plain numpy numeric columns, no missing or
    infinite value. Returns None (use the column-by-column path) for anything else, including
    any missing value, so the checks and messages stay those of the general path."""
    if not all(
        isinstance(d, np.dtype) and d.kind in "fiu" for d in frame.dtypes
    ):
        return None
    x = frame.to_numpy(dtype=float)  # one conversion (a read-only view when already float)
    if x.ndim != 2 or x.shape[0] < max(min_rows, 2):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        total = x.sum(axis=0)
    if not np.all(np.isfinite(total)):  # NaN or inf somewhere (or overflow)
        return None
    if np.any(x.min(axis=0) == x.max(axis=0)):  # a constant item: general path raises
        return None
    return ItemMatrix(x, names, np.ones(x.shape[0], dtype=bool), complete=True)


def listwise(x: np.ndarray, func: str, min_rows: int = 3) -> np.ndarray:
    """Rows without any missing value; DataError when fewer than ``min_rows`` remain."""
    keep = ~np.any(np.isnan(x), axis=1)
    out = x[keep]
    if out.shape[0] < min_rows:
        raise DataError(
            f"{func}: only {out.shape[0]} complete rows; need at least {min_rows}"
        )
    return out


def pairwise_moments(
    x: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise sums over rows where both items are present.

    Returns ``(V1, V2, S, P, Q, N)``: for items i, j over rows where both are present,
    ``V1[i,j] = sum w``, ``V2[i,j] = sum w**2``, ``S[i,j] = sum w x_i``,
    ``P[i,j] = sum w x_i x_j``, ``Q[i,j] = sum w x_i**2`` and the unweighted count ``N``.
    ``x`` should be centred for numerical accuracy.
    """
    m = (~np.isnan(x)).astype(float)
    x0 = np.where(np.isnan(x), 0.0, x)
    n_count = m.T @ m
    if w is None:
        v1 = n_count
        v2 = n_count
        s = x0.T @ m
        p = x0.T @ x0
        q = (x0 * x0).T @ m
    else:
        mw = m * w[:, None]
        v1 = m.T @ mw
        v2 = mw.T @ mw
        s = x0.T @ mw
        p = x0.T @ (x0 * w[:, None])
        q = (x0 * x0).T @ mw
    return v1, v2, s, p, q, n_count


def _centre(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    if w is None:
        mu = np.nanmean(x, axis=0)
    else:
        present = ~np.isnan(x)
        mu = np.nansum(x * w[:, None], axis=0) / np.sum(present * w[:, None], axis=0)
    return x - mu


def pairwise_cov(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """R's ``cov(x, use = "pairwise")`` (weighted: reliability-weights divisor).

    For each pair the means are those of the rows where both items are present. With weights
    the divisor is ``V1 - V2/V1`` (``sum w - sum w^2 / sum w``), which is ``n - 1`` for unit
    weights.
    """
    if w is None:
        with np.errstate(over="ignore", invalid="ignore"):
            total = x.sum(axis=0)
        if np.all(np.isfinite(total)):  # complete data: one centred cross-product
            xc = x - total / x.shape[0]
            return (xc.T @ xc) / (xc.shape[0] - 1)
    xc = _centre(x, w)
    if not np.isnan(xc).any():  # complete data: one cross-product
        if w is None:
            return (xc.T @ xc) / (xc.shape[0] - 1)
        v1, v2 = w.sum(), (w * w).sum()
        return (xc.T @ (xc * w[:, None])) / (v1 - v2 / v1)
    v1, v2, s, p, _q, _n = pairwise_moments(xc, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p - s * s.T / v1) / (v1 - v2 / v1)


def pairwise_cor(x: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """R's ``cor(x, use = "pairwise")``: each pair standardised by its own pairwise SDs."""
    with np.errstate(over="ignore", invalid="ignore"):
        complete = w is None and np.all(np.isfinite(x.sum(axis=0)))
    if complete:
        return cov2cor(pairwise_cov(x))
    xc = _centre(x, w)
    if not np.isnan(xc).any():
        return cov2cor(pairwise_cov(x, w))
    v1, _v2, s, p, q, _n = pairwise_moments(xc, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        cxy = p - s * s.T / v1
        vx = q - s * s / v1  # var of item i over rows where j present (times divisor)
        r = cxy / np.sqrt(vx * vx.T)
    np.fill_diagonal(r, 1.0)
    return r


def cov2cor(c: np.ndarray) -> np.ndarray:
    """R's ``cov2cor``."""
    d = 1.0 / np.sqrt(np.diag(c))
    r = c * d[:, None] * d[None, :]
    np.fill_diagonal(r, 1.0)
    return r


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^-1)`` (psych::smc for a correlation matrix).

    Raises :class:`DataError` when R is singular.
    """
    check_nonsingular(r)
    inv = np.linalg.inv(r)
    d = np.diag(inv)
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise DataError("the correlation matrix is not positive definite")
    out = 1.0 - 1.0 / d
    return np.clip(out, 0.0, 1.0)


def check_nonsingular(r: np.ndarray, func: str | None = None) -> None:
    """DataError when the correlation matrix is singular (smallest eigenvalue ~ 0) or not PD."""
    vals = np.linalg.eigvalsh(r)
    where = f"{func}: " if func else ""
    if not np.all(np.isfinite(vals)):
        raise DataError(f"{where}the correlation matrix has undefined entries")
    if vals[0] <= 1e-12 * max(1.0, vals[-1]) * r.shape[0]:
        kind = "singular" if vals[0] > -1e-10 else "not positive definite"
        raise DataError(
            f"{where}the correlation matrix is {kind} (smallest eigenvalue {vals[0]:.3g}); "
            "an item is (nearly) a linear combination of others"
        )


def is_positive_definite(r: np.ndarray) -> bool:
    """True when the smallest eigenvalue exceeds machine epsilon (psych's cor.smooth test)."""
    return bool(np.linalg.eigvalsh(r).min() >= np.finfo(float).eps)


def cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> tuple[np.ndarray, bool]:
    """psych::cor.smooth: repair a non-positive-definite correlation matrix.

    Eigenvalues below ``eig_tol`` are set to ``100 * eig_tol``, rescaled to sum to p, the
    matrix rebuilt and rescaled to unit diagonal. Returns the matrix and whether it changed.
    """
    vals, vecs = np.linalg.eigh(r)
    if vals.min() >= np.finfo(float).eps:
        return r, False
    vals = np.where(vals < eig_tol, 100 * eig_tol, vals)
    vals = vals * r.shape[0] / vals.sum()
    out = (vecs * vals) @ vecs.T
    return cov2cor(out), True


def check_corr_usable(r: np.ndarray, names: list[str], func: str) -> None:
    """DataError when a correlation is undefined (a pair never observed together)."""
    if not np.all(np.isfinite(r)):
        i, j = np.argwhere(~np.isfinite(r))[0]
        raise DataError(
            f"{func}: items {names[i]!r} and {names[j]!r} have too few rows in common "
            "for a correlation",
        )
