"""Drivers of overall satisfaction: linear and ordinal regression, relative importance and
importance-performance analysis (IPA).

* :func:`ols` - least squares with classic or heteroscedasticity-consistent (HC0-HC3) standard
  errors, standardized betas, VIFs and diagnostics.
* :func:`ordinal_logit` - proportional-odds logistic regression (``MASS::polr``
  parameterization) with odds ratios and a Brant test of proportional odds.
* :func:`relative_importance` - general dominance (LMG / Shapley decomposition of R²) and
  Johnson's relative weights with percentile bootstrap intervals.
* :func:`ipa` / :func:`ipa_from_data` - importance-performance quadrants and a priority ranking.

Rows with a missing value in any model variable are dropped listwise, and every result records
``n_obs`` and ``n_dropped``.

Validated against: R 4.2.2 ``lm``, ``sandwich::vcovHC``, ``lmtest::coeftest``/``bptest``,
``car::vif``, ``shapiro.test``, ``cooks.distance``, ``MASS::polr``, and the Brant test,
dominance weights and relative weights evaluated by formula in R
(``tests/reference/compare_drivers.R``; ``tests/test_drivers.py``) and the shared
``sim_likert`` reference (blocks ``ols`` and ``polr``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, special, stats

from ._results import Result
from .errors import ConvergenceError, DataError

__all__ = [
    "IPAResult",
    "OLSResult",
    "OrdinalLogitResult",
    "RelativeImportanceResult",
    "ipa",
    "ipa_from_data",
    "ols",
    "ordinal_logit",
    "relative_importance",
]

_COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


# --------------------------------------------------------------------------- helpers


def _check_option(value: Any, name: str, func: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise DataError(
            f"The {name!r} parameter of {func} must be one of {choices}. Got {value!r} instead."
        )


def _as_list(x: str | list[str] | tuple[str, ...]) -> list[str]:
    return [x] if isinstance(x, str) else list(x)


def _model_frame(
    data: pd.DataFrame, outcome: str, predictors: list[str], weights: Any = None,
    *, numeric_outcome: bool = True,
) -> tuple[pd.DataFrame, np.ndarray | None, int]:
    """Listwise-complete model frame (numeric predictors), weights and rows dropped."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if not predictors:
        raise DataError("no predictors given", expected="at least one predictor")
    if len(set(predictors)) != len(predictors):
        dup = next(p for p in predictors if predictors.count(p) > 1)
        raise DataError("predictor listed twice", column=dup)
    if outcome in predictors:
        raise DataError("the outcome is also listed as a predictor", column=outcome)
    for c in [outcome, *predictors]:
        if c not in data.columns:
            raise DataError("unknown column", column=c, expected="a column of data")
    cols: dict[str, Any] = {}
    for c in ([outcome] if numeric_outcome else []) + predictors:
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
        ):
            raise DataError("variable is not numeric", column=c,
                            expected="numeric values (dummy-code categorical predictors)")
        cols[c] = s.to_numpy(dtype=float, na_value=np.nan)
    if not numeric_outcome:
        cols = {outcome: data[outcome], **cols}
    frame = pd.DataFrame(cols, index=data.index)
    w = None
    if weights is not None:
        if isinstance(weights, str):
            if weights not in data.columns:
                raise DataError("unknown weights column", column=weights)
            w_all = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        else:
            w_all = np.asarray(weights, dtype=float)
            if w_all.shape != (len(data),):
                raise DataError(f"weights have length {w_all.size}, data {len(data)} rows",
                                expected="one weight per row")
        frame["__w__"] = w_all
    ok = np.ones(len(frame), dtype=bool)
    for c, v in cols.items():
        if c != outcome or numeric_outcome:
            ok &= ~np.isnan(v)
    if not numeric_outcome:
        ok &= frame[outcome].notna().to_numpy()
    if weights is not None:
        ok &= ~np.isnan(w_all)
    n_dropped = int((~ok).sum())
    if n_dropped:
        frame = frame.loc[ok]
    if weights is not None:
        w = frame.pop("__w__").to_numpy()
        if np.any(w <= 0) or not np.all(np.isfinite(w)):
            raise DataError("weights must be positive and finite", expected="weights > 0")
    return frame, w, n_dropped


def _columns(frame: pd.DataFrame, cols: list[str], *, intercept: bool = False) -> np.ndarray:
    """The columns as a Fortran-ordered float matrix (contiguous columns: fast column
    reductions and no copy for LAPACK), optionally with a leading column of ones."""
    j0 = int(intercept)
    out = np.empty((len(frame), len(cols) + j0), order="F")
    if intercept:
        out[:, 0] = 1.0
    for j, c in enumerate(cols):
        out[:, j + j0] = frame[c].to_numpy(dtype=float)
    return out


def _check_design(frame: pd.DataFrame, outcome: str, predictors: list[str],
                  *, check_outcome: bool = True, x: np.ndarray | None = None) -> None:
    """Constant outcome/predictors and perfect collinearity, with names (``x``: the predictor
    columns as a matrix when the caller already has it)."""
    n, p = len(frame), len(predictors)
    if n <= p + 1:
        raise DataError(f"{n} complete rows for {p} predictors",
                        expected="more complete rows than parameters")
    if check_outcome:
        y = frame[outcome].to_numpy(dtype=float)
        if np.ptp(y) == 0:
            raise DataError("outcome is constant", column=outcome,
                            expected="an outcome that varies")
    if x is None:
        x = _columns(frame, predictors)
    constant = x.max(axis=0) == x.min(axis=0)
    for j, name in enumerate(predictors):
        if constant[j]:
            raise DataError("predictor is constant", column=name,
                            expected="a predictor that varies")
    xc = x - x.mean(axis=0)
    xc = xc / np.linalg.norm(xc, axis=0)
    ev = np.linalg.eigvalsh(xc.T @ xc)
    if ev[0] > 1e-6 * ev[-1]:
        # well conditioned (singular values of xc are sqrt(ev), all far above the tolerance
        # below): no need for the SVD
        return
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    tol = max(n, p) * np.finfo(float).eps * s[0] * 10
    null = vt[s <= tol]
    if null.size:
        involved = [predictors[j] for j in range(p) if np.any(np.abs(null[:, j]) > 1e-8)]
        raise DataError(
            "predictors are perfectly collinear: " + ", ".join(repr(v) for v in involved),
            expected="predictors that are not exact linear combinations of each other",
        )


def _wsd(v: np.ndarray, w: np.ndarray | None) -> float:
    if w is None:
        return float(np.std(v, ddof=1))
    m = np.sum(w * v) / np.sum(w)
    return float(math.sqrt(np.sum(w * (v - m) ** 2) / np.sum(w)))


