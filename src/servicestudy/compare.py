"""Group comparisons of satisfaction: t tests, ANOVA, their rank-based versions, post hoc
tests, chi-square tests of independence and a batch ``compare_groups`` with corrected p-values.

Every function takes a wide DataFrame first and column names after it. Rows with a missing
outcome or group are left out and **counted** (``n_dropped``), never dropped silently. Group
levels follow the categorical order when the group column is a pandas ``Categorical`` (unused
categories are dropped) and sorted order otherwise; "level 1 - level 2" always means the first
minus the second level in that order.

Validated against: R 4.2.2 ``t.test``, ``wilcox.test``, ``oneway.test``, ``aov``, ``TukeyHSD``,
``kruskal.test``, ``chisq.test``, ``p.adjust`` and Games-Howell by formula
(``tests/reference/compare_drivers.R``, ``tests/test_compare.py``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ._results import Result
from .errors import DataError
from .weighting import _weights_vector

__all__ = [
    "AnovaResult",
    "ChiSquareResult",
    "CompareGroupsResult",
    "KruskalResult",
    "MannWhitneyResult",
    "PairwiseResult",
    "SmallExpectedWarning",
    "TTestResult",
    "WeightedGroupTestResult",
    "anova",
    "chi_square",
    "compare_groups",
    "games_howell",
    "kruskal",
    "mann_whitney",
    "p_adjust",
    "ttest",
    "tukey_hsd",
    "weighted_group_test",
]

_CORRECTIONS = ("holm", "fdr_bh", "bonferroni", "none")


class SmallExpectedWarning(UserWarning):
    """Emitted by ``chi_square(..., warn=True)`` when expected counts are small.

    Silence it with ``warnings.filterwarnings("ignore", category=SmallExpectedWarning)``, or
    leave ``warn=False`` (the default) and read ``ChiSquareResult.small_expected``.
    """


# --------------------------------------------------------------------------- helpers


def _check_option(value: Any, name: str, func: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise DataError(
            f"The {name!r} parameter of {func} must be one of {choices}. Got {value!r} instead."
        )


def _require_columns(data: pd.DataFrame, columns: list[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for c in columns:
        if c not in data.columns:
            raise DataError("unknown column", column=c, expected="a column of data")


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    ):
        try:
            return pd.to_numeric(series, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise DataError("outcome is not numeric", column=name,
                            expected="numeric values") from exc
    return series.to_numpy(dtype=float, na_value=np.nan)


def _levels(series: pd.Series) -> list[Any]:
    present = pd.unique(series.dropna())
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if c in set(present)]
    try:
        return sorted(present)
    except TypeError:
        return sorted(present, key=str)


def _grouped(
    data: pd.DataFrame, outcome: str, group: str, *, min_levels: int = 2
) -> tuple[list[Any], list[np.ndarray], int]:
    """Outcome values split by group level, and the number of rows dropped for missingness."""
    _require_columns(data, [outcome, group])
    y = _numeric(data[outcome], outcome)
    g = data[group]
    ok = ~np.isnan(y) & g.notna().to_numpy()
    n_dropped = int((~ok).sum())
    g_ok = g[ok]
    levels = _levels(g_ok)
    if len(levels) < min_levels:
        raise DataError(
            f"grouping variable has {len(levels)} level(s) with data",
            column=group, expected=f"at least {min_levels} levels",
        )
    codes = g_ok.to_numpy()
    yy = y[ok]
    samples = [yy[codes == lv] for lv in levels]
    if np.ptp(yy) == 0:
        raise DataError("outcome is constant", column=outcome,
                        expected="an outcome that varies")
    return levels, samples, n_dropped


def _need_two(samples: list[np.ndarray], levels: list[Any], group: str) -> None:
    for lv, s in zip(levels, samples, strict=True):
        if len(s) < 2:
            raise DataError(
                f"group level {lv!r} has {len(s)} member(s)", column=group,
                expected="at least 2 observations per group",
            )


def p_adjust(pvalues: Any, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing (R's ``p.adjust``).

    Parameters
    ----------
    pvalues : array-like
        Raw p-values; NaN entries are kept as NaN and not counted.
    method : {"holm", "fdr_bh", "bonferroni", "none"}
        Holm (1979) step-down, Benjamini-Hochberg (1995) step-up, Bonferroni, or none.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order, capped at 1.

    Notes
    -----
    With m p-values sorted ascending, Holm's adjusted value is
    ``max_{j<=i} min(1, (m - j + 1) p_(j))`` and BH's is ``min_{j>=i} min(1, m p_(j) / j)``.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the
    Royal Statistical Society B*, 57(1), 289-300.

    Examples
    --------
    >>> [round(float(v), 3) for v in p_adjust([0.01, 0.04, 0.03], "holm")]
    [0.03, 0.06, 0.06]

    Validated against: R ``p.adjust`` (tests/test_compare.py).
    """
    _check_option(method, "method", "p_adjust", _CORRECTIONS)
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0 or method == "none":
        out[ok] = q
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    i = np.arange(1, m + 1)
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - i + 1) * ranked))
    elif method == "bonferroni":
        adj = np.minimum(1.0, m * ranked)
    else:  # fdr_bh
        adj = np.minimum(1.0, np.minimum.accumulate((m * ranked / i)[::-1])[::-1])
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


# --------------------------------------------------------------------------- t tests


