"""Scale reliability: Cronbach's alpha, McDonald's omega, split-half coefficients, polychoric
correlations and ordinal alpha, and the sampling-adequacy checks KMO and Bartlett.

Every statistic follows R's psych 2.2.9 exactly where psych's choice is defensible; where tools
disagree the variant used is stated in the docstring and in ``docs/reliability.md``.

The arithmetic is written on a covariance or correlation matrix plus n
(``_alpha_from_cov``, ``_kmo_from_corr``, ``_bartlett_from_corr``, ``_split_half_from_corr``) so
that the same numbers can be computed from chunked sufficient statistics.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ._matrices import (
    as_items,
    check_corr_usable,
    check_nonsingular,
    check_option,
    cor_smooth,
    cov2cor,
    listwise,
    pairwise_cor,
    pairwise_cov,
    smc,
)
from ._results import Result
from .errors import DataError

__all__ = [
    "AlphaResult",
    "BartlettResult",
    "KMOResult",
    "OmegaResult",
    "OrdinalAlphaResult",
    "PolychoricResult",
    "SplitHalfResult",
    "alpha",
    "bartlett",
    "kmo",
    "omega",
    "ordinal_alpha",
    "polychoric",
    "split_half",
]


# ---------------------------------------------------------------------------------------------
# alpha
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlphaResult(Result):
    """Cronbach's alpha and its companions (see :func:`alpha`)."""

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    median_r: float
    signal_noise: float
    ase: float
    ci_low: float
    ci_high: float
    ci_method: str
    ci_level: float
    mean: float
    sd: float
    n_obs: int
    n_eff: float
    n_items: int
    problems: str
    items: pd.DataFrame = field(repr=False)
    boot: np.ndarray | None = field(default=None, repr=False)


def _smc_or_none(r: np.ndarray) -> np.ndarray | None:
    try:
        return smc(r)
    except DataError:  # singular R
        return None


def _alpha_stats(
    c: np.ndarray, r: np.ndarray, smc_r: np.ndarray | bool | None = False
) -> dict[str, float]:
    """psych's ``alpha.1``: raw and standardised alpha, G6, average r, S/N and Q from C and R.

    ``smc_r``: the squared multiple correlations of R when already computed (None: R singular).
    """
    k = c.shape[0]
    sum_c = c.sum()
    tr_c = np.trace(c)
    sum_r = r.sum()
    raw = (1.0 - tr_c / sum_c) * k / (k - 1)
    std = (1.0 - k / sum_r) * k / (k - 1)
    if smc_r is False:
        smc_r = _smc_or_none(r)
    # singular R: G6 undefined (the caller reports it)
    g6 = math.nan if smc_r is None else 1.0 - (k - smc_r.sum()) / sum_r
    av_r = (sum_r - k) / (k * (k - 1))
    off = r[np.tril_indices(k, -1)]
    cc = c @ c
    q = (2 * k**2 / ((k - 1) ** 2 * sum_c**3)) * (
        sum_c * (np.trace(cc) + tr_c**2) - 2 * tr_c * cc.sum()
    )
    return {
        "alpha": float(raw),
        "std_alpha": float(std),
        "g6": float(g6),
        "average_r": float(av_r),
        "median_r": float(np.median(off)),
        "signal_noise": float(k * av_r / (1 - av_r)) if av_r < 1 else math.inf,
        "q": float(q),
    }


def _alpha_from_cov(cov: np.ndarray, n: float) -> dict[str, float]:
    """Alpha statistics from a covariance matrix and a sample size (no item data needed).

    Returns ``alpha``, ``std_alpha``, ``g6``, ``average_r``, ``median_r``, ``signal_noise``
    and ``ase`` (Duhachek-Iacobucci asymptotic SE, ``sqrt(Q/n)``), using ``R = cov2cor(cov)``.
    """
    cov = np.asarray(cov, dtype=float)
    out = _alpha_stats(cov, cov2cor(cov))
    out["ase"] = math.sqrt(max(out.pop("q"), 0.0) / n)
    return out


def _alpha_raw_from_sums(tr_c: np.ndarray, sum_c: np.ndarray, k: int) -> np.ndarray:
    return (1.0 - tr_c / sum_c) * k / (k - 1)


