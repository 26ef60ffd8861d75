"""Missing data: summaries and patterns, Little's MCAR test, deletion policies and multiple
imputation for regression models pooled by Rubin's rules.

Item nonresponse in a satisfaction survey ("不清楚" coded missing, skipped items) is rarely
completely at random: older respondents skip the online-channel items more often. This module
describes it (:func:`missing_summary`), tests MCAR (:func:`little_mcar`), offers the three
usual policies (:func:`listwise`, :func:`pairwise_counts`, :func:`available_item_scores`) and
multiple imputation for OLS (:func:`impute_ols`, pooled with :func:`pool_rubin`).

Validated against: an independent EM and d^2 implementation written in R and closed-form
Rubin's rules in R (tests/reference/missing.R -> tests/reference/missing.json;
tests/test_missing.py). R's naniar, BaylorEdPsych, misty, norm and mice are not installed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._matrices import check_option
from ._results import Result
from .errors import ConvergenceError, DataError

__all__ = [
    "MCARResult",
    "MIResult",
    "MissingSummary",
    "available_item_scores",
    "em_mvn",
    "impute_ols",
    "listwise",
    "little_mcar",
    "missing_summary",
    "pairwise_counts",
    "pool_rubin",
]


def _numeric(data: pd.DataFrame, columns: Sequence[str] | None, func: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{func} needs a DataFrame", value=type(data).__name__)
    cols = list(data.columns) if columns is None else list(columns)
    absent = [c for c in cols if c not in data.columns]
    if absent:
        raise DataError(f"{func}: column(s) {', '.join(map(repr, absent))} not in the data")
    out = {}
    for c in cols:
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype) and pd.api.types.is_numeric_dtype(s.cat.categories.dtype):
            s = s.astype(float)
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise DataError(f"{func}: column is not numeric (dtype {s.dtype})", column=c,
                            expected="numeric codes or scores")
        out[c] = s.astype(float)
    return pd.DataFrame(out, index=data.index)


# --- description ------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingSummary(Result):
    """Missing-data summary.

    ``items``: per column ``n_missing``, ``share_missing``, ``n_obs``; ``respondents``: per
    row ``n_missing``, ``share_missing``; ``patterns``: one row per missingness pattern
    (``pattern`` as a string of 1 = observed / 0 = missing in column order, one boolean column
    per variable, ``n_obs``, ``share``, ``n_missing``), most frequent first.
    """

    items: pd.DataFrame
    respondents: pd.DataFrame
    patterns: pd.DataFrame
    n_obs: int
    n_items: int
    n_complete: int
    share_cells_missing: float


def missing_summary(data: pd.DataFrame, columns: Sequence[str] | None = None) -> MissingSummary:
    """Per-item and per-respondent missingness and the table of missingness patterns.

    Parameters
    ----------
    data
        One row per respondent.
    columns
        The columns to describe (default: all); any dtype.

    Returns
    -------
    MissingSummary
        ``items`` (``n_missing``, ``share_missing``, ``n_obs`` per column), ``respondents``
        (``n_missing``, ``share_missing`` per row), ``patterns`` (one row per missingness
        pattern: ``pattern`` as a string of 1 = observed / 0 = missing in column order, one
        boolean column per variable, ``n_obs``, ``share``, ``n_missing``; most frequent
        first), ``n_obs``, ``n_items``, ``n_complete`` and ``share_cells_missing``.

    Raises
    ------
    DataError
        If ``data`` is not a DataFrame or a column is absent.

    Notes
    -----
    Counts only: a value is missing when pandas' ``isna`` is true (NaN, None, NA, NaT). The
    pattern table is the one R's ``mice::md.pattern`` and SPSS's Missing Value Analysis
    show; ties in frequency are ordered by fewer missing values first.

    References
    ----------
    Little, R. J. A., & Rubin, D. B. (2019). *Statistical analysis with missing data* (3rd
    ed.). Wiley. (Sect. 1.2, missingness patterns.)

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, None, 3, 4], "b": [1, 2, None, None]})
    >>> s = missing_summary(d)
    >>> s.items["n_missing"].tolist(), s.patterns["pattern"].tolist(), s.n_complete
    ([1, 2], ['10', '11', '01'], 1)

    Validated against: hand counts (tests/test_missing.py).
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError("missing_summary needs a DataFrame", value=type(data).__name__)
    cols = list(data.columns) if columns is None else list(columns)
    absent = [c for c in cols if c not in data.columns]
    if absent:
        raise DataError(f"missing_summary: column(s) {', '.join(map(repr, absent))} not in the data")
    miss = data[cols].isna()
    n, k = miss.shape
    items = pd.DataFrame({
        "n_missing": miss.sum(axis=0).astype(int),
        "share_missing": miss.mean(axis=0) if n else np.nan,
        "n_obs": (~miss).sum(axis=0).astype(int),
    })
    items.index.name = "item"
    resp = pd.DataFrame({
        "n_missing": miss.sum(axis=1).astype(int),
        "share_missing": miss.mean(axis=1) if k else np.nan,
    })
    obs = (~miss).to_numpy()
    keys = ["".join("1" if v else "0" for v in row) for row in obs]
    counts = pd.Series(keys, dtype=object).value_counts(sort=False)
    rows = []
    for key, cnt in counts.items():
        rows.append({"pattern": key, **{c: key[j] == "1" for j, c in enumerate(cols)},
                     "n_obs": int(cnt), "share": cnt / n, "n_missing": key.count("0")})
    patterns = pd.DataFrame(rows)
    if len(patterns):
        patterns = patterns.sort_values(["n_obs", "n_missing"], ascending=[False, True], kind="stable")
        patterns = patterns.reset_index(drop=True)
    return MissingSummary(
        items=items, respondents=resp, patterns=patterns, n_obs=n, n_items=k,
        n_complete=int((~miss.any(axis=1)).sum()),
        share_cells_missing=float(miss.to_numpy().mean()) if n and k else math.nan,
    )