@dataclass(frozen=True)
class TTestResult(Result):
    """Two-sample t test (Welch or pooled) with Cohen's d and Hedges' g."""

    outcome: str
    group: str
    level1: Any
    level2: Any
    n1: int
    n2: int
    mean1: float
    mean2: float
    sd1: float
    sd2: float
    estimate: float
    std_error: float
    statistic: float
    df: float
    pvalue: float
    ci_low: float
    ci_high: float
    cohens_d: float
    hedges_g: float
    equal_var: bool
    conf_level: float
    n_obs: int
    n_dropped: int


def ttest(
    data: pd.DataFrame,
    outcome: str,
    group: str,
    *,
    equal_var: bool = False,
    conf_level: float = 0.95,
) -> TTestResult:
    """Two-sample t test of ``outcome`` between the two levels of ``group``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent.
    outcome : str
        Numeric column (a satisfaction item or dimension score).
    group : str
        Column with exactly two levels among the rows with data.
    equal_var : bool, default False
        False gives Welch's test (R's ``t.test`` default), True the pooled-variance test.
    conf_level : float, default 0.95
        Confidence level of the interval for the difference.

    Returns
    -------
    TTestResult
        ``estimate`` = mean(level 1) - mean(level 2), its ``std_error``, ``statistic`` (t),
        ``df``, ``pvalue`` (two-sided), ``ci_low``/``ci_high``, ``cohens_d``, ``hedges_g``,
        the group sizes, means and SDs, ``n_obs`` and ``n_dropped`` (rows missing outcome or group).

    Notes
    -----
    Welch: ``se = sqrt(s1²/n1 + s2²/n2)``, Welch-Satterthwaite
    ``df = se⁴ / ((s1²/n1)²/(n1-1) + (s2²/n2)²/(n2-1))``. Pooled:
    ``sp² = ((n1-1)s1² + (n2-1)s2²)/(n1+n2-2)``, ``se = sp sqrt(1/n1 + 1/n2)``, ``df = n1+n2-2``.
    Effect sizes always use the pooled SD: ``d = (m1 - m2)/sp`` and Hedges' exact small-sample
    correction ``g = d · Γ(m/2) / (sqrt(m/2) Γ((m-1)/2))`` with ``m = n1 + n2 - 2``.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika*, 34(1-2), 28-35.
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. *Journal of Educational Statistics*, 6(2), 107-128.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2], "sex": list("ffffmmmm")})
    >>> r = ttest(df, "sat", "sex")
    >>> round(r.estimate, 2), round(r.statistic, 3), round(r.df, 2)
    (1.5, 3.0, 5.4)

    Validated against: R ``t.test(y ~ g, var.equal = FALSE/TRUE)`` (tests/test_compare.py).
    """
    levels, samples, n_dropped = _grouped(data, outcome, group)
    if len(levels) != 2:
        raise DataError(f"grouping variable has {len(levels)} levels with data",
                        column=group, expected="exactly 2 levels for a t test")
    _need_two(samples, levels, group)
    a, b = samples
    n1, n2 = len(a), len(b)
    m1, m2 = float(a.mean()), float(b.mean())
    v1, v2 = float(a.var(ddof=1)), float(b.var(ddof=1))
    diff = m1 - m2
    dfp = n1 + n2 - 2
    sp2 = ((n1 - 1) * v1 + (n2 - 1) * v2) / dfp
    if sp2 == 0:
        raise DataError("outcome does not vary within either group", column=outcome,
                        expected="variation within the groups")
    if equal_var:
        se = math.sqrt(sp2 * (1 / n1 + 1 / n2))
        df = float(dfp)
    else:
        q1, q2 = v1 / n1, v2 / n2
        se = math.sqrt(q1 + q2)
        df = (q1 + q2) ** 2 / (q1**2 / (n1 - 1) + q2**2 / (n2 - 1))
    if se == 0:
        raise DataError("outcome does not vary within either group", column=outcome,
                        expected="variation within the groups")
    t = diff / se
    p = 2 * stats.t.sf(abs(t), df)
    crit = stats.t.ppf(0.5 + conf_level / 2, df)
    d = diff / math.sqrt(sp2)
    j = math.exp(special.gammaln(dfp / 2) - 0.5 * math.log(dfp / 2)
                 - special.gammaln((dfp - 1) / 2))
    return TTestResult(
        outcome=outcome, group=group, level1=levels[0], level2=levels[1], n1=n1, n2=n2,
        mean1=m1, mean2=m2, sd1=math.sqrt(v1), sd2=math.sqrt(v2), estimate=diff,
        std_error=se, statistic=t, df=df, pvalue=float(p), ci_low=diff - crit * se,
        ci_high=diff + crit * se, cohens_d=d, hedges_g=d * j, equal_var=bool(equal_var),
        conf_level=conf_level, n_obs=n1 + n2, n_dropped=n_dropped,
    )


@dataclass(frozen=True)
class MannWhitneyResult(Result):
    """Mann-Whitney U (Wilcoxon rank-sum) test with the rank-biserial correlation."""

    outcome: str
    group: str
    level1: Any
    level2: Any
    n1: int
    n2: int
    statistic: float
    pvalue: float
    rank_biserial: float
    n_obs: int
    n_dropped: int


