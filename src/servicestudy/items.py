"""Item analysis in the SPSS/SPSSAU tradition: critical ratio (extreme-group t test),
corrected item-total correlation and alpha if the item is deleted, in one table.

The statistics are those Chinese questionnaire theses report under 项目分析 (item analysis):
an item discriminates when the respondents with the highest and lowest total scores differ on
it (the critical ratio, 决断值 CR), when it correlates with the rest of the scale (校正的项总计
相关性, CITC) and when deleting it would not raise Cronbach's alpha (项已删除的α系数).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._matrices import as_items, check_option, listwise
from ._results import Result
from .errors import DataError

__all__ = ["ItemAnalysisResult", "item_analysis"]


@dataclass(frozen=True)
class ItemAnalysisResult(Result):
    """Item analysis of one scale (see :func:`item_analysis`).

    Scalars: ``alpha`` of the whole scale, ``n_obs`` complete rows used, ``n_items``,
    ``fraction`` (extreme-group share), ``cut_low``/``cut_high`` (total-score cut points),
    ``n_low``/``n_high`` (extreme-group sizes) and ``test`` (``"student"`` or ``"welch"``).
    ``items`` is the per-item table (``to_frame()`` returns it).
    """

    alpha: float
    n_obs: int
    n_items: int
    fraction: float
    cut_low: float
    cut_high: float
    n_low: int
    n_high: int
    test: str
    items: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def summary(self) -> dict[str, pd.DataFrame]:
        """The scale-level row and the per-item table."""
        return {"scale": pd.DataFrame([self.scalars()]), "items": self.to_frame()}


def _ttest(a: np.ndarray, b: np.ndarray, equal_var: bool) -> tuple[float, float, float]:
    """Two-sample t (a minus b), df and two-sided p; Student (pooled) or Welch."""
    na, nb = a.size, b.size
    va, vb = a.var(ddof=1), b.var(ddof=1)
    diff = a.mean() - b.mean()
    if equal_var:
        df = na + nb - 2.0
        sp2 = ((na - 1) * va + (nb - 1) * vb) / df
        se = math.sqrt(sp2 * (1 / na + 1 / nb))
    else:
        qa, qb = va / na, vb / nb
        se = math.sqrt(qa + qb)
        df = (qa + qb) ** 2 / (qa**2 / (na - 1) + qb**2 / (nb - 1))
    t = diff / se
    return float(t), float(df), float(2 * stats.t.sf(abs(t), df))


def item_analysis(
    items: pd.DataFrame,
    *,
    fraction: float = 0.27,
    equal_var: bool = True,
    nan_policy: str = "listwise",
) -> ItemAnalysisResult:
    """Critical ratio, corrected item-total correlation and alpha-if-deleted for one scale.

    Parameters
    ----------
    items
        Wide table, one numeric column per item of one scale, already reverse-coded.
    fraction
        Share of respondents in each extreme group (0 < fraction < 0.5); 0.27 (Kelley 1939)
        is the convention.
    equal_var
        ``True`` (default): Student's pooled-variance t test, the row SPSS reports under "equal
        variances assumed" and SPSSAU shows; ``False``: Welch's t test.
    nan_policy
        ``"listwise"`` only (SPSS RELIABILITY's default): every statistic uses the rows that
        answer all items, so the CR groups and the alpha agree on one sample.

    Returns
    -------
    ItemAnalysisResult
        ``items`` is indexed by item with ``mean``, ``sd`` (all rows used), ``mean_high``,
        ``mean_low``, ``sd_high``, ``sd_low``, ``statistic`` (the critical ratio: t of high
        minus low), ``df``, ``pvalue``, ``r_drop`` (corrected item-total correlation, CITC) and
        ``alpha_if_deleted``.

    Raises
    ------
    DataError
        Fewer than 3 items or 3 complete rows, a constant or non-numeric item, a fraction
        outside (0, 0.5), or extreme groups with fewer than 2 members or an item that is
        constant in both groups (no t statistic).

    Notes
    -----
    Total score ``T_i = sum_j x_ij`` over complete rows. Cut points are the ``fraction`` and
    ``1 - fraction`` quantiles of ``T`` by the SPSS HAVERAGE definition (R ``quantile(type =
    6)``); the low group is ``T <= cut_low`` and the high group ``T >= cut_high``, ties at a
    cut point included (the SPSS recipe "recode the total at the 27th and 73rd percentiles").
    Other tools cut at exactly ``round(0.27 n)`` respondents; with many ties the groups then
    differ.

    Critical ratio (Student): ``t = (m_H - m_L) / (s_p sqrt(1/n_H + 1/n_L))`` with the pooled
    variance ``s_p^2 = ((n_H-1)s_H^2 + (n_L-1)s_L^2)/(n_H+n_L-2)`` on ``n_H + n_L - 2`` df
    (Welch: ``(m_H - m_L)/sqrt(s_H^2/n_H + s_L^2/n_L)``, Welch-Satterthwaite df); two-sided p.

    Corrected item-total correlation: ``r_drop_j = cor(x_j, T - x_j)``; alpha if deleted:
    Cronbach's alpha of the other k - 1 items (psych's ``r.drop`` and ``alpha.drop$raw_alpha``
    on the complete rows).

    References
    ----------
    Kelley, T. L. (1939). The selection of upper and lower groups for the validation of test
    items. *Journal of Educational Psychology*, 30(1), 17-24.
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16(3), 297-334.
    Wu Minglong 吴明隆 (2010). 问卷统计分析实务: SPSS操作与应用. Chongqing University Press,
    ch. 4 (项目分析).
    Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages. *The American
    Statistician*, 50(4), 361-365.

    Examples
    --------
    >>> # R: psych::alpha(x)$item.stats$r.drop; t.test(x$a[T >= q73], x$a[T <= q27], var.equal = TRUE)
    >>> import pandas as pd
    >>> x = pd.DataFrame({"a": [1, 2, 3, 4, 5, 3, 2, 4, 5, 1],
    ...                   "b": [2, 2, 3, 5, 4, 3, 1, 4, 4, 2],
    ...                   "c": [1, 3, 3, 4, 5, 2, 2, 5, 4, 1]})
    >>> res = item_analysis(x)
    >>> print(res.n_low, res.n_high, round(res.items.loc["a", "statistic"], 3))
    2 4 8.083
    >>> list(res.items.columns[-3:])
    ['pvalue', 'r_drop', 'alpha_if_deleted']

    Validated against: R 4.2.2 psych 2.2.9 ``alpha`` (r.drop, alpha.drop), ``quantile(type = 6)``
    and ``t.test`` (Student and Welch) on psych::bfi (tests/reference/items.R,
    tests/test_items.py).
    """
    check_option(nan_policy, "nan_policy", "item_analysis", ("listwise",))
    if not isinstance(fraction, (int, float)) or not 0 < fraction < 0.5:
        raise DataError("item_analysis: fraction must be between 0 and 0.5", value=fraction,
                        expected="a share such as 0.27")
    data = as_items(items, "item_analysis", min_items=3)
    x = listwise(data.values, "item_analysis")
    for j, name in enumerate(data.names):
        if np.ptp(x[:, j]) == 0:
            raise DataError("item_analysis: item is constant in the complete rows", column=name)
    n, k = x.shape
    total = x.sum(axis=1)
    cut_low, cut_high = (float(v) for v in np.quantile(total, [fraction, 1 - fraction],
                                                       method="weibull"))
    low = total <= cut_low
    high = total >= cut_high
    n_low, n_high = int(low.sum()), int(high.sum())
    if n_low < 2 or n_high < 2 or np.all(low == high):
        raise DataError(f"item_analysis: extreme groups too small (low {n_low}, high {n_high})",
                        expected="at least 2 respondents in each 27% group")
    c = np.cov(x, rowvar=False)
    sum_c = c.sum()
    c1 = c.sum(axis=0)
    dc = np.diag(c)
    alpha = (1 - np.trace(c) / sum_c) * k / (k - 1)
    kd = k - 1
    alpha_drop = (1 - (np.trace(c) - dc) / (sum_c - 2 * c1 + dc)) * kd / (kd - 1)
    r_drop = (c1 - dc) / np.sqrt(dc * (sum_c - 2 * c1 + dc))
    rows = []
    for j, name in enumerate(data.names):
        hi, lo = x[high, j], x[low, j]
        if np.ptp(hi) == 0 and np.ptp(lo) == 0:
            raise DataError("item_analysis: item is constant within both extreme groups; "
                            "the critical ratio is undefined", column=name)
        t, df, pv = _ttest(hi, lo, equal_var)
        rows.append({
            "mean": float(x[:, j].mean()),
            "sd": float(x[:, j].std(ddof=1)),
            "mean_high": float(hi.mean()),
            "mean_low": float(lo.mean()),
            "sd_high": float(hi.std(ddof=1)),
            "sd_low": float(lo.std(ddof=1)),
            "statistic": t,
            "df": df,
            "pvalue": pv,
            "r_drop": float(r_drop[j]),
            "alpha_if_deleted": float(alpha_drop[j]) if k > 2 else math.nan,
        })
    table = pd.DataFrame(rows, index=pd.Index(data.names, name="item"))
    return ItemAnalysisResult(
        alpha=float(alpha), n_obs=int(n), n_items=int(k), fraction=float(fraction),
        cut_low=cut_low, cut_high=cut_high, n_low=n_low, n_high=n_high,
        test="student" if equal_var else "welch", items=table,
    )