# --- EM for the multivariate normal and Little's test ---------------------------------------


def _patterns(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    obs = ~np.isnan(x)
    pats, inverse = np.unique(obs, axis=0, return_inverse=True)
    return pats, inverse.ravel()


def em_mvn(
    data: pd.DataFrame | np.ndarray, *, max_iter: int = 10_000, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Maximum-likelihood mean and covariance of a multivariate normal with missing values (EM).

    Rows with every value missing are ignored. Starts from the observed means and a
    diagonal covariance of the observed variances (divisor n); stops when no parameter
    changes by more than ``tol`` (absolute).

    Parameters
    ----------
    data
        Numeric data, one row per observation (DataFrame or array); missing values are NaN.
    max_iter
        Maximum number of EM iterations.
    tol
        Convergence criterion: the largest absolute change of any mean or covariance entry
        between two iterations.

    Returns
    -------
    tuple
        ``(mean, cov, iterations, converged)``: the ML mean vector (``numpy.ndarray``, p), the
        ML covariance matrix (p x p, divisor n), the number of iterations run and whether
        ``tol`` was reached. Non-convergence is reported by the flag, not raised.

    Raises
    ------
    DataError
        With fewer than two rows with data, or a variable that is never observed.

    Notes
    -----
    E-step, per pattern with observed set O and missing set M: ``E[x_M | x_O] = mu_M +
    S_MO S_OO^-1 (x_O - mu_O)`` and ``Cov[x_M | x_O] = S_MM - S_MO S_OO^-1 S_OM``; M-step:
    ``mu = mean of the completed rows``, ``S = mean of E[x x'] - mu mu'`` (Dempster, Laird &
    Rubin 1977; Little & Rubin 2019, sect. 11.2). With complete data the first iteration already
    gives the sample mean and the covariance with divisor n.

    References
    ----------
    Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete
    data via the EM algorithm. *Journal of the Royal Statistical Society, Series B*, 39(1),
    1-38.

    Little, R. J. A., & Rubin, D. B. (2019). *Statistical analysis with missing data* (3rd
    ed.). Wiley.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 7.0]])
    >>> mu, s, it, ok = em_mvn(x)
    >>> ok, [round(float(v), 4) for v in mu]  # x2 at x1 = 2 predicted by regression
    (True, [2.5, 4.3929])

    Validated against: a row-wise EM written independently in R (tests/reference/missing.R),
    through the mean and covariance that :func:`little_mcar` reports (rel 1e-9), and the
    sample moments on complete data (tests/test_missing.py).
    """
    x = data.to_numpy(dtype=float, na_value=np.nan) if isinstance(data, pd.DataFrame) else np.asarray(data, dtype=float)
    x = x[~np.all(np.isnan(x), axis=1)]
    n, p = x.shape
    if n < 2:
        raise DataError("em_mvn: fewer than two rows with data")
    mu = np.nanmean(x, axis=0)
    if np.any(np.isnan(mu)):
        bad = int(np.flatnonzero(np.isnan(mu))[0])
        raise DataError("em_mvn: a variable has no observed value", column=bad)
    sigma = np.diag(np.nanvar(x, axis=0))
    pats, inv = _patterns(x)
    groups = [(np.flatnonzero(inv == g), np.flatnonzero(pat), np.flatnonzero(~pat)) for g, pat in enumerate(pats)]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - reported
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for rows, o, m in groups:
            xo = x[np.ix_(rows, o)]
            if m.size == 0:
                xf = xo
                t1 += xf.sum(axis=0)
                t2 += xf.T @ xf
                continue
            s_oo = sigma[np.ix_(o, o)]
            s_mo = sigma[np.ix_(m, o)]
            beta = np.linalg.solve(s_oo, s_mo.T).T if o.size else np.zeros((m.size, 0))
            cond = sigma[np.ix_(m, m)] - beta @ s_mo.T
            xhat = np.empty((rows.size, p))
            xhat[:, o] = xo
            xhat[:, m] = mu[m] + (xo - mu[o]) @ beta.T
            t1 += xhat.sum(axis=0)
            t2 += xhat.T @ xhat
            t2[np.ix_(m, m)] += rows.size * cond
        mu_new = t1 / n
        sigma_new = t2 / n - np.outer(mu_new, mu_new)
        change = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(sigma_new - sigma)))
        mu, sigma = mu_new, sigma_new
        if change < tol:
            converged = True
            break
    return mu, sigma, it, converged


@dataclass(frozen=True)
class MCARResult(Result):
    """Little's MCAR test: ``statistic`` (d^2), ``df``, ``pvalue``, ``n_patterns``, ``n_obs``;
    ``mean`` and ``cov`` are the EM (ML) estimates used."""

    statistic: float
    df: int
    pvalue: float
    n_patterns: int
    n_obs: int
    n_items: int
    em_iterations: int
    converged: bool
    mean: pd.Series
    cov: pd.DataFrame


def little_mcar(
    data: pd.DataFrame, columns: Sequence[str] | None = None, *, max_iter: int = 10_000, tol: float = 1e-12
) -> MCARResult:
    """Little's (1988) chi-square test that data are missing completely at random.

    Parameters
    ----------
    data
        Numeric variables (one row per respondent); rows with every value missing are left
        out.
    columns
        Variables to use (default: all columns).
    max_iter, tol
        EM settings (see :func:`em_mvn`); non-convergence raises :class:`ConvergenceError`.

    Returns
    -------
    MCARResult

    Notes
    -----
    With ``J`` missingness patterns, ``n_j`` rows and observed variables ``O_j`` (``p_j`` of
    them) in pattern ``j``, and the EM maximum-likelihood estimates ``mu`` and ``S`` (divisor
    n) of the mean and covariance under multivariate normality,

    ``d^2 = sum_j n_j (ybar_j - mu_Oj)' S_OjOj^-1 (ybar_j - mu_Oj)``,

    referred to a chi-square distribution with ``sum_j p_j - p`` degrees of freedom. This is
    the statistic of R's ``naniar::mcar_test`` and ``BaylorEdPsych::LittleMCAR`` (both use
    the ML covariance from ``norm::em.norm``; their EM stops earlier, so results can differ
    in the 4th or 5th digit). A significant result rejects MCAR; a non-significant one does
    not establish it (the test has low power and assumes normality).

    References
    ----------
    Little, R. J. A. (1988). A test of missing completely at random for multivariate data with
    missing values. *Journal of the American Statistical Association*, 83(404), 1198-1202.

    Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete
    data via the EM algorithm. *Journal of the Royal Statistical Society B*, 39(1), 1-38.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = pd.DataFrame(rng.normal(size=(200, 3)), columns=list("abc"))
    >>> x = x.mask(rng.random((200, 3)) < 0.1)
    >>> res = little_mcar(x)
    >>> res.df, res.pvalue > 0.05
    (8, True)

    Validated against: an independent EM + d^2 implementation in R (tests/reference/missing.R).
    """
    x = _numeric(data, columns, "little_mcar")
    names = list(x.columns)
    if len(names) < 2:
        raise DataError("little_mcar needs at least two variables", value=names)
    a = x.to_numpy(dtype=float, na_value=np.nan)
    a = a[~np.all(np.isnan(a), axis=1)]
    n, p = a.shape
    mu, sigma, it, ok = em_mvn(a, max_iter=max_iter, tol=tol)
    if not ok:
        raise ConvergenceError(f"little_mcar: EM did not converge in {max_iter} iterations")
    pats, inv = _patterns(a)
    d2 = 0.0
    df = 0
    for g, pat in enumerate(pats):
        rows = inv == g
        o = np.flatnonzero(pat)
        nj = int(rows.sum())
        ybar = a[np.ix_(rows, o)].mean(axis=0)
        dev = ybar - mu[o]
        d2 += nj * float(dev @ np.linalg.solve(sigma[np.ix_(o, o)], dev))
        df += o.size
    df -= p
    from scipy import stats

    pval = float(stats.chi2.sf(d2, df)) if df > 0 else math.nan
    return MCARResult(
        statistic=float(d2), df=int(df), pvalue=pval, n_patterns=len(pats), n_obs=int(n),
        n_items=p, em_iterations=int(it), converged=ok,
        mean=pd.Series(mu, index=names), cov=pd.DataFrame(sigma, index=names, columns=names),
    )


# --- deletion policies --------------------------------------------------------------------


def listwise(data: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows complete on ``columns`` (default: all) - listwise (complete-case) deletion.

    Parameters
    ----------
    data
        One row per respondent.
    columns
        The columns that must be present (default: all columns of ``data``).

    Returns
    -------
    pandas.DataFrame
        The rows of ``data`` (all its columns, original index) with no missing value in
        ``columns``.

    Raises
    ------
    DataError
        If a column is absent.

    Notes
    -----
    Complete-case analysis is unbiased only under MCAR (and for regression coefficients
    when missingness depends on the predictors alone); otherwise prefer
    :func:`impute_ols` or full-information methods (Schafer & Graham 2002). This is SPSS's
    ``/MISSING=LISTWISE`` and R's ``na.omit`` on the selected columns.

    References
    ----------
    Schafer, J. L., & Graham, J. W. (2002). Missing data: Our view of the state of the art.
    *Psychological Methods*, 7(2), 147-177.

    Examples
    --------
    >>> import pandas as pd
    >>> listwise(pd.DataFrame({"a": [1, None, 3], "b": [1, 2, 3]})).index.tolist()
    [0, 2]

    Tested on: hand-counted small tables (tests/test_missing.py).
    """
    cols = list(data.columns) if columns is None else list(columns)
    absent = [c for c in cols if c not in data.columns]
    if absent:
        raise DataError(f"listwise: column(s) {', '.join(map(repr, absent))} not in the data")
    return data.loc[data[cols].notna().all(axis=1)]


