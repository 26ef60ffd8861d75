"""Survey weights: population margins, raking, weighted means and proportions with standard
errors, and a weighted covariance helper.

A quota or convenience sample of residents rarely matches the jurisdiction's population by
gender, age and residence status. Raking (iterative proportional fitting) adjusts weights so
the weighted sample reproduces known population margins; weighted estimates then come with
linearization standard errors as R's ``survey`` package computes them.

Margins files are long CSV tables with the columns ``variable, category, proportion`` (lines
starting with ``#`` are comments)::

    # population shares of the K station's jurisdiction (source, year)
    variable,category,proportion
    gender,Male,0.52
    gender,Female,0.48

Categories are matched to the data as text (``1`` and ``1.0`` both match the code 1).

Validated against: R 4.2.2 survey 4.1.1 ``rake``, ``svymean``, ``svyby`` and stats ``cov.wt``
(tests/reference/weighting.R -> tests/reference/weighting.json, tests/test_weighting.py).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._matrices import check_option, pairwise_cov
from ._results import Result
from .errors import ConvergenceError, DataError, WeightingError

__all__ = [
    "RakeResult",
    "WeightedEstimate",
    "design_effect",
    "effective_sample_size",
    "rake",
    "read_margins",
    "weighted_cov",
    "weighted_mean",
    "weighted_proportion",
]

MARGIN_COLUMNS = ("variable", "category", "proportion")
SUM_TOL = 1e-6


# --- margins --------------------------------------------------------------------------


def _cat_key(value: Any) -> str:
    """Text key of a category: integral numbers lose their ``.0``; text is stripped."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(int(v)) if math.isfinite(v) and v.is_integer() else repr(v)
    text = str(value).strip()
    try:
        v = float(text)
    except ValueError:
        return text
    return str(int(v)) if math.isfinite(v) and v.is_integer() else text


def _check_margins_table(table: pd.DataFrame, source: str | None = None) -> pd.DataFrame:
    cols = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in MARGIN_COLUMNS if c not in cols]
    if missing:
        raise WeightingError(
            f"margins table lacks column(s) {', '.join(missing)}",
            file=source,
            expected="columns variable, category, proportion (long format)",
        )
    table = table.set_axis(cols, axis=1)[list(MARGIN_COLUMNS)].copy()
    if table.empty:
        raise WeightingError("margins table has no rows", file=source)
    if table["variable"].isna().any() or table["category"].isna().any():
        bad = int(np.flatnonzero((table["variable"].isna() | table["category"].isna()).to_numpy())[0])
        raise WeightingError("empty variable or category", file=source, row=bad + 2)
    table["variable"] = table["variable"].astype(str).str.strip()
    table["category"] = table["category"].map(_cat_key)
    prop = pd.to_numeric(table["proportion"], errors="coerce")
    bad = prop.isna() | ~np.isfinite(prop.to_numpy(dtype=float, na_value=np.nan)) | (prop < 0) | (prop > 1)
    if bad.any():
        k = int(np.flatnonzero(bad.to_numpy())[0])
        raise WeightingError(
            "proportion is not a number between 0 and 1",
            file=source,
            row=k + 2,
            column="proportion",
            value=table["proportion"].iloc[k],
        )
    table["proportion"] = prop.astype(float)
    dup = table.duplicated(["variable", "category"])
    if dup.any():
        k = int(np.flatnonzero(dup.to_numpy())[0])
        raise WeightingError(
            f"category {table['category'].iloc[k]!r} of {table['variable'].iloc[k]!r} appears twice",
            file=source,
            row=k + 2,
        )
    for var, grp in table.groupby("variable", sort=False):
        total = float(grp["proportion"].sum())
        if abs(total - 1.0) > SUM_TOL:
            raise WeightingError(
                f"proportions of {var!r} sum to {total:.10g}",
                file=source,
                expected=f"a sum of 1 within {SUM_TOL:g} for each variable",
            )
    return table.reset_index(drop=True)


