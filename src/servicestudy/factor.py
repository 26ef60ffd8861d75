"""Exploratory factor analysis and parallel analysis, following R's psych 2.2.9.

Extraction by minimum residual (``minres``), maximum likelihood (``ml``) or iterated principal
axes (``pa``); rotations varimax (as ``stats::varimax``, Kaiser-normalised), oblimin (as
``GPArotation::oblimin``, gamma = 0, gradient projection) and promax (psych's Kaiser-normalised
Promax, m = 4). Factors are reflected so that each column of loadings sums positive and sorted
by the variance they account for, like psych.

The arithmetic is written on a correlation matrix plus n (``_efa_from_corr``) so that it can be
fed from chunked sufficient statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ._matrices import (
    as_items,
    check_corr_usable,
    check_option,
    cor_smooth,
    cov2cor,
    pairwise_cor,
    smc,
)
from ._results import Result
from .errors import ConvergenceError, DataError

__all__ = ["EFAResult", "ParallelAnalysisResult", "efa", "parallel_analysis"]

_PSI_LOWER = 0.005  # psych's lower bound for uniquenesses in optim
_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA"}


# ---------------------------------------------------------------------------------------------
# extraction
# ---------------------------------------------------------------------------------------------


def _top_loadings(s: np.ndarray, nf: int, shift: float = 0.0) -> np.ndarray:
    """Loadings from the nf largest eigenpairs of s: V diag(sqrt(max(lambda - shift, 0)))."""
    vals, vecs = np.linalg.eigh(s)
    vals, vecs = vals[::-1][:nf], vecs[:, ::-1][:, :nf]
    return vecs * np.sqrt(np.maximum(vals - shift, 0.0))


def _uls_objective(psi: np.ndarray, r: np.ndarray, nf: int) -> tuple[float, np.ndarray]:
    """Unweighted least squares: sum of squared residuals of R - Psi - LL' and its gradient."""
    s = r - np.diag(psi)
    vals, vecs = np.linalg.eigh(s)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    keep = np.maximum(vals[:nf], 0.0)
    load = vecs[:, :nf] * np.sqrt(keep)
    resid = s - load @ load.T
    f = float(np.sum(resid**2))
    grad = -2.0 * np.diag(resid)
    return f, grad


def _ml_objective(psi: np.ndarray, r: np.ndarray, nf: int) -> tuple[float, np.ndarray]:
    """psych's FAfn (ML discrepancy concentrated on Psi) and its gradient FAgr."""
    sc = 1.0 / np.sqrt(psi)
    sstar = r * sc[:, None] * sc[None, :]
    vals, vecs = np.linalg.eigh(sstar)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    e = vals[nf:]
    f = float(np.sum(e - np.log(e)) - (r.shape[0] - nf))
    load = vecs[:, :nf] * np.sqrt(np.maximum(vals[:nf] - 1.0, 0.0))
    load = load * np.sqrt(psi)[:, None]
    g = load @ load.T + np.diag(psi) - r
    return f, np.diag(g) / psi**2


def _fit_psi(
    r: np.ndarray, nf: int, method: str, tight: bool = True
) -> tuple[np.ndarray, bool, int]:
    start = 1.0 - smc(r)
    # tight: far below psych's own accuracy; loose: R's optim defaults (factr 1e7, pgtol 0)
    opts = (
        {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10000, "maxcor": 20}
        if tight
        else {"ftol": 1e7 * np.finfo(float).eps, "gtol": 1e-8, "maxiter": 1000}
    )
    fun = _uls_objective if method == "minres" else _ml_objective
    res = optimize.minimize(
        fun,
        start,
        args=(r, nf),
        jac=True,
        method="L-BFGS-B",
        bounds=[(_PSI_LOWER, 1.0)] * r.shape[0],
        options=opts,
    )
    psi = np.clip(res.x, _PSI_LOWER, 1.0)
    # success also when stopped by ftol at machine precision with a tiny projected gradient
    _, g = fun(psi, r, nf)
    pg = np.where(
        (psi <= _PSI_LOWER + 1e-12) & (g > 0) | (psi >= 1.0 - 1e-12) & (g < 0), 0.0, g
    )
    ok = bool(res.success or np.max(np.abs(pg)) < (1e-6 if tight else 1e-4))
    return psi, ok, int(res.nit)


def _extract(
    r: np.ndarray,
    nf: int,
    method: str,
    max_iter: int = 50,
    min_err: float = 0.001,
    tight: bool = True,
) -> dict[str, object]:
    """Unrotated loadings by minres, ml or pa (psych::fa's ``fac``)."""
    if method in ("minres", "ml"):
        psi, ok, nit = _fit_psi(r, nf, method, tight)
        if method == "minres":
            load = _top_loadings(r - np.diag(psi), nf)
        else:
            sc = np.sqrt(psi)
            load = _top_loadings(r / np.outer(sc, sc), nf, shift=1.0) * sc[:, None]
        return {"loadings": load, "psi": psi, "converged": ok, "iterations": nit}
    # iterated principal axes, as psych: stop when the total communality changes < min_err
    rm = r.copy()
    np.fill_diagonal(rm, smc(r))
    comm = float(np.trace(rm))
    converged = False
    it = 0
    load = np.zeros((r.shape[0], nf))
    for it in range(1, max_iter + 1):  # noqa: B007
        vals, vecs = np.linalg.eigh(rm)
        vals, vecs = vals[::-1][:nf], vecs[:, ::-1][:, :nf]
        if np.any(vals < 0):
            raise ConvergenceError(
                "efa (pa): a negative eigenvalue among the retained factors; "
                "extract fewer factors or use method='minres'"
            )
        load = vecs * np.sqrt(vals)
        new = np.sum(load**2, axis=1)
        comm1 = float(new.sum())
        np.fill_diagonal(rm, new)
        err = abs(comm - comm1)
        comm = comm1
        if err <= min_err:
            converged = True
            break
    return {"loadings": load, "psi": 1.0 - np.sum(load**2, axis=1), "converged": converged,
            "iterations": it}