def pairwise_counts(data: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Number of rows where both variables are present, for each pair (pairwise deletion's
    effective n; the diagonal counts each variable's observed values).

    Parameters
    ----------
    data
        One row per respondent.
    columns
        The columns to count (default: all).

    Returns
    -------
    pandas.DataFrame
        Symmetric integer matrix indexed and labelled by ``columns``.

    Notes
    -----
    With O the 0/1 matrix of observed values, the counts are ``O' O``: entry (i, j) is the
    number of rows where both i and j are observed, the n behind a pairwise-complete
    correlation (R ``psych::pairwiseCount``; SPSS ``/MISSING=PAIRWISE``).

    References
    ----------
    Schafer, J. L., & Graham, J. W. (2002). Missing data: Our view of the state of the art.
    *Psychological Methods*, 7(2), 147-177.

    Examples
    --------
    >>> import pandas as pd
    >>> pairwise_counts(pd.DataFrame({"a": [1, None, 3], "b": [1, 2, None]})).to_numpy().tolist()
    [[2, 1], [1, 2]]

    Tested on: hand-counted small tables (tests/test_missing.py).
    """
    cols = list(data.columns) if columns is None else list(columns)
    m = data[cols].notna().to_numpy().astype(int)
    return pd.DataFrame(m.T @ m, index=cols, columns=cols)


def available_item_scores(
    data: pd.DataFrame, scales: Mapping[str, Sequence[str]], *, min_share: float = 0.5
) -> pd.DataFrame:
    """Scale scores as the mean of the items answered (available-item / person-mean scoring).

    A score is computed when the share of the scale's items answered is at least
    ``min_share`` (default 0.5, as ``codebook.min_answered``), otherwise it is missing.
    Equivalent to prorating the sum; it assumes the items are exchangeable (Schafer &
    Graham 2002 discuss its bias when they are not).

    Parameters
    ----------
    data
        One row per respondent, numeric item columns.
    scales
        Scale name -> its item columns.
    min_share
        Minimum share of a scale's items answered for a score, in (0, 1].

    Returns
    -------
    pandas.DataFrame
        One column per scale, indexed like ``data``; missing where too few items were
        answered.

    Raises
    ------
    DataError
        If ``min_share`` is outside (0, 1], or an item is absent or not numeric.

    Notes
    -----
    ``score_i = sum_{j in A_i} x_ij / |A_i|`` over the set A_i of the scale's items that
    respondent i answered, when ``|A_i| / k >= min_share`` (k items in the scale). SPSS's
    ``MEAN.n(...)`` with n = ceil(min_share * k) gives the same scores.

    References
    ----------
    Schafer, J. L., & Graham, J. W. (2002). Missing data: Our view of the state of the art.
    *Psychological Methods*, 7(2), 147-177.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, None, None], "b": [3, 4, None], "c": [5, 5, 2]})
    >>> available_item_scores(d, {"s": ["a", "b", "c"]})["s"].tolist()
    [3.0, 4.5, nan]

    Tested on: hand-computed means at two ``min_share`` values (tests/test_missing.py).
    """
    if not 0 < min_share <= 1:
        raise DataError("available_item_scores: min_share must be in (0, 1]", value=min_share)
    out = {}
    for name, items in scales.items():
        x = _numeric(data, list(items), "available_item_scores")
        share = x.notna().mean(axis=1)
        mean = x.mean(axis=1, skipna=True)
        out[name] = mean.where(share >= min_share - 1e-12)
    return pd.DataFrame(out, index=data.index)


# --- multiple imputation --------------------------------------------------------------------


@dataclass(frozen=True)
class MIResult(Result):
    """Pooled OLS estimates from multiple imputation.

    ``table`` (indexed by term): ``estimate``, ``std_error``, ``statistic``, ``df``
    (Barnard-Rubin), ``pvalue``, ``ci_low``, ``ci_high``, ``within`` (mean within-imputation
    variance), ``between``, ``total`` (variance), ``riv`` (relative increase in variance),
    ``lambda`` and ``fmi`` (fraction of missing information). ``estimates`` holds each
    imputation's coefficients.
    """

    table: pd.DataFrame
    estimates: pd.DataFrame
    m: int
    n_obs: int
    n_complete: int
    df_complete: float
    r_squared: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def pool_rubin(
    estimates: np.ndarray | pd.DataFrame,
    variances: np.ndarray | pd.DataFrame,
    df_complete: float = math.inf,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Pool m sets of estimates and squared standard errors by Rubin's rules.

    Parameters
    ----------
    estimates, variances
        ``m x k`` arrays: each imputation's estimates and their sampling variances.
    df_complete
        Residual degrees of freedom of the complete-data analysis (``n - k`` for OLS);
        ``inf`` gives Rubin's (1987) large-sample df.
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``estimate``, ``std_error``, ``statistic``, ``df``, ``pvalue``, ``ci_low``,
        ``ci_high``, ``within``, ``between``, ``total``, ``riv``, ``lambda``, ``fmi``.

    Notes
    -----
    ``Qbar = mean(Q_l)``, ``Ubar = mean(U_l)``, ``B = var(Q_l)`` (divisor m-1),
    ``T = Ubar + (1 + 1/m) B``, ``riv = (1 + 1/m) B / Ubar``, ``lambda = (1 + 1/m) B / T``.
    Degrees of freedom (Barnard & Rubin 1999): ``df_old = (m - 1) / lambda^2``, ``df_obs =
    (df_com + 1) / (df_com + 3) df_com (1 - lambda)``, ``df = df_old df_obs / (df_old +
    df_obs)``. The fraction of missing information is ``fmi = (riv + 2 / (df + 3)) / (riv +
    1)``, as R mice's ``pool()`` reports it. Tests and intervals use t(df).

    References
    ----------
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.

    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika*, 86(4), 948-955.

    van Buuren, S. (2018). *Flexible Imputation of Missing Data* (2nd ed.). CRC Press,
    sect. 2.3.

    Examples
    --------
    >>> t = pool_rubin([[1.0], [1.2], [0.8]], [[0.04], [0.05], [0.03]], df_complete=50)
    >>> round(float(t["estimate"].iloc[0]), 3), round(float(t["total"].iloc[0]), 4)
    (1.0, 0.0933)

    Validated against: Rubin's rules coded independently in R (tests/reference/missing.R).
    """
    from scipy import stats

    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    if q.ndim == 1:
        q = q[:, None]
        u = u[:, None]
    if q.shape != u.shape:
        raise DataError("pool_rubin: estimates and variances must have the same shape")
    m = q.shape[0]
    if m < 2:
        raise DataError("pool_rubin needs at least two imputations")
    if not 0 < level < 1:
        raise DataError("pool_rubin: level must be between 0 and 1", value=level)
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1 + 1 / m) * b / ubar
        lam = (1 + 1 / m) * b / t
        df_old = (m - 1) / lam**2
        if math.isinf(df_complete):
            df = df_old
        else:
            df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
            df = np.where(lam > 0, df_old * df_obs / (df_old + df_obs), df_complete)
        df = np.asarray(df, dtype=float)
        fmi = (riv + 2 / (df + 3)) / (riv + 1)
        se = np.sqrt(t)
        stat = qbar / se
    pval = 2 * stats.t.sf(np.abs(stat), df)
    crit = stats.t.ppf(0.5 + level / 2, df)
    index = estimates.columns if isinstance(estimates, pd.DataFrame) else None
    return pd.DataFrame({
        "estimate": qbar, "std_error": se, "statistic": stat, "df": df, "pvalue": pval,
        "ci_low": qbar - crit * se, "ci_high": qbar + crit * se, "within": ubar, "between": b,
        "total": t, "riv": riv, "lambda": lam, "fmi": fmi,
    }, index=index)