def mann_whitney(data: pd.DataFrame, outcome: str, group: str) -> MannWhitneyResult:
    """Mann-Whitney U test of ``outcome`` between the two levels of ``group``.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str
        Numeric (or ordinal-coded) column.
    group : str
        Column with exactly two levels among the rows with data.

    Returns
    -------
    MannWhitneyResult
        ``statistic`` is U of level 1 (R's ``W``), ``pvalue`` two-sided, ``rank_biserial``.

    Notes
    -----
    ``U1 = R1 - n1(n1+1)/2`` with mid-ranks for ties. The p-value is the normal approximation
    with tie-corrected variance and a continuity correction, as R's
    ``wilcox.test(exact = FALSE, correct = TRUE)`` (an exact test is not offered: Likert data
    are tied). Rank-biserial ``r = 2 U1/(n1 n2) - 1`` (positive when level 1 tends higher).

    References
    ----------
    Mann, H. B., & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. *Annals of Mathematical Statistics*, 18(1), 50-60.
    Kerby, D. S. (2014). The simple difference formula: an approach to teaching nonparametric
    correlation. *Comprehensive Psychology*, 3, 11.IT.3.1.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2], "sex": list("ffffmmmm")})
    >>> r = mann_whitney(df, "sat", "sex")
    >>> r.statistic, round(r.rank_biserial, 3)
    (15.0, 0.875)

    Validated against: R ``wilcox.test(y ~ g, exact = FALSE)`` (tests/test_compare.py).
    """
    levels, samples, n_dropped = _grouped(data, outcome, group)
    if len(levels) != 2:
        raise DataError(f"grouping variable has {len(levels)} levels with data",
                        column=group, expected="exactly 2 levels for a Mann-Whitney test")
    a, b = samples
    n1, n2 = len(a), len(b)
    res = stats.mannwhitneyu(a, b, use_continuity=True, alternative="two-sided",
                             method="asymptotic")
    u = float(res.statistic)
    return MannWhitneyResult(
        outcome=outcome, group=group, level1=levels[0], level2=levels[1], n1=n1, n2=n2,
        statistic=u, pvalue=float(res.pvalue), rank_biserial=2 * u / (n1 * n2) - 1,
        n_obs=n1 + n2, n_dropped=n_dropped,
    )


# --------------------------------------------------------------------------- ANOVA


def _group_table(levels: list[Any], samples: list[np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n_obs": [len(s) for s in samples],
            "mean": [float(s.mean()) for s in samples],
            "sd": [float(s.std(ddof=1)) if len(s) > 1 else np.nan for s in samples],
        },
        index=pd.Index(levels, name="level"),
    )


@dataclass(frozen=True)
class AnovaResult(Result):
    """One-way ANOVA (classic or Welch) with eta² and omega²; ``groups`` has n, mean, sd."""

    outcome: str
    group: str
    welch: bool
    statistic: float
    df_between: float
    df_within: float
    pvalue: float
    eta_squared: float
    omega_squared: float
    n_groups: int
    n_obs: int
    n_dropped: int
    groups: pd.DataFrame = field(repr=False)


def anova(data: pd.DataFrame, outcome: str, group: str, *, welch: bool = False) -> AnovaResult:
    """One-way analysis of variance of ``outcome`` across the levels of ``group``.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str
        Numeric column.
    group : str
        Grouping column with at least two levels.
    welch : bool, default False
        False: the classic F test (``aov``); True: Welch's heteroscedastic F test
        (``oneway.test(var.equal = FALSE)``).

    Returns
    -------
    AnovaResult
        ``statistic`` (F), ``df_between``, ``df_within`` (Welch: the fractional denominator df),
        ``pvalue``, ``eta_squared``, ``omega_squared``, ``groups`` (n_obs, mean, sd per level).

    Notes
    -----
    Classic: ``F = (SSb/(k-1)) / (SSw/(N-k))``. Welch (1951): with ``w_i = n_i/s_i²``,
    ``m_w = Σ w_i m_i / Σ w_i``, ``A = Σ w_i (m_i - m_w)² / (k-1)``,
    ``λ = Σ (1 - w_i/Σw)²/(n_i - 1)``, ``F = A / (1 + 2(k-2)λ/(k²-1))``,
    ``df = (k-1, (k²-1)/(3λ))``. The effect sizes come from the classic sums of squares in both
    cases: ``η² = SSb/SSt`` and ``ω² = (SSb - (k-1) MSw)/(SSt + MSw)``.

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38(3/4), 330-336.
    Olejnik, S., & Algina, J. (2003). Generalized eta and omega squared statistics.
    *Psychological Methods*, 8(4), 434-447.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2, 5, 5, 4],
    ...                    "edu": list("aaaabbbbccc")})
    >>> r = anova(df, "sat", "edu")
    >>> round(r.statistic, 3), r.df_between, r.df_within
    (9.686, 2.0, 8.0)

    Validated against: R ``summary(aov())`` and ``oneway.test(var.equal = FALSE/TRUE)``
    (tests/test_compare.py).
    """
    levels, samples, n_dropped = _grouped(data, outcome, group)
    k = len(levels)
    n = np.array([len(s) for s in samples], dtype=float)
    means = np.array([s.mean() for s in samples])
    big_n = n.sum()
    if big_n - k < 1:
        raise DataError("too few observations for an ANOVA", column=outcome,
                        expected="more observations than groups")
    grand = np.concatenate(samples).mean()
    ssb = float((n * (means - grand) ** 2).sum())
    ssw = float(sum(((s - s.mean()) ** 2).sum() for s in samples))
    msw = ssw / (big_n - k)
    eta2 = ssb / (ssb + ssw)
    omega2 = (ssb - (k - 1) * msw) / (ssb + ssw + msw)
    if welch:
        _need_two(samples, levels, group)
        var = np.array([s.var(ddof=1) for s in samples])
        if np.any(var == 0):
            lv = levels[int(np.argmax(var == 0))]
            raise DataError(f"group level {lv!r} has zero variance; Welch's test is undefined",
                            column=outcome, expected="variation within every group")
        w = n / var
        sw = w.sum()
        mw = (w * means).sum() / sw
        a = (w * (means - mw) ** 2).sum() / (k - 1)
        lam = ((1 - w / sw) ** 2 / (n - 1)).sum()
        f = a / (1 + 2 * (k - 2) * lam / (k**2 - 1))
        df1, df2 = float(k - 1), float((k**2 - 1) / (3 * lam))
    else:
        if ssw == 0:
            raise DataError("outcome has no variation within groups", column=outcome,
                            expected="variation within groups")
        f = (ssb / (k - 1)) / msw
        df1, df2 = float(k - 1), float(big_n - k)
    p = float(stats.f.sf(f, df1, df2))
    return AnovaResult(
        outcome=outcome, group=group, welch=bool(welch), statistic=float(f),
        df_between=df1, df_within=df2, pvalue=p, eta_squared=eta2, omega_squared=omega2,
        n_groups=k, n_obs=int(big_n), n_dropped=n_dropped,
        groups=_group_table(levels, samples),
    )