# --------------------------------------------------------------------------- OLS


def _breusch_pagan(x: np.ndarray, resid: np.ndarray,
                   w: np.ndarray | None) -> tuple[float, float]:
    """Koenker's studentized Breusch-Pagan test of e² on the regressors (weighted if w)."""
    wt = np.ones(len(resid)) if w is None else w
    n = len(resid)
    e2 = resid**2
    u = e2 - np.sum(wt * e2) / n
    sw = np.sqrt(wt)
    coef, *_ = np.linalg.lstsq(x * sw[:, None], u * sw, rcond=None)
    fitted = x @ coef
    stat = float(n * np.sum(wt * fitted**2) / np.sum(u**2))
    df = x.shape[1] - 1
    return stat, float(stats.chi2.sf(stat, df))


def _jarque_bera(e: np.ndarray) -> tuple[float, float]:
    """Jarque-Bera ``n/6 (S^2 + (K-3)^2/4)`` with the biased moment skewness and kurtosis (as
    ``scipy.stats.jarque_bera`` and ``tseries::jarque.bera.test``); chi-square(2) p-value."""
    d = e - e.mean()
    d2 = d * d
    m2 = d2.mean()
    skew = (d2 * d).mean() / m2**1.5
    kurt = (d2 * d2).mean() / m2**2 - 3.0
    stat = float(len(e) / 6.0 * (skew**2 + kurt**2 / 4.0))
    return stat, float(special.chdtrc(2, stat))


def _tall_qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Thin QR of a tall full-rank matrix: Householder R (LAPACK geqrf, without forming Q),
    ``Q = A R^-1`` and one Cholesky re-orthogonalisation step (as in CholeskyQR2), which makes
    Q orthonormal to rounding for condition numbers up to ~1e8 at a fraction of the cost of
    forming Householder's Q; numpy's QR otherwise."""
    k = a.shape[1]
    r = np.linalg.qr(a, mode="r")
    eye = np.eye(k)
    try:
        if np.linalg.cond(r) > 1e7:
            raise np.linalg.LinAlgError
        q = a @ linalg.solve_triangular(r, eye)
        r2 = np.linalg.cholesky(q.T @ q).T
        q = q @ linalg.solve_triangular(r2, eye)
        return q, r2 @ r
    except np.linalg.LinAlgError:
        return np.linalg.qr(a)


def _breusch_pagan_qr(q: np.ndarray, resid: np.ndarray,
                      w: np.ndarray | None) -> tuple[float, float]:
    """:func:`_breusch_pagan` given the Q factor of ``sqrt(w) X``: the fitted values of the
    weighted regression of u on X are ``Q Q' (sqrt(w) u) / sqrt(w)``."""
    n = len(resid)
    e2 = resid**2
    if w is None:
        u = e2 - e2.sum() / n
        fw = q @ (q.T @ u)  # sqrt(w) * fitted
    else:
        u = e2 - np.sum(w * e2) / n
        fw = q @ (q.T @ (u * np.sqrt(w)))
    stat = float(n * np.sum(fw**2) / np.sum(u**2))
    df = q.shape[1] - 1
    return stat, float(special.chdtrc(df, stat))


