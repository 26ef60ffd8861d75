"""The correlation table of a thesis: means, SDs and the lower-triangle correlation matrix with
significance stars and confidence intervals (Pearson or Spearman, pairwise n).

:func:`correlation_table` computes; :meth:`CorrelationTableResult.to_table` renders the
matrix as a :class:`servicestudy.tables.Table` (APA or 三线表 layout, stars added only then).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._matrices import check_option
from ._results import Result
from .errors import DataError

__all__ = ["CorrelationTableResult", "correlation_table", "significance_stars"]

#: APA thresholds: * p < .05, ** p < .01, *** p < .001
STAR_LEVELS: tuple[tuple[float, str], ...] = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def significance_stars(pvalue: float) -> str:
    """``"***"`` for p < .001, ``"**"`` for p < .01, ``"*"`` for p < .05, else ``""``.

    >>> [significance_stars(p) for p in (0.0004, 0.004, 0.04, 0.4, float("nan"))]
    ['***', '**', '*', '', '']
    """
    if pvalue is None or not math.isfinite(pvalue):
        return ""
    for cut, mark in STAR_LEVELS:
        if pvalue < cut:
            return mark
    return ""


@dataclass(frozen=True)
class CorrelationTableResult(Result):
    """Descriptives and pairwise correlations (see :func:`correlation_table`).

    ``descriptives``: indexed by variable, ``mean``, ``sd``, ``n_obs``. ``pairs`` (also
    ``to_frame()``): one row per pair (``var1`` below ``var2`` in the table) with ``estimate``,
    ``ci_low``, ``ci_high``, ``statistic`` (t), ``df``, ``pvalue``, ``n_obs``.
    """

    method: str
    conf_level: float
    n_vars: int
    descriptives: pd.DataFrame = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.pairs.copy()

    def summary(self) -> dict[str, pd.DataFrame]:
        return {"descriptives": self.descriptives.copy(), "pairs": self.to_frame()}

    def matrix(self, column: str = "estimate") -> pd.DataFrame:
        """The full symmetric matrix of one ``pairs`` column (diagonal: 1 for ``estimate``,
        the variable's n for ``n_obs``, NaN otherwise)."""
        names = list(self.descriptives.index)
        m = pd.DataFrame(np.nan, index=names, columns=names)
        for r in self.pairs.itertuples(index=False):
            v = getattr(r, column)
            m.loc[r.var1, r.var2] = v
            m.loc[r.var2, r.var1] = v
        for nm in names:
            if column == "estimate":
                m.loc[nm, nm] = 1.0
            elif column == "n_obs":
                m.loc[nm, nm] = self.descriptives.loc[nm, "n_obs"]
        return m

    def to_table(self, *, title: str | None = None, labels: dict[str, str] | None = None,
                 lang: str = "en", ci: bool = False) -> Any:
        """The thesis table: M, SD and the lower triangle with stars (rendered here).

        ``lang="zh"`` gives Chinese headers and note; ``ci=True`` adds the interval under each
        coefficient. Numbers are rounded only in the returned table's cells.
        """
        from .tables import Table, format_value

        check_option(lang, "lang", "CorrelationTableResult.to_table", ("en", "zh"))
        names = list(self.descriptives.index)
        shown = [(labels or {}).get(n, n) for n in names]
        est, pv = self.matrix("estimate"), self.matrix("pvalue")
        lo, hi = self.matrix("ci_low"), self.matrix("ci_high")
        zh = lang == "zh"
        cols: dict[str, list[Any]] = {("均值" if zh else "M"): list(self.descriptives["mean"]),
                                      ("标准差" if zh else "SD"): list(self.descriptives["sd"])}
        for j, nj in enumerate(names):
            cells = []
            for i, ni in enumerate(names):
                if i < j:
                    cells.append("")
                elif i == j:
                    cells.append(DASH)
                else:
                    s = format_value(est.loc[ni, nj], "r2") + significance_stars(pv.loc[ni, nj])
                    if ci:
                        s += (f" [{format_value(lo.loc[ni, nj], 'r2')}, "
                              f"{format_value(hi.loc[ni, nj], 'r2')}]")
                    cells.append(s)
            cols[str(j + 1)] = cells
        data = pd.DataFrame(cols, index=pd.Index([f"{k + 1}. {s}" for k, s in enumerate(shown)],
                                                 name="变量" if zh else "Variable"))
        kind = {"pearson": ("Pearson", "皮尔逊"), "spearman": ("Spearman", "斯皮尔曼")}[self.method]
        nmin, nmax = int(self.pairs["n_obs"].min()), int(self.pairs["n_obs"].max())
        nrange = f"{nmin}" if nmin == nmax else f"{nmin}–{nmax}"
        level = f"{100 * self.conf_level:g}"
        if zh:
            note = (f"{kind[1]}相关系数；成对删除，n = {nrange}。* p < .05，** p < .01，*** p < .001"
                    + (f"；方括号内为{level}%置信区间。" if ci else "。"))
            title = title or "变量的均值、标准差与相关系数"
        else:
            note = (f"{kind[0]} correlations, pairwise deletion, n = {nrange}. "
                    "* p < .05. ** p < .01. *** p < .001."
                    + (f" Brackets: {level}% confidence intervals." if ci else ""))
            title = title or "Means, standard deviations and correlations"
        return Table(title, data, note=note, formats=dict.fromkeys(list(cols)[:2], ".2f"),
                     note_label="注：" if zh else "Note.")


DASH = "\u2014"


def _pair_stats(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, int]:
    ok = ~(np.isnan(x) | np.isnan(y))
    a, b = x[ok], y[ok]
    n = int(ok.sum())
    if n < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan, n
    if method == "spearman":
        a, b = stats.rankdata(a), stats.rankdata(b)
    a = a - a.mean()
    b = b - b.mean()
    r = float(a @ b / math.sqrt((a @ a) * (b @ b)))
    return max(-1.0, min(1.0, r)), n


def correlation_table(
    data: pd.DataFrame,
    *,
    method: str = "pearson",
    conf_level: float = 0.95,
    nan_policy: str = "pairwise",
) -> CorrelationTableResult:
    """Means, SDs and every pairwise correlation with t test, p-value and CI.

    Parameters
    ----------
    data
        One numeric column per variable (items or scale scores), in table order.
    method
        ``"pearson"`` or ``"spearman"`` (Pearson on the ranks, average ranks for ties).
    conf_level
        Level of the Fisher-z interval.
    nan_policy
        ``"pairwise"`` (each coefficient from the rows where both are present; the table shows
        the n range) or ``"listwise"`` (rows complete on every variable).

    Returns
    -------
    CorrelationTableResult
        ``descriptives`` (``mean``, ``sd``, ``n_obs``) and ``pairs``; ``to_table()`` renders
        the lower-triangle table with stars.

    Raises
    ------
    DataError
        Fewer than 2 variables, a non-numeric or constant variable, a variable with fewer than
        3 values, an unknown option, or a level outside (0, 1).

    Notes
    -----
    For a pair with n complete rows and coefficient r (Pearson, or Pearson on within-pair
    ranks for Spearman, as R's ``cor(use = "pairwise", method = "spearman")``):
    ``t = r sqrt((n - 2)/(1 - r^2))`` on ``n - 2`` df, two-sided p; CI
    ``tanh(atanh(r) -/+ z_{(1+level)/2} / sqrt(n - 3))``. These are ``psych::corr.test``'s
    formulas for both methods; for Pearson they equal ``cor.test``. **Variant:** for
    Spearman ``cor.test`` gives an exact (small n, no ties) or Edgeworth p-value and no CI;
    SPSS uses the same t approximation as here. Stars: * p < .05, ** p < .01, *** p < .001
    (APA); means and SDs (n - 1) use each variable's available values.

    References
    ----------
    Revelle, W. (2022). *psych* (R package version 2.2.9), ``corr.test``.
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced from
    a small sample. *Metron*, 1, 3-32.
    American Psychological Association (2020). *Publication Manual* (7th ed.), table 7.14
    (correlation table).

    Examples
    --------
    >>> # R: psych::corr.test(d, method = "pearson", adjust = "none")
    >>> import pandas as pd
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": [2, 1, 4, 3, 6, 5],
    ...                   "c": [6, 4, 5, 2, 3, 1]})
    >>> res = correlation_table(d)
    >>> print(round(res.pairs.loc[0, "estimate"], 4), round(res.pairs.loc[0, "pvalue"], 4))
    0.8286 0.0416

    Validated against: R 4.2.2 ``cor.test`` and psych 2.2.9 ``corr.test`` (Pearson and
    Spearman, pairwise n, on psych::bfi with missing values; tests/reference/correlation.R).
    """
    check_option(method, "method", "correlation_table", ("pearson", "spearman"))
    check_option(nan_policy, "nan_policy", "correlation_table", ("pairwise", "listwise"))
    if not isinstance(conf_level, (int, float)) or not 0 < conf_level < 1:
        raise DataError("correlation_table: conf_level must be between 0 and 1", value=conf_level)
    if not isinstance(data, pd.DataFrame) or data.shape[1] < 2:
        raise DataError("correlation_table needs a DataFrame with at least 2 columns")
    names = [str(c) for c in data.columns]
    if len(set(names)) != len(names):
        raise DataError("correlation_table: column names must be unique", value=names)
    cols = []
    for nm, c in zip(names, data.columns, strict=True):
        s = data[c]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise DataError(f"correlation_table: variable is not numeric (dtype {s.dtype})",
                            column=nm, expected="numeric scores")
        cols.append(s.to_numpy(dtype=float, na_value=np.nan))
    x = np.column_stack(cols)
    if not np.all(np.isfinite(x) | np.isnan(x)):
        raise DataError("correlation_table: infinite value in the data")
    if nan_policy == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    desc = []
    for j, nm in enumerate(names):
        v = x[:, j][~np.isnan(x[:, j])]
        if v.size < 3:
            raise DataError(f"correlation_table: variable has {v.size} values", column=nm,
                            expected="at least 3")
        if np.ptp(v) == 0:
            raise DataError("correlation_table: variable is constant", column=nm)
        desc.append({"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "n_obs": int(v.size)})
    zc = float(stats.norm.ppf(0.5 + conf_level / 2))
    rows = []
    for j in range(len(names)):
        for i in range(j + 1, len(names)):
            r, n = _pair_stats(x[:, i], x[:, j], method)
            df = n - 2
            with np.errstate(divide="ignore", invalid="ignore"):
                t = r * math.sqrt(df / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
            p = float(2 * stats.t.sf(abs(t), df)) if df > 0 and math.isfinite(r) else math.nan
            if n > 3 and abs(r) < 1:
                z = math.atanh(r)
                lo, hi = math.tanh(z - zc / math.sqrt(n - 3)), math.tanh(z + zc / math.sqrt(n - 3))
            else:
                lo = hi = math.nan
            rows.append({"var1": names[i], "var2": names[j], "estimate": r, "ci_low": lo,
                         "ci_high": hi, "statistic": float(t), "df": float(df), "pvalue": p,
                         "n_obs": n})
    return CorrelationTableResult(
        method=method, conf_level=float(conf_level), n_vars=len(names),
        descriptives=pd.DataFrame(desc, index=pd.Index(names, name="variable")),
        pairs=pd.DataFrame(rows),
    )