@dataclass(frozen=True)
class KruskalResult(Result):
    """Kruskal-Wallis rank test with epsilon squared."""

    outcome: str
    group: str
    statistic: float
    df: float
    pvalue: float
    epsilon_squared: float
    n_groups: int
    n_obs: int
    n_dropped: int
    groups: pd.DataFrame = field(repr=False)


def kruskal(data: pd.DataFrame, outcome: str, group: str) -> KruskalResult:
    """Kruskal-Wallis H test of ``outcome`` across the levels of ``group``.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome, group : str
        Numeric outcome and grouping column (at least two levels).

    Returns
    -------
    KruskalResult
        ``statistic`` (tie-corrected H), ``df`` = k - 1, ``pvalue`` (chi-square
        approximation), ``epsilon_squared``, ``groups``.

    Notes
    -----
    ``H = [12/(N(N+1)) Σ R_i²/n_i - 3(N+1)] / (1 - Σ(t³-t)/(N³-N))`` and
    ``ε² = H / ((N² - 1)/(N + 1))`` (Tomczak & Tomczak, 2014).

    References
    ----------
    Kruskal, W. H., & Wallis, W. A. (1952). Use of ranks in one-criterion variance analysis.
    *JASA*, 47(260), 583-621.
    Tomczak, M., & Tomczak, E. (2014). The need to report effect size estimates revisited.
    *Trends in Sport Sciences*, 1(21), 19-25.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2, 5, 5, 4],
    ...                    "edu": list("aaaabbbbccc")})
    >>> r = kruskal(df, "sat", "edu")
    >>> round(r.statistic, 3), r.df
    (7.077, 2.0)

    Validated against: R ``kruskal.test(y ~ g)`` (tests/test_compare.py).
    """
    levels, samples, n_dropped = _grouped(data, outcome, group)
    res = stats.kruskal(*samples)
    big_n = sum(len(s) for s in samples)
    h = float(res.statistic)
    return KruskalResult(
        outcome=outcome, group=group, statistic=h, df=float(len(levels) - 1),
        pvalue=float(res.pvalue), epsilon_squared=h / ((big_n**2 - 1) / (big_n + 1)),
        n_groups=len(levels), n_obs=big_n, n_dropped=n_dropped,
        groups=_group_table(levels, samples),
    )


# --------------------------------------------------------------------------- post hoc