def read_margins(path: str | Path) -> pd.DataFrame:
    """Read and check a population margins CSV (long format).

    Parameters
    ----------
    path
        A CSV file with columns ``variable``, ``category``, ``proportion``; lines starting
        with ``#`` are comments (say where the figures come from).

    Returns
    -------
    pandas.DataFrame
        Columns ``variable``, ``category`` (text) and ``proportion`` (float), in file order.

    Raises
    ------
    WeightingError
        Missing columns, non-numeric or out-of-range proportions, duplicated categories, or
        proportions of a variable that do not sum to one within 1e-6.
    ReadError
        The file cannot be read.

    Notes
    -----
    The file is read as UTF-8 (a BOM is accepted) with every value as text, so numeric codes
    such as ``1``/``2`` match the codebook's categories as written. Each variable's
    proportions must lie in [0, 1] and add up to 1 within 1e-6; they are not renormalised.
    Cite the source of the figures (census table, year) in a comment line.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 7
    (population margins for raking).

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "m.csv")
    ...     with open(p, "w") as fh:
    ...         _ = fh.write("# test\\nvariable,category,proportion\\ng,a,0.4\\ng,b,0.6\\n")
    ...     read_margins(p)["proportion"].tolist()
    [0.4, 0.6]

    Tested on: hand-written files for each error, and the shipped margins of the bundled
    wave against the simulation's true proportions (tests/test_weighting.py).
    """
    from .errors import ReadError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReadError("margins file not found", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReadError(f"cannot read margins file ({exc.__class__.__name__})", file=p) from None
    try:
        table = pd.read_csv(io.StringIO(text), comment="#", dtype=str, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WeightingError(f"malformed margins CSV: {str(exc).splitlines()[0]}", file=p) from None
    return _check_margins_table(table, str(p))


def _margins_dict(margins: Any) -> dict[str, dict[str, float]]:
    if isinstance(margins, pd.DataFrame):
        table = _check_margins_table(margins)
        out: dict[str, dict[str, float]] = {}
        for var, cat, prop in table.itertuples(index=False):
            out.setdefault(var, {})[cat] = prop
        return out
    if isinstance(margins, Mapping):
        rows = [
            (str(var), cat, prop)
            for var, shares in margins.items()
            for cat, prop in dict(shares).items()
        ]
        return _margins_dict(pd.DataFrame(rows, columns=list(MARGIN_COLUMNS)))
    raise WeightingError(
        "margins must be a DataFrame (variable, category, proportion) or a dict",
        value=type(margins).__name__,
    )


# --- raking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RakeResult(Result):
    """Raked weights and a convergence report.

    ``weights`` (a Series aligned with the data, summing to the number of rows) and
    ``margins`` (per variable and category: target, unweighted and weighted sample shares)
    are tables; the scalars form ``to_frame()``.
    """

    weights: pd.Series
    margins: pd.DataFrame
    converged: bool
    iterations: int
    max_margin_error: float
    n_obs: int
    design_effect: float
    effective_n: float
    weight_min: float
    weight_max: float
    trimmed: bool
    trim_rounds: int
    _codes: Any = None  # (variable -> integer codes, n categories) for calibrated SEs


def _raking_codes(
    data: pd.DataFrame, margins: dict[str, dict[str, float]]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    codes: dict[str, np.ndarray] = {}
    targets: dict[str, np.ndarray] = {}
    absent = [v for v in margins if v not in data.columns]
    if absent:
        raise WeightingError(
            f"margin variable(s) {', '.join(map(repr, absent))} not in the data",
            expected=f"columns among {', '.join(map(str, data.columns[:20]))}",
        )
    for var, shares in margins.items():
        col = data[var]
        miss = col.isna()
        if miss.any():
            raise WeightingError(
                f"{int(miss.sum())} respondent(s) have no value for raking variable {var!r}",
                column=var,
                expected="complete raking variables (impute or drop those rows first)",
            )
        keys = col.astype(object).map(_cat_key).to_numpy()
        cats = list(shares)
        data_cats = sorted(set(keys), key=str)
        extra = [c for c in data_cats if c not in shares]
        empty = [c for c in cats if c not in set(keys) and shares[c] > 0]
        if extra or empty:
            parts = []
            if extra:
                parts.append(f"data categories {extra} have no margin")
            if empty:
                parts.append(f"margin categories {empty} do not occur in the data")
            raise WeightingError(
                f"categories of {var!r} do not match: " + "; ".join(parts),
                column=var,
                expected=f"the margins' categories {cats}",
            )
        index = {c: k for k, c in enumerate(cats)}
        codes[var] = np.array([index[k] for k in keys], dtype=np.intp)
        targets[var] = np.array([shares[c] for c in cats], dtype=float)
    return codes, targets


def _ipf(
    w0: np.ndarray,
    codes: dict[str, np.ndarray],
    targets: dict[str, np.ndarray],
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, int, float]:
    w = w0.copy()
    total = w.sum()
    err = math.inf
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - reported
        for var, c in codes.items():
            t = targets[var] * total
            s = np.bincount(c, weights=w, minlength=t.size)
            with np.errstate(divide="ignore", invalid="ignore"):
                f = np.where(s > 0, t / s, 0.0)
            w = w * f[c]
        err = max(
            float(np.max(np.abs(np.bincount(c, weights=w, minlength=targets[v].size) / w.sum() - targets[v])))
            for v, c in codes.items()
        )
        if err < tol:
            break
    return w, it, err


def rake(
    data: pd.DataFrame,
    margins: pd.DataFrame | Mapping[str, Mapping[Any, float]],
    *,
    base_weights: str | Sequence[float] | np.ndarray | pd.Series | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
    trim: float | tuple[float, float] | None = None,
    max_trim_rounds: int = 50,
    on_failure: str = "raise",
) -> RakeResult:
    """Rake survey weights to population margins (iterative proportional fitting).

    Parameters
    ----------
    data
        One row per respondent with the raking variables (no missing values in them).
    margins
        Long table from :func:`read_margins` or a dict ``{variable: {category: share}}``.
        Shares of each variable sum to one. Categories are matched as text.
    base_weights
        Starting (design) weights: a column name or one value per row; default all ones.
    max_iter, tol
        IPF stops when the largest absolute difference between a weighted sample share and
        its target is below ``tol``, or after ``max_iter`` full sweeps over the margins.
    trim
        Bounds on the weights relative to their mean: ``5`` caps weights at 5 times the mean;
        ``(0.2, 5)`` also floors them at 0.2 times the mean. Weights are trimmed and re-raked
        until both the bounds and the margins hold (or ``max_trim_rounds``).
    on_failure
        ``"raise"`` (default): raise :class:`ConvergenceError` when the margins are not met;
        ``"flag"``: return the last weights with ``converged=False``.

    Returns
    -------
    RakeResult
        ``weights`` (mean 1, summing to n), ``margins`` table, ``converged``, ``iterations``,
        ``max_margin_error``, Kish's ``design_effect`` and ``effective_n``, ``weight_min``,
        ``weight_max``, ``trimmed``, ``trim_rounds``.

    Notes
    -----
    Each sweep multiplies the weights in each category ``c`` of each raking variable by
    ``N_c / sum_{i in c} w_i`` (the raking ratio), variable after variable (Deming & Stephan
    1940). The fixed point is the same as that of R's ``survey::rake`` with population totals
    ``share * n``; ``survey`` stops on the change in the weighted cross-table, we stop on the
    margin error, which is what matters for the estimates.

    Kish's approximate design effect due to unequal weighting is ``1 + CV^2 = n sum w^2 /
    (sum w)^2`` with the CV computed with divisor n, and the effective sample size
    ``n / deff = (sum w)^2 / sum w^2`` (Kish 1965, sect. 11.7).

    Trimming (capping) follows the common "trim and re-rake" loop (e.g. Battaglia et al.
    2009): the margins then hold exactly and the bounds approximately; ``weight_max`` tells.

    References
    ----------
    Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled
    frequency table when the expected marginal totals are known. *Annals of Mathematical
    Statistics*, 11(4), 427-444.

    Kish, L. (1965). *Survey Sampling*. Wiley.

    Battaglia, M. P., Izrael, D., Hoaglin, D. C., & Frankel, M. R. (2009). Practical
    considerations in raking survey data. *Survey Practice*, 2(5).

    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"g": ["m", "m", "m", "f", "f"], "r": ["a", "b", "b", "a", "b"]})
    >>> res = rake(d, {"g": {"m": 0.5, "f": 0.5}, "r": {"a": 0.5, "b": 0.5}})
    >>> print(res.converged, [round(x, 3) for x in res.weights])
    True [1.036, 0.732, 0.732, 1.464, 1.036]

    Validated against: R 4.2.2 survey 4.1.1 ``rake`` (tests/reference/weighting.R).
    """
    check_option(on_failure, "on_failure", "rake", ("raise", "flag"))
    if not isinstance(data, pd.DataFrame):
        raise DataError("rake needs a DataFrame with one row per respondent", value=type(data).__name__)
    n = len(data)
    if n == 0:
        raise DataError("rake: the data have no rows")
    if max_iter < 1 or not tol > 0:
        raise DataError("rake: max_iter must be >= 1 and tol > 0")
    mdict = _margins_dict(margins)
    codes, targets = _raking_codes(data, mdict)
    w0 = _weights_vector(data, base_weights, "rake") if base_weights is not None else np.ones(n)
    if not np.any(w0 > 0):
        raise DataError("rake: all base weights are zero")
    w0 = w0 * n / w0.sum()

    lo = hi = None
    if trim is not None:
        if isinstance(trim, (int, float)):
            lo, hi = 0.0, float(trim)
        else:
            lo, hi = (float(trim[0]), float(trim[1]))
        if not (0 <= lo < 1 < hi):
            raise DataError("rake: trim bounds must satisfy 0 <= lower < 1 < upper (relative to the mean weight)", value=trim)

    w, it, err = _ipf(w0, codes, targets, max_iter, tol)
    total_it = it
    rounds = 0
    trimmed = False
    if hi is not None and err < tol:
        for rounds in range(1, max_trim_rounds + 1):
            mean = w.mean()
            clipped = np.clip(w, lo * mean, hi * mean)
            if np.allclose(clipped, w, rtol=0, atol=1e-9 * mean):
                rounds -= 1
                break
            trimmed = True
            w, it, err = _ipf(clipped, codes, targets, max_iter, tol)
            total_it += it
            if err >= tol:
                break
    converged = bool(err < tol)
    if not converged and on_failure == "raise":
        raise ConvergenceError(
            f"rake: margins not met after {max_iter} iterations (max margin error {err:.3g})",
            expected="margins consistent with the sample (empty cross-classifications or "
            "contradictory margins prevent convergence); try fewer raking variables or on_failure='flag'",
        )
    w = w * n / w.sum()
    rows = []
    for var, c in codes.items():
        cats = list(mdict[var])
        unw = np.bincount(c, minlength=len(cats)) / n
        wtd = np.bincount(c, weights=w, minlength=len(cats)) / w.sum()
        for k, cat in enumerate(cats):
            rows.append((var, cat, targets[var][k], unw[k], wtd[k], int(np.sum(c == k))))
    mtable = pd.DataFrame(
        rows, columns=["variable", "category", "target", "sample_share", "weighted_share", "n_obs"]
    )
    return RakeResult(
        weights=pd.Series(w, index=data.index, name="weight"),
        margins=mtable,
        converged=converged,
        iterations=total_it,
        max_margin_error=float(err),
        n_obs=n,
        design_effect=design_effect(w),
        effective_n=effective_sample_size(w),
        weight_min=float(w.min()),
        weight_max=float(w.max()),
        trimmed=trimmed,
        trim_rounds=rounds,
        _codes=dict(codes),
    )


def design_effect(weights: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Kish's design effect due to unequal weighting, ``1 + CV^2 = n sum w^2 / (sum w)^2``.

    Parameters
    ----------
    weights
        One weight per respondent (their scale does not matter).

    Returns
    -------
    float
        ``deff >= 1``; 1 for equal weights.

    Notes
    -----
    ``deff = n sum w_i^2 / (sum w_i)^2 = 1 + CV^2``, with CV the coefficient of variation of
    the weights using the population variance (divisor n), as Kish (1965, 1992). It is the
    variance inflation of a weighted mean from unequal weights alone, assuming the weights
    are unrelated to the outcome; it ignores clustering and the variance reduction raking
    can bring (see :func:`weighted_mean` for design-based SEs). Some software (e.g. R
    ``survey::deff``) reports a different, estimate-specific design effect.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley, sect. 11.7.

    Kish, L. (1992). Weighting for unequal P_i. *Journal of Official Statistics*, 8(2),
    183-200.

    Examples
    --------
    >>> design_effect([1, 1, 2, 2])
    1.1111111111111112

    Validated against: hand computations and ``1 + var(w, ddof=0) / mean(w)^2``
    (tests/test_weighting.py).
    """
    w = np.asarray(weights, dtype=float)
    return float(w.size * np.sum(w * w) / np.sum(w) ** 2)


def effective_sample_size(weights: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``.

    Parameters
    ----------
    weights
        One weight per respondent (their scale does not matter).

    Returns
    -------
    float
        ``n_eff <= n``; n for equal weights.

    Notes
    -----
    ``n_eff = (sum w_i)^2 / sum w_i^2 = n / deff`` with ``deff`` from :func:`design_effect`:
    the size of a simple random sample giving a mean the same precision under Kish's
    assumptions (weights unrelated to the outcome).

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley, sect. 11.7.

    Examples
    --------
    >>> effective_sample_size([1, 1, 2, 2])
    3.6

    Validated against: hand computations and ``n / design_effect(w)``
    (tests/test_weighting.py).
    """
    w = np.asarray(weights, dtype=float)
    return float(np.sum(w) ** 2 / np.sum(w * w))


# --- weighted estimates ---------------------------------------------------------------


@dataclass(frozen=True)
class WeightedEstimate(Result):
    """Weighted means or proportions with linearization standard errors.

    ``table`` has one row per estimate (``variable``, ``group`` when ``by`` is used,
    ``category`` for proportions) with ``estimate``, ``std_error``, ``ci_low``, ``ci_high``,
    ``n_obs`` and ``sum_weights``.
    """

    table: pd.DataFrame
    variance: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def _weights_vector(data: pd.DataFrame, weights: Any, func: str) -> np.ndarray:
    if isinstance(weights, str):
        if weights not in data.columns:
            raise DataError(f"{func}: weight column {weights!r} not in the data")
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(weights, pd.Series):
        w = weights.to_numpy(dtype=float, na_value=np.nan)
    else:
        w = np.asarray(weights, dtype=float).ravel()
    if w.shape[0] != len(data):
        raise DataError(f"{func}: {w.shape[0]} weights for {len(data)} rows")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise DataError(f"{func}: weights must be finite and non-negative")
    return w


def _linearization_var(
    z: np.ndarray, raking: dict[str, np.ndarray] | None, w: np.ndarray
) -> np.ndarray:
    """Variance of a total of influence values ``z`` (n x p), one-stage with-replacement.

    With ``raking``, ``z`` is first replaced by its residuals from the raking margins as
    ``survey::svyrecvar`` does for a raked design (10 back-fitting passes of
    ``z - w * ave(z / w, margin)``).
    """
    z = z.copy()
    if raking:
        safe = np.where(w > 0, w, 1.0)
        for _ in range(10):
            for c in raking.values():
                ratio = z / safe[:, None]
                k = int(c.max()) + 1
                counts = np.bincount(c, minlength=k).astype(float)
                means = np.stack(
                    [np.bincount(c, weights=ratio[:, j], minlength=k) for j in range(z.shape[1])],
                    axis=1,
                ) / counts[:, None]
                z = z - safe[:, None] * means[c]
    n = z.shape[0]
    zc = z - z.mean(axis=0)
    return np.sum(zc * zc, axis=0) * n / (n - 1)


def _estimates(
    data: pd.DataFrame,
    var: str,
    weights: Any,
    by: str | None,
    level: float,
    proportions: bool,
    func: str,
) -> WeightedEstimate:
    from scipy import stats

    if not 0 < level < 1:
        raise DataError(f"{func}: level must be between 0 and 1", value=level)
    if var not in data.columns:
        raise DataError(f"{func}: variable {var!r} not in the data")
    if by is not None and by not in data.columns:
        raise DataError(f"{func}: grouping variable {by!r} not in the data")
    raking = None
    if isinstance(weights, RakeResult):
        raking = weights._codes
        if len(weights.weights) != len(data):
            raise DataError(f"{func}: the RakeResult has {len(weights.weights)} weights for {len(data)} rows")
        w = weights.weights.to_numpy(dtype=float)
        variance = "calibrated"
    else:
        w = _weights_vector(data, weights, func)
        variance = "weights_only"
    col = data[var]
    if proportions:
        if isinstance(col.dtype, pd.CategoricalDtype):
            cats = list(col.cat.categories)
        else:
            cats = sorted(col.dropna().unique().tolist(), key=_cat_key)
        y = np.column_stack([(col == c).to_numpy(dtype=float) for c in cats]) if cats else np.empty((len(col), 0))
        y[col.isna().to_numpy()] = np.nan
    else:
        if isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise DataError(f"{func}: variable is not numeric (dtype {col.dtype})", column=var,
                            expected="numeric scores (use weighted_proportion for categories)")
        cats = [None]
        y = col.to_numpy(dtype=float, na_value=np.nan)[:, None]
    if by is None:
        groups: list[Any] = [None]
        gmask = [np.ones(len(data), dtype=bool)]
    else:
        g = data[by]
        if isinstance(g.dtype, pd.CategoricalDtype):
            groups = [c for c in g.cat.categories if (g == c).any()]
        else:
            groups = sorted(g.dropna().unique().tolist(), key=_cat_key)
        gmask = [(g == c).to_numpy() for c in groups]
    present = ~np.any(np.isnan(y), axis=1)
    zcrit = float(stats.norm.ppf(0.5 + level / 2))
    rows = []
    for grp, mask in zip(groups, gmask, strict=True):
        use = mask & present & (w > 0)
        # survey keeps the design's n PSUs for a subset (rows outside the domain or with a
        # missing value contribute a zero influence value), calibrated or not
        wsum = w[use].sum()
        if use.sum() < 1 or wsum <= 0:
            est = np.full(len(cats), np.nan)
            se = np.full(len(cats), np.nan)
        else:
            est = (w[use, None] * y[use]).sum(axis=0) / wsum
            z = np.zeros_like(y)
            z[use] = w[use, None] * (y[use] - est) / wsum
            se = np.sqrt(_linearization_var(z, raking, w))
        for k, cat in enumerate(cats):
            row: dict[str, Any] = {"variable": var}
            if by is not None:
                row["group"] = grp
            if proportions:
                row["category"] = cat
            row.update(
                estimate=float(est[k]),
                std_error=float(se[k]),
                ci_low=float(est[k] - zcrit * se[k]),
                ci_high=float(est[k] + zcrit * se[k]),
                n_obs=int(use.sum()),
                sum_weights=float(wsum),
            )
            rows.append(row)
    return WeightedEstimate(table=pd.DataFrame(rows), variance=variance, level=level)


def weighted_mean(
    data: pd.DataFrame,
    var: str,
    weights: str | Sequence[float] | np.ndarray | pd.Series | RakeResult,
    *,
    by: str | None = None,
    level: float = 0.95,
) -> WeightedEstimate:
    """Weighted mean with a linearization (Taylor series) standard error.

    Parameters
    ----------
    data
        One row per respondent.
    var
        A numeric column. Rows where it is missing are left out (``na.rm = TRUE``).
    weights
        A weight column name, one weight per row, or a :class:`RakeResult`.
    by
        Optional grouping column: one estimate per group (domain), as ``survey::svyby``.
    level
        Confidence level of the normal-theory interval (``confint(svymean(...))``).

    Returns
    -------
    WeightedEstimate

    Notes
    -----
    The estimate is ``ybar = sum w y / sum w``. With plain weights the design is R's
    ``svydesign(ids = ~1, weights = ~w)`` (one stage, with replacement, no strata or fpc):
    ``Var = n/(n-1) sum_i (z_i - zbar)^2`` with influence values ``z_i = w_i (y_i - ybar) /
    sum w`` for the rows used and ``z_i = 0`` for rows outside a ``by`` group or with ``var``
    missing; ``n`` is the number of rows of ``data`` (``survey`` keeps the design's number of
    PSUs for a subset, so a domain estimate is not treated as a sample of its own).

    Given a :class:`RakeResult` the SE also accounts for the calibration, as ``svymean`` on a
    ``rake()``-d design does: the influence values are replaced by their residuals from the
    raking margins (back-fitting within-category means of ``z / w``, 10 passes). These SEs are usually smaller than the
    weights-only ones for variables related to the raking variables; both ignore any
    clustering of the sample.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 2 and 7.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 2.0, 2.0]})
    >>> r = weighted_mean(d, "y", "w").table
    >>> print(round(r.estimate[0], 4), round(r.std_error[0], 4))
    2.8333 0.5966

    Validated against: R 4.2.2 survey 4.1.1 ``svymean``/``svyby`` on weights-only and raked
    designs (tests/reference/weighting.R).
    """
    return _estimates(data, var, weights, by, level, False, "weighted_mean")


def weighted_proportion(
    data: pd.DataFrame,
    var: str,
    weights: str | Sequence[float] | np.ndarray | pd.Series | RakeResult,
    *,
    by: str | None = None,
    level: float = 0.95,
) -> WeightedEstimate:
    """Weighted proportions of each category of ``var`` with linearization SEs.

    Same design and variance as :func:`weighted_mean` applied to the category indicators
    (``svymean(~factor, design)``); rows where ``var`` is missing are left out. Categories
    are those of a pandas Categorical (in order, including empty ones) or the sorted
    observed values.

    Parameters
    ----------
    data
        One row per respondent.
    var
        A categorical column (any dtype). Rows where it is missing are left out.
    weights
        A weight column name, one weight per row, or a :class:`RakeResult` (then the SE
        accounts for the calibration, as for :func:`weighted_mean`).
    by
        Optional grouping column: proportions within each group (domain), as
        ``survey::svyby``.
    level
        Confidence level of the normal-theory interval.

    Returns
    -------
    WeightedEstimate
        ``table`` with one row per category (and group): ``variable``, ``category``,
        ``estimate``, ``std_error``, ``ci_low``, ``ci_high``, ``n_obs``, ``sum_weights``.

    Notes
    -----
    ``p_c = sum_i w_i 1[y_i = c] / sum_i w_i``; its SE is the linearization SE of
    :func:`weighted_mean` for the indicator ``1[y_i = c]`` (survey's ``svymean`` on a
    factor). The interval is the Wald interval ``p +- z SE`` (``confint(svymean(...))``), not
    a logit or Clopper-Pearson interval (``svyciprop``), so it can leave [0, 1] for rare
    categories in small samples.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, ch. 2 and 7.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"g": ["a", "b", "b", "b"], "w": [3.0, 1.0, 1.0, 1.0]})
    >>> weighted_proportion(d, "g", "w").table.estimate.tolist()
    [0.5, 0.5]

    Validated against: R 4.2.2 survey 4.1.1 ``svymean(~factor)`` on a weights-only and a
    raked design, estimates and SEs at rel 1e-8 (tests/reference/weighting.R,
    tests/test_weighting.py).
    """
    return _estimates(data, var, weights, by, level, True, "weighted_proportion")


def weighted_cov(
    x: pd.DataFrame | np.ndarray,
    w: Sequence[float] | np.ndarray | pd.Series,
    *,
    method: str = "unbiased",
    nan_policy: str = "listwise",
) -> pd.DataFrame | np.ndarray:
    """Weighted covariance matrix (R's ``cov.wt``), for other modules' ``weights=`` options.

    Parameters
    ----------
    x
        Rows are respondents, columns variables (a DataFrame keeps its column names).
    w
        Non-negative weights, one per row (their scale does not matter).
    method
        ``"unbiased"`` (default): ``sum w_i (x_i - m)(x_i - m)' / (W - sum w_i^2 / W)`` with
        ``W = sum w`` and ``m = sum w x / W`` - R's ``cov.wt(method = "unbiased")`` (with
        normalised weights ``1 - sum wn^2`` in the denominator), reducing to ``cov()`` for
        equal weights (reliability weights). ``"ml"``: divisor ``W``.
    nan_policy
        ``"listwise"`` uses rows complete on all columns; ``"pairwise"`` computes each entry
        from the rows where both variables are present (unbiased divisor only), as
        ``servicestudy._matrices.pairwise_cov``.

    Returns
    -------
    DataFrame (for DataFrame input) or ndarray
        The p x p covariance matrix, labelled by the column names for DataFrame input.

    Raises
    ------
    DataError
        For an unknown option, weights that are not one finite non-negative value per row,
        fewer than two complete rows with positive weight, or ``nan_policy="pairwise"`` with
        ``method="ml"``.

    Notes
    -----
    ``m = sum w_i x_i / W``, ``C = sum w_i (x_i - m)(x_i - m)' / D`` with ``W = sum w_i`` and
    ``D = W - sum w_i^2 / W`` (unbiased for reliability weights, R ``cov.wt``) or ``D = W``
    (``"ml"``). Frequency weights would instead use ``D = W - 1`` (SPSS ``WEIGHT BY``); we
    do not offer that variant because survey weights are not counts.

    References
    ----------
    R Core Team (2022). ``cov.wt``: Weighted covariance matrices. *R: A language and
    environment for statistical computing*, version 4.2.2, package stats.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]])
    >>> np.allclose(weighted_cov(x, [1, 1, 1]), np.cov(x.T))
    True

    Validated against: R 4.2.2 ``cov.wt`` with ``method = "unbiased"`` and ``"ML"`` at
    rel 1e-7 (the raked weights feeding it agree with R to ~1e-10;
    tests/reference/weighting.R), and ``numpy.cov`` for equal weights and pairwise entries
    (tests/test_weighting.py).
    """
    check_option(method, "method", "weighted_cov", ("unbiased", "ml"))
    check_option(nan_policy, "nan_policy", "weighted_cov", ("listwise", "pairwise"))
    names = list(x.columns) if isinstance(x, pd.DataFrame) else None
    a = x.to_numpy(dtype=float, na_value=np.nan) if isinstance(x, pd.DataFrame) else np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise DataError("weighted_cov needs a 2-D table (rows = respondents)")
    wv = np.asarray(w, dtype=float).ravel()
    if wv.shape[0] != a.shape[0]:
        raise DataError(f"weighted_cov: {wv.shape[0]} weights for {a.shape[0]} rows")
    if np.any(~np.isfinite(wv)) or np.any(wv < 0):
        raise DataError("weighted_cov: weights must be finite and non-negative")
    if nan_policy == "pairwise":
        if method != "unbiased":
            raise DataError("weighted_cov: nan_policy='pairwise' supports method='unbiased' only")
        c = pairwise_cov(a, wv)
    else:
        keep = ~np.any(np.isnan(a), axis=1) & (wv > 0)
        a = a[keep]
        ww = wv[keep]
        total = ww.sum()
        if keep.sum() < 2 or total <= 0:
            raise DataError("weighted_cov: fewer than two complete rows with positive weight")
        m = ww @ a / total
        d = a - m
        c = (d * ww[:, None]).T @ d
        c = c / (total - (ww @ ww) / total) if method == "unbiased" else c / total
    return pd.DataFrame(c, index=names, columns=names) if names is not None else c
