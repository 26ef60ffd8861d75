"""Statistics from sufficient statistics accumulated in chunks: data beyond memory.

Means, covariances and correlations, Cronbach's alpha, KMO, Bartlett's test, EFA and OLS
coefficients depend on the data only through counts, sums and cross-products. This module
accumulates those in batches (from a Parquet file larger than memory, an iterator of
DataFrames, or a Dask DataFrame on a cluster) and hands the resulting matrices to the same
code the in-memory functions use, so the chunked path gives the in-memory numbers.

Pairwise-complete moments are kept, so psych's ``use = "pairwise"`` definitions carry over:
for columns *i*, *j* the accumulator holds the number of rows where both are present
:math:`n_{ij}`, the sums of :math:`x_i` and :math:`x_j` over those rows, and the sum of
:math:`x_i x_j` over them. Values are shifted by a per-column constant taken from the first
batch before accumulating, which keeps the one-pass formula numerically stable for
Likert-type data (the shift cancels exactly in every covariance).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame(rng.integers(1, 6, size=(1000, 4)), columns=list("abcd")).astype(float)
>>> m = moments((df.iloc[i:i + 150] for i in range(0, 1000, 150)), columns=list("abcd"))
>>> bool(np.allclose(m.cov(), df.cov()))
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._results import Result
from .errors import DataError

__all__ = [
    "ChunkedAlpha",
    "Moments",
    "alpha_chunked",
    "bartlett_chunked",
    "efa_chunked",
    "kmo_chunked",
    "moments",
    "moments_dask",
    "moments_parquet",
    "parquet_batches",
]


@dataclasses.dataclass(frozen=True)
class Moments(Result):
    """Pairwise-complete sufficient statistics of a set of numeric columns.

    With ``M`` the presence mask and ``Z`` the shifted values (0 where missing):
    ``n = M'M``, ``s = Z'M``, ``q = (Z*Z)'M`` and ``ss = Z'Z``, so ``n[i, j]`` counts rows
    where both columns are present, ``s[i, j]`` sums ``x_i`` over them, ``q[i, j]`` sums
    ``x_i**2`` over them and ``ss[i, j]`` sums ``x_i * x_j`` over them.

    Attributes
    ----------
    columns : tuple of str
    n_rows : int
        Rows seen (including rows with missing values).
    shift : ndarray (p,)
        Per-column constant subtracted before accumulating.
    n, s, q, ss : ndarray (p, p)
    """

    columns: tuple[str, ...]
    n_rows: int
    shift: np.ndarray
    n: np.ndarray
    s: np.ndarray
    q: np.ndarray
    ss: np.ndarray
    n_nonempty: int = 0

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"n": np.diag(self.n), "mean": self.mean(), "sd": np.sqrt(np.diag(self.cov().to_numpy()))},
                            index=list(self.columns))

    def _frame(self, a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=list(self.columns), columns=list(self.columns))

    def mean(self) -> np.ndarray:
        """Per-column means over that column's present values."""
        return np.diag(self.s) / np.diag(self.n) + self.shift

    def cov(self, ddof: int = 1) -> pd.DataFrame:
        """Pairwise-complete covariance matrix, as R's ``cov(x, use = "pairwise")``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (self.ss - self.s * self.s.T / self.n) / (self.n - ddof)
        return self._frame(c)

    def corr(self) -> pd.DataFrame:
        """Pairwise-complete correlations, as R's ``cor(x, use = "pairwise")``: each pair's
        variances are taken over the rows where both are present."""
        with np.errstate(invalid="ignore", divide="ignore"):
            sxy = self.ss - self.s * self.s.T / self.n
            vx = self.q - self.s**2 / self.n
            r = sxy / np.sqrt(vx * vx.T)
        np.fill_diagonal(r, 1.0)
        return self._frame(r)

    @property
    def complete(self) -> bool:
        """True when every pair was observed on the same rows (no missing values)."""
        return bool(np.all(self.n == self.n_rows))

    def merge(self, other: Moments) -> Moments:
        """Combine two accumulators over disjoint rows."""
        if self.columns != other.columns:
            raise DataError("cannot merge moments of different columns", value=other.columns,
                            expected=str(self.columns))
        if not np.array_equal(self.shift, other.shift):
            other = other.reshift(self.shift)
        return Moments(self.columns, self.n_rows + other.n_rows, self.shift, self.n + other.n,
                       self.s + other.s, self.q + other.q, self.ss + other.ss,
                       self.n_nonempty + other.n_nonempty)

    def reshift(self, shift: np.ndarray) -> Moments:
        """The same moments expressed with another shift vector (``x - new = z + d``)."""
        shift = np.asarray(shift, dtype=float)
        d = self.shift - shift
        n, s = self.n, self.s
        s_new = s + d[:, None] * n
        q_new = self.q + 2 * d[:, None] * s + (d**2)[:, None] * n
        ss_new = self.ss + s * d[None, :] + d[:, None] * s.T + np.outer(d, d) * n
        return Moments(self.columns, self.n_rows, shift, n, s_new, q_new, ss_new, self.n_nonempty)


def _as_matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"column(s) not in the data: {', '.join(map(str, missing))}",
                        expected="the names of numeric columns")
    try:
        return frame.loc[:, list(columns)].to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError(f"non-numeric values in the selected columns ({exc})",
                        expected="numeric item scores") from None


def _batch_moments(x: np.ndarray, columns: tuple[str, ...], shift: np.ndarray) -> Moments:
    m = ~np.isnan(x)
    z = np.where(m, x - shift, 0.0)
    mf = m.astype(float)
    return Moments(columns, x.shape[0], shift, mf.T @ mf, z.T @ mf, (z * z).T @ mf, z.T @ z,
                   int(m.any(axis=1).sum()))


def _first_shift(x: np.ndarray) -> np.ndarray:
    present = ~np.isnan(x)
    count = present.sum(axis=0)
    total = np.where(present, x, 0.0).sum(axis=0)
    shift = np.divide(total, count, out=np.zeros(x.shape[1]), where=count > 0)
    return np.round(shift)


def moments(
    batches: Iterable[pd.DataFrame] | pd.DataFrame, *, columns: Sequence[str], listwise: bool = False
) -> Moments:
    """Accumulate pairwise-complete moments over an iterable of DataFrames (or one frame).

    Parameters
    ----------
    batches
        DataFrames holding at least ``columns``; each is processed and released in turn.
    columns
        The numeric columns (items) to accumulate.
    listwise
        Keep only rows complete on every column (as R's ``use = "complete.obs"``); the
        number of rows seen is still ``n_rows``, the rows used are ``n[0, 0]``.
    """
    if isinstance(batches, pd.DataFrame):
        batches = [batches]
    cols = tuple(map(str, columns))
    total: Moments | None = None
    for frame in batches:
        x = _as_matrix(frame, cols)
        if listwise:
            x = x[~np.isnan(x).any(axis=1)]
        if total is None:
            total = _batch_moments(x, cols, _first_shift(x))
        else:
            total = total.merge(_batch_moments(x, cols, total.shift))
    if total is None:
        raise DataError("no data: the input yielded no batches", expected="at least one row")
    return total


def parquet_batches(path: str | Path, *, columns: Sequence[str], batch_size: int = 262_144) -> Iterable[pd.DataFrame]:
    """Yield the ``columns`` of a Parquet file as float DataFrames of ``batch_size`` rows."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=batch_size, columns=list(columns)):
        yield pd.DataFrame({name: batch.column(i).to_numpy(zero_copy_only=False).astype(float)
                            for i, name in enumerate(batch.schema.names)})


def moments_parquet(path: str | Path, *, columns: Sequence[str], batch_size: int = 262_144,
                    listwise: bool = False) -> Moments:
    """Accumulate moments from a Parquet file batch by batch (memory stays bounded)."""
    return moments(parquet_batches(path, columns=columns, batch_size=batch_size), columns=columns,
                   listwise=listwise)


def moments_dask(ddf: Any, *, columns: Sequence[str]) -> Moments:
    """Accumulate moments over the partitions of a ``dask.dataframe.DataFrame``.

    Each partition's moments are computed where the partition lives (on the cluster's
    workers when a ``distributed.Client`` is active) and only the small p x p matrices travel
    back, to be merged here.
    """
    import dask

    cols = tuple(map(str, columns))
    head = _as_matrix(ddf.get_partition(0).compute(), cols)
    shift = _first_shift(head)

    def part(frame: pd.DataFrame) -> Moments:
        return _batch_moments(_as_matrix(frame, cols), cols, shift)

    parts = dask.compute(*[dask.delayed(part)(d) for d in ddf.to_delayed()])
    total = parts[0]
    for p in parts[1:]:
        total = total.merge(p)
    return total


# --- statistics from moments -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChunkedAlpha(Result):
    """Cronbach's alpha from accumulated moments (psych's pairwise definitions).

    The per-item table of :func:`servicestudy.alpha` needs the scale score of every row and is
    not available here; the scale-level statistics are identical to the in-memory ones.
    """

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    median_r: float
    signal_noise: float
    ase: float
    n_obs: int
    n_items: int


def alpha_chunked(m: Moments) -> ChunkedAlpha:
    """Alpha, standardized alpha, G6, average r and S/N from :class:`Moments`.

    Uses psych's ``C = cov(x, use = "pairwise")`` and ``R = cov2cor(C)``, as
    :func:`servicestudy.alpha` does, so the two agree to rounding error.
    """
    from .reliability import _alpha_from_cov

    n = m.n_nonempty or m.n_rows
    st = _alpha_from_cov(m.cov().to_numpy(), n)
    return ChunkedAlpha(alpha=st["alpha"], std_alpha=st["std_alpha"], g6=st["g6"], average_r=st["average_r"],
                        median_r=st["median_r"], signal_noise=st["signal_noise"], ase=st["ase"],
                        n_obs=int(n), n_items=len(m.columns))


def kmo_chunked(m: Moments) -> Any:
    """KMO from :class:`Moments` (``cor(x, use = "pairwise")``, as :func:`servicestudy.kmo`)."""
    from .reliability import KMOResult, _kmo_from_corr

    overall, per_item = _kmo_from_corr(m.corr().to_numpy())
    return KMOResult(overall=float(overall), n_items=len(m.columns),
                     per_item=pd.Series(per_item, index=list(m.columns), name="msa"))


def bartlett_chunked(m: Moments) -> Any:
    """Bartlett's test of sphericity from :class:`Moments` (n = rows seen, as psych)."""
    from .reliability import BartlettResult, _bartlett_from_corr

    stat, df, p = _bartlett_from_corr(m.corr().to_numpy(), m.n_rows)
    return BartlettResult(statistic=float(stat), df=int(df), pvalue=float(p), n_obs=int(m.n_rows),
                          n_items=len(m.columns))


def efa_chunked(m: Moments, n_factors: int, *, method: str = "minres", rotation: str = "oblimin") -> Any:
    """Exploratory factor analysis from :class:`Moments`, as :func:`servicestudy.efa`."""
    from .factor import _efa_from_corr, _efa_result

    res = _efa_from_corr(m.corr().to_numpy(), m.n_rows, int(n_factors), method, rotation, np_obs=m.n)
    return _efa_result(res, list(m.columns), method, rotation, m.n_rows)