@dataclass(frozen=True)
class PairwiseResult(Result):
    """Post hoc pairwise comparisons; ``table`` has one row per pair of levels."""

    method: str
    outcome: str
    group: str
    conf_level: float
    n_obs: int
    n_dropped: int
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The pairwise table (group1, group2, estimate, std_error, statistic, df, pvalue,
        ci_low, ci_high)."""
        return self.table.copy()


#: below this, the numerical integral of the studentized range tail (SciPy's, like R's
#: ``ptukey``) loses its digits and reaches 0.0; the Bonferroni bound is used instead
_RANGE_SF_FLOOR = 1e-9


def _range_sf(q: float, k: int, df: float) -> float:
    r"""Upper tail :math:`P(Q_{k,df} > q)` of the studentized range, positive however far out.

    SciPy's ``studentized_range.sf`` integrates numerically and returns exactly 0.0 (R's
    ``ptukey(lower.tail = FALSE)`` a constant ~1e-10) far in the tail. There the
    Bonferroni bound :math:`\binom{k}{2} \, P(|t_{df}| > q / \sqrt 2)` (the range exceeds
    :math:`q` only if some pair does; each pair's difference over :math:`\sqrt 2 s` is
    :math:`t_{df}`) is used: it bounds the tail from above and its relative error vanishes as
    :math:`p \to 0` (0.5% at p = 1e-8 with k = 3, df = 50).
    """
    p = float(stats.studentized_range.sf(q, k, df))
    if p < _RANGE_SF_FLOOR:
        p = min(1.0, k * (k - 1) / 2 * 2 * float(stats.t.sf(q / math.sqrt(2), df)))
    return p


def _pairwise(method: str, data: pd.DataFrame, outcome: str, group: str,
              conf_level: float) -> PairwiseResult:
    levels, samples, n_dropped = _grouped(data, outcome, group)
    _need_two(samples, levels, group)
    k = len(levels)
    n = np.array([len(s) for s in samples], dtype=float)
    m = np.array([s.mean() for s in samples])
    v = np.array([s.var(ddof=1) for s in samples])
    rows = []
    if method == "tukey":
        df_w = n.sum() - k
        msw = float(((n - 1) * v).sum() / df_w)
    for i in range(k - 1):
        for j in range(i + 1, k):
            diff = float(m[i] - m[j])
            if method == "tukey":
                se = math.sqrt(msw / 2 * (1 / n[i] + 1 / n[j]))  # SE on the q scale
                df = float(df_w)
                q = abs(diff) / se
                crit = float(stats.studentized_range.ppf(conf_level, k, df))
                p = _range_sf(q, k, df)
                half = crit * se
                se_diff = se * math.sqrt(2)
                t = diff / se_diff
            else:
                se_diff = math.sqrt(v[i] / n[i] + v[j] / n[j])
                if se_diff == 0:
                    raise DataError("two groups both have zero variance", column=outcome,
                                    expected="variation within groups")
                df = float(se_diff**4 / ((v[i] / n[i]) ** 2 / (n[i] - 1)
                                         + (v[j] / n[j]) ** 2 / (n[j] - 1)))
                t = diff / se_diff
                crit = float(stats.studentized_range.ppf(conf_level, k, df))
                p = _range_sf(abs(t) * math.sqrt(2), k, df)
                half = crit / math.sqrt(2) * se_diff
            rows.append({
                "group1": levels[i], "group2": levels[j], "estimate": diff,
                "std_error": se_diff, "statistic": t, "df": df, "pvalue": min(p, 1.0),
                "ci_low": diff - half, "ci_high": diff + half,
            })
    return PairwiseResult(
        method="tukey_hsd" if method == "tukey" else "games_howell", outcome=outcome,
        group=group, conf_level=conf_level, n_obs=int(n.sum()), n_dropped=n_dropped,
        table=pd.DataFrame(rows),
    )


def tukey_hsd(data: pd.DataFrame, outcome: str, group: str, *,
              conf_level: float = 0.95) -> PairwiseResult:
    """Tukey's honestly significant difference test (Tukey-Kramer for unequal n).

    Parameters
    ----------
    data : pandas.DataFrame
    outcome, group : str
    conf_level : float, default 0.95
        Family-wise confidence level of the simultaneous intervals.

    Returns
    -------
    PairwiseResult
        ``table`` with ``group1``, ``group2`` (level order), ``estimate`` = mean(group1) -
        mean(group2), ``std_error`` = sqrt(MSw (1/n_i + 1/n_j)), ``statistic`` = estimate /
        std_error, ``df`` = N - k, adjusted ``pvalue``, ``ci_low``, ``ci_high``.

    Notes
    -----
    ``q = |m_i - m_j| / sqrt(MSw/2 (1/n_i + 1/n_j))``, ``p = P(Q_{k,N-k} > q)`` from the
    studentized range distribution; interval ``diff ± q_{1-α;k,N-k} sqrt(MSw/2 (1/n_i+1/n_j))``.
    Note the sign: R's ``TukeyHSD`` reports ``j - i``; here the difference is ``i - j``.

    References
    ----------
    Tukey, J. W. (1953). *The problem of multiple comparisons*. Princeton University.
    Kramer, C. Y. (1956). Extension of multiple range tests to group means with unequal numbers
    of replications. *Biometrics*, 12(3), 307-310.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2, 5, 5, 4],
    ...                    "edu": list("aaaabbbbccc")})
    >>> tab = tukey_hsd(df, "sat", "edu").table
    >>> [round(x, 3) for x in tab["estimate"]]
    [1.5, -0.667, -2.167]

    Validated against: R ``TukeyHSD(aov(y ~ g))`` (tests/test_compare.py).
    """
    return _pairwise("tukey", data, outcome, group, conf_level)


def games_howell(data: pd.DataFrame, outcome: str, group: str, *,
                 conf_level: float = 0.95) -> PairwiseResult:
    """Games-Howell pairwise comparisons (unequal variances and sizes).

    Parameters
    ----------
    data : pandas.DataFrame
    outcome, group : str
    conf_level : float, default 0.95

    Returns
    -------
    PairwiseResult
        As :func:`tukey_hsd`, with the Welch standard error and df per pair.

    Notes
    -----
    For levels i, j: ``se = sqrt(s_i²/n_i + s_j²/n_j)``, ``t = (m_i - m_j)/se``, Welch df,
    ``p = P(Q_{k,df} > |t| sqrt 2)``, interval ``diff ± q_{1-α;k,df}/sqrt 2 · se``.

    References
    ----------
    Games, P. A., & Howell, J. F. (1976). Pairwise multiple comparison procedures with unequal
    n's and/or variances: a Monte Carlo study. *Journal of Educational Statistics*, 1(2),
    113-125.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2, 5, 5, 4],
    ...                    "edu": list("aaaabbbbccc")})
    >>> tab = games_howell(df, "sat", "edu").table
    >>> [round(x, 2) for x in tab["df"]]
    [5.4, 5.0, 4.45]

    Validated against: the Games-Howell formula evaluated in R with ``ptukey``/``qtukey``
    (tests/reference/compare_drivers.R; no R package computing it is installed).
    """
    return _pairwise("games_howell", data, outcome, group, conf_level)


# --------------------------------------------------------------------------- chi-square


@dataclass(frozen=True)
class ChiSquareResult(Result):
    """Pearson chi-square test of independence with Cramér's V and a small-expected flag."""

    row: str
    col: str
    statistic: float
    df: int
    pvalue: float
    cramers_v: float
    correction: bool
    n_obs: int
    n_dropped: int
    min_expected: float
    share_expected_below_5: float
    small_expected: bool
    message: str
    observed: pd.DataFrame = field(repr=False)
    expected: pd.DataFrame = field(repr=False)