def _draw_params(
    x: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """P-step of data augmentation: draw (mu, Sigma) from their posterior given complete
    data under the Jeffreys prior (Schafer 1997, sect. 5.4): Sigma ~ inv-Wishart(n - 1, S),
    mu | Sigma ~ N(xbar, Sigma / n)."""
    n, p = x.shape
    xbar = x.mean(axis=0)
    d = x - xbar
    s = d.T @ d
    # inverse-Wishart(df = n - 1, scale = S): Sigma = (W)^-1 with W ~ Wishart(n - 1, S^-1)
    s_inv = np.linalg.inv(s)
    chol = np.linalg.cholesky((s_inv + s_inv.T) / 2)
    # Bartlett decomposition of a Wishart(n - 1, S^-1) draw
    dfw = n - 1
    a = np.zeros((p, p))
    for i in range(p):
        a[i, i] = math.sqrt(rng.chisquare(dfw - i))
        a[i, :i] = rng.standard_normal(i)
    la = chol @ a
    w = la @ la.T
    sigma = np.linalg.inv(w)
    sigma = (sigma + sigma.T) / 2
    mu = rng.multivariate_normal(xbar, sigma / n, method="cholesky")
    return mu, sigma


def _impute_step(
    x: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]], mu: np.ndarray,
    sigma: np.ndarray, rng: np.random.Generator,
) -> np.ndarray:
    """I-step: draw the missing values from their conditional normal given the observed."""
    out = x.copy()
    for rows, o, m in groups:
        if m.size == 0:
            continue
        s_oo = sigma[np.ix_(o, o)]
        s_mo = sigma[np.ix_(m, o)]
        if o.size:
            beta = np.linalg.solve(s_oo, s_mo.T).T
            cond_mean = mu[m] + (x[np.ix_(rows, o)] - mu[o]) @ beta.T
            cond = sigma[np.ix_(m, m)] - beta @ s_mo.T
        else:
            cond_mean = np.tile(mu[m], (rows.size, 1))
            cond = sigma[np.ix_(m, m)]
        cond = (cond + cond.T) / 2
        lc = np.linalg.cholesky(cond + 1e-12 * np.eye(m.size))
        out[np.ix_(rows, m)] = cond_mean + rng.standard_normal((rows.size, m.size)) @ lc.T
    return out


