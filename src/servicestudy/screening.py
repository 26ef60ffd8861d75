"""Screening for careless, fast, duplicated and invalid responses.

:func:`screen` computes the usual indices of careless or insufficient-effort responding for
every respondent and flags those beyond configurable thresholds; it never drops a row.
:func:`apply_exclusions` then applies an explicit rule and returns the kept responses with a
respondent-flow table (received, excluded for each reason, analysed) for the report.

The indices follow the definitions of the R package careless (Yentes & Wilhelm 2018-2023):

========================  ================================================================
column                    definition
========================  ================================================================
``longstring``            longest run of identical consecutive answers (``longstring``)
``longstring_avg``        mean run length (``longstring(avg = TRUE)``)
``irv``                   within-person SD of the answers, divisor k-1 (``irv``)
``mahalanobis_d2``        squared Mahalanobis distance D^2 (``mahad``/``psych::outlier``)
``mahalanobis_p``         upper chi-square p-value of D^2 with df = items answered
``evenodd``               even-odd consistency as careless >= 1.2.0 reports it: minus the
                          Spearman-Brown corrected correlation (higher = more careless)
``psychsyn``              within-person correlation over psychometric synonym pairs
``psychant``              the same over psychometric antonym pairs
========================  ================================================================

plus the response time (``duration_s``, ``seconds_per_item``, ``relative_speed`` = median
duration / own duration, as Leiner's relative speed index), attention checks, exact and near
duplicates and out-of-range codes. Each flag is a boolean column ``flag_<name>``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._results import Result
from .errors import DataError, SchemaError

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_THRESHOLDS",
    "FLAGS",
    "ExclusionResult",
    "ScreeningResult",
    "apply_exclusions",
    "chance_match",
    "default_rule",
    "evenodd",
    "irv",
    "longstring",
    "mahalanobis",
    "psychsyn",
    "screen",
]

#: flag names in the order :func:`apply_exclusions` reports them by default
FLAGS = (
    "empty",
    "screen_out",
    "out_of_range",
    "duplicate",
    "near_duplicate",
    "attention",
    "speeder",
    "fast_items",
    "longstring",
    "irv",
    "evenodd",
    "psychsyn",
    "psychant",
    "mahalanobis",
)

#: a conservative default exclusion rule (each is rarely triggered by attentive respondents)
DEFAULT_RULE = ("empty", "screen_out", "out_of_range", "duplicate", "near_duplicate", "attention", "speeder", "longstring")

DEFAULT_THRESHOLDS: dict[str, Any] = {
    # longest string of identical answers at or above this share of the items answered ...
    "longstring_share": 0.5,
    # ... judged only when at least this share of the items was answered
    "longstring_min_answered": 0.5,
    # within-person SD below this (scale points) is suspiciously flat
    "irv_min": 0.5,
    # Mahalanobis D^2 with chi-square p below this
    "mahalanobis_alpha": 0.001,
    # even-odd consistency (Spearman-Brown r) below this; careless's evenodd above -this
    "evenodd_min": 0.30,
    # psychometric synonyms: pairs correlated above this across the sample
    "psychsyn_critval": 0.60,
    # flag a within-person synonym correlation below this ...
    "psychsyn_min": 0.0,
    # ... only when computed over at least this many answered pairs (few pairs are noise)
    "psychsyn_min_pairs": 5,
    # psychometric antonyms: pairs correlated below minus this across the sample
    "psychant_critval": 0.60,
    # flag a within-person antonym correlation above this
    "psychant_max": 0.0,
    # speeder: duration below this share of the median duration
    "speed_share": 0.4,
    # fewer seconds per item than this
    "seconds_per_item_min": 2.0,
    # near duplicates: same IP, submitted within this many minutes ...
    "near_minutes": 30.0,
    # ... and differing on at most this share of the items
    "near_max_diff_share": 0.1,
    # ignore identical answers to every item (straight lines) when looking for duplicates
    "duplicates_ignore_constant": True,
    # identical answers are a duplicate submission only with evidence: the same respondent id
    # or IP, submission within this many minutes of each other, or a pattern this improbable
    # by chance (Bonferroni over the repeated patterns; see chance_match)
    "duplicate_minutes": 10.0,
    "duplicate_alpha": 0.001,
    # a missing answer to an attention check counts as a failure
    "attention_missing_fails": True,
}


# --- individual indices (plain numpy, one row per respondent) -------------------------


def _matrix(x: pd.DataFrame | np.ndarray) -> np.ndarray:
    if isinstance(x, pd.DataFrame):
        return x.to_numpy(dtype=float, na_value=np.nan)
    a = np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise DataError("screening indices need a 2-D table (rows = respondents)")
    return a


def longstring(x: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    r"""Longest and average run of identical consecutive answers per respondent.

    Parameters
    ----------
    x
        Answers, one row per respondent and one column per item, in questionnaire order
        (DataFrame or array-like); missing answers are NaN.

    Returns
    -------
    pandas.DataFrame
        ``longstring`` (longest run) and ``longstring_avg`` (mean run length), one row per
        respondent, indexed like ``x`` when it is a DataFrame.

    Notes
    -----
    Runs are counted as R's ``rle``: a missing answer breaks a run and is a run of length
    one. With runs of lengths :math:`l_1, \dots, l_m` over :math:`k` items the index is
    :math:`\max_r l_r` and the average is :math:`k / m` (careless
    ``longstring(avg = TRUE)``). Johnson (2005) computed the longest run per response
    option; like careless we take the longest run of any option.

    References
    ----------
    Johnson, J. A. (2005). Ascertaining the validity of individual protocols from web-based
    personality inventories. *Journal of Research in Personality*, 39(1), 103-129.

    Yentes, R. D., & Wilhelm, F. (2023). careless: Procedures for computing indices of
    careless responding. R package version 1.2.2.

    Examples
    --------
    >>> longstring([[1, 1, 1, 2, 2], [1, 2, 3, 4, 5]]).to_numpy().tolist()
    [[3.0, 2.5], [1.0, 1.0]]

    Validated against: an independent loop implementation of R ``rle`` run lengths
    (tests/test_screening.py); careless is not installed with R here.
    """
    a = _matrix(x)
    n, k = a.shape
    if k == 0:
        return pd.DataFrame({"longstring": np.full(n, np.nan), "longstring_avg": np.full(n, np.nan)})
    same = (a[:, 1:] == a[:, :-1])  # NaN compares unequal: a break, as rle
    run = np.ones(n)
    best = np.ones(n)
    for j in range(k - 1):
        run = np.where(same[:, j], run + 1, 1.0)
        best = np.maximum(best, run)
    runs = 1 + np.sum(~same, axis=1)
    index = x.index if isinstance(x, pd.DataFrame) else None
    return pd.DataFrame({"longstring": best, "longstring_avg": k / runs}, index=index)


def irv(x: pd.DataFrame | np.ndarray) -> np.ndarray:
    r"""Intra-individual response variability: the row SD with divisor k-1 (careless ``irv``,
    ``na.rm = TRUE``); NaN with fewer than two answers.

    Parameters
    ----------
    x
        Answers, one row per respondent and one column per item (DataFrame or array-like);
        missing answers are NaN and are skipped.

    Returns
    -------
    numpy.ndarray
        One value per respondent (float; NaN with fewer than two answers).

    Notes
    -----
    :math:`\mathrm{IRV}_i = \sqrt{\sum_j (x_{ij} - \bar x_i)^2 / (k_i - 1)}` over the
    :math:`k_i` items respondent *i* answered: the sample SD (divisor :math:`k_i - 1`), as
    careless ``irv`` (``sd``); Marjanovic et al. (2015) call it the inter-item SD.

    References
    ----------
    Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018). Intra-individual
    response variability as an indicator of insufficient effort responding. *Journal of
    Business and Psychology*, 33(1), 105-121.

    Marjanovic, Z., Holden, R., Struthers, W., Cribbie, R., & Greenglass, E. (2015). The
    inter-item standard deviation (ISD): An index that discriminates between conscientious
    and random responders. *Personality and Individual Differences*, 84, 79-83.

    Examples
    --------
    >>> irv([[1, 2, 3], [4, 4, 4]]).tolist()
    [1.0, 0.0]

    Validated against: Python ``statistics.stdev`` of each row's answers
    (tests/test_screening.py).
    """
    a = _matrix(x)
    cnt = np.sum(~np.isnan(a), axis=1)
    out = np.full(a.shape[0], np.nan)
    ok = cnt >= 2
    if ok.any():
        m = np.nanmean(a[ok], axis=1, keepdims=True)
        out[ok] = np.sqrt(np.nansum((a[ok] - m) ** 2, axis=1) / (cnt[ok] - 1))
    return out


def mahalanobis(x: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    r"""Squared Mahalanobis distance of each row from the item means, with its p-value.

    The means are ``colMeans(na.rm = TRUE)`` and the covariance ``cov(use = "pairwise")`` as
    in ``psych::outlier`` (which careless ``mahad`` calls). A row with missing answers uses
    the sub-vector and sub-matrix of the items it answered, and its chi-square df is the
    number of those items (psych instead drops the missing terms from the quadratic form).
    A singular covariance matrix is pseudo-inverted.

    Parameters
    ----------
    x
        Answers, one row per respondent and one column per item (DataFrame or array-like);
        missing answers are NaN.

    Returns
    -------
    pandas.DataFrame
        ``mahalanobis_d2`` (:math:`D^2`), ``mahalanobis_df`` (items answered) and
        ``mahalanobis_p`` (upper chi-square p), one row per respondent, indexed like ``x``
        when it is a DataFrame. NaN (df 0) for rows with no answers or with fewer than three
        respondents.

    Notes
    -----
    :math:`D^2_i = (x_i - \bar x)^\top S^{-1} (x_i - \bar x)` restricted to the items
    respondent *i* answered, with :math:`S` the pairwise-complete covariance (divisor
    n - 1); :math:`p_i = P(\chi^2_{k_i} > D^2_i)`. Treating :math:`D^2` as chi-square
    assumes multivariate normality, which Likert items only approximate; Meade & Craig
    (2012) use the index as a screen, not a test.

    References
    ----------
    Mahalanobis, P. C. (1936). On the generalized distance in statistics. *Proceedings of the
    National Institute of Sciences of India*, 2(1), 49-55.

    Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data.
    *Psychological Methods*, 17(3), 437-455.

    Examples
    --------
    >>> d = mahalanobis([[1, 2], [2, 1], [3, 3], [2, 2]])
    >>> [round(v, 3) for v in d["mahalanobis_d2"]]
    [2.0, 2.0, 2.0, 0.0]

    Validated against: SciPy ``scipy.spatial.distance.mahalanobis`` and ``scipy.stats.chi2``
    on complete rows, and a direct solve with pandas' pairwise covariance for a row with
    missing answers (tests/test_screening.py).
    """
    from scipy import stats

    from ._matrices import pairwise_cov

    a = _matrix(x)
    n, k = a.shape
    d2 = np.full(n, np.nan)
    df = np.zeros(n, dtype=int)
    if n > 2 and k > 0:
        mu = np.nanmean(a, axis=0)
        cov = pairwise_cov(a)
        obs = ~np.isnan(a)
        for rows in _pattern_rows(obs):  # rows (ascending) sharing one missingness pattern
            cols = np.flatnonzero(obs[rows[0]])
            if cols.size == 0:
                continue
            s = cov[np.ix_(cols, cols)]
            if not np.all(np.isfinite(s)):
                continue
            try:
                inv = np.linalg.inv(s)
                if not np.all(np.isfinite(inv)) or np.linalg.cond(s) > 1e12:
                    raise np.linalg.LinAlgError
            except np.linalg.LinAlgError:
                inv = np.linalg.pinv(s)
            dev = a[np.ix_(rows, cols)] - mu[cols]
            d2[rows] = np.einsum("ij,jk,ik->i", dev, inv, dev)
            df[rows] = cols.size
    with np.errstate(invalid="ignore"):
        pval = np.where(df > 0, stats.chi2.sf(d2, np.maximum(df, 1)), np.nan)
    index = x.index if isinstance(x, pd.DataFrame) else None
    return pd.DataFrame({"mahalanobis_d2": d2, "mahalanobis_df": df, "mahalanobis_p": pval}, index=index)


def _pattern_rows(obs: np.ndarray) -> list[np.ndarray]:
    """The rows of each distinct row of the boolean matrix ``obs``, each in ascending order,
    patterns in the order of ``np.unique(obs, axis=0)``; rows are packed into one integer key
    (sorting 100,000 of those is much faster than sorting rows) when there are at most 64
    columns."""
    k = obs.shape[1]
    if k <= 64:
        key = obs.astype(np.uint64) @ (np.uint64(1) << np.arange(k - 1, -1, -1, dtype=np.uint64))
    else:
        _, key = np.unique(obs, axis=0, return_inverse=True)
        key = key.ravel()
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    return np.split(order, bounds)


def _row_cor(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of two vectors over pairwise-complete entries (R ``cor``); NaN if undefined."""
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 2:
        return math.nan
    a, b = a[ok], b[ok]
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float(da @ da) * float(db @ db))
    return float(da @ db) / den if den > 0 else math.nan