def chi_square(
    data: pd.DataFrame,
    row: str,
    col: str,
    *,
    correction: bool = True,
    warn: bool = False,
) -> ChiSquareResult:
    """Chi-square test of independence of two categorical columns.

    Parameters
    ----------
    data : pandas.DataFrame
    row, col : str
        Categorical columns; rows missing either are left out (``n_dropped``). Only categories
        that occur are tabulated.
    correction : bool, default True
        Yates' continuity correction for 2x2 tables (as R's ``chisq.test`` and SciPy); ignored
        for larger tables.
    warn : bool, default False
        If True and expected counts are small, emit a :class:`SmallExpectedWarning`. The flag
        ``small_expected`` and ``message`` are always set, so callers running with warnings as
        errors can read the flag instead.

    Returns
    -------
    ChiSquareResult
        ``statistic``, ``df``, ``pvalue``, ``cramers_v``, ``observed`` and ``expected`` tables,
        ``min_expected``, ``share_expected_below_5``, ``small_expected`` and ``message``.

    Notes
    -----
    ``E_ij = r_i c_j / n``; ``X² = Σ (|O - E| - c)²/E`` with ``c = min(0.5, |O - E|)`` for a
    corrected 2x2 table, else 0; ``df = (r-1)(c-1)``. Cramér's V uses the **uncorrected**
    statistic: ``V = sqrt(X²/(n (min(r, c) - 1)))``. ``small_expected`` follows Cochran's
    (1954) rule: some expected count below 1, or more than 20% of them below 5 (R warns when
    any is below 5; ``share_expected_below_5`` lets you apply that rule).

    References
    ----------
    Cochran, W. G. (1954). Some methods for strengthening the common χ² tests. *Biometrics*,
    10(4), 417-451.
    Cramér, H. (1946). *Mathematical Methods of Statistics*. Princeton University Press.

    Examples
    --------
    >>> df = pd.DataFrame({"sex": list("ffffffmmmmmm"), "sat": list("hhhhhlhhlllh")})
    >>> r = chi_square(df, "sex", "sat", correction=False)
    >>> round(r.statistic, 3), r.df, r.small_expected
    (1.5, 1, True)

    Validated against: R ``chisq.test(table(a, b))`` (tests/test_compare.py).
    """
    _require_columns(data, [row, col])
    ok = data[row].notna() & data[col].notna()
    n_dropped = int((~ok).sum())
    a, b = data.loc[ok, row], data.loc[ok, col]
    rl, cl = _levels(a), _levels(b)
    if len(rl) < 2 or len(cl) < 2:
        bad = row if len(rl) < 2 else col
        raise DataError("variable has fewer than 2 categories with data", column=bad,
                        expected="at least 2 categories")
    obs = (
        pd.crosstab(pd.Categorical(a, categories=rl), pd.Categorical(b, categories=cl),
                    dropna=False)
        .to_numpy(dtype=float)
    )
    n = obs.sum()
    exp = np.outer(obs.sum(1), obs.sum(0)) / n
    dof = (len(rl) - 1) * (len(cl) - 1)
    dev = np.abs(obs - exp)
    x2_raw = float((dev**2 / exp).sum())
    applied = bool(correction and dof == 1)
    x2 = float(((dev - np.minimum(0.5, dev)) ** 2 / exp).sum()) if applied else x2_raw
    p = float(stats.chi2.sf(x2, dof))
    v = math.sqrt(x2_raw / (n * (min(len(rl), len(cl)) - 1)))
    min_e = float(exp.min())
    share = float((exp < 5).mean())
    small = bool(min_e < 1 or share > 0.2)
    msg = (
        f"{share:.0%} of expected counts are below 5 (minimum {min_e:.3g}); the chi-square "
        "approximation may be inaccurate" if small else ""
    )
    if small and warn:
        warnings.warn(f"chi_square({row!r}, {col!r}): {msg}", SmallExpectedWarning,
                      stacklevel=2)
    return ChiSquareResult(
        row=row, col=col, statistic=x2, df=dof, pvalue=p, cramers_v=v, correction=applied,
        n_obs=int(n), n_dropped=n_dropped, min_expected=min_e, share_expected_below_5=share,
        small_expected=small, message=msg,
        observed=pd.DataFrame(obs, index=pd.Index(rl, name=row), columns=pd.Index(cl, name=col)),
        expected=pd.DataFrame(exp, index=pd.Index(rl, name=row), columns=pd.Index(cl, name=col)),
    )


# --------------------------------------------------------------------------- batch


@dataclass(frozen=True)
class WeightedGroupTestResult(Result):
    """Design-based comparison of weighted group means (see :func:`weighted_group_test`)."""

    outcome: str
    group: str
    test: str
    statistic: float
    df: float
    df2: float
    pvalue: float
    estimate: float
    eta_squared: float
    n_obs: int
    n_dropped: int
    means: pd.DataFrame = field(repr=False)