def impute_ols(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    m: int = 20,
    seed: int | None = None,
    auxiliary: Sequence[str] = (),
    burn_in: int = 200,
    thin: int = 50,
    level: float = 0.95,
) -> MIResult:
    """OLS with multiple imputation of missing values, pooled by Rubin's rules.

    Parameters
    ----------
    data
        One row per respondent.
    outcome, predictors
        Numeric columns of the regression ``outcome ~ predictors`` (with an intercept).
    m
        Number of imputations (default 20; van Buuren 2018 suggests raising it with the
        fraction of missing information).
    seed
        Seed of ``numpy.random.default_rng``.
    auxiliary
        Extra numeric variables used in the imputation model only.
    burn_in, thin
        Data augmentation: iterations before the first imputation and between imputations.
    level
        Confidence level of the pooled intervals.

    Returns
    -------
    MIResult

    Notes
    -----
    The imputation model is the multivariate normal of the outcome, predictors and auxiliary
    variables, fitted by data augmentation (Tanner & Wong 1987; Schafer 1997, ch. 5): start
    at the EM estimates, alternate an I-step (draw each missing value from its conditional
    normal given the row's observed values) and a P-step (draw ``Sigma`` from the
    inverse-Wishart and ``mu`` from the normal posterior under the Jeffreys prior); one chain,
    ``burn_in`` iterations, then one imputation every ``thin`` iterations. The outcome is
    imputed too (van Buuren 2018 shows that this is harmless with a proper model; rows
    missing the outcome add little). Imputed values are not rounded to the scale's codes
    (rounding biases estimates; Horton, Lipsitz & Parzen 2003). Rows missing every variable
    are dropped. Each completed dataset is fitted by OLS with the classical covariance
    ``s^2 (X'X)^-1``; the pooled table follows :func:`pool_rubin` with ``df_complete = n - k``.
    ``r_squared`` is the mean R^2 over imputations (a descriptive summary).

    References
    ----------
    Schafer, J. L. (1997). *Analysis of Incomplete Multivariate Data*. Chapman & Hall.

    Tanner, M. A., & Wong, W. H. (1987). The calculation of posterior distributions by data
    augmentation. *JASA*, 82(398), 528-540.

    Horton, N. J., Lipsitz, S. R., & Parzen, M. (2003). A potential for bias when rounding in
    multiple imputation. *The American Statistician*, 57(4), 229-232.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> d = pd.DataFrame({"x": x, "y": 1 + 2 * x + rng.normal(size=300)})
    >>> d.loc[rng.random(300) < 0.2, "x"] = np.nan
    >>> res = impute_ols(d, "y", ["x"], m=5, seed=1, burn_in=20, thin=5)
    >>> bool(abs(res.table.loc["x", "estimate"] - 2) < 0.3)
    True

    Validated against: the pooling step against Rubin's rules in R (tests/reference/missing.R);
    the imputation by recovery of known coefficients in simulation (tests/test_missing.py).
    """
    if isinstance(predictors, str):
        predictors = [predictors]
    predictors = list(predictors)
    if not predictors:
        raise DataError("impute_ols needs at least one predictor")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise DataError("impute_ols: m must be an integer >= 2", value=m)
    cols = [outcome, *predictors, *[a for a in auxiliary if a not in (outcome, *predictors)]]
    if len(set(cols)) != len(cols):
        raise DataError("impute_ols: a variable appears twice", value=cols)
    x = _numeric(data, cols, "impute_ols").to_numpy(dtype=float, na_value=np.nan)
    x = x[~np.all(np.isnan(x), axis=1)]
    n = x.shape[0]
    k = 1 + len(predictors)
    if n <= k + 1:
        raise DataError(f"impute_ols: {n} rows for {k} coefficients")
    n_complete = int((~np.any(np.isnan(x), axis=1)).sum())
    rng = np.random.default_rng(seed)
    mu, sigma, _it, ok = em_mvn(x, max_iter=5000, tol=1e-8)
    if not ok:
        raise ConvergenceError("impute_ols: EM start did not converge in 5000 iterations")
    pats, inv = _patterns(x)
    groups = [(np.flatnonzero(inv == g), np.flatnonzero(pat), np.flatnonzero(~pat)) for g, pat in enumerate(pats)]
    any_missing = bool(np.isnan(x).any())
    names = ["(Intercept)", *predictors]
    est = np.empty((m, k))
    var = np.empty((m, k))
    r2 = np.empty(m)
    total_iter = burn_in + (m - 1) * thin + 1 if any_missing else 1
    done = 0
    xc = x
    for it in range(total_iter):
        if any_missing:
            xc = _impute_step(x, groups, mu, sigma, rng)
            mu, sigma = _draw_params(xc, rng)
        if (it >= burn_in and (it - burn_in) % thin == 0) or not any_missing:
            y = xc[:, 0]
            design = np.column_stack([np.ones(n), xc[:, 1:k]])
            beta, *_ = np.linalg.lstsq(design, y, rcond=None)
            resid = y - design @ beta
            s2 = float(resid @ resid) / (n - k)
            cov = s2 * np.linalg.inv(design.T @ design)
            est[done] = beta
            var[done] = np.diag(cov)
            r2[done] = 1 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
            done += 1
            if not any_missing:
                est[1:] = est[0]
                var[1:] = var[0]
                r2[1:] = r2[0]
                done = m
                break
    table = pool_rubin(est, var, df_complete=n - k, level=level)
    table.index = pd.Index(names, name="term")
    return MIResult(
        table=table, estimates=pd.DataFrame(est, columns=names), m=int(m), n_obs=int(n),
        n_complete=n_complete, df_complete=float(n - k), r_squared=float(r2.mean()),
        method="multivariate normal data augmentation",
    )