def _row_cor_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_row_cor` of each row of ``a`` with the same row of ``b``, bit for bit.

    Rows with fewer than 8 pairwise-complete entries are done at once with sequential sums,
    which is how numpy's mean and dot add up vectors that short (checked in the tests); longer
    rows, which numpy sums pairwise and BLAS in SIMD lanes, go through :func:`_row_cor`.
    """
    n = a.shape[0]
    ok = ~(np.isnan(a) | np.isnan(b))
    cnt = ok.sum(axis=1)
    out = np.full(n, np.nan)
    short = np.flatnonzero((cnt >= 2) & (cnt < 8))
    if short.size:
        x, y, o, c = a[short], b[short], ok[short], cnt[short]

        def total(v: np.ndarray) -> np.ndarray:
            acc = np.zeros(len(v))
            for j in range(v.shape[1]):
                acc = np.where(o[:, j], acc + v[:, j], acc)
            return acc

        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            dx = np.where(o, x - (total(x) / c)[:, None], 0.0)
            dy = np.where(o, y - (total(y) / c)[:, None], 0.0)
            den = np.sqrt(total(dx * dx) * total(dy * dy))
            out[short] = np.where(den > 0, total(dx * dy) / den, np.nan)
    for i in np.flatnonzero(cnt >= 8):
        out[i] = _row_cor(a[i], b[i])
    return out


def evenodd(x: pd.DataFrame | np.ndarray, factors: Sequence[int]) -> np.ndarray:
    r"""Even-odd consistency as R careless >= 1.2.0 ``evenodd(x, factors)`` returns it.

    ``factors`` gives the number of consecutive columns of each scale. Within a person, the
    mean of each scale's even-numbered items (2nd, 4th, ...) and of its odd-numbered items are
    correlated across scales (pairwise complete), the correlation is Spearman-Brown
    corrected, ``2r / (1 + r)``, bounded below by -1, and **negated** (careless 1.2.0 changed
    the sign so that higher means more careless; Johnson's 2005 coefficient is minus this).
    Items should be keyed in the same direction (reverse-coded).

    Parameters
    ----------
    x
        Keyed answers, one row per respondent and one column per item, the items of each
        scale in consecutive columns (DataFrame or array-like); missing answers are NaN.
    factors
        Number of items of each scale, in column order; must add up to the number of columns.

    Returns
    -------
    numpy.ndarray
        One value per respondent in [-1, 1]; lower is more consistent. NaN when the
        correlation is undefined (fewer than two scales with both halves, or no variance).

    Raises
    ------
    DataError
        If ``factors`` does not add up to the number of columns or has a size below 1.

    Notes
    -----
    With :math:`r_i` the Pearson correlation of respondent *i*'s even-half and odd-half
    scale means, the value is :math:`-\max(2 r_i / (1 + r_i), -1)` (careless >= 1.2.0);
    Johnson (2005) reports :math:`+2r/(1+r)`. A one-item scale has no even half and so
    does not enter the correlation.

    References
    ----------
    Jackson, D. N. (1976). *The appraisal of personal reliability*. Paper presented at the
    meeting of the Society of Multivariate Experimental Psychology, University Park, PA.

    Johnson, J. A. (2005). Ascertaining the validity of individual protocols from web-based
    personality inventories. *Journal of Research in Personality*, 39(1), 103-129.

    Yentes, R. D., & Wilhelm, F. (2023). careless: Procedures for computing indices of
    careless responding. R package version 1.2.2.

    Examples
    --------
    >>> evenodd([[1, 1, 3, 3, 5, 5], [1, 5, 5, 1, 3, 3]], [2, 2, 2]).tolist()
    [-1.0, 1.0]

    Validated against: an independent loop implementation of careless 1.2.2's definition
    (tests/test_screening.py); careless is not installed with R here.
    """
    a = _matrix(x)
    if sum(factors) != a.shape[1] or any(f < 1 for f in factors):
        raise DataError(f"evenodd: factors {list(factors)} do not add up to {a.shape[1]} columns")
    n = a.shape[0]
    even = np.full((n, len(factors)), np.nan)
    odd = np.full((n, len(factors)), np.nan)
    start = 0
    with np.errstate(invalid="ignore"), _quiet():
        for j, f in enumerate(factors):
            block = a[:, start : start + f]
            if f >= 2:
                even[:, j] = np.nanmean(block[:, 1::2], axis=1)
            odd[:, j] = np.nanmean(block[:, 0::2], axis=1)
            start += f
    r = _row_cor_rows(even, odd)
    with np.errstate(invalid="ignore", divide="ignore"):
        sb = np.where(r != -1, 2 * r / (1 + r), -1.0)
    return np.where(np.isnan(r), np.nan, -np.maximum(sb, -1.0))


class _quiet:
    """Silence numpy's 'Mean of empty slice' RuntimeWarning (an all-missing half is NaN)."""

    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


def synonym_pairs(x: pd.DataFrame | np.ndarray, critval: float = 0.60, *, anto: bool = False) -> list[tuple[int, int]]:
    """Item pairs ``(i, j)``, ``i > j``, whose pairwise-complete correlation across the sample
    exceeds ``critval`` (synonyms) or is below ``-critval`` (antonyms).

    Parameters
    ----------
    x
        Answers, one row per respondent and one column per item (DataFrame or array-like);
        missing answers are NaN.
    critval
        Correlation threshold; its absolute value is used. Default 0.60 (careless's default).
    anto
        Look for antonyms (correlation below ``-critval``) instead of synonyms.

    Returns
    -------
    list of tuple of int
        Column positions ``(i, j)`` with ``i > j``, ordered by ``j`` then ``i`` (the order of
        the lower triangle read column by column, as careless).

    Notes
    -----
    The correlation is Pearson's r over pairwise-complete cases (R
    ``cor(use = "pairwise.complete.obs")``); a pair is kept when :math:`r_{ij} > c`
    (synonyms) or :math:`r_{ij} < -c` (antonyms), strictly, with :math:`c = |critval|`.

    References
    ----------
    Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data.
    *Psychological Methods*, 17(3), 437-455.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, 5], [2, 2, 4], [3, 3, 3], [4, 5, 1], [5, 4, 2]], dtype=float)
    >>> synonym_pairs(x)
    [(1, 0)]
    >>> synonym_pairs(x, anto=True)
    [(2, 0), (2, 1)]

    Tested on: the pairs that pandas' pairwise ``DataFrame.corr`` selects, through
    :func:`psychsyn` (tests/test_screening.py).
    """
    from ._matrices import pairwise_cor

    a = _matrix(x)
    r = pairwise_cor(a)
    crit = abs(critval)
    pairs = []
    for j in range(a.shape[1]):
        for i in range(j + 1, a.shape[1]):
            v = r[i, j]
            if np.isfinite(v) and ((not anto and v > crit) or (anto and v < -crit)):
                pairs.append((i, j))
    return pairs


def psychsyn(x: pd.DataFrame | np.ndarray, critval: float = 0.60, *, anto: bool = False) -> pd.DataFrame:
    r"""Psychometric synonyms (or antonyms) score, as R careless ``psychsyn(resample_na = FALSE)``.

    Item pairs correlated above ``critval`` across the sample (below ``-critval`` for
    antonyms) are found; each person's score is the Pearson correlation, across those pairs,
    between the first and the second item's answers, computed when more than two pairs are
    answered (careless's rule); NaN when undefined (no variance). careless's default
    ``resample_na = TRUE`` instead retries an undefined correlation up to 10 times with the
    two items of each pair randomly swapped; we do not, to stay deterministic.

    Parameters
    ----------
    x
        Answers as given (before reverse coding when looking for antonyms), one row per
        respondent and one column per item (DataFrame or array-like); missing answers are NaN.
    critval
        Sample correlation threshold for a pair (see :func:`synonym_pairs`). Default 0.60.
    anto
        Use antonym pairs (careless ``psychant``) instead of synonym pairs.

    Returns
    -------
    pandas.DataFrame
        ``n_pairs`` (pairs with both items answered) and ``cor`` (the within-person
        correlation; NaN with two pairs or fewer, or without variance), one row per
        respondent, indexed like ``x`` when it is a DataFrame.

    Notes
    -----
    For the pairs :math:`(i_p, j_p)`, :math:`p = 1..P`, of :func:`synonym_pairs`, the score
    of respondent *r* is :math:`\mathrm{cor}_p(x_{r i_p}, x_{r j_p})` over the pairs where
    both are answered. Attentive respondents score high on synonyms and low (negative) on
    antonyms.

    References
    ----------
    Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data.
    *Psychological Methods*, 17(3), 437-455.

    Yentes, R. D., & Wilhelm, F. (2023). careless: Procedures for computing indices of
    careless responding. R package version 1.2.2.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t = rng.normal(size=(200, 1))
    >>> x = np.round(t + 0.3 * rng.normal(size=(200, 6)))
    >>> int(psychsyn(x)["n_pairs"].iloc[0])
    15

    Validated against: an independent loop implementation of careless 1.2.2's definition,
    for synonyms and antonyms (tests/test_screening.py); careless is not installed with R
    here.
    """
    a = _matrix(x)
    pairs = synonym_pairs(a, critval, anto=anto)
    n = a.shape[0]
    cnt = np.zeros(n, dtype=int)
    out = np.full(n, np.nan)
    if pairs:
        i_idx = np.array([p[0] for p in pairs])
        j_idx = np.array([p[1] for p in pairs])
        first = a[:, i_idx]
        second = a[:, j_idx]
        both = ~(np.isnan(first) | np.isnan(second))
        cnt = both.sum(axis=1)
        out = np.where(cnt > 2, _row_cor_rows(first, second), np.nan)
    index = x.index if isinstance(x, pd.DataFrame) else None
    return pd.DataFrame({"n_pairs": cnt, "cor": out}, index=index)


# --- screen ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningResult(Result):
    """Screening indices and flags, one row per respondent (same index as the input).

    ``flags`` holds the indices and boolean ``flag_<name>`` columns (and ``n_flags``);
    ``summary`` counts each flag; ``thresholds`` records the settings used.
    """

    flags: pd.DataFrame
    summary: pd.DataFrame
    thresholds: Mapping[str, Any]
    n_obs: int
    n_items: int
    n_flagged: int

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()


def _split_input(
    coded: Any, codebook: Any, items: Sequence[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Any]:
    """-> (meta/data table, answers as given, keyed answers, codebook)."""
    from .codebook import load_codebook

    if hasattr(coded, "answers") and hasattr(coded, "data"):
        data = coded.data
        answers = coded.answers
        if codebook is None:
            codebook = getattr(coded, "codebook", None)
    elif isinstance(coded, pd.DataFrame):
        data = coded
        answers = coded
    else:
        raise DataError("screen needs coded responses or a DataFrame", value=type(coded).__name__)
    if codebook is not None:
        codebook = load_codebook(codebook)
    if items is None:
        if codebook is None:
            raise DataError("screen: give items= (a list of item columns) or a codebook")
        items = [i.id for i in codebook.items.values() if i.role != "attention" and i.id in answers.columns]
    items = list(items)
    absent = [c for c in items if c not in answers.columns]
    if absent:
        raise SchemaError(f"screen: item column(s) {', '.join(map(repr, absent))} not in the data")
    if len(items) < 2:
        raise DataError("screen needs at least two items", value=items)
    given = answers[items].apply(pd.to_numeric, errors="coerce").astype(float)
    # keyed (reverse-coded) answers for even-odd: coded.data holds them
    if data is not answers and all(c in data.columns for c in items):
        keyed = data[items].astype(float)
    elif codebook is not None:
        keyed = given.copy()
        for c in items:
            if c in codebook.items and codebook.items[c].reverse:
                sc = codebook.scale_of(c)
                keyed[c] = sc.min + sc.max - keyed[c]
    else:
        keyed = given
    return data, given, keyed, codebook


_TRUE = {"1", "true", "yes", "y", "t", "finished", "complete", "completed"}
_FALSE = {"0", "false", "no", "n", "f", "unfinished", "incomplete", "screened", "screened out",
          "screen out", "screenout", "partial"}


def _not_finished(data: pd.DataFrame, column: str) -> np.ndarray:
    """True where the completion flag says "not finished"; a missing value is not a screen-out."""
    if column not in data.columns:
        raise SchemaError("completion-flag column not in the data", column=column,
                          expected="the platform's finished flag (or pass finished=None)")
    s = data[column]
    if pd.api.types.is_bool_dtype(s.dtype) or (pd.api.types.is_numeric_dtype(s.dtype)):
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return ~np.isnan(v) & (v == 0)
    out = np.zeros(len(s), dtype=bool)
    for i, x in enumerate(s.to_numpy(dtype=object)):
        if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
            continue
        t = str(x).strip().lower()
        if t in _TRUE or t == "":
            continue
        if t in _FALSE:
            out[i] = True
            continue
        raise SchemaError("completion flag is neither true nor false", column=column, row=i + 1,
                          value=str(x), expected="1/0, true/false, yes/no")
    return out


def _duration(data: pd.DataFrame, column: str) -> np.ndarray:
    if column not in data.columns:
        raise SchemaError(
            "duration column not in the data",
            column=column,
            expected="the platform's completion time in seconds (or pass duration=None to skip the speed checks)",
        )
    s = data[column]
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        v = s.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        raise SchemaError(
            f"duration column is not a duration (dtype {s.dtype})",
            column=column,
            expected="seconds as numbers or a timedelta column (code the export first)",
        )
    if np.any(v[~np.isnan(v)] < 0):
        raise SchemaError("duration column has negative values", column=column, expected="seconds >= 0")
    if np.all(np.isnan(v)):
        raise SchemaError("duration column is empty", column=column, expected="seconds")
    return v


def chance_match(a: np.ndarray, row: int, *, rows: np.ndarray | None = None) -> float:
    r"""Probability that an honest respondent gives exactly the answers of ``a[row]`` by chance.

    The number of items on which another respondent agrees with the pattern is modelled as
    beta-binomial, with its mean and variance taken from the respondents in ``rows``
    (default: every row but ``row``); the chance of a full match is its probability of
    agreeing on all items.

    Parameters
    ----------
    a
        Answers, one row per respondent and one column per item; missing answers are NaN
        (missing agrees with missing).
    row
        Position of the pattern in ``a``.
    rows
        Positions of the respondents to estimate the agreement from (default: all others).

    Returns
    -------
    float
        :math:`q`, the chance-match probability, in [0, 1].

    Notes
    -----
    With :math:`D_i` the number of the :math:`k` items on which respondent *i* agrees with
    the pattern, :math:`\mu = \bar D / k`, and the intra-class correlation of the agreements
    :math:`\rho = (\mathrm{Var}(D) / (k \mu (1 - \mu)) - 1) / (k - 1)` (method of moments),
    the beta-binomial with :math:`a = \mu (1/\rho - 1)`, :math:`b = (1 - \mu)(1/\rho - 1)`
    gives :math:`q = P(D = k) = B(k + a, b) / B(a, b)`; with :math:`\rho \le 0`,
    :math:`q = \mu^k`. Correlated items (respondents who agree on one item agree on the
    next) raise :math:`\rho` and so the chance of a full match; a common pattern (every
    item answered "agree") has a high :math:`\mu`. When the items are independent with
    different agreement rates :math:`p_j`, :math:`\mu^k \ge \prod_j p_j` (the arithmetic
    mean bounds the geometric mean), so the rule errs towards calling a match chance.

    References
    ----------
    Skellam, J. G. (1948). A probability distribution derived from the binomial distribution
    by regarding the probability of success as variable between the sets of trials.
    *Journal of the Royal Statistical Society B*, 10(2), 257-261.

    Kuriakose, N., & Robbins, M. (2016). Don't get duped: Fraud through duplication in public
    opinion surveys. *Statistical Journal of the IAOS*, 32(3), 283-291.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 1, 2], [1, 1, 2], [2, 1, 1], [1, 2, 2], [2, 2, 1]], dtype=float)
    >>> round(chance_match(x, 0), 4)
    0.25

    Validated against: SciPy ``scipy.stats.betabinom.pmf`` with the moments computed
    directly (tests/test_screening.py).
    """
    from scipy import special

    x = _matrix(a)
    n, k = x.shape
    if rows is None:
        rows = np.delete(np.arange(n), row)
    if k == 0 or len(rows) == 0:
        return 1.0
    key = np.where(np.isnan(x), -np.inf, x)
    agree = (key[rows] == key[row]).sum(axis=1).astype(float)
    mu = float(agree.mean()) / k
    if mu >= 1.0:
        return 1.0
    if mu <= 0.0:
        return 0.0
    var = float(agree.var())
    rho = (var / (k * mu * (1 - mu)) - 1) / (k - 1) if k > 1 else 0.0
    if rho <= 0 or not math.isfinite(rho):
        return float(mu**k)
    if rho >= 1:
        return mu
    s = 1 / rho - 1
    a_, b_ = mu * s, (1 - mu) * s
    return float(math.exp(special.betaln(k + a_, b_) - special.betaln(a_, b_)))


def _duplicates(
    a: np.ndarray, *, ignore_constant: bool, alpha: float, skip: np.ndarray,
    ids: pd.Series | None, ip: pd.Series | None, when: pd.Series | None, minutes: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Duplicate submissions: identical answers (NaN equal to NaN) to an earlier row AND evidence.

    Evidence is one of: the same respondent id, the same IP address, submission within
    ``minutes`` of that earlier row, or a pattern improbable by chance: with ``m`` copies of a
    pattern among ``n`` respondents and chance-match probability ``q`` (:func:`chance_match`),
    ``P(Binomial(n - 1, q) >= m - 1) < alpha / G``, ``G`` the number of patterns that occur
    more than once (Bonferroni); ``q`` is estimated from the respondents who do not share the
    pattern (the copies under test do not inform their own null). Returns (flag, first_of,
    evidence, p) per row.
    """
    from scipy import stats

    n = a.shape[0]
    first_of = np.full(n, -1)
    evidence = np.full(n, "", dtype=object)
    pval = np.full(n, np.nan)
    key = np.where(np.isnan(a), -np.inf, a)
    with np.errstate(invalid="ignore"):
        constant = np.nanmax(np.where(np.isnan(a), -np.inf, a), axis=1) == np.nanmin(
            np.where(np.isnan(a), np.inf, a), axis=1
        )
    groups: dict[bytes, list[int]] = {}
    for i in range(n):
        if skip[i] or (ignore_constant and constant[i]):
            continue
        groups.setdefault(key[i].tobytes(), []).append(i)
    multi = [g for g in groups.values() if len(g) > 1]
    if not multi:
        return first_of >= 0, first_of, evidence, pval
    pool = np.flatnonzero(~skip)

    def text(s: pd.Series | None) -> np.ndarray | None:
        if s is None:
            return None
        v = s.astype(object).where(s.notna(), None).to_numpy()
        return np.array([str(x).strip() if x is not None and str(x).strip() else None for x in v], dtype=object)

    id_v, ip_v = text(ids), text(ip)
    t_v = None
    if when is not None:
        t_v = pd.to_datetime(when, errors="coerce").to_numpy(dtype="datetime64[ns]")
    limit = alpha / len(multi)
    for g in multi:
        q = chance_match(a, g[0], rows=np.setdiff1d(pool, g, assume_unique=True))
        p = float(stats.binom.sf(len(g) - 2, max(len(pool) - 1, 1), q))
        pval[g] = p
        for pos, i in enumerate(g[1:], start=1):
            for j in g[:pos]:
                why = ""
                if id_v is not None and id_v[i] is not None and id_v[i] == id_v[j]:
                    why = "id"
                elif ip_v is not None and ip_v[i] is not None and ip_v[i] == ip_v[j]:
                    why = "ip"
                elif (t_v is not None and not np.isnat(t_v[i]) and not np.isnat(t_v[j])
                      and abs((t_v[i] - t_v[j]) / np.timedelta64(1, "s")) <= 60 * minutes):
                    why = "time"
                elif p < limit:
                    why = "improbable"
                if why:
                    first_of[i], evidence[i] = j, why
                    break
    return first_of >= 0, first_of, evidence, pval


def _near_duplicates(
    a: np.ndarray, ip: pd.Series | None, when: pd.Series | None, minutes: float, max_diff: int
) -> np.ndarray:
    n = a.shape[0]
    of = np.full(n, -1)
    if ip is None:
        return of
    ips = ip.astype(object).where(ip.notna(), None).to_numpy()
    t = None
    if when is not None:
        tt = pd.to_datetime(when, errors="coerce")
        t = tt.to_numpy(dtype="datetime64[ns]")
    groups: dict[Any, list[int]] = {}
    for i, v in enumerate(ips):
        if v is not None and str(v).strip():
            groups.setdefault(str(v).strip(), []).append(i)
    key = np.where(np.isnan(a), -np.inf, a)
    for rows in groups.values():
        if len(rows) < 2:
            continue
        r = np.asarray(rows)
        tr = None
        if t is not None:  # rows without a time match nothing and are matched by nothing
            tr = t[r]
            r, tr = r[~np.isnat(tr)], tr[~np.isnat(tr)]
            order = np.lexsort((r, tr.view("int64")))  # by time, then by row
            r, tr = r[order], tr[order]
        _near_in_group(key, r, tr, minutes, max_diff, of)
    return of


def _near_in_group(
    key: np.ndarray, r: np.ndarray, t: np.ndarray | None, minutes: float, max_diff: int, of: np.ndarray,
    block: int = 256,
) -> None:
    """Near duplicates within one IP group, rows ``r`` in submission order (times ``t``):
    ``of[r[i]] = r[j]`` for the first earlier ``j`` within ``minutes`` whose answers differ in at
    most ``max_diff`` items. Blocks of rows are compared with blocks of earlier rows at once;
    the rows before the time window of a block are never looked at."""
    g = len(r)
    k = key[r]
    one_s = np.timedelta64(1, "s")
    for b0 in range(0, g, block):
        b1 = min(b0 + block, g)
        found = np.full(b1 - b0, -1)
        c0 = 0
        if t is not None and b0:
            near = ~(np.abs((t[b0] - t[:b0]) / one_s) / 60 > minutes)  # monotone in j
            c0 = int(np.argmax(near)) if near.any() else b0
        for c in range(c0, b1, block * 4):
            c1 = min(c + block * 4, b1)
            todo = np.flatnonzero(found < 0)
            if not todo.size:
                break
            i = b0 + todo
            ok = np.arange(c, c1)[None, :] < i[:, None]
            if t is not None:
                ok &= ~(np.abs((t[i][:, None] - t[c:c1][None, :]) / one_s) / 60 > minutes)
            ok &= (k[i][:, None, :] != k[c:c1][None, :, :]).sum(axis=2) <= max_diff
            hit = ok.any(axis=1)
            found[todo[hit]] = c + np.argmax(ok[hit], axis=1)
        done = found >= 0
        of[r[b0:b1][done]] = r[found[done]]


def screen(
    coded: Any,
    codebook: Any = None,
    *,
    items: Sequence[str] | None = None,
    scales: Mapping[str, Sequence[str]] | None = None,
    duration: str | None = "auto",
    ip: str | None = "auto",
    submit_time: str | None = "auto",
    respondent_id: str | None = "auto",
    finished: str | None = "auto",
    valid_codes: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    attention: Mapping[str, Sequence[float]] | None = None,
    **thresholds: Any,
) -> ScreeningResult:
    r"""Indices of careless responding and data-quality flags, one row per respondent.

    Parameters
    ----------
    coded
        Coded responses (``code_responses``: item indices use ``.answers``, the answers as
        given, and the keyed items of ``.data`` for even-odd; meta columns come from
        ``.data``) or a plain DataFrame with ``items=``.
    codebook
        The codebook (default: the one in ``coded``). It supplies the items (all rated items
        except attention checks, in questionnaire order), the scales for even-odd (the
        constructs), the valid codes, the attention checks with their expected answers and
        the meta columns (duration, IP, submit time).
    items
        Item columns to use instead of the codebook's.
    scales
        ``{scale: [items]}`` for even-odd (default: the codebook's constructs with at least two
        of the items); without it and without a codebook, even-odd is NaN.
    duration, ip, submit_time, respondent_id, finished
        Column names; ``"auto"`` takes them from the codebook's meta roles (a plain DataFrame
        without codebook: ``duration_s``, ``ip``, ``submit_time``, ``respondent_id``,
        ``finished`` when present). ``None`` skips the checks that need the column.
        ``finished`` is the platform's completion flag (Qualtrics ``Finished``): a row with a
        false value (0, False, "false", "no") is a screen-out. A duration column named (or required by the
        codebook) that is absent or not numeric/timedelta raises :class:`SchemaError`.
    valid_codes
        Valid codes for all items (a sequence) or per item (default: the codebook's scales).
    attention
        ``{item: [expected codes]}`` (default: the codebook's attention checks).
    **thresholds
        Override :data:`DEFAULT_THRESHOLDS` and the codebook's ``screening.thresholds``
        (unknown names raise :class:`DataError`).

    Returns
    -------
    ScreeningResult
        ``flags``: indices (``longstring``, ``longstring_avg``, ``irv``, ``mahalanobis_d2``,
        ``mahalanobis_df``, ``mahalanobis_p``, ``evenodd``, ``psychsyn``, ``psychsyn_pairs``,
        ``psychant``, ``psychant_pairs``, ``duration_s``, ``seconds_per_item``,
        ``relative_speed``, ``attention_failed``, ``duplicate_of``, ``near_duplicate_of``,
        ``n_out_of_range``, ``n_answered``) and boolean ``flag_<name>`` columns for the names
        in :data:`FLAGS`, plus ``n_flags``. No row is dropped.

    Notes
    -----
    Defaults, each overridable by keyword:

    - ``longstring``: the longest run covers at least half of the items answered
      (``longstring_share = 0.5``), the rule of thumb discussed by Curran (2016); Johnson
      (2005) derived per-option cut-offs from the distribution instead. Judged only for
      respondents who answered at least half of the items (``longstring_min_answered``, a
      share of the scale length): three identical answers out of three are not a long
      string on a 17-item scale.
    - ``irv``: within-person SD below 0.5 scale points (``irv_min``) - a heuristic; Dunn et al.
      (2018) and Marjanovic et al. (2015) recommend inspecting the low tail.
    - ``mahalanobis``: chi-square p < .001 for D^2 (``mahalanobis_alpha``; Meade & Craig
      2012; Curran 2016).
    - ``evenodd``: Spearman-Brown corrected even-odd coefficient below .30 (careless value
      above -0.30; Jackson 1976 via Johnson 2005; Curran 2016). With few scales (six here)
      the coefficient is noisy and flags many attentive respondents; it is not in
      :data:`DEFAULT_RULE`.
    - ``psychsyn``/``psychant``: pairs beyond |r| = .60 across the sample (Meade & Craig
      2012); a negative within-person synonym correlation, or a positive antonym correlation,
      is flagged (``psychsyn_min = 0``, ``psychant_max = 0``) when it rests on at least five
      answered pairs (``psychsyn_min_pairs``; the index itself needs three, as careless).
      Antonyms use the answers as given (before reverse coding), so reverse-keyed items
      provide them. A short instrument has few such pairs: check ``psychsyn_pairs``.
    - ``speeder``: duration below 40% of the median (``speed_share``); Leiner (2019) found a
      relative speed index (median / own time) above about 2, i.e. under 50% of the median,
      to mark meaningless data, and Greszki, Meyer & Schoen (2015) used 30%; 40% sits between.
    - ``fast_items``: fewer than 2 seconds per item (``seconds_per_item_min``; Huang et al.
      2012).
    - ``attention``: an answer not among the codebook's ``expected`` codes; a missing answer
      fails too (``attention_missing_fails``).
    - ``empty``: no rated item answered (the respondent opened the questionnaire and left, or
      a panel screened them out before the items). Empty rows are excluded first and no other
      answer-based flag is raised for them; the median duration of the speed checks is taken
      over the rows with answers.
    - ``screen_out``: the platform's completion flag (``finished``) says the respondent did
      not finish (screened out or broke off).
    - ``duplicate``: identical answers to every item as an earlier respondent (missing equal
      to missing) **and** evidence that it is the same submission: the same respondent id, the
      same IP address, submission within 10 minutes (``duplicate_minutes``), or an answer
      pattern too improbable to be shared by chance: with ``m`` copies of the pattern among
      the ``n`` respondents with answers and the chance-match probability ``q`` of
      :func:`chance_match`, :math:`P(\mathrm{Bin}(n - 1, q) \ge m - 1)` is below
      ``duplicate_alpha = 0.001`` divided by the number of repeated patterns. On a short
      scale with few categories many honest respondents share a pattern; without ids, times
      or IPs they are not flagged. Straight lines are left to ``longstring``
      (``duplicates_ignore_constant``) because attentive straight-liners coincide by
      construction. The first occurrence is not flagged; ``duplicate_of`` gives its index,
      ``duplicate_evidence`` the evidence (``id``, ``ip``, ``time``, ``improbable``) and
      ``duplicate_p`` the chance p-value of the pattern.
    - ``near_duplicate``: same IP address, submitted within 30 minutes (``near_minutes``) of an
      earlier respondent, and answers differing on at most 10% of the items
      (``near_max_diff_share``).
    - ``out_of_range``: an answer that is not a valid code of the item's scale.

    References
    ----------
    Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey
    data. *Journal of Experimental Social Psychology*, 66, 4-19.

    Dunn, A. M., Heggestad, E. D., Shanock, L. R., & Theilgard, N. (2018). Intra-individual
    response variability as an indicator of insufficient effort responding. *Journal of
    Business and Psychology*, 33(1), 105-121.

    Greszki, R., Meyer, M., & Schoen, H. (2015). Exploring the effects of removing "too fast"
    responses and respondents from web surveys. *Public Opinion Quarterly*, 79(2), 471-503.

    Huang, J. L., Curran, P. G., Keeney, J., Poposki, E. M., & DeShon, R. P. (2012).
    Detecting and deterring insufficient effort responding to surveys. *Journal of Business
    and Psychology*, 27(1), 99-114.

    Jackson, D. N. (1976). *The appraisal of personal reliability*. Paper presented at the
    meeting of the Society of Multivariate Experimental Psychology, University Park, PA.

    Johnson, J. A. (2005). Ascertaining the validity of individual protocols from web-based
    personality inventories. *Journal of Research in Personality*, 39(1), 103-129.

    Leiner, D. J. (2019). Too fast, too straight, too weird: Non-reactive indicators for
    meaningless data in internet surveys. *Survey Research Methods*, 13(3), 229-248.

    Marjanovic, Z., Holden, R., Struthers, W., Cribbie, R., & Greenglass, E. (2015). The
    inter-item standard deviation (ISD): An index that discriminates between conscientious
    and random responders. *Personality and Individual Differences*, 84, 79-83.

    Meade, A. W., & Craig, S. B. (2012). Identifying careless responses in survey data.
    *Psychological Methods*, 17(3), 437-455.

    Yentes, R. D., & Wilhelm, F. (2023). careless: Procedures for computing indices of
    careless responding. R package version 1.2.2.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 4, 3, 5, 5], "b": [2, 4, 3, 4, 5], "c": [1, 5, 2, 4, 5],
    ...                   "d": [2, 4, 2, 5, 5]})
    >>> res = screen(d, items=["a", "b", "c", "d"], duration=None)
    >>> res.flags["longstring"].tolist()
    [1.0, 2.0, 2.0, 2.0, 4.0]
    >>> res.flags["flag_longstring"].tolist()
    [False, True, True, True, True]

    Validated against: independent loop implementations of careless 1.2.2's definitions
    (tests/test_screening.py); careless is not installed with R here.
    """
    unknown = sorted(set(thresholds) - set(DEFAULT_THRESHOLDS))
    if unknown:
        raise DataError(
            f"screen: unknown threshold(s) {', '.join(unknown)}",
            expected=f"some of {', '.join(DEFAULT_THRESHOLDS)}",
        )
    data, given, keyed, cb = _split_input(coded, codebook, items)
    from_codebook = dict(cb.screening.get("thresholds", {})) if cb is not None else {}
    th = {**DEFAULT_THRESHOLDS, **from_codebook, **thresholds}
    items = list(given.columns)
    a = given.to_numpy(dtype=float, na_value=np.nan)
    n, k = a.shape
    index = given.index
    out = pd.DataFrame(index=index)
    answered = np.sum(~np.isnan(a), axis=1)
    out["n_answered"] = answered
    empty = answered == 0

    # out-of-range codes
    if valid_codes is None and cb is not None:
        valid = {c: cb.scale_of(c).codes for c in items if c in cb.items}
    elif valid_codes is None:
        valid = {}
    elif isinstance(valid_codes, Mapping):
        valid = {str(c): tuple(v) for c, v in valid_codes.items()}
    else:
        valid = dict.fromkeys(items, tuple(valid_codes))
    bad = np.zeros((n, k), dtype=bool)
    for j, c in enumerate(items):
        if c in valid:
            col = a[:, j]
            bad[:, j] = ~np.isnan(col) & ~np.isin(col, np.asarray(valid[c], dtype=float))
    out["n_out_of_range"] = bad.sum(axis=1)
    # indices computed on valid answers only
    a_ok = np.where(bad, np.nan, a)

    ls = longstring(a_ok)
    out["longstring"] = ls["longstring"].to_numpy()
    out["longstring_avg"] = ls["longstring_avg"].to_numpy()
    out["irv"] = irv(a_ok)
    md = mahalanobis(a_ok)
    for c in md.columns:
        out[c] = md[c].to_numpy()

    # even-odd over scales of keyed items
    if scales is None and cb is not None:
        scales = {
            cid: [i for i in con.items if i in items]
            for cid, con in cb.constructs.items()
        }
    eo = np.full(n, np.nan)
    if scales:
        blocks = [list(v) for v in scales.values() if len([i for i in v if i in items]) >= 2]
        blocks = [[i for i in b if i in items] for b in blocks]
        if len(blocks) >= 2:
            cols = [i for b in blocks for i in b]
            kk = keyed[cols].to_numpy(dtype=float, na_value=np.nan)
            kk = np.where(bad[:, [items.index(c) for c in cols]], np.nan, kk)
            eo = evenodd(kk, [len(b) for b in blocks])
    out["evenodd"] = eo

    syn = psychsyn(a_ok, th["psychsyn_critval"])
    out["psychsyn"] = syn["cor"].to_numpy()
    out["psychsyn_pairs"] = syn["n_pairs"].to_numpy()
    ant = psychsyn(a_ok, th["psychant_critval"], anto=True)
    out["psychant"] = ant["cor"].to_numpy()
    out["psychant_pairs"] = ant["n_pairs"].to_numpy()

    # meta columns
    def meta_col(arg: str | None, role: str, fallback: str) -> str | None:
        if arg != "auto":
            return arg
        if cb is not None and role in cb.meta:
            return cb.meta[role].id
        return fallback if fallback in data.columns else None

    dur_col = meta_col(duration, "duration", "duration_s")
    if dur_col is not None:
        dur = _duration(data, dur_col)
        live = dur[~empty & ~np.isnan(dur)]
        med = float(np.median(live)) if live.size else math.nan
        out["duration_s"] = dur
        out["seconds_per_item"] = dur / k
        with np.errstate(divide="ignore", invalid="ignore"):
            out["relative_speed"] = np.where(dur > 0, med / dur, np.inf)
        out.loc[np.isnan(dur), "relative_speed"] = np.nan
    else:
        out["duration_s"] = np.nan
        out["seconds_per_item"] = np.nan
        out["relative_speed"] = np.nan

    # attention checks (on the data as given, including the check items)
    if attention is None and cb is not None:
        attention = cb.attention_checks()
    failed = np.zeros(n, dtype=int)
    att_used = []
    if attention:
        src = coded.answers if hasattr(coded, "answers") else data
        for item, expected in attention.items():
            if item not in src.columns:
                continue
            att_used.append(item)
            v = pd.to_numeric(src[item], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            miss = np.isnan(v)
            fail = ~miss & ~np.isin(v, np.asarray(list(expected), dtype=float))
            if th["attention_missing_fails"]:
                fail |= miss
            failed += fail
    out["attention_failed"] = failed if att_used else np.nan

    ip_col = meta_col(ip, "ip", "ip")
    time_col = meta_col(submit_time, "submit_time", "submit_time")
    id_col = meta_col(respondent_id, "respondent_id", "respondent_id")
    fin_col = meta_col(finished, "finished", "finished")
    ip_s = data[ip_col] if ip_col is not None and ip_col in data.columns else None
    t_s = data[time_col] if time_col is not None and time_col in data.columns else None
    id_s = data[id_col] if id_col is not None and id_col in data.columns else None
    screen_out = _not_finished(data, fin_col) if fin_col is not None else np.zeros(n, dtype=bool)
    dup, first, evid, dup_p = _duplicates(
        a, ignore_constant=bool(th["duplicates_ignore_constant"]), alpha=float(th["duplicate_alpha"]),
        skip=empty, ids=id_s, ip=ip_s, when=t_s, minutes=float(th["duplicate_minutes"]),
    )
    out["duplicate_of"] = pd.array([index[f] if f >= 0 else None for f in first], dtype=object)
    out["duplicate_evidence"] = evid
    out["duplicate_p"] = dup_p
    max_diff = math.floor(th["near_max_diff_share"] * k + 1e-9)
    near = _near_duplicates(a, ip_s, t_s, float(th["near_minutes"]), max_diff)
    out["near_duplicate_of"] = pd.array([index[f] if f >= 0 else None for f in near], dtype=object)

    # flags
    with np.errstate(invalid="ignore"):
        med_dur = float(np.nanmedian(out["duration_s"][~empty])) if dur_col is not None and (~empty).any() else math.nan
        min_ls = max(2, math.ceil(th["longstring_min_answered"] * k - 1e-9))
        flags = {
            "empty": empty,
            "screen_out": screen_out,
            "out_of_range": out["n_out_of_range"].to_numpy() > 0,
            "duplicate": dup,
            "near_duplicate": (near >= 0) & ~dup,
            "attention": (failed > 0) if att_used else np.zeros(n, dtype=bool),
            "speeder": (out["duration_s"] < th["speed_share"] * med_dur).to_numpy()
            if dur_col is not None else np.zeros(n, dtype=bool),
            "fast_items": (out["seconds_per_item"] < th["seconds_per_item_min"]).to_numpy(),
            "longstring": (out["longstring"] >= th["longstring_share"] * np.maximum(answered, 1)).to_numpy()
            & (answered >= min_ls),
            "irv": (out["irv"] < th["irv_min"]).to_numpy(),
            "evenodd": (out["evenodd"] > -th["evenodd_min"]).to_numpy(),
            "psychsyn": (out["psychsyn"] < th["psychsyn_min"]).to_numpy()
            & (out["psychsyn_pairs"] >= th["psychsyn_min_pairs"]).to_numpy(),
            "psychant": (out["psychant"] > th["psychant_max"]).to_numpy()
            & (out["psychant_pairs"] >= th["psychsyn_min_pairs"]).to_numpy(),
            "mahalanobis": (out["mahalanobis_p"] < th["mahalanobis_alpha"]).to_numpy(),
        }
    for name in FLAGS:
        v = np.asarray(flags[name], dtype=bool)
        if name not in ("empty", "screen_out"):
            v = v & ~empty  # an empty row is counted once, as empty
        out[f"flag_{name}"] = v
    fcols = [f"flag_{f}" for f in FLAGS]
    out["n_flags"] = out[fcols].sum(axis=1).astype(int)
    summary = pd.DataFrame(
        {
            "flag": list(FLAGS),
            "n_flagged": [int(out[f"flag_{f}"].sum()) for f in FLAGS],
        }
    )
    summary["share"] = summary["n_flagged"] / n if n else np.nan
    return ScreeningResult(
        flags=out,
        summary=summary,
        thresholds=dict(th),
        n_obs=n,
        n_items=k,
        n_flagged=int((out["n_flags"] > 0).sum()),
    )


# --- exclusions -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExclusionResult(Result):
    """Kept responses and the respondent flow.

    ``kept`` is the input (coded responses or DataFrame) restricted to kept rows; ``flow``
    has one row per step: ``received``, one ``excluded`` row per reason (``n`` counts each
    respondent once, under the first matching reason; ``n_flagged`` counts every respondent
    with that reason), and ``analysed``; ``reasons`` gives, per excluded respondent, the
    first reason and all reasons.
    """

    kept: Any
    flow: pd.DataFrame
    reasons: pd.DataFrame
    n_received: int
    n_excluded: int
    n_analysed: int

    def to_frame(self) -> pd.DataFrame:
        return self.flow.copy()


def default_rule(codebook: Any = None) -> tuple[str, ...]:
    """The exclusion rule: the codebook's ``screening.rule`` if it sets one, else :data:`DEFAULT_RULE`."""
    if codebook is not None and getattr(codebook, "screening", None) and "rule" in codebook.screening:
        return tuple(codebook.screening["rule"])
    return DEFAULT_RULE


def _subset(coded: Any, mask: np.ndarray) -> Any:
    if isinstance(coded, pd.DataFrame):
        return coded.loc[mask]
    if dataclasses.is_dataclass(coded):
        changes = {}
        for f in dataclasses.fields(coded):
            v = getattr(coded, f.name)
            if isinstance(v, pd.DataFrame) and len(v) == len(mask) and f.name != "audit":
                changes[f.name] = v.loc[mask]
        return dataclasses.replace(coded, **changes)
    raise DataError("apply_exclusions needs coded responses or a DataFrame", value=type(coded).__name__)


def apply_exclusions(
    coded: Any,
    flags: ScreeningResult | pd.DataFrame,
    rule: str | Sequence[str] | Callable[[pd.DataFrame], Any] | None = None,
) -> ExclusionResult:
    """Drop flagged respondents by an explicit rule and report the respondent flow.

    Parameters
    ----------
    coded
        The coded responses (or DataFrame) that were screened.
    flags
        The :class:`ScreeningResult` (or its ``flags`` table).
    rule
        Flag names (order = order of reasons in the flow), one name, ``"any"`` (every flag,
        in :data:`FLAGS` order), or a callable taking the flags table and returning a boolean
        mask (reason ``"rule"``). Default (None): the codebook's ``screening.rule`` when the
        coded responses carry a codebook that sets one, else :data:`DEFAULT_RULE`.

    Returns
    -------
    ExclusionResult
        ``kept``, ``flow`` (``step``, ``reason``, ``n``, ``n_flagged``, ``remaining``),
        ``reasons`` (``first_reason``, ``all_reasons`` per excluded respondent).

    Raises
    ------
    DataError
        If ``flags`` has a different number of rows than ``coded``, ``rule`` names an
        unknown flag, or a callable rule does not return one boolean per respondent.

    Notes
    -----
    Each excluded respondent is counted once, under the first reason in ``rule`` order that
    applies (``n``); ``n_flagged`` counts every respondent with that flag, so
    ``received - sum(n) = analysed`` always holds. This is the flow a CONSORT-style diagram
    or a methods section reports.

    References
    ----------
    Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey
    data. *Journal of Experimental Social Psychology*, 66, 4-19.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 4, 3, 5, 5], "b": [2, 4, 3, 4, 5], "c": [1, 5, 2, 4, 5],
    ...                   "d": [2, 4, 2, 5, 5]})
    >>> res = apply_exclusions(d, screen(d, items=list("abcd"), duration=None), ["longstring"])
    >>> res.flow[["step", "n", "remaining"]].values.tolist()
    [['received', 5, 5], ['excluded', 4, 1], ['analysed', 1, 1]]

    Tested on: the flow adding up (a Hypothesis property over random flag tables), first and
    all reasons on a small fixture, and coded simulated responses (tests/test_screening.py).
    """
    table = flags.flags if isinstance(flags, ScreeningResult) else flags
    if rule is None:
        rule = default_rule(getattr(coded, "codebook", None))
    n = len(table)
    base_len = len(coded) if isinstance(coded, pd.DataFrame) else len(coded.data)
    if base_len != n:
        raise DataError(f"apply_exclusions: {n} rows of flags for {base_len} responses")
    if callable(rule):
        mask = np.asarray(rule(table), dtype=bool)
        if mask.shape != (n,):
            raise DataError("apply_exclusions: the rule must return one boolean per respondent")
        reasons = {"rule": mask}
    else:
        names = list(FLAGS) if rule == "any" else [rule] if isinstance(rule, str) else list(rule)
        unknown = [r for r in names if f"flag_{r}" not in table.columns]
        if unknown:
            raise DataError(
                f"apply_exclusions: unknown flag(s) {', '.join(map(repr, unknown))}",
                expected=f"some of {', '.join(FLAGS)}",
            )
        reasons = {r: table[f"flag_{r}"].to_numpy(dtype=bool) for r in names}
    taken = np.zeros(n, dtype=bool)
    rows = [{"step": "received", "reason": "", "n": n, "n_flagged": np.nan, "remaining": n}]
    first = np.full(n, "", dtype=object)
    alls = [[] for _ in range(n)]
    for r, m in reasons.items():
        new = m & ~taken
        first[new] = r
        for i in np.flatnonzero(m):
            alls[i].append(r)
        taken |= m
        rows.append({"step": "excluded", "reason": r, "n": int(new.sum()), "n_flagged": int(m.sum()),
                     "remaining": int(n - taken.sum())})
    rows.append({"step": "analysed", "reason": "", "n": int(n - taken.sum()), "n_flagged": np.nan,
                 "remaining": int(n - taken.sum())})
    flow = pd.DataFrame(rows)
    idx = table.index[taken]
    reason_table = pd.DataFrame(
        {"first_reason": first[taken], "all_reasons": ["; ".join(alls[i]) for i in np.flatnonzero(taken)]},
        index=idx,
    )
    kept = _subset(coded, ~taken if isinstance(coded, pd.DataFrame) else pd.Series(~taken, index=coded.data.index).to_numpy())
    return ExclusionResult(
        kept=kept,
        flow=flow,
        reasons=reason_table,
        n_received=n,
        n_excluded=int(taken.sum()),
        n_analysed=int(n - taken.sum()),
    )