def weighted_group_test(data: pd.DataFrame, outcome: str, group: str, weights: Any) -> WeightedGroupTestResult:
    """Compare survey-weighted group means with a design-based Wald test.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str
        Numeric outcome.
    group : str
        Grouping column; levels in categorical order (else sorted).
    weights : str or array-like
        Column name or one non-negative weight per row (e.g. ``rake(...).weights``).

    Returns
    -------
    WeightedGroupTestResult
        ``test`` is ``"design_t"`` for two levels (``statistic`` is t for level 1 minus level 2,
        ``df`` = n - 2) or ``"design_wald_f"`` for more (``statistic`` is F on ``df`` = k - 1
        and ``df2`` = n - k); ``estimate`` is the difference of the weighted means (two levels);
        ``eta_squared`` is the weighted R^2 of ``y ~ group``; ``means`` gives each level's
        weighted mean with its linearization standard error.

    Notes
    -----
    The design is weights only (``svydesign(ids = ~1, weights = ~w)``: units sampled with
    replacement, no strata or clusters). The group means are the weighted least-squares fit of
    ``y ~ group``; with ``U_i = w_i x_i e_i`` its sandwich covariance is
    ``n/(n-1) A^-1 (sum U_i U_i') A^-1``, ``A = sum w_i x_i x_i'``, as ``svyglm``. Two levels:
    ``t = b / se(b)`` on ``n - 2`` df (``svyttest``). More levels: the Wald statistic of the
    group coefficients divided by ``k - 1``, referred to F(k - 1, n - k)
    (``regTermTest(..., method = "Wald")``). Rank tests have no design-based analogue here.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [3, 4, 5, 2, 3, 4, 4, 5], "g": list("aaaabbbb"),
    ...                    "w": [1, 2, 1, 2, 1, 1, 2, 2]})
    >>> r = weighted_group_test(df, "y", "g", "w")
    >>> r.test, r.df
    ('design_t', 6.0)

    Validated against: R survey ``svyttest``, ``svyglm`` + ``regTermTest(method = "Wald")`` and
    ``svyby(svymean)`` (tests/reference/compare_weighted.R, tests/test_compare.py).
    """
    _require_columns(data, [outcome, group])
    y = _numeric(data[outcome], outcome)
    w = _weights_vector(data, weights, "weighted_group_test")
    g = data[group]
    ok = ~np.isnan(y) & g.notna().to_numpy() & ~np.isnan(w)
    n_dropped = int((~ok).sum())
    y, w, g = y[ok], w[ok], g[ok]
    levels = _levels(g)
    k = len(levels)
    if k < 2:
        raise DataError(f"grouping variable has {k} level(s) with data", column=group,
                        expected="at least 2 levels")
    codes = g.to_numpy()
    members = np.stack([codes == lv for lv in levels], axis=1)
    for lv, m in zip(levels, members.T, strict=True):
        if m.sum() < 2 or w[m].sum() <= 0:
            raise DataError(f"group level {lv!r} has fewer than 2 members with positive weight",
                            column=group, expected="at least 2 observations per group")
    if np.ptp(y) == 0:
        raise DataError("outcome is constant", column=outcome, expected="an outcome that varies")
    n = len(y)
    x = np.column_stack([np.ones(n), members[:, 1:].astype(float)])
    a = x.T @ (x * w[:, None])
    a_inv = np.linalg.inv(a)
    b = a_inv @ (x.T @ (w * y))
    e = y - x @ b
    u = x * (w * e)[:, None]
    v = n / (n - 1) * a_inv @ (u.T @ u) @ a_inv
    wm = np.array([np.sum(w[m] * y[m]) / np.sum(w[m]) for m in members.T])
    z = np.where(members, (w[:, None] * (y[:, None] - wm[None, :])) / np.array([w[m].sum() for m in members.T]), 0.0)
    se_means = np.sqrt(n / (n - 1) * np.sum(z * z, axis=0))
    ybar = np.sum(w * y) / np.sum(w)
    eta2 = 1.0 - np.sum(w * e * e) / np.sum(w * (y - ybar) ** 2)
    means = pd.DataFrame({"mean": wm, "std_error": se_means, "weight_sum": [w[m].sum() for m in members.T],
                          "n_obs": members.sum(axis=0)}, index=pd.Index(levels, name=group))
    if k == 2:
        t = -b[1] / math.sqrt(v[1, 1])  # level 1 minus level 2
        df = float(n - 2)
        return WeightedGroupTestResult(outcome, group, "design_t", float(t), df, math.nan,
                                       float(2 * stats.t.sf(abs(t), df)), float(-b[1]), float(eta2),
                                       n, n_dropped, means)
    bg, vg = b[1:], v[1:, 1:]
    f = float(bg @ np.linalg.solve(vg, bg)) / (k - 1)
    df2 = float(n - k)
    return WeightedGroupTestResult(outcome, group, "design_wald_f", f, float(k - 1), df2,
                                   float(stats.f.sf(f, k - 1, df2)), math.nan, float(eta2), n,
                                   n_dropped, means)