def _boot_counts(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """(b x n) multinomial resampling counts: row i counts how often each row is drawn."""
    idx = rng.integers(0, n, size=(b, n))
    idx += (np.arange(b) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)


def _boot_features(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per-row features whose count-weighted sums are each replicate's sufficient statistics.

    Complete data: ``[x_j, x_j^2, s, s^2]`` (s = row sum, x centred), 2k + 2 columns, enough for
    ``tr(C)`` and ``sum(C)``. With missing values: pair-presence products, ``x_i * m_j`` and
    ``x_i * x_j`` (about 2k^2 columns), enough for the exact pairwise covariances.
    """
    k = x.shape[1]
    xc = x - np.nanmean(x, axis=0)
    if not np.isnan(xc).any():
        s = xc.sum(axis=1)
        return np.column_stack([xc, xc * xc, s, s * s]), True
    m = (~np.isnan(xc)).astype(float)
    x0 = np.where(np.isnan(xc), 0.0, xc)
    iu_i, iu_j = np.triu_indices(k)
    ii, jj = (a.ravel() for a in np.meshgrid(np.arange(k), np.arange(k), indexing="ij"))
    return np.column_stack(
        [m[:, iu_i] * m[:, iu_j], x0[:, iu_i] * x0[:, iu_j], x0[:, ii] * m[:, jj]]
    ), False


def _counts_times(counts: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """``counts @ feats`` computed as ``(feats' counts')'``: the same product, but OpenBLAS picks a
    kernel for this layout that stays fast when its threads compete for busy cores."""
    return (feats.T @ counts.T).T


def _boot_alpha_from_sums(sums: np.ndarray, v1: np.ndarray, v2: np.ndarray, k: int,
                          complete: bool) -> np.ndarray:
    """Raw alpha per replicate from the count-weighted feature sums (see _boot_features)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if complete:
            mean_x = sums[:, :k] / v1[:, None]
            tr_c = (sums[:, k : 2 * k] - v1[:, None] * mean_x**2).sum(axis=1)
            ms = sums[:, 2 * k] / v1
            sum_c = sums[:, 2 * k + 1] - v1 * ms**2
            return _alpha_raw_from_sums(tr_c, sum_c, k)
        nb = sums.shape[0]
        iu_i, iu_j = np.triu_indices(k)
        npair = iu_i.size
        n_ij = np.empty((nb, k, k))
        p_ij = np.empty((nb, k, k))
        n_ij[:, iu_i, iu_j] = sums[:, :npair]
        n_ij[:, iu_j, iu_i] = sums[:, :npair]
        p_ij[:, iu_i, iu_j] = sums[:, npair : 2 * npair]
        p_ij[:, iu_j, iu_i] = sums[:, npair : 2 * npair]
        s_ij = sums[:, 2 * npair :].reshape(nb, k, k)
        # divisor (n_ij - 1) for counts; it cancels in alpha only when it is common, so keep it
        cov = (p_ij - s_ij * np.swapaxes(s_ij, 1, 2) / n_ij) / (n_ij - 1)
        return _alpha_raw_from_sums(
            np.trace(cov, axis1=1, axis2=2), cov.sum(axis=(1, 2)), k
        )


def _boot_alpha_from_counts(
    x: np.ndarray, counts: np.ndarray, w: np.ndarray | None = None
) -> np.ndarray:
    """Raw alpha for each replicate given a (B x n) matrix of resampling counts.

    One (B x n) @ (n x F) product gives every replicate's sufficient statistics. With weights,
    counts are multiplied by the weights. Missing values: pairwise covariances are rebuilt
    exactly (divisor n_ij - 1 per pair, as ``cov(use = "pairwise")``; with weights the
    divisor is the weighted analogue).
    """
    feats, complete = _boot_features(x)
    wc = counts if w is None else counts * w[None, :]
    sums = _counts_times(wc, feats)
    v1 = wc.sum(axis=1)
    if not complete and w is not None:
        return _boot_alpha_weighted_pairwise(x, wc)
    return _boot_alpha_from_sums(sums, v1, v1, x.shape[1], complete)


def _boot_alpha_weighted_pairwise(x: np.ndarray, wc: np.ndarray) -> np.ndarray:
    """Slow exact path: weighted pairwise covariances per replicate."""
    return np.array(
        [_alpha_raw_from_sums(np.trace(c := pairwise_cov(x, row)), c.sum(), x.shape[1])
         for row in wc]
    )


def _bootstrap_alpha(
    x: np.ndarray, w: np.ndarray | None, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Vectorised percentile-bootstrap replicates of raw alpha (blocks of replicates)."""
    n, k = x.shape
    feats, complete = _boot_features(x)
    if not complete and w is not None:
        out = []
        for _ in range(n_boot):
            out.append(_boot_alpha_weighted_pairwise(x, _boot_counts(rng, n, 1) * w[None, :])[0])
        return np.array(out)
    block = max(1, min(n_boot, int(2.5e6 // n)))
    reps = []
    done = 0
    while done < n_boot:
        b = min(block, n_boot - done)
        counts = _boot_counts(rng, n, b)
        wc = counts if w is None else counts * w[None, :]
        v1 = wc.sum(axis=1)
        reps.append(_boot_alpha_from_sums(_counts_times(wc, feats), v1, v1, k, complete))
        done += b
    return np.concatenate(reps)


def _alpha_item_moments(
    x: np.ndarray, c: np.ndarray, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, np.ndarray]:
    """raw_r, item means and SDs, scale-score mean and SD and item n on the general path
    (missing values and/or weights; the scale score is the row mean of the available items)."""
    with np.errstate(invalid="ignore"):
        score = np.nanmean(x, axis=1)
    xs = np.column_stack([score, x])
    raw_r = pairwise_cor(xs, w)[0, 1:]
    present = ~np.isnan(x)
    if w is None:
        item_mean = np.nanmean(x, axis=0)
        item_sd = np.nanstd(x, axis=0, ddof=1)
        score_mean = float(np.mean(score))
        score_sd = float(np.std(score, ddof=1))
    else:
        ww = present * w[:, None]
        item_mean = np.nansum(x * w[:, None], axis=0) / ww.sum(axis=0)
        item_sd = np.sqrt(np.diag(c))
        score_mean = float(np.sum(w * score) / w.sum())
        score_sd = float(np.sqrt(pairwise_cov(score[:, None], w)[0, 0]))
    return raw_r, item_mean, item_sd, score_mean, score_sd, present.sum(axis=0)


def alpha(
    items: pd.DataFrame,
    *,
    nan_policy: str = "pairwise",
    ci: str = "feldt",
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    weights: pd.Series | np.ndarray | None = None,
) -> AlphaResult:
    """Cronbach's alpha with psych's item statistics and a confidence interval.

    Parameters
    ----------
    items
        Wide table, one numeric column per item, already reverse-coded.
    nan_policy
        ``"pairwise"`` (psych's default: ``C = cov(x, use = "pairwise")``) or ``"listwise"``
        (only complete rows are used for everything).
    ci
        ``"feldt"`` (F-based, Feldt 1965), ``"duhachek"`` (normal theory, Duhachek &
        Iacobucci 2004) or ``"bootstrap"`` (percentile, rows resampled).
    level
        Confidence level of the interval.
    n_boot, seed
        Bootstrap replicates and seed (``numpy.random.default_rng``).
    weights
        Optional survey weights, one per row (non-negative). Covariances become weighted
        covariances; the CIs use Kish's effective sample size.

    Returns
    -------
    AlphaResult
        ``alpha`` (raw), ``std_alpha``, ``g6`` (Guttman's lambda 6 from smc), ``average_r``,
        ``median_r``, ``signal_noise``, ``ase``, ``ci_low``/``ci_high``, ``mean``/``sd`` of
        the scale score (row mean of available items), ``n_obs``, ``n_eff``, ``n_items`` and
        ``items``: a DataFrame indexed by item with ``raw_r``, ``std_r``, ``r_cor``,
        ``r_drop``, ``alpha_if_deleted``, ``std_alpha_if_deleted``, ``mean``, ``sd``, ``n``.
        ``problems`` is non-empty when a statistic is undefined (singular correlations make
        ``g6`` and ``r_cor`` NaN). ``boot`` holds the bootstrap replicates when ``ci="bootstrap"``.

    Notes
    -----
    With C the item covariance matrix, R = cov2cor(C) and k items (psych's definitions):

    * raw alpha = k/(k-1) (1 - tr C / 1'C1); standardised alpha = k/(k-1) (1 - k / 1'R1);
    * G6 = 1 - (k - sum smc(R)) / 1'R1, smc_i = 1 - 1/(R^-1)_ii;
    * average r = (1'R1 - k)/(k(k-1)); S/N = k r / (1 - r);
    * ase = sqrt(Q/n) with Q the Duhachek-Iacobucci (2004) variance;
    * raw_r = cor(item, scale score); std_r = colSums(R)/sqrt(1'R1); r_cor the same with smc on
      the diagonal; r_drop = (C_i. - C_ii) / sqrt(C_ii * 1'C_(-i)1).

    With missing data and ``nan_policy="pairwise"``, psych's R is cov2cor of the pairwise
    covariance matrix, *not* ``cor(x, use = "pairwise")``; we follow psych. n is the number of
    rows with at least one answer (psych counts every row; identical unless a row is empty).

    Feldt: ``1 - (1 - alpha) F_{1-a/2}(n-1, (n-1)(k-1))`` (lower) and with ``F_{a/2}`` (upper).
    Duhachek: ``alpha -/+ z_{1-a/2} ase`` (psych prints it with z = 1.96 rounded).
    Bootstrap: percentile interval (quantile type 7) of raw alpha recomputed on resampled rows,
    vectorised by multinomial count weights (see ``docs/reliability.md``).

    Weights: ``C_w = sum w (x - m_w)(x - m_w)' / (V1 - V2/V1)``, V1 = sum w, V2 = sum w^2, pairwise
    over rows where both items are present. Alpha does not depend on the divisor. The effective n
    for intervals is Kish's ``V1^2/V2``.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16(3), 297-334.
    Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson reliability
    coefficient twenty. *Psychometrika*, 30(3), 357-370.
    Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE): An accurate and precise
    confidence interval estimate. *Journal of Applied Psychology*, 89(5), 792-808.
    Revelle, W. (2022). *psych: Procedures for Psychological, Psychometric, and Personality
    Research* (R package version 2.2.9).

    Examples
    --------
    >>> # R equivalent: psych::alpha(df, check.keys = FALSE)
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3], "b": [2, 2, 3, 5, 4, 3],
    ...                    "c": [1, 3, 3, 4, 5, 2]})
    >>> res = alpha(df)
    >>> print(round(res.alpha, 4), res.n_items)
    0.9318 3
    >>> list(res.items.columns[:4])
    ['raw_r', 'std_r', 'r_cor', 'r_drop']

    Validated against: R 4.2.2 psych 2.2.9 ``alpha`` (tests/test_reliability.py, shared
    holzinger and sim_likert references, tests/reference/reliability.json for bfi).
    """
    check_option(nan_policy, "nan_policy", "alpha", ("pairwise", "listwise"))
    check_option(ci, "ci", "alpha", ("feldt", "duhachek", "bootstrap"))
    if not 0 < level < 1:
        raise DataError("alpha: level must be between 0 and 1", value=level)
    data = as_items(items, "alpha")
    x = data.values
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float).ravel()
        n_raw = data.rows.shape[0]
        if w.shape[0] != n_raw:
            raise DataError(f"alpha: {w.shape[0]} weights for {n_raw} rows")
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            raise DataError("alpha: weights must be finite and non-negative")
        w = w[data.rows]
    if nan_policy == "listwise":
        keep = ~np.any(np.isnan(x), axis=1)
        if w is not None:
            w = w[keep]
        x = listwise(x, "alpha")
    k = x.shape[1]
    n = x.shape[0]
    n_eff = float(n if w is None else w.sum() ** 2 / (w * w).sum())
    # complete, unweighted data: one centred cross-product gives C and everything else
    fast = w is None and (data.complete or nan_policy == "listwise")
    if fast:
        item_mean = x.mean(axis=0)
        xc = x - item_mean
        c = (xc.T @ xc) / (n - 1)
        del xc
    else:
        c = pairwise_cov(x, w)
    if not np.all(np.isfinite(c)):
        check_corr_usable(c, data.names, "alpha")
    r = cov2cor(c)
    problems = []
    smc_r = _smc_or_none(r)
    tot = _alpha_stats(c, r, smc_r)
    if math.isnan(tot["g6"]):
        problems.append(
            "the item correlation matrix is singular (an item is a linear combination of "
            "others): g6 and r_cor are undefined"
        )
    ase = math.sqrt(max(tot.pop("q"), 0.0) / n_eff)

    # per-item statistics; alpha if item i is deleted, from the sums of C and R without row and
    # column i: tr C - C_ii and 1'C1 - 2 (C1)_i + C_ii
    if k > 2:
        kd = k - 1
        c1, r1, dc = c.sum(axis=0), r.sum(axis=0), np.diag(c)
        drop_raw = (1.0 - (np.trace(c) - dc) / (c.sum() - 2 * c1 + dc)) * kd / (kd - 1)
        drop_std = (1.0 - kd / (r.sum() - 2 * r1 + 1.0)) * kd / (kd - 1)
    else:
        drop_raw = np.full(k, np.nan)
        drop_std = np.full(k, np.nan)
        drop_raw[:] = [c[0, 1] / c[1, 1], c[0, 1] / c[0, 0]]
        drop_std[:] = r[0, 1]
    sum_r = r.sum()
    std_r = r.sum(axis=0) / math.sqrt(sum_r)
    rc = r.copy()
    if smc_r is None:
        rc[:] = np.nan
    else:
        np.fill_diagonal(rc, smc_r)
    with np.errstate(invalid="ignore"):
        r_cor = rc.sum(axis=0) / np.sqrt(rc.sum())
    sum_c = c.sum()
    r_drop = (c.sum(axis=0) - np.diag(c)) / np.sqrt(
        np.diag(c) * (sum_c - 2 * c.sum(axis=0) + np.diag(c))
    )
    negative = [nm for nm, rd in zip(data.names, r_drop, strict=True) if rd < 0]
    if negative:
        problems.append(
            "item(s) " + ", ".join(repr(nm) for nm in negative)
            + " correlate negatively with the rest of the scale; reverse-code them first?"
        )
    if fast:
        # scale score = row mean: cov(score, item j) = (C1)_j / k, var(score) = 1'C1 / k^2
        raw_r = c.sum(axis=0) / np.sqrt(np.diag(c) * sum_c)
        table_n = np.full(k, n)
        item_sd = np.sqrt(np.diag(c))
        score_mean = float(item_mean.mean())
        score_sd = math.sqrt(sum_c) / k
    else:
        raw_r, item_mean, item_sd, score_mean, score_sd, table_n = _alpha_item_moments(x, c, w)
    table = pd.DataFrame(
        {
            "raw_r": raw_r,
            "std_r": std_r,
            "r_cor": r_cor,
            "r_drop": r_drop,
            "alpha_if_deleted": drop_raw,
            "std_alpha_if_deleted": drop_std,
            "mean": item_mean,
            "sd": item_sd,
            "n": table_n,
        },
        index=pd.Index(data.names, name="item"),
    )

    a = tot["alpha"]
    boot = None
    tail = (1 - level) / 2
    if ci == "feldt":
        df1, df2 = n_eff - 1, (n_eff - 1) * (k - 1)
        # special.fdtri is the F quantile function itself (what stats.f.ppf evaluates)
        lo = 1 - (1 - a) * float(special.fdtri(df1, df2, 1 - tail))
        hi = 1 - (1 - a) * float(special.fdtri(df1, df2, tail))
    elif ci == "duhachek":
        z = stats.norm.ppf(1 - tail)
        lo, hi = a - z * ase, a + z * ase
    else:
        if n_boot < 2:
            raise DataError("alpha: n_boot must be at least 2", value=n_boot)
        boot = _bootstrap_alpha(x, w, n_boot, np.random.default_rng(seed))
        good = boot[np.isfinite(boot)]
        lo, hi = np.quantile(good, [tail, 1 - tail])
    return AlphaResult(
        alpha=a,
        std_alpha=tot["std_alpha"],
        g6=tot["g6"],
        average_r=tot["average_r"],
        median_r=tot["median_r"],
        signal_noise=tot["signal_noise"],
        ase=ase,
        ci_low=float(lo),
        ci_high=float(hi),
        ci_method=ci,
        ci_level=level,
        mean=score_mean,
        sd=score_sd,
        n_obs=int(n),
        n_eff=n_eff,
        n_items=int(k),
        problems="; ".join(problems),
        items=table,
        boot=boot,
    )


# ---------------------------------------------------------------------------------------------
# KMO and Bartlett
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KMOResult(Result):
    """Kaiser-Meyer-Olkin measure of sampling adequacy (see :func:`kmo`)."""

    overall: float
    n_items: int
    per_item: pd.Series = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Per-item MSA with the overall value in a last row named ``overall``."""
        out = self.per_item.to_frame("msa")
        out.loc["overall"] = self.overall
        return out


def _kmo_from_corr(r: np.ndarray) -> tuple[float, np.ndarray]:
    """Overall and per-item MSA from a correlation matrix (psych::KMO).

    Partial correlations come from the inverse: ``q_ij = -R^ij / sqrt(R^ii R^jj)``; psych uses
    ``cov2cor(R^-1)`` whose off-diagonal squares are the same.
    """
    check_nonsingular(r, "kmo")
    inv = np.linalg.inv(r)
    d = np.diag(inv)
    if np.any(d <= 0) or not np.all(np.isfinite(inv)):
        raise DataError("kmo: the correlation matrix is not positive definite")
    q = inv / np.sqrt(np.outer(d, d))
    np.fill_diagonal(q, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2 = r0**2
    q2 = q**2
    overall = r2.sum() / (r2.sum() + q2.sum())
    per = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return float(overall), per


def kmo(items: pd.DataFrame) -> KMOResult:
    """Kaiser-Meyer-Olkin measure of sampling adequacy, overall and per item.

    Parameters
    ----------
    items
        Wide table, one numeric column per item.

    Returns
    -------
    KMOResult
        ``overall`` and ``per_item`` (a Series indexed by item).

    Notes
    -----
    With R the pairwise Pearson correlation matrix (``cor(x, use = "pairwise")``, as psych) and
    Q the anti-image (partial) correlations ``-R^ij/sqrt(R^ii R^jj)``:
    ``MSA = sum_{i!=j} r_ij^2 / (sum_{i!=j} r_ij^2 + sum_{i!=j} q_ij^2)``; the per-item MSA uses
    the sums over column i only. A singular R raises :class:`DataError` (psych silently
    substitutes R for its inverse).

    References
    ----------
    Kaiser, H. F. (1970). A second generation little jiffy. *Psychometrika*, 35(4), 401-415.
    Kaiser, H. F., & Rice, J. (1974). Little jiffy, mark IV. *Educational and Psychological
    Measurement*, 34(1), 111-117.

    Examples
    --------
    >>> # R equivalent: psych::KMO(cor(df, use = "pairwise"))
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=200)
    >>> df = pd.DataFrame({f"q{i}": f + rng.normal(size=200) for i in range(4)})
    >>> res = kmo(df)
    >>> 0.5 < res.overall < 1, list(res.per_item.index)
    (True, ['q0', 'q1', 'q2', 'q3'])

    Validated against: R 4.2.2 psych 2.2.9 ``KMO`` (tests/test_reliability.py).
    """
    data = as_items(items, "kmo")
    r = pairwise_cor(data.values)
    check_corr_usable(r, data.names, "kmo")
    overall, per = _kmo_from_corr(r)
    return KMOResult(
        overall=overall,
        n_items=len(data.names),
        per_item=pd.Series(per, index=pd.Index(data.names, name="item"), name="msa"),
    )


@dataclass(frozen=True)
class BartlettResult(Result):
    """Bartlett's test of sphericity (see :func:`bartlett`)."""

    statistic: float
    df: int
    pvalue: float
    n_obs: int
    n_items: int


def _bartlett_from_corr(r: np.ndarray, n: float) -> tuple[float, int, float]:
    """Bartlett's chi-square, df and p from a correlation matrix and n (psych::cortest.bartlett)."""
    p = r.shape[0]
    check_nonsingular(r, "bartlett")
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0 or not np.isfinite(logdet):
        raise DataError("bartlett: the correlation matrix is singular or not positive definite")
    stat = -((n - 1) - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return float(stat), int(df), float(stats.chi2.sf(stat, df))


def bartlett(items: pd.DataFrame) -> BartlettResult:
    """Bartlett's test that the item correlation matrix is an identity matrix.

    Parameters
    ----------
    items
        Wide table, one numeric column per item.

    Returns
    -------
    BartlettResult
        ``statistic`` (chi-square), ``df``, ``pvalue``, ``n_obs``, ``n_items``.

    Notes
    -----
    ``chi2 = -((n - 1) - (2p + 5)/6) log|R|`` on ``p(p-1)/2`` df, with R the pairwise Pearson
    correlation matrix and n the number of rows with at least one answer (psych passes
    ``nrow(x)``; the two agree unless a row is empty).

    References
    ----------
    Bartlett, M. S. (1951). The effect of standardization on a chi square approximation in
    factor analysis. *Biometrika*, 38(3/4), 337-344.

    Examples
    --------
    >>> # R equivalent: psych::cortest.bartlett(cor(df, use = "pairwise"), n = nrow(df))
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=200)
    >>> df = pd.DataFrame({f"q{i}": f + rng.normal(size=200) for i in range(4)})
    >>> res = bartlett(df)
    >>> res.df, res.pvalue < 1e-10
    (6, True)

    Validated against: R 4.2.2 psych 2.2.9 ``cortest.bartlett`` (tests/test_reliability.py).
    """
    data = as_items(items, "bartlett")
    r = pairwise_cor(data.values)
    check_corr_usable(r, data.names, "bartlett")
    n = data.values.shape[0]
    stat, df, p = _bartlett_from_corr(r, n)
    return BartlettResult(statistic=stat, df=df, pvalue=p, n_obs=n, n_items=len(data.names))


# ---------------------------------------------------------------------------------------------
# split half
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SplitHalfResult(Result):
    """Split-half reliabilities (see :func:`split_half`)."""

    max_split: float
    min_split: float
    mean_split: float
    n_splits: int
    exhaustive: bool
    alpha: float
    lambda2: float
    lambda6: float
    average_r: float
    median_r: float
    variant: str
    max_split_a: tuple[str, ...]
    max_split_b: tuple[str, ...]
    min_split_a: tuple[str, ...]
    min_split_b: tuple[str, ...]

    def scalars(self) -> dict[str, object]:
        out = super().scalars()
        for key in ("max_split_a", "max_split_b", "min_split_a", "min_split_b"):
            out[key] = " ".join(getattr(self, key))
        return out


def _split_coefficients(r: np.ndarray, a_sets: np.ndarray) -> np.ndarray:
    """``4 sum(R[A,B]) / sum(R)`` for each row of a boolean (splits x k) membership matrix."""
    out = np.empty(a_sets.shape[0])
    total = r.sum()
    for start in range(0, a_sets.shape[0], 100_000):
        a = a_sets[start : start + 100_000].astype(float)
        out[start : start + a.shape[0]] = 4.0 * np.sum((a @ r) * (1.0 - a), axis=1) / total
    return out


def _split_half_from_corr(
    r: np.ndarray,
    *,
    variant: str = "all",
    max_splits: int = 1_000_000,
    n_sample: int = 10_000,
    rng: np.random.Generator | None = None,
) -> dict[str, object]:
    k = r.shape[0]
    m = k // 2
    sum_r = r.sum()
    off = r.copy()
    np.fill_diagonal(off, 0.0)
    sum_off = sum_r - np.trace(r)
    out: dict[str, object] = {
        "alpha": float(sum_off / sum_r * k / (k - 1)),
        "lambda6": float((sum_off + smc(r).sum()) / sum_r),
        "lambda2": float((sum_off + math.sqrt((off**2).sum() * k / (k - 1))) / sum_r),
        "average_r": float(r[np.tril_indices(k, -1)].mean()),
        "median_r": float(np.median(r[np.tril_indices(k, -1)])),
    }
    if variant == "psych":
        count = round(math.comb(k, m)) / 2
        n_take = math.ceil(count)
        if count > 10000:
            raise DataError(
                f"split_half: psych samples splits at random for {k} items; "
                "use variant='all' instead"
            )
        combos = np.array(list(itertools.islice(itertools.combinations(range(k), m), n_take)))
        divisor = count
        exhaustive = False
    else:
        if k % 2 == 0:
            # item 0 in A: every unordered split into two halves exactly once
            n_all = math.comb(k - 1, m - 1)
            gen = ((0, *c) for c in itertools.combinations(range(1, k), m - 1))
        else:
            n_all = math.comb(k, m)
            gen = itertools.combinations(range(k), m)
        if n_all <= max_splits:
            combos = np.array(list(gen))
            exhaustive = True
        else:
            rng = rng or np.random.default_rng()
            combos = np.sort(
                np.argsort(rng.random((n_sample, k)), axis=1)[:, :m], axis=1
            )
            exhaustive = False
        divisor = combos.shape[0]
    member = np.zeros((combos.shape[0], k), dtype=bool)
    np.put_along_axis(member, combos, True, axis=1)
    rab = _split_coefficients(r, member)
    imax = int(np.argmax(rab))
    imin = int(np.argmin(rab))
    out.update(
        max_split=float(rab[imax]),
        min_split=float(rab[imin]),
        mean_split=float(rab.sum() / divisor),
        n_splits=int(combos.shape[0]),
        exhaustive=exhaustive,
        max_member=member[imax],
        min_member=member[imin],
    )
    return out


def split_half(
    items: pd.DataFrame,
    *,
    variant: str = "all",
    max_splits: int = 1_000_000,
    n_sample: int = 10_000,
    seed: int | np.random.Generator | None = None,
) -> SplitHalfResult:
    """Split-half reliabilities over the splits of the items into two halves.

    Parameters
    ----------
    items
        Wide table, one numeric column per item, already reverse-coded.
    variant
        ``"all"``: every distinct split into floor(k/2) and ceil(k/2) items (``n_sample``
        random splits, as psych, when there are more than ``max_splits``; then
        ``exhaustive`` is False). ``"psych"``: psych::splitHalf's enumeration, the
        first ``ceil(choose(k, floor(k/2))/2)`` combinations in lexicographic order with the
        mean divided by ``choose(k, floor(k/2))/2``, which reproduces psych's numbers but misses
        splits when k is odd.
    max_splits, n_sample, seed
        Cap on enumerated splits for ``"all"``, the number of random splits beyond it and the
        seed for that sampling.

    Returns
    -------
    SplitHalfResult
        ``max_split`` (Guttman's lambda 4), ``min_split`` (Revelle's beta), ``mean_split``,
        ``n_splits``, ``exhaustive``, ``alpha`` (standardised), ``lambda2``, ``lambda6``,
        ``average_r``, ``median_r`` and the item sets of the best and worst split.

    Notes
    -----
    For a split (A, B) of the items, with R = cov2cor(pairwise covariances) as in psych,
    ``r_AB = 4 * 1_A' R 1_B / 1'R1`` (the Spearman-Brown-free split-half coefficient of a
    standardised sum). lambda2 = (S_off + sqrt(k/(k-1) sum_{i!=j} r_ij^2)) / 1'R1 and
    lambda6 = (S_off + sum smc)/1'R1 with S_off the sum of off-diagonal r.

    References
    ----------
    Guttman, L. (1945). A basis for analyzing test-retest reliability. *Psychometrika*, 10(4),
    255-282.
    Revelle, W. (1979). Hierarchical cluster analysis and the internal structure of tests.
    *Multivariate Behavioral Research*, 14(1), 57-74.

    Examples
    --------
    >>> # R equivalent: psych::splitHalf(df, check.keys = FALSE)
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=300)
    >>> df = pd.DataFrame({f"q{i}": f + rng.normal(size=300) for i in range(5)})
    >>> res = split_half(df)
    >>> res.n_splits, res.min_split <= res.mean_split <= res.max_split
    (10, True)

    Validated against: R 4.2.2 psych 2.2.9 ``splitHalf`` (variant "psych") and the exhaustive
    enumeration in the shared reference (tests/test_reliability.py).
    """
    check_option(variant, "variant", "split_half", ("all", "psych"))
    data = as_items(items, "split_half")
    c = pairwise_cov(data.values)
    check_corr_usable(c, data.names, "split_half")
    r = cov2cor(c)
    res = _split_half_from_corr(
        r, variant=variant, max_splits=max_splits, n_sample=n_sample,
        rng=np.random.default_rng(seed)
    )
    names = np.array(data.names)
    mx, mn = res.pop("max_member"), res.pop("min_member")
    return SplitHalfResult(
        variant=variant,
        max_split_a=tuple(names[mx]),
        max_split_b=tuple(names[~mx]),
        min_split_a=tuple(names[mn]),
        min_split_b=tuple(names[~mn]),
        **res,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------------------------------------
# omega
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OmegaResult(Result):
    """McDonald's omega from a Schmid-Leiman solution (see :func:`omega`)."""

    omega_h: float
    omega_total: float
    omega_limit: float
    alpha: float
    g6: float
    ecv: float
    n_factors: int
    n_obs: int
    n_items: int
    unstable: bool
    problems: str
    schmid_leiman: pd.DataFrame = field(repr=False)
    group: pd.DataFrame = field(repr=False)


def _schmid(r: np.ndarray, nf: int, n_obs: float | None, method: str) -> dict[str, object]:
    """psych::schmid: varimax EFA -> oblimin -> higher-order g from Phi -> SL loadings."""
    from .factor import _efa_from_corr, _oblimin

    problems: list[str] = []
    k = r.shape[0]
    dof = k * (k - 1) / 2 - k * nf + nf * (nf - 1) / 2
    if dof < 0:
        problems.append(
            f"{nf} factors for {k} items leave negative degrees of freedom ({dof:g}): "
            "the factor solution is not unique"
        )
    fa1 = _efa_from_corr(r, n_obs, nf, method, "varimax" if nf > 1 else "none")
    if not fa1["converged"]:
        problems.append("the factor extraction did not converge")
    if fa1["heywood"]:
        problems.append("Heywood case in the factor extraction (a uniqueness at its bound or communality > 1)")
    orth = np.asarray(fa1["loadings"])
    if nf == 1:
        fload = orth
        gload = np.array([1.0])
    else:
        fload, phi, ok = _oblimin(orth)
        if not ok:
            problems.append("the oblimin rotation did not converge in 1000 iterations")
        if nf > 2:
            gfa = _efa_from_corr(phi, None, 1, method, "none")
            if gfa["heywood"]:
                problems.append("Heywood case in the higher-order factor (g loading >= 1)")
            gload = np.asarray(gfa["loadings"])[:, 0]
        else:
            g = math.sqrt(abs(phi[0, 1]))
            gload = np.array([g, math.copysign(g, phi[0, 1])])
            problems.append("two group factors: g loadings set equal (psych option 'equal')")
    gprim = fload @ gload
    h2 = np.sum(orth**2, axis=1)
    u2 = np.diag(r) - h2
    uniq2 = fload**2 * (1.0 - gload[None, :] ** 2)
    if np.any(uniq2 < -1e-12):
        problems.append("a group loading is undefined (g loading above 1), set to 0")
    sm = np.sign(fload) * np.sqrt(np.clip(uniq2, 0.0, None))
    return {"g": gprim, "sm": sm, "h2": h2, "u2": u2, "problems": problems}


def _omega_from_corr(
    r: np.ndarray, n_obs: float | None, n_factors: int, method: str = "minres"
) -> dict[str, object]:
    sl = _schmid(r, n_factors, n_obs, method)
    g = np.asarray(sl["g"]).copy()
    sm = np.asarray(sl["sm"]).copy()
    m = r.copy()
    key = np.sign(g)
    key[key == 0] = 1
    if np.any(key < 0):  # psych flips items with negative g loadings
        m = m * np.outer(key, key)
        g = g * key
        sm = sm * key[:, None]
    k = r.shape[0]
    vt = m.sum()
    tr = np.trace(m)
    u2 = np.asarray(sl["u2"])
    gsq = g.sum() ** 2
    om_tot = (vt - u2.sum()) / vt
    ev = np.concatenate([[np.sum(g**2)], np.sum(sm**2, axis=0)])
    sub = np.argmax(np.abs(sm), axis=1)
    rows = []
    grs = 0.0
    for grp in range(n_factors):
        gi = np.where(sub == grp)[0]
        if gi.size == 0:
            rows.append((math.nan, math.nan, math.nan))
            continue
        vgr = m[np.ix_(gi, gi)].sum()
        gr = sm[gi, grp].sum()
        grs += gr**2
        gen = g[gi].sum() ** 2
        rows.append(((gr**2 + gen) / vgr, gen / vgr, gr**2 / vgr))
    rows.insert(0, (om_tot, gsq / vt, grs / vt))
    return {
        "omega_h": gsq / vt,
        "omega_total": om_tot,
        "omega_limit": gsq / (vt - u2.sum()),
        "alpha": (vt - tr) / vt * k / (k - 1),
        "g6": (vt + smc(m).sum() - tr) / vt,
        "ecv": ev[0] / ev.sum(),
        "g": g,
        "sm": sm,
        "h2": np.asarray(sl["h2"]),
        "u2": u2,
        "group": np.array(rows),
        "problems": sl["problems"],
        "key": key,
    }


def omega(items: pd.DataFrame, *, n_factors: int = 3, method: str = "minres") -> OmegaResult:
    """McDonald's omega (hierarchical and total) from a Schmid-Leiman transformation.

    Parameters
    ----------
    items
        Wide table, one numeric column per item, already reverse-coded.
    n_factors
        Number of group factors (psych's default 3). With 1 the result is the one-factor
        omega total (omega_h is then not meaningful).
    method
        Extraction: ``"minres"`` (default), ``"ml"`` or ``"pa"``.

    Returns
    -------
    OmegaResult
        ``omega_h``, ``omega_total``, ``omega_limit`` ((sum g)^2 / (V - sum u2), the limit of
        omega_h for an infinitely long test), ``alpha`` (standardised, from the pairwise correlations), ``g6``, ``ecv``,
        ``unstable`` with the ``problems`` found, ``schmid_leiman`` (g and group loadings, h2,
        u2, p2 per item) and ``group`` (omega total/general/group per factor).

    Notes
    -----
    As psych::omega: R = ``cor(x, use = "pairwise")``; an EFA with n_factors (varimax), then
    oblimin (GPArotation, gamma 0); g loadings of the group factors from a one-factor fit of
    their correlation matrix Phi (for two factors both set to sqrt(phi_12)); SL loadings
    ``g_i = sum_f P_if g_f`` and ``s_if = P_if sqrt(1 - g_f^2)``; h2 from the orthogonal
    solution and u2 = 1 - h2. With V = 1'R1 (items with negative g loadings reflected):
    ``omega_h = (sum g)^2 / V`` and ``omega_total = 1 - sum u2 / V``. Both use the observed
    V, so omega_h can slightly exceed omega_total for one factor; the textbook
    ``(sum l)^2/((sum l)^2 + sum(1 - l^2))`` differs in the 4th decimal.

    Three group factors from four or five items are barely identified; Heywood cases and a
    non-converged rotation set ``unstable=True`` and are listed in ``problems``
    rather than returned silently.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Mahwah, NJ: Erlbaum.
    Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor solutions.
    *Psychometrika*, 22(1), 53-61.
    Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha, Revelle's beta,
    and McDonald's omega_H. *Psychometrika*, 70(1), 123-133.

    Examples
    --------
    >>> # R equivalent: psych::omega(df, nfactors = 1, plot = FALSE)
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(4)
    >>> f = rng.normal(size=500)
    >>> df = pd.DataFrame({f"q{i}": f + rng.normal(size=500) for i in range(4)})
    >>> res = omega(df, n_factors=1)
    >>> round(res.omega_total, 2), res.unstable
    (0.8, False)

    Validated against: R 4.2.2 psych 2.2.9 ``omega`` (tests/test_reliability.py).
    """
    check_option(method, "method", "omega", ("minres", "ml", "pa"))
    data = as_items(items, "omega", min_items=3 if n_factors > 1 else 2)
    k = len(data.names)
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 1 or n_factors >= k:
        raise DataError(
            f"omega: n_factors must be an integer from 1 to {k - 1} for {k} items",
            value=n_factors,
        )
    x = data.values
    r = pairwise_cor(x)
    check_corr_usable(r, data.names, "omega")
    res = _omega_from_corr(r, x.shape[0], int(n_factors), method)
    names = [f"F{i + 1}*" for i in range(n_factors)]
    idx = pd.Index(
        [n if s > 0 else f"{n}-" for n, s in zip(data.names, res["key"], strict=True)],
        name="item",
    )
    h2 = res["h2"]
    sl = pd.DataFrame(res["sm"], index=idx, columns=names)
    sl.insert(0, "g", res["g"])
    sl["h2"] = h2
    sl["u2"] = res["u2"]
    sl["p2"] = res["g"] ** 2 / h2
    grp = pd.DataFrame(
        res["group"], index=pd.Index(["g", *names], name="factor"),
        columns=["total", "general", "group"],
    )
    problems = list(res["problems"])
    unstable = any("two group factors" not in p for p in problems)
    return OmegaResult(
        omega_h=float(res["omega_h"]),
        omega_total=float(res["omega_total"]),
        omega_limit=float(res["omega_limit"]),
        alpha=float(res["alpha"]),
        g6=float(res["g6"]),
        ecv=float(res["ecv"]),
        n_factors=int(n_factors),
        n_obs=int(x.shape[0]),
        n_items=k,
        unstable=unstable,
        problems="; ".join(problems),
        schmid_leiman=sl,
        group=grp,
    )


# ---------------------------------------------------------------------------------------------
# polychoric correlations and ordinal alpha
# ---------------------------------------------------------------------------------------------

_GL_X, _GL_W = np.polynomial.legendre.leggauss(40)
_GL_U = (_GL_X + 1.0) / 2.0  # nodes on (0, 1)
_GL_WU = _GL_W / 2.0


def _bvn_lower(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """Bivariate standard normal CDF P(X <= h, Y <= k; rho) for arrays h, k (inf allowed).

    |rho| < 0.925: Sheppard's formula ``Phi(h)Phi(k) + 1/(2 pi) int_0^asin(rho) exp(-(h^2 + k^2
    - 2hk sin t) / (2 cos^2 t)) dt``; otherwise Plackett's ``Phi(min(h, k)) - int_rho^1
    phi2(h, k; t) dt`` with t = 1 - v^2 (negative rho via ``Phi(h) - Phi2(h, -k, -rho)``).
    Both integrals by 40-point Gauss-Legendre (accurate to about 1e-14).
    """
    h = np.asarray(h, dtype=float)
    k = np.asarray(k, dtype=float)
    h, k = np.broadcast_arrays(h, k)
    out = np.empty(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    # infinite limits
    ninf = ~fin
    if np.any(ninf):
        hh, kk = h[ninf], k[ninf]
        val = np.where(
            (hh == -np.inf) | (kk == -np.inf),
            0.0,
            np.where(hh == np.inf, special.ndtr(kk), special.ndtr(hh)),
        )
        out[ninf] = val
    if not np.any(fin):
        return out
    hf, kf = h[fin], k[fin]
    if abs(rho) < 0.925:
        a = math.asin(rho)
        s = np.sin(a * _GL_U)[:, None]
        hs = (hf * hf + kf * kf) / 2.0
        hk = hf * kf
        integ = np.sum(_GL_WU[:, None] * np.exp((hk * s - hs) / (1.0 - s * s)), axis=0)
        out[fin] = special.ndtr(hf) * special.ndtr(kf) + a * integ / (2 * math.pi)
        return out
    if rho < 0:
        out[fin] = special.ndtr(hf) - _bvn_lower(hf, -kf, -rho)
        return out
    if rho >= 1.0:
        out[fin] = special.ndtr(np.minimum(hf, kf))
        return out
    vmax = math.sqrt(1.0 - rho)
    v = (vmax * _GL_U)[:, None]
    t = 1.0 - v * v
    expo = -(hf * hf - 2 * t * hf * kf + kf * kf) / (2 * (1 - t * t))
    integ = np.sum(_GL_WU[:, None] * np.exp(expo) / (math.pi * np.sqrt(2 - v * v)), axis=0) * vmax
    out[fin] = special.ndtr(np.minimum(hf, kf)) - integ
    return out


def _cell_probs(rho: float, rc: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """Probabilities of the (len(rc)+1) x (len(cc)+1) cells cut at thresholds rc, cc."""
    rcut = np.concatenate([[-np.inf], rc, [np.inf]])
    ccut = np.concatenate([[-np.inf], cc, [np.inf]])
    f = _bvn_lower(rcut[:, None], ccut[None, :], rho)
    return f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]


def _polyc(tab: np.ndarray, rc: np.ndarray, cc: np.ndarray) -> tuple[float, float]:
    """ML polychoric r for a proportion table given thresholds (psych's polyF, optimize)."""

    def negll(rho: float) -> float:
        p = _cell_probs(rho, rc, cc)
        ok = (p > 0) & np.isfinite(p)
        with np.errstate(divide="ignore"):
            return float(-np.sum(tab[ok] * np.log(p[ok])))

    res = optimize.minimize_scalar(negll, bounds=(-1.0, 1.0), method="bounded",
                                   options={"xatol": 1e-10})
    return float(res.x), float(res.fun)


@dataclass(frozen=True)
class PolychoricResult(Result):
    """Polychoric correlations and thresholds (see :func:`polychoric`)."""

    n_obs: int
    n_items: int
    n_categories: int
    smoothed: bool
    global_thresholds: bool
    corrected_cells: int
    rho: pd.DataFrame = field(repr=False)
    tau: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The correlation matrix."""
        return self.rho


def polychoric(items: pd.DataFrame, *, correct: float = 0.5, smooth: bool = True,
               max_categories: int = 8) -> PolychoricResult:
    """Polychoric correlations of ordinal items, as ``psych::polychoric`` (two-step).

    Parameters
    ----------
    items
        Wide table of integer-coded ordinal items (e.g. 1-5), missing values allowed.
    correct
        Continuity correction for empty cells, used only when thresholds are estimated per pair
        (items with different numbers of categories), as in psych.
    smooth
        Repair a non-positive-definite matrix with psych's ``cor.smooth``.
    max_categories
        More response categories than this raises :class:`DataError` (psych's ``max.cat``).

    Returns
    -------
    PolychoricResult
        ``rho`` (DataFrame), ``tau`` (thresholds, items x cut points), ``smoothed``,
        ``global_thresholds``, ``corrected_cells``, ``n_obs``, ``n_items``.

    Notes
    -----
    psych's defaults: categories are shifted so that the smallest code over all items is 1;
    thresholds are ``qnorm`` of each item's cumulative proportions over its non-missing values
    ("global" thresholds, ``global = TRUE``); each correlation maximises the bivariate-normal
    multinomial likelihood ``sum p_ab log P_ab(rho)`` over pairwise-complete rows with the
    thresholds held fixed; cells with P = 0 are ignored. When items have different numbers of
    categories psych switches to per-pair thresholds from the pair's table with zero cells set
    to ``correct / N`` (we do the same and count those cells). Bivariate normal probabilities
    are computed by Gauss-Legendre quadrature (psych uses ``mnormt::sadmvn`` with absolute error
    1e-6 and ``optimize`` with tolerance 1.2e-4, so psych's values carry errors of that size).

    References
    ----------
    Olsson, U. (1979). Maximum likelihood estimation of the polychoric correlation coefficient.
    *Psychometrika*, 44(4), 443-460.
    Drezner, Z., & Wesolowsky, G. O. (1990). On the computation of the bivariate normal
    integral. *Journal of Statistical Computation and Simulation*, 35(1-2), 101-107.

    Examples
    --------
    >>> # R equivalent: psych::polychoric(df)
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(6)
    >>> z = rng.multivariate_normal([0, 0], [[1, .5], [.5, 1]], size=2000)
    >>> df = pd.DataFrame(np.digitize(z, [-1, 0, 1]) + 1, columns=["a", "b"])
    >>> res = polychoric(df)
    >>> bool(abs(res.rho.loc["a", "b"] - 0.5) < 0.05)
    True

    Validated against: R 4.2.2 psych 2.2.9 ``polychoric`` (tests/test_reliability.py).
    """
    data = as_items(items, "polychoric")
    x = data.values
    obs = x[~np.isnan(x)]
    if np.any(obs != np.round(obs)):
        col = data.names[int(np.where(np.any(x != np.round(x), axis=0) & np.any(~np.isnan(x), axis=0))[0][0])]
        raise DataError("polychoric: item has non-integer values", column=col,
                        expected="integer category codes")
    xmin = np.nanmin(x)
    xi = x - xmin + 1
    nvalues = int(np.nanmax(xi))
    if nvalues > max_categories:
        raise DataError(
            f"polychoric: {nvalues} categories exceed max_categories={max_categories}; "
            "polychoric correlations are probably not needed"
        )
    k = x.shape[1]
    xmax = np.nanmax(xi, axis=0)
    use_global = bool(np.all(xmax == xmax[0]))
    tau = np.full((k, nvalues - 1), np.nan)
    for j in range(k):
        col = xi[~np.isnan(xi[:, j]), j].astype(int)
        freq = np.bincount(col, minlength=nvalues + 1)[1:] / col.size
        tau[j] = special.ndtri(np.cumsum(freq)[:-1])
    rho = np.eye(k)
    fixed = 0
    for i in range(1, k):
        for j in range(i):
            both = ~np.isnan(xi[:, i]) & ~np.isnan(xi[:, j])
            if not np.any(both):
                raise DataError(
                    f"polychoric: items {data.names[i]!r} and {data.names[j]!r} have no rows in common"
                )
            a = xi[both, i].astype(int) - 1
            b = xi[both, j].astype(int) - 1
            tab = np.zeros((nvalues, nvalues))
            np.add.at(tab, (a, b), 1.0)
            tot = tab.sum()
            tab /= tot
            if use_global:
                r_ij, _ = _polyc(tab, tau[i], tau[j])
            else:
                tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
                if min(tab.shape) < 2:
                    raise DataError(
                        f"polychoric: items {data.names[i]!r} and {data.names[j]!r} "
                        "have only one category in common rows"
                    )
                if correct > 0 and np.any(tab == 0):
                    fixed += 1
                    tab[tab == 0] = correct / tot
                rc = special.ndtri(np.cumsum(tab.sum(axis=1))[:-1])
                cc = special.ndtri(np.cumsum(tab.sum(axis=0))[:-1])
                r_ij, _ = _polyc(tab, rc, cc)
            rho[i, j] = rho[j, i] = r_ij
    smoothed = False
    if smooth:
        rho, smoothed = cor_smooth(rho)
    idx = pd.Index(data.names, name="item")
    return PolychoricResult(
        n_obs=int(x.shape[0]),
        n_items=k,
        n_categories=nvalues,
        smoothed=smoothed,
        global_thresholds=use_global,
        corrected_cells=fixed,
        rho=pd.DataFrame(rho, index=idx, columns=data.names),
        tau=pd.DataFrame(tau, index=idx, columns=[str(c) for c in range(1, nvalues)]),
    )


@dataclass(frozen=True)
class OrdinalAlphaResult(Result):
    """Ordinal alpha from polychoric correlations (see :func:`ordinal_alpha`)."""

    alpha: float
    g6: float
    average_r: float
    signal_noise: float
    n_obs: int
    n_items: int
    items: pd.DataFrame = field(repr=False)
    rho: pd.DataFrame = field(repr=False)


def ordinal_alpha(items: pd.DataFrame) -> OrdinalAlphaResult:
    """Ordinal alpha (Zumbo, Gadermann & Zeisser 2007): alpha of the polychoric correlations.

    Parameters
    ----------
    items
        Wide table of integer-coded ordinal items, already reverse-coded.

    Returns
    -------
    OrdinalAlphaResult
        ``alpha`` = k/(k-1) (1 - k / 1'P1) with P the polychoric matrix of :func:`polychoric`,
        ``g6``, ``average_r``, ``signal_noise``, ``items`` (``std_r`` and
        ``alpha_if_deleted``) and ``rho``.

    Notes
    -----
    This is what ``psych::alpha(psych::polychoric(x)$rho)`` returns as raw (= standardised)
    alpha. It estimates the reliability of the latent continuous responses, not of the observed
    sum score; report it next to, not instead of, Cronbach's alpha.

    References
    ----------
    Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients alpha
    and theta for Likert rating scales. *Journal of Modern Applied Statistical Methods*, 6(1),
    21-29.

    Examples
    --------
    >>> # R equivalent: psych::alpha(psych::polychoric(df)$rho)
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> f = rng.normal(size=1000)
    >>> df = pd.DataFrame({f"q{i}": np.digitize(f + rng.normal(size=1000), [-1, 0, 1]) + 1
    ...                    for i in range(4)})
    >>> res = ordinal_alpha(df)
    >>> 0.7 < res.alpha < 0.9
    True

    Validated against: R 4.2.2 psych 2.2.9 ``alpha(polychoric(x)$rho)``
    (tests/reference/reliability.json).
    """
    pc = polychoric(items)
    p = pc.rho.to_numpy()
    k = p.shape[0]
    tot = _alpha_stats(p, p)
    drop = np.full(k, np.nan)
    if k > 2:
        for i in range(k):
            keep = np.arange(k) != i
            drop[i] = _alpha_stats(p[np.ix_(keep, keep)], p[np.ix_(keep, keep)])["alpha"]
    table = pd.DataFrame(
        {"std_r": p.sum(axis=0) / math.sqrt(p.sum()), "alpha_if_deleted": drop},
        index=pc.rho.index,
    )
    return OrdinalAlphaResult(
        alpha=tot["alpha"],
        g6=tot["g6"],
        average_r=tot["average_r"],
        signal_noise=tot["signal_noise"],
        n_obs=pc.n_obs,
        n_items=k,
        items=table,
        rho=pc.rho,
    )