# ---------------------------------------------------------------------------------------------
# rotations
# ---------------------------------------------------------------------------------------------


def _varimax(x: np.ndarray, normalize: bool = True, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """stats::varimax: Kaiser-normalised varimax by successive SVDs; returns (loadings, T)."""
    nc = x.shape[1]
    if nc < 2:
        return x, np.eye(nc)
    sc = np.sqrt(np.sum(x**2, axis=1)) if normalize else np.ones(x.shape[0])
    xn = x / sc[:, None]
    p = xn.shape[0]
    tt = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = xn @ tt
        b = xn.T @ (z**3 - z * (np.sum(z**2, axis=0) / p))
        u, sv, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast = d
        d = float(np.sum(sv))
        if d < dpast * (1 + eps):
            break
    return (xn @ tt) * sc[:, None], tt


def _oblimin_q(lam: np.ndarray) -> tuple[float, np.ndarray]:
    """Quartimin (oblimin, gamma = 0) criterion and its gradient (GPArotation vgQ.oblimin)."""
    l2 = lam**2
    x = l2.sum(axis=1, keepdims=True) - l2  # L^2 (1 - I)
    return float(np.sum(l2 * x) / 4.0), lam * x


def _oblimin(
    a: np.ndarray, eps: float = 1e-5, maxit: int = 1000
) -> tuple[np.ndarray, np.ndarray, bool]:
    """GPArotation::GPFoblq with the oblimin (gamma 0) criterion, unnormalised, T0 = I.

    Returns (pattern loadings, Phi, converged).
    """
    k = a.shape[1]
    tmat = np.eye(k)
    al = 1.0
    lam = a @ np.linalg.inv(tmat).T
    f, gq = _oblimin_q(lam)
    g = -(lam.T @ gq @ np.linalg.inv(tmat)).T
    s = np.inf
    for _ in range(maxit + 1):
        gp = g - tmat * np.sum(tmat * g, axis=0)
        s = math.sqrt(float(np.sum(gp**2)))
        if s < eps:
            break
        al *= 2.0
        for _i in range(11):
            xm = tmat - al * gp
            tnew = xm / np.sqrt(np.sum(xm**2, axis=0))
            lam = a @ np.linalg.inv(tnew).T
            fnew, gqnew = _oblimin_q(lam)
            if f - fnew > 0.5 * s**2 * al:
                break
            al /= 2.0
        tmat = tnew
        f = fnew
        g = -(lam.T @ gqnew @ np.linalg.inv(tnew)).T
    return lam, tmat.T @ tmat, bool(s < eps)


def _promax(x: np.ndarray, m: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """psych's ``kaiser(L, "Promax")``: row-normalise, varimax, power target, Phi; unnormalise."""
    h = np.sqrt(np.sum(x**2, axis=1))
    w = x / h[:, None]
    v, rot = _varimax(w)
    q = v * np.abs(v) ** (m - 1)
    u = np.linalg.lstsq(v, q, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u * np.sqrt(d)[None, :]
    z = v @ u
    u = rot @ u
    ui = np.linalg.inv(u)
    return z * h[:, None], ui @ ui.T


# ---------------------------------------------------------------------------------------------
# fit statistics
# ---------------------------------------------------------------------------------------------


def _rmsea_bound(chisq: float, df: float, n: float, target: float) -> float:
    """sqrt(ncp/((n-1) df)) with ncp solving pchisq(chisq, df, ncp) = target."""
    hi = max(n, chisq) + 2 * n
    root = optimize.brentq(
        lambda nc: stats.ncx2.cdf(chisq, df, nc) - target if nc > 0 else stats.chi2.cdf(chisq, df) - target,
        0.0,
        hi,
        xtol=1e-12,
        rtol=1e-12,
    )
    return math.sqrt(root / (n - 1) / df)


def _factor_stats(
    r: np.ndarray,
    load: np.ndarray,
    phi: np.ndarray | None,
    n_obs: float | None,
    np_obs: np.ndarray | None = None,
    conf_level: float = 0.1,
) -> dict[str, float]:
    """psych::factor.stats: chi-square, TLI, RMSEA (CI), BIC, rms, crms, fit, fit.off."""
    p = r.shape[0]
    nf = load.shape[1]
    model = load @ load.T if phi is None else load @ phi @ load.T
    resid = r - model
    r2 = float(np.sum(r * r))
    rstar2 = float(np.sum(resid * resid))
    dof = p * (p - 1) / 2 - p * nf + nf * (nf - 1) / 2
    off = ~np.eye(p, dtype=bool)
    out: dict[str, float] = {"dof": dof}
    if np_obs is None:
        rstar_off = float(np.sum(resid[off] ** 2))
        r2_off = r2 - float(np.trace(r))
        nh = n_obs if n_obs is not None else math.nan
        out["rms"] = math.sqrt(rstar_off / (p * (p - 1)))
        out["crms"] = math.sqrt(rstar_off / (2 * dof)) if dof > 0 else math.nan
    else:
        rstar_off = float(np.sum((resid**2 * np_obs)[off]))
        r2_off = float(np.sum((r * r * np_obs)[off]))
        nh = float(stats.hmean(np_obs.ravel()))
        out["rms"] = math.sqrt(rstar_off / (nh * p * (p - 1)))
        out["crms"] = math.sqrt(rstar_off / (2 * nh * dof)) if dof > 0 else math.nan
    out["fit"] = 1 - rstar2 / r2
    out["fit_off"] = 1 - rstar_off / r2_off
    model_d = model.copy()
    np.fill_diagonal(model_d, np.diag(r))
    model_d, _ = cor_smooth(model_d)
    rs, _ = cor_smooth(r)
    try:
        mir = np.linalg.solve(model_d, rs)
    except np.linalg.LinAlgError:
        mir = np.eye(p)
    _sign, logdet = np.linalg.slogdet(mir)
    objective = float(np.trace(mir) - logdet - p)
    out["objective"] = objective
    _sign0, logdet0 = np.linalg.slogdet(rs)
    f0 = float(np.trace(rs) - logdet0 - p)
    nan = math.nan
    out.update(statistic=nan, pvalue=nan, tli=nan, rmsea=nan, rmsea_ci_low=nan,
               rmsea_ci_high=nan, bic=nan, null_statistic=nan, null_df=p * (p - 1) / 2)
    if n_obs is None:
        return out
    n = float(n_obs)
    nm = (n - 1) - (2 * p + 5) / 6 - 2 * nf / 3
    chisq = max(objective * nm, 0.0)
    out["statistic"] = chisq
    if dof > 0:
        out["pvalue"] = float(stats.chi2.sf(chisq, dof))
    out["null_statistic"] = f0 * ((n - 1) - (2 * p + 5) / 6)
    mm = objective / dof if dof != 0 else nan
    m0 = f0 * 2 / (p * (p - 1))
    out["tli"] = (m0 - mm) / (m0 - 1 / nm)
    if dof > 0:
        out["rmsea"] = math.sqrt(max(chisq / (dof * n) - 1 / (n - 1), 0.0))
        tail = conf_level / 2
        cdf0 = stats.chi2.cdf(chisq, dof)
        hi = _rmsea_bound(chisq, dof, n, tail) if cdf0 > tail else 0.0
        lo = _rmsea_bound(chisq, dof, n, 1 - tail) if cdf0 > 1 - tail else 0.0
        out["rmsea_ci_low"] = lo
        out["rmsea_ci_high"] = hi
        out["bic"] = chisq - dof * math.log(n)
    return out


# ---------------------------------------------------------------------------------------------
# efa
# ---------------------------------------------------------------------------------------------


def _efa_from_corr(
    r: np.ndarray,
    n_obs: float | None,
    n_factors: int,
    method: str = "minres",
    rotation: str = "oblimin",
    np_obs: np.ndarray | None = None,
) -> dict[str, object]:
    """psych::fa on a correlation matrix: extraction, rotation, reflection, sorting, fit.

    Returns a dict with ``loadings`` (p x nf array, sorted), ``names`` (factor labels from the
    pre-sort order), ``phi`` (or None), ``communality``, ``uniquenesses``, ``psi`` (fitted
    uniquenesses), ``values`` (eigenvalues of R with communalities on the diagonal),
    ``e_values``, ``converged``, ``rotation_converged``, ``heywood`` and the fit statistics.
    """
    ext = _extract(r, n_factors, method)
    load = np.asarray(ext["loadings"])
    sgn = np.sign(load.sum(axis=0))
    sgn[sgn == 0] = 1
    load = load * sgn
    model = load @ load.T
    phi = None
    rot_ok = True
    if rotation != "none" and n_factors > 1:
        if rotation == "varimax":
            load, _ = _varimax(load)
        elif rotation == "oblimin":
            load, phi, rot_ok = _oblimin(load)
        else:
            load, phi = _promax(load)
    sgn = np.sign(load.sum(axis=0))
    sgn[sgn == 0] = 1
    load = load * sgn
    if phi is not None:
        phi = phi * np.outer(sgn, sgn)
    names = [f"{_PREFIX[method]}{i + 1}" for i in range(n_factors)]
    if n_factors > 1:
        ev = np.sum(load**2, axis=0) if phi is None else np.diag(phi @ load.T @ load)
        order = np.argsort(-ev, kind="stable")
        load = load[:, order]
        names = [names[i] for i in order]
        if phi is not None:
            phi = phi[np.ix_(order, order)]
    fit = _factor_stats(r, load, phi, n_obs, np_obs)
    communality = np.diag(model).copy()
    s = r.copy()
    np.fill_diagonal(s, communality)
    psi = np.asarray(ext["psi"])
    return {
        "loadings": load,
        "names": names,
        "phi": phi,
        "communality": communality,
        "uniquenesses": np.diag(r) - communality,
        "psi": psi,
        "values": np.linalg.eigvalsh(s)[::-1],
        "e_values": np.linalg.eigvalsh(r)[::-1],
        "converged": bool(ext["converged"]),
        "rotation_converged": rot_ok,
        "heywood": bool(np.any(communality > 1.0) or np.any(psi <= _PSI_LOWER + 1e-8)),
        "iterations": ext["iterations"],
        **fit,
    }


@dataclass(frozen=True)
class EFAResult(Result):
    """Exploratory factor analysis (see :func:`efa`)."""

    method: str
    rotation: str
    n_factors: int
    n_obs: int
    n_items: int
    statistic: float
    df: float
    pvalue: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    bic: float
    rmsr: float
    crms: float
    objective: float
    null_statistic: float
    null_df: float
    fit: float
    fit_off: float
    converged: bool
    rotation_converged: bool
    heywood: bool
    loadings: pd.DataFrame = field(repr=False)
    communalities: pd.Series = field(repr=False)
    uniquenesses: pd.Series = field(repr=False)
    variance: pd.DataFrame = field(repr=False)
    phi: pd.DataFrame | None = field(default=None, repr=False)
    structure: pd.DataFrame | None = field(default=None, repr=False)
    eigenvalues: pd.Series | None = field(default=None, repr=False)
    common_eigenvalues: pd.Series | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Loadings with ``h2`` (communality) and ``u2`` (uniqueness) columns, like psych."""
        out = self.loadings.copy()
        out["h2"] = self.communalities
        out["u2"] = self.uniquenesses
        return out


def _variance_table(load: np.ndarray, phi: np.ndarray | None, names: list[str], p: int) -> pd.DataFrame:
    vx = np.sum(load**2, axis=0) if phi is None else np.diag(phi @ load.T @ load)
    return pd.DataFrame(
        {
            "ss_loadings": vx,
            "proportion": vx / p,
            "cumulative": np.cumsum(vx / p),
            "proportion_explained": vx / vx.sum(),
            "cumulative_explained": np.cumsum(vx / vx.sum()),
        },
        index=pd.Index(names, name="factor"),
    )


def efa(
    items: pd.DataFrame,
    n_factors: int,
    *,
    method: str = "minres",
    rotation: str = "oblimin",
    weights: pd.Series | np.ndarray | None = None,
) -> EFAResult:
    """Exploratory factor analysis as ``psych::fa``.

    Parameters
    ----------
    items
        Wide table, one numeric column per item (missing values handled pairwise).
    n_factors
        Number of factors to extract.
    method
        ``"minres"`` (unweighted least squares), ``"ml"`` (maximum likelihood) or ``"pa"``
        (iterated principal axes from smc, psych's stopping rule: change of total communality
        below 0.001, at most 50 iterations).
    rotation
        ``"none"``, ``"varimax"``, ``"oblimin"`` (psych's default) or ``"promax"``.
    weights
        Optional survey weights, one per row (finite, non-negative). The correlations become
        weighted pairwise correlations (``cov.wt(x, wt = w, cor = TRUE)`` for complete data, as
        ``psych::fa(weight = w)``); the fit statistics use Kish's effective sample size
        ``(sum w)^2 / sum w^2`` as n, where psych uses the number of rows.

    Returns
    -------
    EFAResult
        ``loadings`` (items x factors, pattern matrix), ``communalities`` (h2), ``uniquenesses``
        (u2 = 1 - h2), ``variance`` (SS loadings, proportion, cumulative, proportion explained),
        ``phi`` and ``structure`` for oblique rotations, fit statistics (``statistic``, ``df``,
        ``pvalue``, ``tli``, ``rmsea`` with a 90% CI, ``bic``, ``rmsr``), and the flags
        ``converged``, ``rotation_converged`` and ``heywood``.

    Raises
    ------
    DataError
        Too many factors for the number of items (negative degrees of freedom are allowed but
        n_factors must be below the number of items), singular correlations, bad items.
    ConvergenceError
        The minres/ml extraction did not converge, or principal axes met a negative eigenvalue.
        Principal axes that stop at psych's 50-iteration cap return ``converged=False``
        (psych returns those numbers with a message).

    Notes
    -----
    The correlation matrix is ``cor(x, use = "pairwise")`` and n is the number of rows, as in
    psych. minres minimises ``sum((R - Psi - LL')^2)`` over the uniquenesses Psi in
    [0.005, 1] (L-BFGS-B from Psi = 1 - smc), L the scaled top eigenvectors of R - Psi; ml
    minimises ``sum(e - log e) - (p - m)`` over the discarded eigenvalues e of
    ``Psi^-1/2 R Psi^-1/2``. The chi-square is psych's
    ``F (n - 1 - (2p + 5)/6 - 2m/3)`` with ``F = tr(M^-1 R) - log|M^-1 R| - p`` and M the model
    correlation matrix; TLI, RMSEA (90% CI by the noncentral chi-square) and BIC follow psych's
    ``factor.stats``; rmsr uses pairwise counts as psych does for raw data. After rotation each
    factor is reflected to a positive loading sum and factors are sorted by
    ``diag(Phi L'L)``. Factor labels (MR1, ...) keep the pre-sort order, as in psych.
    ``heywood`` is True when a communality exceeds 1 or a uniqueness sits at the 0.005 bound.

    References
    ----------
    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals (minres).
    *Psychometrika*, 31(3), 351-368.
    Jennrich, R. I. (2002). A simple general method for oblique rotation. *Psychometrika*,
    67(1), 7-19.
    Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor analysis.
    *Psychometrika*, 23(3), 187-200.
    Hendrickson, A. E., & White, P. O. (1964). Promax: A quick method for rotation to oblique
    simple structure. *British Journal of Statistical Psychology*, 17(1), 65-70.

    Examples
    --------
    >>> # R equivalent: psych::fa(df, nfactors = 2, fm = "minres", rotate = "varimax")
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=(400, 2))
    >>> cols = {f"a{i}": f[:, 0] + rng.normal(size=400) for i in range(3)}
    >>> cols.update({f"b{i}": f[:, 1] + rng.normal(size=400) for i in range(3)})
    >>> res = efa(pd.DataFrame(cols), 2, rotation="varimax")
    >>> res.loadings.shape, bool(res.converged)
    ((6, 2), True)

    Validated against: R 4.2.2 psych 2.2.9 ``fa`` with GPArotation 2022.10.2
    (tests/test_factor.py, shared holzinger and sim_likert references, tests/reference/
    reliability.json).
    """
    check_option(method, "method", "efa", ("minres", "ml", "pa"))
    check_option(rotation, "rotation", "efa", ("none", "varimax", "oblimin", "promax"))
    data = as_items(items, "efa")
    p = len(data.names)
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 1 or n_factors >= p:
        raise DataError(
            f"efa: n_factors must be an integer from 1 to {p - 1} for {p} items", value=n_factors
        )
    x = data.values
    if weights is None:
        r = pairwise_cor(x)
        m = (~np.isnan(x)).astype(float)
        np_obs = m.T @ m
        n_fit: float = x.shape[0]
    else:
        # survey weights: weighted pairwise correlations; fit statistics use Kish's n_eff
        w = np.asarray(weights, dtype=float).ravel()
        if w.shape[0] != len(data.rows):
            raise DataError(f"efa: {w.shape[0]} weights for {len(data.rows)} rows")
        if np.any(~np.isfinite(w)) or np.any(w < 0):
            raise DataError("efa: weights must be finite and non-negative")
        w = w[data.rows]
        r = pairwise_cor(x, w)
        np_obs = None
        n_fit = float(w.sum() ** 2 / (w * w).sum())
    check_corr_usable(r, data.names, "efa")
    res = _efa_from_corr(r, n_fit, int(n_factors), method, rotation, np_obs=np_obs)
    if not res["converged"] and method != "pa":
        raise ConvergenceError(
            f"efa ({method}): the extraction of {n_factors} factors did not converge"
        )
    return _efa_result(res, data.names, method, rotation, x.shape[0])


def _efa_result(res: dict, items: list[str], method: str, rotation: str, n: int) -> EFAResult:
    names = res["names"]
    idx = pd.Index(items, name="item")
    load = res["loadings"]
    phi = res["phi"]
    return EFAResult(
        method=method,
        rotation=rotation,
        n_factors=load.shape[1],
        n_obs=int(n),
        n_items=len(items),
        statistic=res["statistic"],
        df=res["dof"],
        pvalue=res["pvalue"],
        tli=res["tli"],
        rmsea=res["rmsea"],
        rmsea_ci_low=res["rmsea_ci_low"],
        rmsea_ci_high=res["rmsea_ci_high"],
        bic=res["bic"],
        rmsr=res["rms"],
        crms=res["crms"],
        objective=res["objective"],
        null_statistic=res["null_statistic"],
        null_df=res["null_df"],
        fit=res["fit"],
        fit_off=res["fit_off"],
        converged=res["converged"],
        rotation_converged=res["rotation_converged"],
        heywood=res["heywood"],
        loadings=pd.DataFrame(load, index=idx, columns=names),
        communalities=pd.Series(
            np.diag(load @ (np.eye(load.shape[1]) if phi is None else phi) @ load.T),
            index=idx,
            name="h2",
        ),
        uniquenesses=pd.Series(res["uniquenesses"], index=idx, name="u2"),
        variance=_variance_table(load, phi, names, len(items)),
        phi=None if phi is None else pd.DataFrame(phi, index=names, columns=names),
        structure=None if phi is None else pd.DataFrame(load @ phi, index=idx, columns=names),
        eigenvalues=pd.Series(res["e_values"], name="eigenvalue"),
        common_eigenvalues=pd.Series(res["values"], name="eigenvalue"),
    )


# ---------------------------------------------------------------------------------------------
# parallel analysis
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParallelAnalysisResult(Result):
    """Horn's parallel analysis (see :func:`parallel_analysis`)."""

    n_factors: int
    n_components: int
    n_iter: int
    quantile: float
    method: str
    n_obs: int
    n_items: int
    eigenvalues: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The eigenvalue table (one row per factor/component number)."""
        return self.eigenvalues


def _fa1_values(r: np.ndarray, method: str, tight: bool = True) -> np.ndarray:
    """Eigenvalues of R with the one-factor communalities on the diagonal (psych fa()$values)."""
    ext = _extract(r, 1, method, tight=tight)
    load = np.asarray(ext["loadings"])
    s = r.copy()
    np.fill_diagonal(s, np.sum(load**2, axis=1))
    return np.linalg.eigvalsh(s)[::-1]


def _fa1_minres_values_batch(
    rs: np.ndarray, tol: float = 1e-10, max_iter: int = 20, step_tol: float = 1e-5
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_fa1_values` (minres, one factor) for a stack of correlation matrices at once.

    With h = 1 - psi the communalities, the ULS objective is the sum of squares of all but the
    leading eigenvalue of ``S = R - I + diag(h)`` and its gradient is ``2 (h - phi(h))``, where
    ``phi(h) = lambda_1 v_1^2`` are the squared loadings of the leading eigenpair. A monotone
    descent from the SMCs (the optimiser's start) alternates two steps, vectorised over the
    stack with stacked eigh: Newton on ``h - phi(h) = 0`` with the exact Jacobian
    ``J = (v_1^2)(v_1^2)' + 2 lambda_1 diag(v_1) [sum_{k>1} v_k v_k' / (lambda_1 - lambda_k)]
    diag(v_1)`` (the Hessian is ``2 (I - J)``), halved until the objective decreases, and,
    where the Hessian is not positive definite or halving fails, the principal-axes step
    ``h <- phi(h)`` (alternating least squares, which never increases the objective).
    Near the solution, a Newton step shorter than ``step_tol`` (max norm) at a positive definite
    Hessian is taken as the last one without re-evaluating: Newton converges quadratically, so
    its end point is the solution to O(step^2) (``step_tol = 0`` switches this off).
    Returns the eigenvalues (descending, shape (B, p); NaN where not ok) and a mask of the
    matrices whose fit is an interior local minimum with ``max |h - phi(h)| < tol`` or ended
    by such a short Newton step; the others must be fitted by :func:`_fa1_values`.
    """
    bsz, p, _ = rs.shape
    eye = np.eye(p)
    idx = np.arange(p)
    hi = 1.0 - _PSI_LOWER
    try:
        h = 1.0 - 1.0 / np.einsum("bii->bi", np.linalg.inv(rs))
    except np.linalg.LinAlgError:
        return np.full((bsz, p), np.nan), np.zeros(bsz, dtype=bool)
    h = np.clip(h, 0.0, 1.0)

    def evaluate(sel: np.ndarray, hh: np.ndarray):
        ss = rs[sel]
        ss[:, idx, idx] = hh
        vals, vecs = np.linalg.eigh(ss)
        lam1, v1 = vals[:, -1], vecs[:, :, -1]
        obj = np.sum(vals[:, :-1] ** 2, axis=1) + np.minimum(lam1, 0.0) ** 2
        return obj, lam1[:, None] * v1**2, vals, vecs

    def hessian(vals: np.ndarray, vecs: np.ndarray) -> np.ndarray:
        """I - J (half the Hessian of the objective in h)."""
        lam1, v1 = vals[:, -1], vecs[:, :, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_gap = 1.0 / (lam1[:, None] - vals[:, :-1])
            rest = vecs[:, :, :-1]
            m = (rest * inv_gap[:, None, :]) @ np.swapaxes(rest, 1, 2)
            v2 = v1**2
            jac = v2[:, :, None] * v2[:, None, :] + 2.0 * lam1[:, None, None] * (
                v1[:, :, None] * m * v1[:, None, :]
            )
        return eye - jac

    everyone = np.arange(bsz)
    obj, phi, vals, vecs = evaluate(everyone, h)
    failed = np.zeros(bsz, dtype=bool)
    done = np.zeros(bsz, dtype=bool)  # ended by a last, short Newton step (h updated, not phi)
    for _ in range(max_iter):
        # a communality at a bound (0, or a Heywood case) is left to the bounded optimiser
        failed |= ~done & (~np.isfinite(obj) | np.any((phi <= 0.0) | (phi >= hi), axis=1))
        act = np.nonzero(~failed & ~done & (np.max(np.abs(h - phi), axis=1) >= tol))[0]
        if act.size == 0:
            break
        ha, fa = h[act], h[act] - phi[act]
        hess = hessian(vals[act], vecs[act])
        good = np.all(np.isfinite(hess), axis=(1, 2))
        hess[~good] = eye
        good &= np.linalg.eigvalsh(hess)[:, 0] > 1e-12
        step = np.linalg.solve(hess, -fa[:, :, None])[:, :, 0]
        # near the solution (a Newton step below step_tol at a PD Hessian) Newton converges
        # quadratically: the step's end is the solution to O(step^2), take it as the fit
        short = np.nonzero(good & (np.max(np.abs(step), axis=1) < step_tol))[0]
        if short.size:
            h[act[short]] = ha[short] + step[short]
            done[act[short]] = True
            good[short] = False
        todo = np.nonzero(good)[0]
        pa = np.ones(act.size, dtype=bool)  # principal-axes step unless Newton succeeds
        pa[short] = False
        t = 1.0
        for _half in range(5):
            if todo.size == 0:
                break
            cand = np.clip(ha[todo] + t * step[todo], 0.0, 1.0)
            c_obj, c_phi, c_vals, c_vecs = evaluate(act[todo], cand)
            better = c_obj <= obj[act[todo]]
            sel = act[todo[better]]
            h[sel], obj[sel], phi[sel], vals[sel], vecs[sel] = (
                cand[better], c_obj[better], c_phi[better], c_vals[better], c_vecs[better]
            )
            pa[todo[better]] = False
            todo = todo[~better]
            t /= 2.0
        if pa.any():
            sel = act[pa]
            h[sel] = np.clip(phi[sel], 0.0, 1.0)
            obj[sel], phi[sel], vals[sel], vecs[sel] = evaluate(sel, h[sel])
    f = h - phi
    conv = done | (np.isfinite(f).all(axis=1) & (np.max(np.abs(f), axis=1) < tol))
    ok = ~failed & conv & (vals[:, -1] > 0) & (h > 0).all(axis=1) & (h < hi).all(axis=1)
    # the Hessian at the end point must be PD (done: checked before the last step)
    chk = ok & ~done
    hess = hessian(vals[chk], vecs[chk])
    fin = np.all(np.isfinite(hess), axis=(1, 2))
    hess[~fin] = eye
    ok[chk] = fin & (np.linalg.eigvalsh(hess)[:, 0] > 0)
    # at the solution h = phi(h); done fits use the Newton end point h
    phi = np.where(done[:, None], h, phi)
    # as _fa1_values: R with the communalities of the loadings at the fitted psi on the diagonal
    # (the others are refitted by the caller)
    out = np.full((bsz, p), np.nan)
    if ok.any():
        s = rs[ok]
        s[:, idx, idx] = phi[ok]
        out[ok] = np.linalg.eigvalsh(s)[:, ::-1]
    return out, ok


def _compact_columns(x: np.ndarray) -> np.ndarray:
    """x in Fortran order in the smallest dtype that holds every value exactly (int8 for
    response codes, else float32, else float64): random gathers from it are cache-friendlier,
    and converting back to float64 gives exactly the original values."""
    finite = x[np.isfinite(x)]
    if (
        finite.size == x.size
        and np.all(finite == np.round(finite))
        and finite.min() >= -128
        and finite.max() <= 127
    ):
        return np.asfortranarray(x.astype(np.int8))
    with np.errstate(over="ignore"):  # values beyond float32 become inf and fail the check
        x32 = x.astype(np.float32)
    if np.array_equal(x32, x, equal_nan=True):
        return np.asfortranarray(x32)
    return np.asfortranarray(x)


def _fa1_replicates(rs: np.ndarray, method: str) -> np.ndarray:
    """One-factor eigenvalues of replicate correlation matrices (they only feed means and
    quantiles). minres: the batched Newton fit, to 1e-10 in the gradient; replicates it does
    not settle (a bound active, several close leading eigenvalues) and other methods are
    fitted one by one to R's optim accuracy."""
    if method == "minres":
        out, ok = _fa1_minres_values_batch(rs)
    else:
        out, ok = np.empty(rs.shape[:2]), np.zeros(rs.shape[0], dtype=bool)
    for b in np.nonzero(~ok)[0]:
        out[b] = _fa1_values(rs[b], method, tight=False)
    return out


def _normal_sample_correlations(rng: np.random.Generator, n_iter: int, n: int, p: int) -> np.ndarray:
    """Correlation matrices of ``n_iter`` samples of n rows of p independent standard normals.

    The centred cross-product matrix of such a sample is Wishart with ``n - 1`` degrees of
    freedom and identity scale, drawn here by Bartlett's decomposition ``W = A A'`` with ``A``
    lower triangular, ``A_ii^2 ~ chi2(n - i)`` (i = 1..p) and ``A_ij ~ N(0, 1)`` below the
    diagonal. The result has exactly the distribution of ``cor(matrix(rnorm(n * p), n))`` that
    psych's ``fa.parallel`` simulates, at O(p^3) instead of O(n p^2) cost per replicate.

    Reference: Bartlett, M. S. (1933). On the theory of statistical regression. *Proceedings
    of the Royal Society of Edinburgh*, 53, 260-283.
    """
    m = n - 1
    if m < p:  # too few rows for the decomposition: simulate the data
        z = rng.standard_normal((n_iter, n, p))
        z -= z.mean(axis=1, keepdims=True)
        w = np.einsum("bni,bnj->bij", z, z)
    else:
        a = np.zeros((n_iter, p, p))
        lo = np.tril_indices(p, -1)
        a[:, lo[0], lo[1]] = rng.standard_normal((n_iter, lo[0].size))
        diag = np.arange(p)
        a[:, diag, diag] = np.sqrt(rng.chisquare(m - diag, size=(n_iter, p)))
        w = a @ np.swapaxes(a, 1, 2)
    sd = np.sqrt(np.einsum("bii->bi", w))
    return w / (sd[:, :, None] * sd[:, None, :])


def _leading_exceed(observed: np.ndarray, threshold: np.ndarray) -> int:
    below = np.nonzero(~(observed > threshold))[0]
    return int(below[0]) if below.size else int(observed.size)


def parallel_analysis(
    items: pd.DataFrame,
    *,
    n_iter: int = 20,
    quantile: float = 0.95,
    method: str = "minres",
    seed: int | np.random.Generator | None = None,
) -> ParallelAnalysisResult:
    """Horn's parallel analysis for the number of factors and components (psych::fa.parallel).

    Parameters
    ----------
    items
        Wide table, one numeric column per item (pairwise correlations).
    n_iter
        Number of simulated and of resampled data sets.
    quantile
        Quantile of the replicate eigenvalues an observed eigenvalue must exceed.
    method
        Extraction for the factor eigenvalues (``"minres"``, ``"ml"``, ``"pa"``).
    seed
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    ParallelAnalysisResult
        ``n_factors`` and ``n_components`` (the number of leading observed eigenvalues above the
        simulated quantile) and ``eigenvalues``: observed PC and FA eigenvalues, means and
        quantiles of the simulated (normal) and resampled (columns resampled independently)
        replicates.

    Notes
    -----
    As psych: PC eigenvalues are those of R; FA eigenvalues are those of R with the
    communalities of a one-factor fit on the diagonal. Simulated data are n x p standard
    normal; resampled data draw each column with replacement independently. The number of
    factors (components) is the count of leading observed FA (PC) eigenvalues greater than the
    ``quantile`` of the simulated replicates. R's random stream cannot be reproduced, so
    replicate values agree with psych only in distribution.

    The one-factor fits of the 2 x ``n_iter`` replicates (minres) are computed together: a
    batched Newton iteration on the stationarity condition of the least-squares criterion,
    started at the SMCs and kept monotone, solves each to a gradient below 1e-10 or ends with a
    Newton step below 1e-5 (quadratic convergence: the replicate eigenvalues agree with tight
    single fits to about 1e-7); replicates
    where it does not end at an interior local minimum (a communality at a bound, several
    nearly equal leading eigenvalues) are fitted one by one with L-BFGS-B at R's ``optim``
    tolerances, as psych does. The observed data are always fitted one by one, tightly.

    References
    ----------
    Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
    *Psychometrika*, 30(2), 179-185.

    Examples
    --------
    >>> # R equivalent: psych::fa.parallel(df, fm = "minres", fa = "both", n.iter = 10)
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> f = rng.normal(size=(300, 2))
    >>> cols = {f"a{i}": f[:, 0] + rng.normal(size=300) for i in range(3)}
    >>> cols.update({f"b{i}": f[:, 1] + rng.normal(size=300) for i in range(3)})
    >>> res = parallel_analysis(pd.DataFrame(cols), n_iter=10, seed=1)
    >>> res.n_factors, res.n_components
    (2, 2)

    Validated against: R 4.2.2 psych 2.2.9 ``fa.parallel`` (observed eigenvalues exactly, the
    replicate means and the decisions by method; tests/test_factor.py).
    """
    check_option(method, "method", "parallel_analysis", ("minres", "ml", "pa"))
    if n_iter < 2:
        raise DataError("parallel_analysis: n_iter must be at least 2", value=n_iter)
    data = as_items(items, "parallel_analysis")
    x = data.values
    n, p = x.shape
    r = pairwise_cor(x)
    check_corr_usable(r, data.names, "parallel_analysis")
    rng = np.random.default_rng(seed)
    pc_obs = np.linalg.eigvalsh(r)[::-1]
    fa_obs = _fa1_values(r, method)
    # simulated normal data: the correlation matrices of n x p standard normal samples, drawn
    # directly from their Wishart distribution (O(p^2) per replicate instead of O(n p^2))
    sim_r = _normal_sample_correlations(rng, n_iter, n, p)
    sim_pc = np.linalg.eigvalsh(sim_r)[:, ::-1]
    # resampled data: each column drawn with replacement independently
    res_r = np.empty((n_iter, p, p))
    xf = _compact_columns(x)  # gather column by column from small, contiguous memory
    xs = np.empty((n, p), order="F", dtype=xf.dtype)
    for b in range(n_iter):
        while True:
            # indices are in range: mode="clip" only skips the bounds check. Small data: one
            # (p, n) draw (the same stream as p draws of n); large: per column, cache-resident
            if n * p <= 1 << 17:
                idx = rng.integers(0, n, size=(p, n))
                for j in range(p):
                    xf[:, j].take(idx[j], out=xs[:, j], mode="clip")
            else:
                for j in range(p):
                    xf[:, j].take(rng.integers(0, n, size=n), out=xs[:, j], mode="clip")
            if xs.dtype == np.int8:  # complete integer codes: exact sums, one centring pass
                xc = xs - xs.sum(axis=0, dtype=np.float64) / n
                c = cov2cor(xc.T @ xc)
            else:
                c = pairwise_cor(xs.astype(float))
            if np.all(np.isfinite(c)):
                break
        res_r[b] = c
    res_pc = np.linalg.eigvalsh(res_r)[:, ::-1]
    sim_fa, res_fa = np.split(_fa1_replicates(np.concatenate([sim_r, res_r]), method), 2)
    table = pd.DataFrame(
        {
            "observed_pc": pc_obs,
            "observed_fa": fa_obs,
            "simulated_pc_mean": sim_pc.mean(axis=0),
            "simulated_fa_mean": sim_fa.mean(axis=0),
            "simulated_pc_quantile": np.quantile(sim_pc, quantile, axis=0),
            "simulated_fa_quantile": np.quantile(sim_fa, quantile, axis=0),
            "resampled_pc_mean": res_pc.mean(axis=0),
            "resampled_fa_mean": res_fa.mean(axis=0),
            "resampled_pc_quantile": np.quantile(res_pc, quantile, axis=0),
            "resampled_fa_quantile": np.quantile(res_fa, quantile, axis=0),
        },
        index=pd.RangeIndex(1, p + 1, name="number"),
    )
    return ParallelAnalysisResult(
        n_factors=_leading_exceed(fa_obs, table["simulated_fa_quantile"].to_numpy()),
        n_components=_leading_exceed(pc_obs, table["simulated_pc_quantile"].to_numpy()),
        n_iter=n_iter,
        quantile=quantile,
        method=method,
        n_obs=n,
        n_items=p,
        eigenvalues=table,
    )