@dataclass(frozen=True)
class CompareGroupsResult(Result):
    """Every outcome by every group in one tidy table (``table``)."""

    correction: str
    parametric: bool
    n_tests: int
    n_failed: int
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table: one row per (outcome, group)."""
        return self.table.copy()


def compare_groups(
    data: pd.DataFrame,
    outcomes: list[str] | str,
    groups: list[str] | str,
    *,
    correction: str = "holm",
    parametric: bool = True,
    weights: Any = None,
) -> CompareGroupsResult:
    """Compare every outcome across every grouping variable, with corrected p-values.

    Parameters
    ----------
    data : pandas.DataFrame
    outcomes : list of str
        Numeric columns (items or dimension scores).
    groups : list of str
        Grouping columns (demographics).
    correction : {"holm", "fdr_bh", "bonferroni", "none"}, default "holm"
        Multiplicity correction applied over the whole family of ``len(outcomes) * len(groups)``
        tests.
    parametric : bool, default True
        True: Welch t test for two levels, Welch ANOVA for three or more. False: Mann-Whitney
        and Kruskal-Wallis.
    weights : str or array-like, optional
        Survey weights (a column name or one value per row). Each comparison is then the
        design-based test of :func:`weighted_group_test` (t for two levels, Wald F for more;
        effect size: weighted η²). Rank tests are not defined with weights.

    Returns
    -------
    CompareGroupsResult
        ``table`` columns: ``outcome``, ``group``, ``test``, ``n_groups``, ``n_obs``,
        ``n_dropped``, ``statistic``, ``df``, ``df2`` (Welch ANOVA denominator df, else NaN),
        ``pvalue``, ``p_adjusted``, ``effect_size``, ``effect_size_name`` (cohens_d,
        eta_squared, rank_biserial, epsilon_squared), ``estimate`` (mean difference for two
        levels, else NaN), ``note`` (empty, or why the comparison could not be made, e.g. a
        group with one member: that row is flagged with NaN statistics and left out of the
        correction; ``n_failed`` counts such rows). Unknown columns still raise ``DataError``.

    Notes
    -----
    The tests are those of :func:`ttest` (``equal_var=False``), :func:`anova`
    (``welch=True``; the effect size is η² from the classic decomposition),
    :func:`mann_whitney` and :func:`kruskal`; corrections are those of :func:`p_adjust`.

    References
    ----------
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.

    Examples
    --------
    >>> df = pd.DataFrame({"sat": [4, 5, 3, 4, 2, 3, 3, 2, 5, 5, 4],
    ...                    "sex": list("fmfmfmfmfmf"), "edu": list("aaaabbbbccc")})
    >>> tab = compare_groups(df, ["sat"], ["sex", "edu"]).table
    >>> list(tab["test"])
    ['welch_t', 'welch_anova']

    Validated against: R ``t.test``, ``oneway.test``, ``wilcox.test``, ``kruskal.test`` and
    ``p.adjust`` (tests/test_compare.py).
    """
    _check_option(correction, "correction", "compare_groups", _CORRECTIONS)
    if weights is not None and not parametric:
        raise DataError("compare_groups: rank tests are not defined with survey weights",
                        expected="parametric=True when weights are given")
    if weights is not None and not isinstance(weights, str):
        weights = _weights_vector(data, weights, "compare_groups")
    groups = [groups] if isinstance(groups, str) else list(groups)
    _require_columns(data, outcomes + groups)
    rows = []
    for y in outcomes:
        for g in groups:
            k = len(_levels(data.loc[data[y].notna(), g].dropna()))
            row: dict[str, Any] = {"outcome": y, "group": g, "n_groups": k, "note": ""}
            try:
                row.update(_one_comparison(data, y, g, k, parametric, weights))
            except DataError as exc:  # flagged row: the rest of the family still runs
                ok = int((data[y].notna() & data[g].notna()).sum())
                row.update(test=None, n_obs=ok, n_dropped=len(data) - ok, statistic=np.nan,
                           df=np.nan, df2=np.nan, pvalue=np.nan, effect_size=np.nan,
                           effect_size_name=None, estimate=np.nan, note=str(exc))
            rows.append(row)
    cols = ["outcome", "group", "test", "n_groups", "n_obs", "n_dropped", "statistic", "df",
            "df2", "pvalue", "p_adjusted", "effect_size", "effect_size_name", "estimate", "note"]
    table = pd.DataFrame(rows)
    table["p_adjusted"] = p_adjust(table["pvalue"].to_numpy(dtype=float), correction)
    n_tests = int(table["pvalue"].notna().sum())
    return CompareGroupsResult(correction=correction, parametric=bool(parametric),
                               n_tests=n_tests, n_failed=len(table) - n_tests,
                               table=table[cols])


def _one_comparison(data: pd.DataFrame, y: str, g: str, k: int,
                    parametric: bool, weights: Any = None) -> dict[str, Any]:
    if k < 2:
        raise DataError("grouping variable has fewer than 2 levels with data",
                        column=g, expected="at least 2 levels")
    nan = np.nan
    if weights is not None:
        r = weighted_group_test(data, y, g, weights)
        vals = (r.test, r.n_obs, r.n_dropped, r.statistic, r.df, r.df2, r.pvalue, r.eta_squared,
                "eta_squared", r.estimate)
    elif parametric and k == 2:
        r = ttest(data, y, g, equal_var=False)
        vals = ("welch_t", r.n_obs, r.n_dropped, r.statistic, r.df, nan, r.pvalue, r.cohens_d,
                "cohens_d", r.estimate)
    elif parametric:
        a = anova(data, y, g, welch=True)
        vals = ("welch_anova", a.n_obs, a.n_dropped, a.statistic, a.df_between, a.df_within,
                a.pvalue, a.eta_squared, "eta_squared", nan)
    elif k == 2:
        u = mann_whitney(data, y, g)
        vals = ("mann_whitney", u.n_obs, u.n_dropped, u.statistic, nan, nan, u.pvalue,
                u.rank_biserial, "rank_biserial", nan)
    else:
        h = kruskal(data, y, g)
        vals = ("kruskal", h.n_obs, h.n_dropped, h.statistic, h.df, nan, h.pvalue,
                h.epsilon_squared, "epsilon_squared", nan)
    keys = ("test", "n_obs", "n_dropped", "statistic", "df", "df2", "pvalue", "effect_size",
            "effect_size_name", "estimate")
    return dict(zip(keys, vals, strict=True))