def _check_policy(policy: str) -> str:
    return check_option(policy, "policy", "missing", ("listwise", "pairwise", "available"))


def apply_policy(
    data: pd.DataFrame, columns: Sequence[str], policy: str = "listwise", **kw: Any
) -> pd.DataFrame:
    """Apply a missing-data policy: ``"listwise"`` (complete rows), ``"pairwise"`` (the data
    unchanged, for statistics that use all available pairs) or ``"available"`` (``kw`` passed
    to :func:`available_item_scores`, needs ``scales=``).

    Parameters
    ----------
    data
        One row per respondent.
    columns
        The analysis columns (for ``"listwise"`` and ``"pairwise"``).
    policy
        One of ``"listwise"``, ``"pairwise"``, ``"available"``.
    **kw
        For ``"available"``: ``scales`` (required) and ``min_share`` (default 0.5).

    Returns
    -------
    pandas.DataFrame
        ``"listwise"``: the complete rows of ``data`` (all its columns); ``"pairwise"``:
        ``data[columns]`` unchanged; ``"available"``: one score column per scale.

    Raises
    ------
    DataError
        For an unknown policy, or ``"available"`` without ``scales``.

    Notes
    -----
    A dispatcher over :func:`listwise` and :func:`available_item_scores`; see those for the
    formulas and when each policy is defensible (Schafer & Graham 2002).

    References
    ----------
    Schafer, J. L., & Graham, J. W. (2002). Missing data: Our view of the state of the art.
    *Psychological Methods*, 7(2), 147-177.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1.0, None, 3.0], "b": [2.0, 2.0, None]})
    >>> apply_policy(d, ["a", "b"], "listwise").index.tolist()
    [0]
    >>> apply_policy(d, ["a", "b"], "available", scales={"s": ["a", "b"]})["s"].tolist()
    [1.5, 2.0, 3.0]

    Tested on: a hand-counted small table and the policy-name check (tests/test_missing.py).
    """
    _check_policy(policy)
    if policy == "listwise":
        return listwise(data, columns)
    if policy == "pairwise":
        return data[list(columns)]
    scales = kw.get("scales")
    if scales is None:
        raise DataError("apply_policy: policy 'available' needs scales={scale: [items]}")
    return available_item_scores(data, scales, min_share=kw.get("min_share", 0.5))