@dataclass(frozen=True)
class OLSResult(Result):
    """Linear regression: ``coefficients`` table plus fit statistics and diagnostics."""

    outcome: str
    cov_type: str
    weighted: bool
    n_obs: int
    n_dropped: int
    df_model: float
    df_resid: float
    r2: float
    adj_r2: float
    f_statistic: float
    f_pvalue: float
    sigma: float
    bp_statistic: float
    bp_df: float
    bp_pvalue: float
    normality_test: str
    normality_statistic: float
    normality_pvalue: float
    cooks_threshold: float
    n_influential: int
    coefficients: pd.DataFrame = field(repr=False)
    cooks_distance: pd.Series = field(repr=False)
    residuals: pd.Series = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (index ``term``)."""
        return self.coefficients.copy()


def ols(
    data: pd.DataFrame,
    outcome: str,
    predictors: list[str],
    *,
    cov_type: str = "nonrobust",
    weights: str | Any = None,
    conf_level: float = 0.95,
) -> OLSResult:
    """Linear regression of ``outcome`` on ``predictors`` (e.g. overall satisfaction on the
    service dimensions).

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str
        Numeric outcome column.
    predictors : list of str
        Numeric predictor columns (dummy-code categorical ones first).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default "nonrobust"
        Coefficient covariance: classic, or White's heteroscedasticity-consistent family
        (HC3 is recommended for survey data; Long & Ervin, 2000).
    weights : str or array-like, optional
        Column name or one positive weight per row: weighted least squares.
    conf_level : float, default 0.95

    Returns
    -------
    OLSResult
        ``coefficients`` (index ``Intercept`` and the predictors) with ``estimate``,
        ``std_error``, ``statistic`` (t), ``pvalue``, ``ci_low``, ``ci_high``, ``beta``
        (standardized; NaN for the intercept) and ``vif``; ``r2``, ``adj_r2``,
        ``f_statistic``, ``f_pvalue``, ``sigma``, ``n_obs``, ``n_dropped``; diagnostics
        ``bp_*`` (Breusch-Pagan), ``normality_*``, ``cooks_distance`` and ``n_influential``.

    Notes
    -----
    ``b = (X'WX)⁻¹X'Wy``. HC covariances are ``(X'X)⁻¹ X' diag(ω_i) X (X'X)⁻¹`` with
    ``ω_i = e_i²`` (HC0), ``e_i² n/(n-k)`` (HC1), ``e_i²/(1-h_i)`` (HC2), ``e_i²/(1-h_i)²``
    (HC3), on the ``sqrt(w)``-scaled data when weighted; t tests and intervals use the residual
    df for every ``cov_type`` (as ``lmtest::coeftest``). ``f_statistic`` is always the classic
    model F test. ``beta_j = b_j sd(x_j)/sd(y)`` over the model frame (weighted SDs when
    weighted). ``vif`` follows ``car::vif``: with ``R = cov2cor((X'WX)⁻¹)`` without the
    intercept, ``vif_j = R_jj (R⁻¹)_jj``, which is ``1/(1 - R²_j)`` for unweighted data.
    Breusch-Pagan is Koenker's studentized version (``lmtest::bptest`` default): with
    ``u = e² - Σ w e²/n`` and ``û`` the fitted values of the (weighted) regression of ``u`` on
    X, ``BP = n Σ w û² / Σ u²`` on ``k - 1`` df (``n R²`` when unweighted). Normality: Shapiro-Wilk for 3 ≤ n ≤ 5000, else Jarque-Bera.
    Influential cases: Cook's distance ``D_i = e_i² h_i / (k s² (1 - h_i)²) > 4/n`` (weighted
    residuals and leverages of ``sqrt(w) X`` when weighted, as R's ``cooks.distance``).

    References
    ----------
    White, H. (1980). A heteroskedasticity-consistent covariance matrix estimator and a direct
    test for heteroskedasticity. *Econometrica*, 48(4), 817-838.
    Long, J. S., & Ervin, L. H. (2000). Using heteroscedasticity consistent standard errors in
    the linear regression model. *The American Statistician*, 54(3), 217-224.
    Koenker, R. (1981). A note on studentizing a test for heteroscedasticity. *Journal of
    Econometrics*, 17(1), 107-112.
    Fox, J., & Monette, G. (1992). Generalized collinearity diagnostics. *JASA*, 87(417),
    178-183.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame(rng.normal(size=(50, 2)), columns=["att", "eff"])
    >>> df["overall"] = 0.5 * df["att"] + 0.3 * df["eff"] + rng.normal(scale=0.5, size=50)
    >>> r = ols(df, "overall", ["att", "eff"], cov_type="HC3")
    >>> list(r.coefficients.index), r.n_obs
    (['Intercept', 'att', 'eff'], 50)

    Validated against: R ``lm``, ``sandwich::vcovHC`` (HC0-HC3), ``car::vif``,
    ``lmtest::bptest``, ``shapiro.test``, ``cooks.distance`` (tests/test_drivers.py).
    """
    _check_option(cov_type, "cov_type", "ols", _COV_TYPES)
    predictors = _as_list(predictors)
    frame, w, n_dropped = _model_frame(data, outcome, predictors, weights)
    y = frame[outcome].to_numpy(dtype=float)
    x = _columns(frame, predictors, intercept=True)
    xm = x[:, 1:]
    _check_design(frame, outcome, predictors, x=xm)
    terms = ["Intercept", *predictors]
    n, k = x.shape
    # one QR of sqrt(w) X serves the coefficients, (X'WX)^-1, leverages, HC covariances,
    # Breusch-Pagan and Cook's distance (X has full column rank: _check_design)
    sw = np.sqrt(w) if w is not None else np.ones(n)
    xw = x * sw[:, None] if w is not None else x
    yw = y * sw
    q, rr = _tall_qr(xw)
    rinv = linalg.solve_triangular(rr, np.eye(k))
    xtx_inv = rinv @ rinv.T
    b = rinv @ (q.T @ yw)
    resid = y - x @ b
    wresid = resid * sw
    hat = np.einsum("ij,ij->i", q, q)
    dfr = float(n - k)
    ss_res = float(wresid @ wresid)
    s2 = ss_res / dfr
    if cov_type == "nonrobust":
        cov = s2 * xtx_inv
    else:
        omega = wresid**2
        if cov_type == "HC1":
            omega = omega * (n / dfr)
        elif cov_type == "HC2":
            omega = omega / (1 - hat)
        elif cov_type == "HC3":
            omega = omega / (1 - hat) ** 2
        # (X'WX)^-1 X'W diag(omega) WX (X'WX)^-1 = R^-1 Q' diag(omega) Q R^-T
        cov = rinv @ (q.T @ (q * omega[:, None])) @ rinv.T
    se = np.sqrt(np.diag(cov))
    t = b / se
    # special.stdtr/stdtrit/fdtrc are the functions stats.t.sf/t.ppf/f.sf evaluate
    p = 2 * special.stdtr(dfr, -np.abs(t))
    crit = special.stdtrit(dfr, 0.5 + conf_level / 2)
    unscaled = xtx_inv[1:, 1:]
    d = np.sqrt(np.diag(unscaled))
    rmat = unscaled / np.outer(d, d)
    vif = np.diag(rmat) * np.diag(np.linalg.inv(rmat)) if k > 2 else np.ones(1)
    sdy = _wsd(y, w)
    if w is None:
        sdx = np.std(xm, axis=0, ddof=1)
    else:
        sdx = np.array([_wsd(xm[:, j], w) for j in range(len(predictors))])
    beta = b[1:] * sdx / sdy
    coef = pd.DataFrame(
        {
            "estimate": b, "std_error": se, "statistic": t, "pvalue": p,
            "ci_low": b - crit * se, "ci_high": b + crit * se,
            "beta": np.concatenate([[np.nan], beta]),
            "vif": np.concatenate([[np.nan], vif]),
        },
        index=pd.Index(terms, name="term"),
    )
    bp_lm, bp_p = _breusch_pagan_qr(q, resid, w)
    if 3 <= n <= 5000:
        norm_name = "shapiro_wilk"
        ns, npv = stats.shapiro(wresid)
    else:
        norm_name = "jarque_bera"
        ns, npv = _jarque_bera(wresid)
    cooks = wresid**2 * hat / (k * s2 * (1 - hat) ** 2)
    thr = 4.0 / n
    # total sum of squares about the (weighted) mean; the model has an intercept
    ybar = float(np.sum(w * y) / np.sum(w)) if w is not None else float(y.mean())
    dev = y - ybar
    tss = float(np.sum(w * dev * dev)) if w is not None else float(dev @ dev)
    ss_model = tss - ss_res
    r2 = 1.0 - ss_res / tss
    df_model = float(k - 1)
    f = (ss_model / df_model) / (ss_res / dfr)
    return OLSResult(
        outcome=outcome, cov_type=cov_type, weighted=w is not None, n_obs=n,
        n_dropped=n_dropped, df_model=df_model, df_resid=dfr, r2=float(r2),
        adj_r2=float(1.0 - (n - 1) / dfr * (1.0 - r2)), f_statistic=float(f),
        f_pvalue=float(special.fdtrc(df_model, dfr, f)), sigma=math.sqrt(ss_res / dfr),
        bp_statistic=float(bp_lm), bp_df=df_model, bp_pvalue=float(bp_p),
        normality_test=norm_name, normality_statistic=float(ns), normality_pvalue=float(npv),
        cooks_threshold=thr, n_influential=int((cooks > thr).sum()), coefficients=coef,
        cooks_distance=pd.Series(cooks, index=frame.index, name="cooks_distance"),
        residuals=pd.Series(resid, index=frame.index, name="residual"),
    )


# --------------------------------------------------------------------------- ordinal logit


def _ordinal_codes(s: pd.Series, name: str) -> tuple[np.ndarray, list[Any]]:
    """1-based category codes of an ordinal outcome (rows already complete) and its levels."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.cat.ordered:
            raise DataError("outcome is an unordered categorical", column=name,
                            expected="an ordered categorical or integer codes")
        present = set(s.dropna())
        levels = [c for c in s.cat.categories if c in present]
        codes = np.array([levels.index(v) + 1 for v in s], dtype=int)
    elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype=float)
        if np.any(v != np.round(v)):
            raise DataError("outcome has non-integer values, so it is not ordinal", column=name,
                            expected="integer response codes or an ordered categorical")
        levels = sorted(np.unique(v).tolist())
        codes = np.searchsorted(np.asarray(levels), v) + 1
        levels = [int(x) for x in levels]
    else:
        raise DataError("outcome is not ordinal", column=name,
                        expected="integer response codes or an ordered categorical")
    if len(levels) < 3:
        raise DataError(f"outcome has {len(levels)} categories with data", column=name,
                        expected="at least 3 ordered categories (use a binary logit for 2)")
    return codes, levels


def _polr_fit(x: np.ndarray, y: np.ndarray, n_cat: int, *, tol: float = 1e-10,
              max_iter: int = 200) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Newton-Raphson MLE of logit P(Y <= k) = zeta_k - x'b. Returns theta=(b, zeta), the
    observed information matrix, the log-likelihood and the iteration count."""
    n, p = x.shape
    q = p + n_cat - 1
    cum = np.cumsum(np.bincount(y, minlength=n_cat + 1)[1:])[:-1] / n
    theta = np.concatenate([np.zeros(p), np.log(cum / (1 - cum))])
    rows = np.arange(n)

    def parts(th: np.ndarray):
        b, z = th[:p], th[p:]
        zz = np.concatenate([[-np.inf], z, [np.inf]])
        if np.any(np.diff(z) <= 0):
            return None
        eta = x @ b
        a = zz[y] - eta
        c = zz[y - 1] - eta
        fa, fc = stats.logistic.cdf(a), stats.logistic.cdf(c)
        prob = fa - fc
        if np.any(prob <= 0):
            return None
        return a, c, fa, fc, prob

    def loglik(th: np.ndarray) -> float:
        pr = parts(th)
        return -np.inf if pr is None else float(np.log(pr[4]).sum())

    def derivs(th: np.ndarray):
        a, c, fa, fc, prob = parts(th)
        da_ = np.where(np.isfinite(a), fa * (1 - fa), 0.0)  # densities
        dc_ = np.where(np.isfinite(c), fc * (1 - fc), 0.0)
        d1a = np.where(np.isfinite(a), da_ * (1 - 2 * fa), 0.0)  # density derivatives
        d1c = np.where(np.isfinite(c), dc_ * (1 - 2 * fc), 0.0)
        la, lc = da_ / prob, -dc_ / prob
        laa = d1a / prob - la**2
        lcc = -d1c / prob - lc**2
        lac = -la * lc
        ja = np.zeros((n, q))
        jc = np.zeros((n, q))
        ja[:, :p] = -x
        jc[:, :p] = -x
        ka = y - 1  # index of zeta_y among thresholds (0-based), valid when y < n_cat
        kc = y - 2
        ma, mc = y < n_cat, y > 1
        ja[rows[ma], p + ka[ma]] = 1.0
        jc[rows[mc], p + kc[mc]] = 1.0
        grad = ja.T @ la + jc.T @ lc
        hess = (ja.T * laa) @ ja + (jc.T * lcc) @ jc + (ja.T * lac) @ jc + (jc.T * lac) @ ja
        return grad, hess

    ll = loglik(theta)
    for it in range(1, max_iter + 1):
        grad, hess = derivs(theta)
        try:
            step = np.linalg.solve(-hess, grad)
        except np.linalg.LinAlgError as exc:
            raise ConvergenceError("ordinal logit: singular information matrix") from exc
        s = 1.0
        while True:
            cand = theta + s * step
            llc = loglik(cand)
            if llc >= ll - 1e-12:
                break
            s /= 2
            if s < 1e-12:
                raise ConvergenceError("ordinal logit: line search failed")
        theta, ll_old, ll = cand, ll, llc
        if np.max(np.abs(s * step)) < tol or (abs(ll - ll_old) < 1e-13 and
                                              np.max(np.abs(grad)) < 1e-6):
            grad, hess = derivs(theta)
            if np.max(np.abs(theta[:p])) > 50:
                raise ConvergenceError("ordinal logit: estimates diverge (complete separation?)")
            return theta, -hess, ll, it
    raise ConvergenceError(f"ordinal logit did not converge in {max_iter} iterations")


def _logit_irls(x: np.ndarray, y: np.ndarray, max_iter: int = 100) -> np.ndarray:
    b = np.zeros(x.shape[1])
    for _ in range(max_iter):
        pr = special.expit(x @ b)
        wgt = pr * (1 - pr)
        try:
            step = np.linalg.solve((x.T * wgt) @ x, x.T @ (y - pr))
        except np.linalg.LinAlgError as exc:
            raise ConvergenceError("binary logit for the Brant test is singular") from exc
        b = b + step
        if np.max(np.abs(step)) < 1e-12:
            if np.max(np.abs(b)) > 50:
                break
            return b
    raise ConvergenceError("binary logit for the Brant test did not converge (separation?)")


def _brant(x: np.ndarray, y: np.ndarray, n_cat: int, names: list[str]) -> pd.DataFrame:
    n, p = x.shape
    x1 = np.column_stack([np.ones(n), x])
    m = n_cat - 1
    pis, betas = [], []
    for k in range(1, n_cat):
        yk = (y > k).astype(float)
        b = _logit_irls(x1, yk)
        pis.append(special.expit(x1 @ b))
        betas.append(b[1:])
    beta = np.concatenate(betas)
    v = np.zeros((m * p, m * p))
    inv = [np.linalg.inv((x1.T * (pk * (1 - pk))) @ x1) for pk in pis]
    for a in range(m):
        for c in range(a, m):
            wml = pis[c] - pis[a] * pis[c]
            vml = inv[a] @ ((x1.T * wml) @ x1) @ inv[c]
            v[a * p:(a + 1) * p, c * p:(c + 1) * p] = vml[1:, 1:]
            v[c * p:(c + 1) * p, a * p:(a + 1) * p] = vml[1:, 1:].T
    d = np.zeros(((m - 1) * p, m * p))
    for k in range(1, m):
        d[(k - 1) * p:k * p, :p] = np.eye(p)
        d[(k - 1) * p:k * p, k * p:(k + 1) * p] = -np.eye(p)

    def wald(dd: np.ndarray, bb: np.ndarray, vv: np.ndarray) -> float:
        r = dd @ bb
        return float(r @ np.linalg.solve(dd @ vv @ dd.T, r))

    rows = []
    x2 = wald(d, beta, v)
    rows.append({"term": "omnibus", "statistic": x2, "df": float((m - 1) * p),
                 "pvalue": float(stats.chi2.sf(x2, (m - 1) * p))})
    for j, name in enumerate(names):
        idx = np.arange(j, m * p, p)
        dj = np.zeros((m - 1, m))
        dj[:, 0] = 1.0
        dj[np.arange(m - 1), np.arange(1, m)] = -1.0
        s = wald(dj, beta[idx], v[np.ix_(idx, idx)])
        rows.append({"term": name, "statistic": s, "df": float(m - 1),
                     "pvalue": float(stats.chi2.sf(s, m - 1))})
    return pd.DataFrame(rows).set_index("term")


@dataclass(frozen=True)
class OrdinalLogitResult(Result):
    """Proportional-odds logistic regression (``MASS::polr`` parameterization)."""

    outcome: str
    n_obs: int
    n_dropped: int
    n_categories: int
    log_likelihood: float
    deviance: float
    aic: float
    n_iter: int
    converged: bool
    brant_statistic: float
    brant_df: float
    brant_pvalue: float
    brant_note: str
    coefficients: pd.DataFrame = field(repr=False)
    thresholds: pd.DataFrame = field(repr=False)
    brant: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Coefficients (with odds ratios) followed by thresholds, one row per parameter."""
        c = self.coefficients.assign(kind="coefficient")
        t = self.thresholds.assign(kind="threshold")
        return pd.concat([c, t])


def ordinal_logit(
    data: pd.DataFrame,
    outcome: str,
    predictors: list[str],
    *,
    conf_level: float = 0.95,
    brant: bool = True,
) -> OrdinalLogitResult:
    """Proportional-odds (cumulative logit) regression of an ordinal satisfaction rating.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str
        Ordered categorical, or integer response codes (at least 3 distinct values). Category
        order is the categorical order or the numeric order; unused categories are dropped.
    predictors : list of str
        Numeric predictors.
    conf_level : float, default 0.95
        Level of the Wald intervals (coefficients and odds ratios).
    brant : bool, default True
        Compute the Brant test of the proportional-odds assumption.

    Returns
    -------
    OrdinalLogitResult
        ``coefficients`` (index: predictors) with ``estimate``, ``std_error``, ``statistic``
        (z), ``pvalue``, ``ci_low``, ``ci_high``, ``odds_ratio``, ``or_ci_low``,
        ``or_ci_high``; ``thresholds`` (index ``"1|2"``, ...) with ``estimate``, ``std_error``,
        ``statistic``, ``pvalue``; ``log_likelihood``, ``deviance``, ``aic``; ``brant`` table
        (rows ``omnibus`` and each predictor: ``statistic``, ``df``, ``pvalue``) and its
        omnibus values as scalars; ``brant_note`` is empty, or says why the test is missing
        (e.g. a binary split with complete separation; the model itself is still fitted).

    Notes
    -----
    ``logit P(Y ≤ k | x) = ζ_k - x'β`` (as ``MASS::polr``; positive β means higher categories
    are more likely). Maximum likelihood by Newton-Raphson with the analytic gradient and
    Hessian (the log-likelihood is concave); SEs from the observed information at the optimum
    (``polr`` differentiates numerically, so its SEs agree to about 1e-5). Odds ratios are
    ``exp(β)`` with ``exp`` of the Wald limits.

    Brant (1990) test: fit the J-1 binary logits of ``1{Y > k}``; with fitted probabilities
    ``π_k`` and ``W_kl = diag(π_l - π_k π_l)`` (l ≥ k), the slopes' joint covariance has blocks
    ``(X'W_kk X)⁻¹ X'W_kl X (X'W_ll X)⁻¹``; the Wald statistic of ``β_1 - β_k = 0``
    (k = 2..J-1) is chi-square with ``(J-2)p`` df (omnibus) or ``J-2`` df (one predictor). This
    is the method of R's ``brant`` package.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. *JRSS B*, 42(2), 109-142.
    Brant, R. (1990). Assessing proportionality in the proportional odds model for ordinal
    logistic regression. *Biometrics*, 46(4), 1171-1178.
    Venables, W. N., & Ripley, B. D. (2002). *Modern Applied Statistics with S* (4th ed.).
    Springer (``MASS::polr``).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"att": rng.normal(size=200)})
    >>> df["sat"] = np.digitize(df["att"] + rng.logistic(size=200), [-2, -0.5, 0.5, 2]) + 1
    >>> r = ordinal_logit(df, "sat", ["att"])
    >>> list(r.thresholds.index), r.converged
    (['1|2', '2|3', '3|4', '4|5'], True)

    Validated against: R ``MASS::polr(method = "logistic")`` and the Brant test by formula in R
    (tests/reference/compare_drivers.R; tests/test_drivers.py).
    """
    predictors = _as_list(predictors)
    frame, _, n_dropped = _model_frame(data, outcome, predictors, numeric_outcome=False)
    codes, levels = _ordinal_codes(frame[outcome], outcome)
    _check_design(frame, outcome, predictors, check_outcome=False)
    x = frame[predictors].to_numpy(dtype=float)
    n_cat = len(levels)
    theta, info, ll, it = _polr_fit(x, codes, n_cat)
    cov = np.linalg.inv(info)
    se = np.sqrt(np.diag(cov))
    z = theta / se
    pv = 2 * stats.norm.sf(np.abs(z))
    crit = stats.norm.ppf(0.5 + conf_level / 2)
    p = len(predictors)
    b = theta[:p]
    coef = pd.DataFrame(
        {"estimate": b, "std_error": se[:p], "statistic": z[:p], "pvalue": pv[:p],
         "ci_low": b - crit * se[:p], "ci_high": b + crit * se[:p],
         "odds_ratio": np.exp(b), "or_ci_low": np.exp(b - crit * se[:p]),
         "or_ci_high": np.exp(b + crit * se[:p])},
        index=pd.Index(predictors, name="term"),
    )
    names = [f"{levels[i]}|{levels[i + 1]}" for i in range(n_cat - 1)]
    thr = pd.DataFrame(
        {"estimate": theta[p:], "std_error": se[p:], "statistic": z[p:], "pvalue": pv[p:]},
        index=pd.Index(names, name="term"),
    )
    brant_note = "not requested"
    br = pd.DataFrame(columns=["statistic", "df", "pvalue"], dtype=float)
    if brant:
        try:
            br = _brant(x, codes, n_cat, predictors)
            brant_note = ""
        except (ConvergenceError, np.linalg.LinAlgError) as exc:
            brant_note = f"Brant test not available: {exc}"
    omni = (br.loc["omnibus"] if not brant_note
            else pd.Series({"statistic": np.nan, "df": np.nan, "pvalue": np.nan}))
    return OrdinalLogitResult(
        outcome=outcome, n_obs=len(codes), n_dropped=n_dropped, n_categories=n_cat,
        log_likelihood=ll, deviance=-2 * ll, aic=-2 * ll + 2 * len(theta), n_iter=it,
        converged=True, brant_statistic=float(omni["statistic"]), brant_df=float(omni["df"]),
        brant_pvalue=float(omni["pvalue"]), brant_note=brant_note, coefficients=coef,
        thresholds=thr, brant=br,
    )


# --------------------------------------------------------------------------- importance

_MAX_DOMINANCE = 15


def _corr_batch(z: np.ndarray) -> np.ndarray:
    """Correlation matrices of a stack of data sets, shape (B, n, v) -> (B, v, v)."""
    zc = z - z.mean(axis=1, keepdims=True)
    cov = np.einsum("bni,bnj->bij", zc, zc)
    d = np.sqrt(np.einsum("bii->bi", cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / (d[:, :, None] * d[:, None, :])


def _counts_from_draws(idx: np.ndarray, n: int) -> np.ndarray:
    """(B x n) float counts of how often each row is drawn in each row of ``idx``."""
    counts = np.empty(idx.shape, dtype=float)
    for b in range(idx.shape[0]):
        counts[b] = np.bincount(idx[b], minlength=n)
    return counts


def _boot_corr_features(z: np.ndarray) -> np.ndarray:
    """Per-row features ``[z_j, z_i z_j (i <= j)]`` of the column-centred data: their
    count-weighted sums are a resample's first and second moments."""
    zc = z - z.mean(axis=0)
    iu, ju = np.triu_indices(z.shape[1])
    return np.column_stack([zc, zc[:, iu] * zc[:, ju]])


def _boot_corr_from_sums(sums: np.ndarray, n: int, v: int, var0: np.ndarray) -> np.ndarray:
    """Stacked correlation matrices (B, v, v) of resamples of n rows from the count-weighted
    feature sums (see _boot_corr_features): ``C = P - S S'/n``, ``R = cov2cor(C)``. A column
    that is constant in a resample (its sum of squares below 1e-10 of the data's) gives NaN,
    like dividing by its zero SD."""
    bsz = sums.shape[0]
    iu, ju = np.triu_indices(v)
    m = sums[:, :v]
    p = np.empty((bsz, v, v))
    p[:, iu, ju] = sums[:, v:]
    p[:, ju, iu] = sums[:, v:]
    cov = p - m[:, :, None] * m[:, None, :] / n
    d2 = np.einsum("bii->bi", cov).copy()
    d2[d2 <= 1e-10 * var0] = np.nan
    d = np.sqrt(d2)
    return cov / (d[:, :, None] * d[:, None, :])


def _dominance(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """General dominance weights from stacked correlation matrices (B, p+1, p+1), outcome
    last. Returns (weights (B, p), full-model R² (B,))."""
    bsz, v, _ = r.shape
    p = v - 1
    r2 = np.zeros((bsz, 1 << p))
    for mask in range(1, 1 << p):
        idx = [j for j in range(p) if mask >> j & 1]
        rxx = r[:, idx][:, :, idx]
        rxy = r[:, idx, p]
        sol = np.linalg.solve(rxx, rxy[:, :, None])[:, :, 0]
        r2[:, mask] = np.einsum("bi,bi->b", rxy, sol)
    fact = [math.factorial(i) for i in range(p + 1)]
    gd = np.zeros((bsz, p))
    for j in range(p):
        bit = 1 << j
        for mask in range(1 << p):
            if mask & bit:
                continue
            s = bin(mask).count("1")
            wgt = fact[s] * fact[p - s - 1] / fact[p]
            gd[:, j] += wgt * (r2[:, mask | bit] - r2[:, mask])
    return gd, r2[:, -1]


def _relative_weights(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Johnson's relative weights from stacked correlation matrices, outcome last."""
    p = r.shape[1] - 1
    rxx = r[:, :p, :p]
    rxy = r[:, :p, p]
    evals, evecs = np.linalg.eigh(rxx)
    lam = np.einsum("bij,bj,bkj->bik", evecs, np.sqrt(np.clip(evals, 0, None)), evecs)
    beta = np.linalg.solve(lam, rxy[:, :, None])[:, :, 0]
    eps = np.einsum("bjk,bk->bj", lam**2, beta**2)
    return eps, eps.sum(axis=1)


@dataclass(frozen=True)
class RelativeImportanceResult(Result):
    """Relative importance of correlated predictors; ``table`` indexed by predictor."""

    outcome: str
    method: str
    r2: float
    n_obs: int
    n_dropped: int
    n_boot: int
    n_boot_failed: int
    conf_level: float
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-predictor table."""
        return self.table.copy()


def relative_importance(
    data: pd.DataFrame,
    outcome: str,
    predictors: list[str],
    *,
    method: str = "dominance",
    n_boot: int = 1000,
    seed: int | np.random.Generator | None = None,
    conf_level: float = 0.95,
) -> RelativeImportanceResult:
    """Share of the explained variance (R²) of ``outcome`` attributable to each predictor.

    Parameters
    ----------
    data : pandas.DataFrame
    outcome : str
    predictors : list of str
        Numeric predictors (2 or more; at most 15 for ``"dominance"``).
    method : {"dominance", "relative_weights"}, default "dominance"
        General dominance (LMG/Shapley) or Johnson's (2000) relative weights.
    n_boot : int, default 1000
        Bootstrap resamples of rows for percentile intervals; 0 skips the bootstrap.
    seed : int or numpy.random.Generator, optional
    conf_level : float, default 0.95

    Returns
    -------
    RelativeImportanceResult
        ``table`` with ``weight`` (raw, sums to R²), ``rescaled`` (percent of R², sums to
        100), ``rank``, and ``ci_low``/``ci_high`` and ``rescaled_ci_low``/``rescaled_ci_high``
        (percentile bootstrap; NaN when ``n_boot=0``); ``r2``, ``n_obs``, ``n_dropped`` and
        ``n_boot_failed`` (resamples with a constant column or a singular matrix, left out).

    Notes
    -----
    Everything is computed from the correlation matrix of the complete rows. With
    ``R²(S) = r_S' R_SS⁻¹ r_S``, the general dominance weight of ``j`` is
    ``Σ_{S ⊆ P∖{j}} |S|!(p-|S|-1)!/p! [R²(S ∪ {j}) - R²(S)]`` (all ``2^p`` subsets, exact).
    Relative weights: with ``Λ = R_xx^{1/2}`` (symmetric square root), ``β = Λ⁻¹ r_xy`` and
    ``ε_j = Σ_k Λ_jk² β_k²``. Both sum to the full-model R². Bootstrap resamples rows and
    recomputes the weights for all resamples at once: each resample's correlation matrix comes
    from its multinomial row counts times per-row products of the centred variables (one
    matrix product per block of resamples), then batched linear algebra.

    References
    ----------
    Budescu, D. V. (1993). Dominance analysis: a new approach to the problem of relative
    importance of predictors in multiple regression. *Psychological Bulletin*, 114(3), 542-551.
    Lindeman, R. H., Merenda, P. F., & Gold, R. Z. (1980). *Introduction to Bivariate and
    Multivariate Analysis*. Scott, Foresman.
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1-19.
    Tonidandel, S., & LeBreton, J. M. (2011). Relative importance analysis: a useful
    supplement to regression analysis. *Journal of Business and Psychology*, 26(1), 1-9.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame(rng.normal(size=(100, 3)), columns=["att", "eff", "form"])
    >>> df["overall"] = df["att"] + 0.5 * df["eff"] + rng.normal(size=100)
    >>> r = relative_importance(df, "overall", ["att", "eff", "form"], n_boot=200, seed=1)
    >>> round(float(r.table["weight"].sum()), 10) == round(r.r2, 10)
    True
    >>> list(r.table["rank"])
    [1, 2, 3]

    Validated against: all-subsets dominance and Johnson's relative weights evaluated by
    formula in R (tests/reference/compare_drivers.R) and a brute-force regression in
    tests/test_drivers.py.
    """
    _check_option(method, "method", "relative_importance", ("dominance", "relative_weights"))
    predictors = _as_list(predictors)
    if len(predictors) < 2:
        raise DataError("relative importance needs at least 2 predictors",
                        expected="2 or more predictors")
    if method == "dominance" and len(predictors) > _MAX_DOMINANCE:
        raise DataError(f"{len(predictors)} predictors are too many for exact dominance "
                        f"analysis (at most {_MAX_DOMINANCE})",
                        expected="method='relative_weights' for many predictors")
    frame, _, n_dropped = _model_frame(data, outcome, predictors)
    _check_design(frame, outcome, predictors)
    z = frame[[*predictors, outcome]].to_numpy(dtype=float)
    n = len(z)
    func = _dominance if method == "dominance" else _relative_weights
    w, r2 = func(_corr_batch(z[None]))
    w, r2 = w[0], float(r2[0])
    lo = hi = rlo = rhi = np.full(len(predictors), np.nan)
    failed = 0
    if n_boot:
        rng = np.random.default_rng(seed)
        feats = _boot_corr_features(z)
        var0 = np.var(z, axis=0) * n
        chunk = max(1, min(n_boot, 2_500_000 // n))
        res = []
        done = 0
        while done < n_boot:
            bsz = min(chunk, n_boot - done)
            # the same draws as indexing rows with rng.integers(0, n, (bsz, n)), as counts
            counts = _counts_from_draws(rng.integers(0, n, size=(bsz, n)), n)
            rb = _boot_corr_from_sums((feats.T @ counts.T).T, n, z.shape[1], var0)
            good = np.all(np.isfinite(rb), axis=(1, 2))
            try:
                wb, _ = func(rb[good])
            except np.linalg.LinAlgError:
                wb = np.empty((0, len(predictors)))
                good[:] = False
            res.append(wb)
            failed += int((~good).sum())
            done += bsz
        wb = np.concatenate(res)
        alpha = (1 - conf_level) / 2
        if len(wb):
            lo, hi = np.quantile(wb, [alpha, 1 - alpha], axis=0)
            share = 100 * wb / wb.sum(axis=1, keepdims=True)
            rlo, rhi = np.quantile(share, [alpha, 1 - alpha], axis=0)
    table = pd.DataFrame(
        {"weight": w, "rescaled": 100 * w / w.sum(), "ci_low": lo, "ci_high": hi,
         "rescaled_ci_low": rlo, "rescaled_ci_high": rhi},
        index=pd.Index(predictors, name="predictor"),
    )
    table.insert(2, "rank", table["weight"].rank(ascending=False, method="min").astype(int))
    return RelativeImportanceResult(
        outcome=outcome, method=method, r2=r2, n_obs=n, n_dropped=n_dropped, n_boot=n_boot,
        n_boot_failed=failed, conf_level=conf_level, table=table,
    )


# --------------------------------------------------------------------------- IPA

_QUADRANTS = ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")
_LABELS = {
    "en": {"concentrate_here": "Concentrate here",
           "keep_up_the_good_work": "Keep up the good work",
           "low_priority": "Low priority", "possible_overkill": "Possible overkill"},
    "zh": {"concentrate_here": "重点改进区", "keep_up_the_good_work": "继续保持区",
           "low_priority": "低优先区", "possible_overkill": "过度投入区"},
}


@dataclass(frozen=True)
class IPAResult(Result):
    """Importance-performance analysis; ``table`` indexed by attribute."""

    performance_cut: float
    importance_cut: float
    ceiling: float
    importance_source: str
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-attribute table."""
        return self.table.copy()


def ipa(
    performance: pd.Series | dict[str, float],
    importance: pd.Series | dict[str, float],
    *,
    cuts: str | tuple[float, float] = "means",
    labels: str | dict[str, str] = "en",
    scale_max: float | None = None,
    importance_source: str = "given",
) -> IPAResult:
    """Importance-performance analysis (Martilla & James, 1977) with a priority ranking.

    Parameters
    ----------
    performance : pandas.Series or dict
        Mean satisfaction per attribute (dimension or item).
    importance : pandas.Series or dict
        Importance per attribute, same keys: derived (e.g. relative weights) or stated means.
    cuts : "means", "medians" or (performance_cut, importance_cut), default "means"
        Where the quadrant lines cross: the grand means (or medians) of the attributes, or
        fixed values such as the scale midpoint.
    labels : "en", "zh" or dict, default "en"
        Quadrant labels; a dict maps the quadrant keys ``concentrate_here``,
        ``keep_up_the_good_work``, ``low_priority``, ``possible_overkill`` to text.
    scale_max : float, optional
        Ceiling of the performance scale (e.g. 5) used by the priority score; default the
        highest observed performance.
    importance_source : str, default "given"
        Recorded in the result (``ipa_from_data`` sets "derived" or "stated").

    Returns
    -------
    IPAResult
        ``table`` with ``performance``, ``importance``, ``quadrant`` (key), ``quadrant_label``,
        ``performance_gap`` (performance - cut), ``importance_gap`` (importance - cut),
        ``importance_share`` (importance / sum), ``priority_score`` and ``priority_rank``
        (1 = improve first), sorted by rank.

    Notes
    -----
    High importance is ``importance >= importance_cut``; high performance is ``performance >=
    performance_cut``. Quadrants: high importance & low performance "concentrate here"; high &
    high "keep up the good work"; low & low "low priority"; low importance & high performance
    "possible overkill". ``priority_score = importance_share × (ceiling - performance)``: the
    importance-weighted room for improvement, so an important, poorly rated attribute ranks
    first whatever quadrant a borderline value falls in.

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77-79.
    Bacon, D. R. (2003). A comparison of approaches to importance-performance analysis.
    *International Journal of Market Research*, 45(1), 55-71.

    Examples
    --------
    >>> perf = {"content": 3.9, "attitude": 4.2, "efficiency": 3.4, "channels": 3.6}
    >>> imp = {"content": 0.10, "attitude": 0.05, "efficiency": 0.12, "channels": 0.03}
    >>> r = ipa(perf, imp, scale_max=5)
    >>> r.table[["quadrant", "priority_rank"]]
                            quadrant  priority_rank
    attribute
    efficiency      concentrate_here              1
    content    keep_up_the_good_work              2
    channels            low_priority              3
    attitude       possible_overkill              4

    Validated against: hand-computed quadrants and scores (tests/test_drivers.py).
    """
    perf = pd.Series(performance, dtype=float)
    imp = pd.Series(importance, dtype=float)
    if set(perf.index) != set(imp.index):
        diff = sorted(set(perf.index) ^ set(imp.index), key=str)
        raise DataError("performance and importance cover different attributes: "
                        + ", ".join(map(str, diff)))
    imp = imp.reindex(perf.index)
    if perf.isna().any() or imp.isna().any():
        bad = perf.index[perf.isna() | imp.isna()][0]
        raise DataError("missing performance or importance", column=bad)
    if len(perf) < 2:
        raise DataError("IPA needs at least 2 attributes")
    if isinstance(cuts, str):
        _check_option(cuts, "cuts", "ipa", ("means", "medians"))
        pc, ic = ((perf.mean(), imp.mean()) if cuts == "means"
                  else (perf.median(), imp.median()))
    else:
        try:
            pc, ic = (float(cuts[0]), float(cuts[1]))
        except (TypeError, ValueError, IndexError) as exc:
            raise DataError("cuts must be 'means', 'medians' or (performance, importance)",
                            value=cuts) from exc
    if isinstance(labels, str):
        _check_option(labels, "labels", "ipa", tuple(_LABELS))
        lab = _LABELS[labels]
    else:
        lab = {**_LABELS["en"], **labels}
    hi_i = imp >= ic
    hi_p = perf >= pc
    quad = np.select([hi_i & ~hi_p, hi_i & hi_p, ~hi_i & ~hi_p], list(_QUADRANTS[:3]),
                     _QUADRANTS[3])
    ceiling = float(perf.max() if scale_max is None else scale_max)
    total = imp.sum()
    share = imp / total if total != 0 else imp * np.nan
    score = share * (ceiling - perf)
    table = pd.DataFrame(
        {"performance": perf, "importance": imp, "quadrant": quad,
         "quadrant_label": [lab[q] for q in quad], "performance_gap": perf - pc,
         "importance_gap": imp - ic, "importance_share": share, "priority_score": score},
    )
    table.index.name = "attribute"
    table["priority_rank"] = table["priority_score"].rank(ascending=False,
                                                          method="first").astype(int)
    table = table.sort_values("priority_rank")
    return IPAResult(performance_cut=float(pc), importance_cut=float(ic), ceiling=ceiling,
                     importance_source=importance_source, table=table)


def ipa_from_data(
    data: pd.DataFrame,
    outcome: str,
    dimensions: list[str],
    *,
    importance: str = "derived",
    stated_items: dict[str, str] | None = None,
    method: str = "relative_weights",
    cuts: str | tuple[float, float] = "means",
    labels: str | dict[str, str] = "en",
    scale_max: float | None = None,
) -> IPAResult:
    """IPA from respondent-level data: performance = mean of each dimension score.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per respondent with dimension scores (and the outcome / importance items).
    outcome : str
        Overall satisfaction (for derived importance).
    dimensions : list of str
        Dimension score columns.
    importance : {"derived", "stated"}, default "derived"
        Derived: the raw weights of :func:`relative_importance` (``method``) of the dimensions
        for ``outcome`` (no bootstrap). Stated: the mean of each dimension's importance item.
    stated_items : dict, optional
        Dimension -> importance-item column (required for ``importance="stated"``; with a
        codebook use ``codebook.importance_items()``).
    method : {"relative_weights", "dominance"}, default "relative_weights"
    cuts, labels
        As :func:`ipa`.
    scale_max : float, optional
        Ceiling for the priority score; default the highest observed dimension score (the
        scale maximum when anyone gave top marks throughout, e.g. 5).

    Returns
    -------
    IPAResult

    Notes
    -----
    Performance means use every non-missing value of each dimension; derived importance uses
    the listwise-complete rows of the outcome and dimensions.

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77-79.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> df = pd.DataFrame(rng.normal(3.5, 0.6, size=(80, 3)), columns=["att", "eff", "form"])
    >>> df["overall"] = df.mean(axis=1) + rng.normal(scale=0.3, size=80)
    >>> r = ipa_from_data(df, "overall", ["att", "eff", "form"])
    >>> sorted(r.table.index)
    ['att', 'eff', 'form']

    Validated against: composed of :func:`relative_importance` and :func:`ipa`
    (tests/test_drivers.py).
    """
    _check_option(importance, "importance", "ipa_from_data", ("derived", "stated"))
    dimensions = _as_list(dimensions)
    for c in dimensions:
        if c not in data.columns:
            raise DataError("unknown column", column=c)
    perf = pd.Series({d: float(pd.to_numeric(data[d]).mean()) for d in dimensions})
    if importance == "derived":
        ri = relative_importance(data, outcome, dimensions, method=method, n_boot=0)
        imp = ri.table["weight"]
    else:
        if not stated_items:
            raise DataError("stated importance needs stated_items (dimension -> item column)")
        missing = [d for d in dimensions if d not in stated_items]
        if missing:
            raise DataError("no stated-importance item for dimension", column=missing[0])
        for d in dimensions:
            if stated_items[d] not in data.columns:
                raise DataError("unknown column", column=stated_items[d])
        imp = pd.Series({d: float(pd.to_numeric(data[stated_items[d]]).mean())
                         for d in dimensions})
    if scale_max is None:
        scale_max = float(np.nanmax(data[dimensions].to_numpy(dtype=float, na_value=np.nan)))
    return ipa(perf, imp, cuts=cuts, labels=labels, scale_max=scale_max,
               importance_source=importance)
