"""Confirmatory factor analysis and construct validity.

Functions
---------
cfa
    Maximum-likelihood confirmatory factor analysis (lavaan's ``cfa()`` defaults), listwise or
    full-information ML (FIML) for missing data.
composite_reliability, ave
    Composite reliability (CR) and average variance extracted (AVE) per factor, from the
    standardized loadings (textbook formula) or semTools' ``compRelSEM``/``AVE`` variant.
htmt
    Heterotrait-monotrait ratio of correlations (HTMT, Henseler et al. 2015) and HTMT2
    (Roemer et al. 2021).
fornell_larcker
    The Fornell-Larcker criterion: sqrt(AVE) against the latent correlations.
reliability_report
    The reliability and validity tables of a thesis chapter, one row per construct.

The formulas and the variants where tools disagree are documented in ``docs/validity.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from servicestudy._results import Result
from servicestudy.errors import ConvergenceError, DataError

__all__ = [
    "CFAFit",
    "CFAResult",
    "FactorStatisticResult",
    "FornellLarckerResult",
    "HTMTResult",
    "ReliabilityReport",
    "ave",
    "cfa",
    "composite_reliability",
    "fornell_larcker",
    "htmt",
    "reliability_report",
]

_LOG2PI = math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------


def _check_option(value: Any, allowed: Sequence[str], name: str, func: str) -> str:
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise DataError(
            f"The {name!r} parameter of {func} must be one of {choices}. Got {value!r} instead."
        )
    return value


def _parse_model(data: pd.DataFrame, model: Mapping[str, Sequence[str]], func: str):
    """Validate ``model`` against ``data``; return (factors, items) in order of appearance."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{func} needs a pandas DataFrame with one column per item")
    if not isinstance(model, Mapping) or len(model) == 0:
        raise DataError(
            f"{func} needs a model mapping factor names to item lists, e.g. "
            "{'visual': ['x1', 'x2', 'x3']}"
        )
    factors: list[str] = []
    items: list[str] = []
    for factor, its in model.items():
        if isinstance(its, str) or not isinstance(its, Sequence):
            raise DataError(f"factor {factor!r}: the items must be a list of column names")
        its = list(its)
        if len(set(its)) != len(its):
            raise DataError(f"factor {factor!r} lists an item twice: {its}")
        factors.append(str(factor))
        for it in its:
            if it not in items:
                items.append(it)
    unknown = [it for it in items if it not in data.columns]
    if unknown:
        raise DataError(
            f"{func}: the model names items that are not columns of the data: "
            + ", ".join(repr(u) for u in unknown)
        )
    if any(f in items for f in factors):
        clash = [f for f in factors if f in items]
        raise DataError(f"{func}: factor names must differ from item names: {clash}")
    empty = [it for it in items if data[it].isna().all()]
    if empty:
        raise DataError(
            f"{func}: items without any observed value: " + ", ".join(repr(c) for c in empty)
        )
    nonnum = [
        it
        for it in items
        if not pd.api.types.is_numeric_dtype(data[it]) or pd.api.types.is_bool_dtype(data[it])
    ]
    if nonnum:
        raise DataError(
            f"{func}: items must be numeric columns; not numeric: "
            + ", ".join(repr(c) for c in nonnum)
        )
    return factors, items


def _numeric_matrix(data: pd.DataFrame, items: list[str]) -> np.ndarray:
    x = data[items].to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(x).any():
        bad = [items[j] for j in np.where(np.isinf(x).any(axis=0))[0]]
        raise DataError(f"items contain infinite values: {bad}")
    return x


# ---------------------------------------------------------------------------------------------
# the CFA model
# ---------------------------------------------------------------------------------------------


class _Model:
    """Parameter layout of a CFA with marker-variable identification.

    Parameters, in order: the free loadings (factor by factor, the first item of each factor
    fixed to 1), the residual variances of the items, the lower triangle of the latent
    covariance matrix (row by row), and, with a mean structure, the item intercepts.
    """

    def __init__(self, factors, items, model, meanstructure: bool):
        self.factors = factors
        self.items = items
        self.p = len(items)
        self.m = len(factors)
        self.meanstructure = meanstructure
        pos = {it: i for i, it in enumerate(items)}
        self.fixed = []  # (item index, factor index) fixed to 1
        self.free = []  # (item index, factor index) free
        for k, f in enumerate(factors):
            its = list(model[f])
            self.fixed.append((pos[its[0]], k))
            self.free.extend((pos[it], k) for it in its[1:])
        self.n_load = len(self.free)
        self.phi_idx = [(k, ell) for k in range(self.m) for ell in range(k + 1)]
        self.n_cov = self.n_load + self.p + len(self.phi_idx)
        self.q = self.n_cov + (self.p if meanstructure else 0)
        self.free_rows = np.array([i for i, _ in self.free], dtype=int)
        self.free_cols = np.array([k for _, k in self.free], dtype=int)
        self.phi_rows = np.array([k for k, _ in self.phi_idx], dtype=int)
        self.phi_cols = np.array([ell for _, ell in self.phi_idx], dtype=int)

    def scale(self, sd):
        """Multipliers that map parameters of items divided by ``sd`` back to the raw scale."""
        marker = np.empty(self.m)
        for i, k in self.fixed:
            marker[k] = sd[i]
        out = np.empty(self.q)
        out[: self.n_load] = sd[self.free_rows] / marker[self.free_cols]
        out[self.n_load : self.n_load + self.p] = sd**2
        out[self.n_load + self.p : self.n_cov] = marker[self.phi_rows] * marker[self.phi_cols]
        if self.meanstructure:
            out[self.n_cov :] = sd
        return out

    def unpack(self, theta):
        p, m = self.p, self.m
        lam = np.zeros((p, m))
        for i, k in self.fixed:
            lam[i, k] = 1.0
        lam[self.free_rows, self.free_cols] = theta[: self.n_load]
        psi = theta[self.n_load : self.n_load + p]
        phi = np.zeros((m, m))
        vals = theta[self.n_load + p : self.n_cov]
        phi[self.phi_rows, self.phi_cols] = vals
        phi[self.phi_cols, self.phi_rows] = vals
        mu = theta[self.n_cov :] if self.meanstructure else None
        return lam, psi, phi, mu

    def sigma(self, theta):
        lam, psi, phi, _ = self.unpack(theta)
        sig = lam @ phi @ lam.T
        sig[np.diag_indices(self.p)] += psi
        return sig

    def delta(self, theta):
        """dSigma/dtheta for the covariance parameters, shape (n_cov, p, p)."""
        lam, _, phi, _ = self.unpack(theta)
        p = self.p
        out = np.zeros((self.n_cov, p, p))
        a = lam @ phi  # (p, m)
        for j, (i, k) in enumerate(self.free):
            out[j, i, :] += a[:, k]
            out[j, :, i] += a[:, k]
        for i in range(p):
            out[self.n_load + i, i, i] = 1.0
        base = self.n_load + p
        for j, (k, ell) in enumerate(self.phi_idx):
            if k == ell:
                out[base + j] = np.outer(lam[:, k], lam[:, k])
            else:
                t = np.outer(lam[:, k], lam[:, ell])
                out[base + j] = t + t.T
        return out

    def grad_from_sigma(self, theta, g):
        """Chain rule: gradient over theta's covariance part from dF/dSigma (symmetric g)."""
        lam, _, phi, _ = self.unpack(theta)
        out = np.empty(self.n_cov)
        glp = 2.0 * (g @ lam @ phi)
        out[: self.n_load] = glp[self.free_rows, self.free_cols]
        out[self.n_load : self.n_load + self.p] = np.diag(g)
        ltl = lam.T @ g @ lam
        w = np.where(self.phi_rows == self.phi_cols, 1.0, 2.0)
        out[self.n_load + self.p :] = w * ltl[self.phi_rows, self.phi_cols]
        return out

    def start(self, s, mean=None, sd=None):
        """lavaan's default starting values: FABIN 3 loadings (three-indicator closed form for
        factors with fewer than 4 items; all 1 when the covariance triad is negative), half
        the observed variances for the residuals, 0.05 for the factor variances (on the raw
        scale: ``sd`` gives the items' SDs when ``s`` is a correlation matrix) and 0 for the
        factor covariances."""
        p = self.p
        theta = np.zeros(self.q)
        lam0 = np.zeros((p, self.m))
        marker = np.ones(self.m)
        for k in range(self.m):
            idx = [i for i, kk in self.fixed if kk == k] + [i for i, kk in self.free if kk == k]
            if sd is not None:
                marker[k] = sd[idx[0]]
            lam0[idx, k] = _fabin3(s[np.ix_(idx, idx)])
        theta[: self.n_load] = lam0[self.free_rows, self.free_cols]
        theta[self.n_load : self.n_load + p] = 0.5 * np.diag(s)
        base = self.n_load + p
        for j, (k, ell) in enumerate(self.phi_idx):
            theta[base + j] = 0.05 / marker[k] ** 2 if k == ell else 0.0
        if self.meanstructure:
            theta[self.n_cov :] = mean
        return theta

    def start_closed_form(self, s):
        """Alternative starting values that allow negative factor variances: per factor the
        three-indicator closed form psi = s21 s31 / s32 with unbounded FABIN 3 loadings and
        residual variances s_ii - lambda_i^2 psi (used when the default start fails)."""
        p = self.p
        theta = np.zeros(self.q)
        lam0 = np.zeros((p, self.m))
        phi0 = np.zeros(self.m)
        for k in range(self.m):
            idx = [i for i, kk in self.fixed if kk == k] + [i for i, kk in self.free if kk == k]
            c = s[np.ix_(idx, idx)]
            if len(idx) >= 3 and c[2, 1] != 0 and c[1, 0] != 0 and c[2, 0] != 0:
                lam = np.ones(len(idx))
                lam[1] = c[2, 1] / c[2, 0]
                lam[2] = c[2, 1] / c[1, 0]
                if len(idx) > 3:
                    lam[3:] = _fabin3(c, bounds=False)[3:]
                phi0[k] = c[1, 0] * c[2, 0] / c[2, 1]
            else:
                lam = _fabin3(c, bounds=False)
                phi0[k] = c[1, 0] / lam[1] if lam[1] != 0 else c[0, 0] / 2
            lam0[idx, k] = lam
        theta[: self.n_load] = lam0[self.free_rows, self.free_cols]
        common = np.einsum("ik,k,ik->i", lam0, phi0, lam0)
        theta[self.n_load : self.n_load + p] = np.maximum(np.diag(s) - common, 0.05 * np.diag(s))
        base = self.n_load + p
        for j, (k, ell) in enumerate(self.phi_idx):
            theta[base + j] = phi0[k] if k == ell else 0.0
        return theta

    def param_names(self):
        names = [f"{self.factors[k]}=~{self.items[i]}" for i, k in self.free]
        names += [f"{it}~~{it}" for it in self.items]
        names += [f"{self.factors[k]}~~{self.factors[ell]}" for k, ell in self.phi_idx]
        if self.meanstructure:
            names += [f"{it}~1" for it in self.items]
        return names


def _fabin3(cov: np.ndarray, bounds: bool = True) -> np.ndarray:
    """Marker-scaled FABIN 3 loadings of one factor (Hägglund 1982), as lavaan computes its
    starting values (``lav_cfa_1fac_fabin`` / ``lav_cfa_1fac_3ind``)."""
    nvar = cov.shape[0]
    s11 = cov[0, 0]
    lower_psi = 0.1 * s11
    with np.errstate(divide="ignore", invalid="ignore"):
        if nvar < 4:
            c = cov
            if nvar == 2:
                extra = np.array([np.mean(np.diag(cov)), cov[1, 0]])
                c = np.empty((3, 3))
                c[:2, :2] = cov
                c[:2, 2] = c[2, :2] = extra
                c[2, 2] = np.max(np.diag(cov))
            s21, s31, s32 = c[1, 0], c[2, 0], c[2, 1]
            if bounds and s21 * s31 * s32 < 0:
                return np.ones(nvar)
            lam = np.array([1.0, s32 / s31, s32 / s21])
            for i in (1, 2) if bounds else ():
                bound = math.sqrt(c[i, i] / lower_psi)
                lam[i] = min(max(-bound, lam[i]), bound)
            lam = lam[:nvar]
        else:
            lam = np.ones(nvar)
            for i in range(1, nvar):
                idx3 = [j for j in range(nvar) if j not in (0, i)]
                s23 = cov[i, idx3]
                s31 = cov[idx3, 0]
                try:
                    tmp = np.linalg.solve(cov[np.ix_(idx3, idx3)], s31)
                    lam[i] = np.sum(s23 * tmp) / np.sum(s31 * tmp)
                except np.linalg.LinAlgError:
                    lam[i] = np.sum(s23 * s31) / np.sum(s31**2)
            for i in range(1, nvar) if bounds else ():
                bound = math.sqrt(cov[i, i] / lower_psi)
                lam[i] = min(max(-bound, lam[i]), bound)
    lam[~np.isfinite(lam)] = 1.0
    return lam


def _logdet_inv(sig):
    """(log|sig|, inv(sig)) or None when sig is not positive definite."""
    try:
        c = np.linalg.cholesky(sig)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * np.log(np.diag(c)).sum()
    ci = np.linalg.inv(c)
    return logdet, ci.T @ ci


class _CompleteML:
    """F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p, with S the N-divisor covariance."""

    def __init__(self, mod: _Model, s: np.ndarray):
        self.mod = mod
        self.s = s
        ld = _logdet_inv(s)
        if ld is None:
            raise DataError("the sample covariance matrix of the items is not positive definite")
        self.logdet_s = ld[0]

    def fg(self, theta):
        sig = self.mod.sigma(theta)
        ld = _logdet_inv(sig)
        if ld is None:
            return np.inf, np.zeros_like(theta)
        logdet, inv = ld
        f = logdet + np.sum(self.s * inv) - self.logdet_s - self.mod.p
        g = inv - inv @ self.s @ inv
        return f, self.mod.grad_from_sigma(theta, g)

    def info(self, theta):
        """Expected (Fisher) information per observation of F_ML/2, i.e. 1/2 tr(S^-1 dS S^-1 dS)."""
        sig = self.mod.sigma(theta)
        ld = _logdet_inv(sig)
        if ld is None:
            return None
        inv = ld[1]
        d = self.mod.delta(theta)
        a = np.einsum("ij,qjk->qik", inv, d)  # inv @ dSigma_q
        return 0.5 * np.einsum("qij,rji->qr", a, a)

    def hess(self, theta):
        """Fisher-scoring approximation of the Hessian of F_ML (twice ``info``)."""
        info = self.info(theta)
        return np.eye(theta.size) if info is None else 2.0 * info


class _Patterns:
    """Rows grouped by missing-data pattern, with per-pattern N-divisor moments."""

    def __init__(self, x: np.ndarray):
        obs = ~np.isnan(x)
        keep = obs.any(axis=1)
        x, obs = x[keep], obs[keep]
        self.n = x.shape[0]
        self.p = x.shape[1]
        keys, inverse = np.unique(obs, axis=0, return_inverse=True)
        self.groups = []
        for g, key in enumerate(keys):
            rows = x[inverse.ravel() == g][:, key]
            idx = np.where(key)[0]
            n_k = rows.shape[0]
            mean = rows.mean(axis=0)
            cen = rows - mean
            s = cen.T @ cen / n_k
            self.groups.append((idx, n_k, mean, s, rows))
        self.n_patterns = len(keys)

    def loglik(self, mu, sig):
        total = 0.0
        for idx, n_k, mean, s, _ in self.groups:
            ld = _logdet_inv(sig[np.ix_(idx, idx)])
            if ld is None:
                return -np.inf
            logdet, inv = ld
            d = mean - mu[idx]
            t = s + np.outer(d, d)
            total += -0.5 * n_k * (len(idx) * _LOG2PI + logdet + np.sum(inv * t))
        return total

    def loglik_grad(self, mu, sig):
        """-logl and its gradient with respect to Sigma (symmetric) and mu."""
        total = 0.0
        g_sig = np.zeros((self.p, self.p))
        g_mu = np.zeros(self.p)
        for idx, n_k, mean, s, _ in self.groups:
            ld = _logdet_inv(sig[np.ix_(idx, idx)])
            if ld is None:
                return np.inf, None, None
            logdet, inv = ld
            d = mean - mu[idx]
            t = s + np.outer(d, d)
            total += 0.5 * n_k * (len(idx) * _LOG2PI + logdet + np.sum(inv * t))
            g_sig[np.ix_(idx, idx)] += 0.5 * n_k * (inv - inv @ t @ inv)
            g_mu[idx] -= n_k * (inv @ d)
        return total, g_sig, g_mu

    def em(self, max_iter: int = 10000, tol: float = 1e-13):
        """Saturated-model ML estimates of (mu, Sigma) by the EM algorithm."""
        p = self.p
        # start: available-case means and variances, zero covariances
        t1 = np.zeros(p)
        cnt = np.zeros(p)
        t2d = np.zeros(p)
        for idx, n_k, _mean, _s, rows in self.groups:
            t1[idx] += rows.sum(axis=0)
            t2d[idx] += (rows**2).sum(axis=0)
            cnt[idx] += n_k
        mu = t1 / cnt
        sig = np.diag(t2d / cnt - mu**2)
        old = -np.inf
        for _ in range(max_iter):
            s1 = np.zeros(p)
            s2 = np.zeros((p, p))
            for idx, n_k, _mean, _s, rows in self.groups:
                if len(idx) == p:
                    s1 += rows.sum(axis=0)
                    s2 += rows.T @ rows
                    continue
                mis = np.setdiff1d(np.arange(p), idx)
                soo = sig[np.ix_(idx, idx)]
                smo = sig[np.ix_(mis, idx)]
                b = np.linalg.solve(soo, smo.T).T  # (mis, obs)
                full = np.empty((n_k, p))
                full[:, idx] = rows
                full[:, mis] = mu[mis] + (rows - mu[idx]) @ b.T
                s1 += full.sum(axis=0)
                s2 += full.T @ full
                c = sig[np.ix_(mis, mis)] - b @ smo.T
                s2[np.ix_(mis, mis)] += n_k * c
            mu = s1 / self.n
            sig = s2 / self.n - np.outer(mu, mu)
            sig = 0.5 * (sig + sig.T)
            ll = self.loglik(mu, sig)
            if abs(ll - old) < tol * max(1.0, abs(ll)):
                return mu, sig, ll, True
            old = ll
        return mu, sig, self.loglik(mu, sig), False


class _FIML:
    """-logl / N of the casewise (full-information) likelihood."""

    def __init__(self, mod: _Model, pats: _Patterns):
        self.mod = mod
        self.pats = pats

    def fg(self, theta):
        sig = self.mod.sigma(theta)
        mu = theta[self.mod.n_cov :]
        f, g_sig, g_mu = self.pats.loglik_grad(mu, sig)
        if not np.isfinite(f):
            return np.inf, np.zeros_like(theta)
        n = self.pats.n
        grad = np.concatenate([self.mod.grad_from_sigma(theta, g_sig), g_mu]) / n
        return f / n, grad

    def grad_batch(self, thetas):
        """Gradients of -logl/N at several parameter vectors at once (rows of ``thetas``)."""
        mod, p = self.mod, self.mod.p
        b = thetas.shape[0]
        sig = np.stack([mod.sigma(t) for t in thetas])
        mu = thetas[:, mod.n_cov :]
        g_sig = np.zeros((b, p, p))
        g_mu = np.zeros((b, p))
        for idx, n_k, mean, s, _rows in self.pats.groups:
            grid = (slice(None), idx[:, None], idx[None, :])
            inv = np.linalg.inv(sig[grid])
            d = mean - mu[:, idx]
            t = s + d[:, :, None] * d[:, None, :]
            g_sig[grid] += (0.5 * n_k) * (inv - inv @ t @ inv)
            g_mu[:, idx] -= n_k * np.einsum("bij,bj->bi", inv, d)
        out = np.empty_like(thetas)
        for j in range(b):
            out[j, : mod.n_cov] = mod.grad_from_sigma(thetas[j], g_sig[j])
        out[:, mod.n_cov :] = g_mu
        return out / self.pats.n

    def observed_hess(self, theta, h=1e-6):
        """Hessian of -logl (not divided by N) by central differences of the gradient."""
        q = theta.size
        steps = h * np.maximum(1.0, np.abs(theta))
        pert = np.concatenate([theta + np.diag(steps), theta - np.diag(steps)])
        g = self.grad_batch(pert)
        hess = (g[:q] - g[q:]) / (2.0 * steps)[:, None] * self.pats.n
        return 0.5 * (hess + hess.T)

    def hess(self, theta):
        """Expected information of -logl/N summed over the missing-data patterns."""
        mod, p = self.mod, self.mod.p
        sig = mod.sigma(theta)
        w4 = np.zeros((p, p, p, p))
        wmu = np.zeros((p, p))
        b = np.zeros((p, p))
        for idx, n_k, _mean, _s, _rows in self.pats.groups:
            ld = _logdet_inv(sig[np.ix_(idx, idx)])
            if ld is None:
                return np.eye(theta.size)
            b[:] = 0.0
            b[np.ix_(idx, idx)] = ld[1]
            # 1/2 tr(B dA B dC) = vec(dA)' W vec(dC), W[a,b,c,d] = B[a,c] B[b,d] / 2
            w4 += (0.5 * n_k) * (b[:, None, :, None] * b[None, :, None, :])
            wmu += n_k * b
        q = mod.n_cov
        d = mod.delta(theta).reshape(q, p * p)
        out = np.zeros((mod.q, mod.q))
        out[:q, :q] = d @ w4.reshape(p * p, p * p) @ d.T
        out[mod.n_cov :, mod.n_cov :] = wmu
        return out / self.pats.n


def _num_hess(obj, theta, h=1e-6):
    """Hessian of the objective by central differences of its analytic gradient."""
    if hasattr(obj, "observed_hess"):
        return obj.observed_hess(theta, h) / obj.pats.n
    jac = _numeric_jacobian(lambda t: obj.fg(t)[1], theta, h)
    return 0.5 * (jac + jac.T)


def _minimize(obj, theta0, maxiter=500, hess=None):
    """Trust-region minimization: Fisher scoring first, then Newton with the numerical
    Hessian of the analytic gradient to polish; L-BFGS-B as the last resort."""
    res = optimize.minimize(
        obj.fg,
        theta0,
        jac=True,
        hess=hess or obj.hess,
        method="trust-exact",
        options={"gtol": 1e-9, "maxiter": maxiter},
    )
    if np.all(np.isfinite(res.jac)) and np.max(np.abs(res.jac)) < 1e-8:
        return res
    start = res.x if np.isfinite(res.fun) else theta0
    res2 = optimize.minimize(
        obj.fg,
        start,
        jac=True,
        hess=lambda t: _num_hess(obj, t),
        method="trust-exact",
        options={"gtol": 1e-9, "maxiter": maxiter},
    )
    if np.isfinite(res2.fun) and np.max(np.abs(res2.jac)) < 1e-7:
        return res2
    best = res2 if np.isfinite(res2.fun) and res2.fun <= res.fun else res
    res3 = optimize.minimize(
        obj.fg,
        best.x if np.isfinite(best.fun) else theta0,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-10, "ftol": 1e-16, "maxiter": 20 * maxiter, "maxcor": 30},
    )
    cands = [r for r in (res, res2, res3) if np.isfinite(r.fun) and np.all(np.isfinite(r.jac))]
    if not cands:
        return res3
    return min(cands, key=lambda r: np.max(np.abs(r.jac)))


def _fit_with_restarts(obj, starts, tol=1e-5):
    """Minimize from the first start; if that does not converge, from the next ones (given as
    callables); return the converged fit with the lowest objective, else the best attempt."""
    tried = []
    for st in starts:
        theta0 = st() if callable(st) else st
        if not np.all(np.isfinite(theta0)) or not np.isfinite(obj.fg(theta0)[0]):
            continue
        res = _minimize(obj, theta0)
        g = float(np.max(np.abs(obj.fg(res.x)[1])))
        tried.append((res, g))
        if np.isfinite(g) and g < tol:
            break
    if not tried:
        return _minimize(obj, starts[0]), float("inf")
    ok = [t for t in tried if np.isfinite(t[1]) and t[1] < tol]
    if ok:
        return min(ok, key=lambda t: t[0].fun)
    return min(tried, key=lambda t: t[1])


def _numeric_jacobian(fun, theta, h=1e-6):
    """Central-difference Jacobian of a vector function."""
    f0 = np.asarray(fun(theta))
    jac = np.empty((f0.size, theta.size))
    for j in range(theta.size):
        step = h * max(1.0, abs(theta[j]))
        tp = theta.copy()
        tm = theta.copy()
        tp[j] += step
        tm[j] -= step
        jac[:, j] = (np.asarray(fun(tp)) - np.asarray(fun(tm))) / (2.0 * step)
    return jac


def _rmsea_ci(chisq, df, n, level=0.90):
    """lavaan's RMSEA confidence interval: ncp bounds of the noncentral chi-square, over N*df."""
    if df <= 0:
        return float("nan"), float("nan")
    lo_p = 1.0 - (1.0 - level) / 2.0  # 0.95
    hi_p = (1.0 - level) / 2.0  # 0.05

    def bound(target):
        def f(lam):
            if lam > 0:
                return stats.ncx2.cdf(chisq, df, lam) - target
            return stats.chi2.cdf(chisq, df) - target

        if f(0.0) < 0:  # even the central chi-square puts chisq below the quantile
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2.0
        return optimize.brentq(f, 0.0, hi, xtol=1e-12, rtol=1e-14, maxiter=500)

    lam_lo = bound(lo_p)
    lam_hi = bound(hi_p)
    return math.sqrt(lam_lo / (n * df)), math.sqrt(lam_hi / (n * df))


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CFAFit(Result):
    """Fit measures of a CFA, named as in ``lavaan::fitMeasures``.

    ``chisq`` is N * F_ML (N, not N-1); ``rmsea_ci_low``/``rmsea_ci_high`` is lavaan's 90%
    interval; ``srmr`` is lavaan's default (Bentler's) SRMR; ``logl``/``unrestricted_logl`` are
    the model and saturated log-likelihoods; ``baseline_chisq``/``baseline_df`` the
    independence model's test.
    """

    npar: int
    n_obs: int
    chisq: float
    df: int
    pvalue: float
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    rmsea_pvalue: float
    srmr: float
    logl: float
    unrestricted_logl: float
    aic: float
    bic: float
    baseline_chisq: float
    baseline_df: int


@dataclasses.dataclass(frozen=True)
class CFAResult(Result):
    """Result of :func:`cfa`.

    Attributes
    ----------
    fit : CFAFit
        Fit measures (``fit.to_frame()`` is one row).
    loadings : DataFrame
        One row per (factor, item): ``factor``, ``item``, ``estimate``, ``std_error``, ``z``,
        ``pvalue``, ``std_lv``, ``std_all``, ``std_all_se``. The marker loadings have
        ``std_error`` 0 and NaN ``z``/``pvalue``, as lavaan prints them.
    factor_covariances : DataFrame
        One row per latent (co)variance: ``lhs``, ``rhs``, ``estimate``, ``std_error``, ``z``,
        ``pvalue``, ``std_all`` (the correlation), ``std_all_se``.
    factor_correlations : DataFrame
        The latent correlation matrix (factor x factor).
    residual_variances : DataFrame
        Indexed by item: ``estimate``, ``std_error``, ``z``, ``pvalue``, ``std_all``.
    r2 : Series
        R-squared per item, ``1 - theta_ii / sigma_ii``.
    intercepts : DataFrame or None
        Item intercepts (FIML only).
    sample_cov, implied_cov : DataFrame
        The N-divisor sample covariance (the EM estimate under FIML) and the model-implied
        covariance.
    vcov : DataFrame
        Covariance matrix of the free parameters (lavaan's ``vcov``, lavaan-style labels).
    heywood : bool
        True when a residual variance or a factor variance is negative (``heywood_items``
        names those items and factors) or a standardized loading exceeds 1 in absolute value.
        Standardized values of a factor with a negative variance are NaN.
    latent_cov_pd : bool
        False when the latent covariance matrix is not positive definite.
    converged : bool
        Always True: :func:`cfa` raises :class:`~servicestudy.errors.ConvergenceError` instead
        of returning an unconverged fit.
    """

    model: dict
    missing: str
    n_obs: int
    converged: bool
    iterations: int
    heywood: bool
    latent_cov_pd: bool
    fit: CFAFit
    loadings: pd.DataFrame
    factor_covariances: pd.DataFrame
    factor_correlations: pd.DataFrame
    residual_variances: pd.DataFrame
    r2: pd.Series
    intercepts: pd.DataFrame | None
    sample_cov: pd.DataFrame
    implied_cov: pd.DataFrame
    vcov: pd.DataFrame
    heywood_items: tuple = ()

    def to_frame(self) -> pd.DataFrame:
        """One row: the fit measures plus ``n_obs``, ``converged``, ``heywood``, ``latent_cov_pd``."""
        row = self.fit.scalars()
        row.update(
            missing=self.missing,
            converged=self.converged,
            heywood=self.heywood,
            latent_cov_pd=self.latent_cov_pd,
        )
        return pd.DataFrame([row])

    @property
    def factors(self) -> list[str]:
        return list(self.model)


def _z_p(est, se):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / np.where(se > 0, se, 1.0), np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return z, p


def cfa(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[str]],
    *,
    missing: str = "listwise",
    estimator: str = "ml",
) -> CFAResult:
    """Confirmatory factor analysis by maximum likelihood (lavaan ``cfa()`` defaults).

    Parameters
    ----------
    data : DataFrame
        One numeric column per item (other columns are ignored); missing values as NaN.
    model : mapping of str to list of str
        Factor name -> its items, e.g. ``{"visual": ["x1", "x2", "x3"]}``. The first item of
        each factor is the marker (loading fixed to 1). Factor covariances are free. An item
        listed under two factors has a cross-loading.
    missing : {"listwise", "fiml"}
        ``"listwise"`` drops incomplete rows (lavaan's default); ``"fiml"`` is full-information
        ML over the missing-data patterns with free intercepts (lavaan ``missing = "ml"``).
    estimator : {"ml"}
        Only normal-theory maximum likelihood.

    Returns
    -------
    CFAResult
        ``fit`` (chisq, df, pvalue, cfi, tli, rmsea with its 90% CI, srmr, aic, bic, ...),
        ``loadings``, ``factor_covariances``, ``factor_correlations``, ``residual_variances``,
        ``r2``, ``n_obs``, ``converged`` and the flags ``heywood``/``latent_cov_pd``.

    Raises
    ------
    DataError
        Unknown or non-numeric items, a factor with one item, a model with more free
        parameters than moments, too few complete rows, a singular sample covariance matrix.
    ConvergenceError
        When the optimizer does not reach a stationary point.

    Notes
    -----
    The model is Sigma = Lambda Phi Lambda' + Theta (Theta diagonal). Listwise, the estimates
    minimize F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p with S the covariance of the
    complete rows divided by N, and **chisq = N * F_ML** (lavaan's ``likelihood = "normal"``;
    Mplus uses the same, EQS/LISREL use N - 1). Standard errors come from the expected
    information, ``vcov = [N * 1/2 * Delta' (Sigma^-1 (x) Sigma^-1) Delta]^-1``.

    With ``missing="fiml"`` the casewise log-likelihood sum_i log phi(x_i,obs; mu_obs,
    Sigma_obs) is maximized with intercepts mu free; chisq = 2 (logl_sat - logl) where the
    saturated model is fitted by EM, and standard errors come from the **observed**
    information (the Hessian of -logl, lavaan's default for ``missing = "ml"``).

    Fit indices (lavaan's definitions): CFI = 1 - max(X2 - df, 0) / max(X2 - df, X2_b - df_b,
    0); TLI = (X2_b/df_b - X2/df) / (X2_b/df_b - 1); RMSEA = sqrt(max(X2 - df, 0) / (N df))
    with the 90% CI from the noncentral chi-square; SRMR (Bentler) = the root mean square of
    (s_ij - sigma_ij) / sqrt(s_ii s_jj) over i <= j (plus the standardized mean residuals
    under FIML); AIC = -2 logl + 2 npar; BIC = -2 logl + npar log N. The baseline model has
    free variances (and means) and zero covariances.

    References
    ----------
    Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor
    analysis. *Psychometrika*, 34(2), 183-202.
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
    (pp. 243-277). Erlbaum.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.multivariate_normal([0, 0], [[1, .4], [.4, 1]], size=300)
    >>> x = np.column_stack([f[:, [0]] * [.8, .7, .6], f[:, [1]] * [.7, .6, .8]])
    >>> x = x + rng.normal(scale=.6, size=x.shape)
    >>> df = pd.DataFrame(x, columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    >>> res = cfa(df, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]})
    >>> res.fit.df, res.n_obs, res.converged
    (8, 300, True)
    >>> print(res.loadings[["factor", "item"]].to_string(index=False))
    factor item
         A   a1
         A   a2
         A   a3
         B   b1
         B   b2
         B   b3

    Validated against: R 4.2.2 lavaan 0.6-14 ``cfa()`` (listwise and ``missing = "ml"``) on
    holzinger, sim_likert and a simulated data set with missing values
    (tests/test_validity.py, tests/reference/validity.R).
    """
    _check_option(missing, ("listwise", "fiml"), "missing", "cfa")
    _check_option(estimator, ("ml",), "estimator", "cfa")
    factors, items = _parse_model(data, model, "cfa")
    model = {f: list(model[f]) for f in model}
    small = [f for f in factors if len(model[f]) < 2]
    if small:
        raise DataError(
            "cfa: a factor needs at least 2 items to be identified; with fewer: "
            + ", ".join(f"{f!r} ({len(model[f])} item)" for f in small)
        )
    x = _numeric_matrix(data, items)
    p = len(items)
    fiml = missing == "fiml"
    mod = _Model(factors, items, model, meanstructure=fiml)
    n_moments = p * (p + 1) // 2 + (p if fiml else 0)
    df = n_moments - mod.q
    if df < 0:
        raise DataError(
            f"cfa: the model is not identified: {mod.q} free parameters but only "
            f"{n_moments} sample moments (df = {df})"
        )

    # The optimisation runs on items divided by their standard deviations (ML CFA is scale
    # invariant), which keeps the problem well conditioned; estimates are mapped back and
    # everything else is computed on the original scale.
    if not fiml:
        x = x[~np.isnan(x).any(axis=1)]
        n = x.shape[0]
        if n <= p:
            raise DataError(
                f"cfa: too few complete rows: {n} complete rows for {p} items; listwise ML "
                f"needs more than {p}"
            )
        mean = x.mean(axis=0)
        cen = x - mean
        s = cen.T @ cen / n
        _check_variances(s, items)
        sd = np.sqrt(np.diag(s))
        obj_z = _CompleteML(mod, s / np.outer(sd, sd))
        res, grad_max = _fit_with_restarts(
            obj_z, [mod.start(obj_z.s, sd=sd), lambda: mod.start_closed_form(obj_z.s)]
        )
        theta = res.x * mod.scale(sd)
        obj = _CompleteML(mod, s)
        f_min = obj.fg(theta)[0]
        chisq = n * f_min
        sig_hat = mod.sigma(theta)
        ld = _logdet_inv(sig_hat)
        logl = -0.5 * n * (p * _LOG2PI + ld[0] + np.sum(s * ld[1])) if ld else -np.inf
        logl_sat = -0.5 * n * (p * _LOG2PI + obj.logdet_s + p)
        base_chisq = n * (np.sum(np.log(np.diag(s))) - obj.logdet_s)
        info = obj.info(theta)
        vcov = _safe_inverse(n * info) if info is not None else None
        mu_hat = None
        s_mean = None
    else:
        obs = ~np.isnan(x)
        x = x[obs.any(axis=1)]
        n = x.shape[0]
        if n <= p:
            raise DataError(f"cfa: too few rows with data: {n} rows for {p} items")
        counts = (~np.isnan(x)).sum(axis=0)
        few = [items[j] for j in range(p) if counts[j] < 2]
        if few:
            raise DataError(f"cfa: items with fewer than 2 observed values: {few}")
        sd = np.nanstd(x, axis=0)
        zero = [items[j] for j in range(p) if not sd[j] > 0]
        if zero:
            raise DataError(f"cfa: items with zero variance: {zero}")
        pats_z = _Patterns(x / sd)
        mu_sat_z, s_z, _, em_ok = pats_z.em()
        if not em_ok:
            raise ConvergenceError("cfa: the EM algorithm for the saturated model did not converge")
        _check_variances(s_z, items)
        if _logdet_inv(s_z) is None:
            raise DataError("cfa: the EM covariance matrix of the items is not positive definite")
        # start from the complete-data fit to the EM moments
        pre_mod = _Model(factors, items, model, meanstructure=False)
        pre = _CompleteML(pre_mod, s_z)
        pre_res, _ = _fit_with_restarts(
            pre, [pre_mod.start(s_z, sd=sd), lambda: pre_mod.start_closed_form(s_z)]
        )
        theta0 = np.concatenate([pre_res.x, mu_sat_z])
        obj_z = _FIML(mod, pats_z)
        # fixed Hessian approximation: the complete-data information at the start
        h0 = np.zeros((mod.q, mod.q))
        info0 = pre.info(pre_res.x)
        if info0 is None or not np.all(np.isfinite(info0)):
            h0 = obj_z.hess(theta0)
        else:
            h0[: mod.n_cov, : mod.n_cov] = info0
            h0[mod.n_cov :, mod.n_cov :] = np.linalg.inv(pre_mod.sigma(pre_res.x))
        res = _minimize(obj_z, theta0, hess=lambda _theta: h0)
        grad_max = float(np.max(np.abs(obj_z.fg(res.x)[1])))
        theta = res.x * mod.scale(sd)
        pats = _Patterns(x)
        obj = _FIML(mod, pats)
        s = s_z * np.outer(sd, sd)
        mu_sat = mu_sat_z * sd
        logl_sat = pats.loglik(mu_sat, s)
        sig_hat = mod.sigma(theta)
        mu_hat = theta[mod.n_cov :]
        logl = pats.loglik(mu_hat, sig_hat)
        chisq = 2.0 * (logl_sat - logl)
        # independence model: available-case means and (N-divisor) variances per item
        base_ll = 0.0
        for j in range(p):
            col = x[:, j][~np.isnan(x[:, j])]
            base_ll += -0.5 * col.size * (_LOG2PI + math.log(col.var()) + 1.0)
        base_chisq = 2.0 * (logl_sat - base_ll)
        vcov = _safe_inverse(obj.observed_hess(theta))
        s_mean = mu_sat

    converged = bool(np.isfinite(grad_max) and grad_max < 1e-5)
    if not converged:
        raise ConvergenceError(
            f"cfa: the optimizer did not converge (max |gradient| = {grad_max:.3g}; {res.message})"
        )
    return _assemble(
        mod,
        model,
        theta,
        vcov,
        s,
        s_mean,
        sig_hat,
        mu_hat,
        n,
        chisq,
        df,
        logl,
        logl_sat,
        base_chisq,
        missing,
        int(res.nit),
        fiml,
    )


def _check_variances(s, items):
    d = np.diag(s)
    zero = [items[j] for j in range(len(items)) if not d[j] > 1e-12 * max(1.0, np.max(d))]
    if zero:
        raise DataError(f"cfa: items with zero variance: {zero}")


def _safe_inverse(a):
    try:
        w = np.linalg.eigvalsh(a)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(w)) or w[0] <= 1e-12 * max(1.0, w[-1]):
        return None
    return np.linalg.inv(a)


def _std_quantities(mod: _Model, theta):
    """std_lv and std_all loadings, latent correlations, std residual variances."""
    lam, psi, phi, _ = mod.unpack(theta)
    sig = lam @ phi @ lam.T
    sig[np.diag_indices(mod.p)] += psi
    with np.errstate(invalid="ignore"):
        sd_ov = np.sqrt(np.diag(sig))
        sd_lv = np.sqrt(np.diag(phi))
    rows = [i for i, _ in mod.fixed] + [i for i, _ in mod.free]
    cols = [k for _, k in mod.fixed] + [k for _, k in mod.free]
    load = lam[rows, cols]
    std_lv = load * sd_lv[cols]
    std_all = std_lv / sd_ov[rows]
    # lavaan standardizes latent covariances by sqrt(|phi_kk|), so a factor with a negative
    # variance still gets a (meaningless) correlation; its loadings' std_all are NaN
    sd_abs = np.sqrt(np.abs(np.diag(phi)))
    cor = phi[mod.phi_rows, mod.phi_cols] / (sd_abs[mod.phi_rows] * sd_abs[mod.phi_cols])
    diag = mod.phi_rows == mod.phi_cols
    cor[diag] = np.where(phi[mod.phi_rows[diag], mod.phi_rows[diag]] > 0, 1.0, np.nan)
    res_std = psi / np.diag(sig)
    return np.concatenate([std_all, cor, res_std])


def _assemble(
    mod,
    model,
    theta,
    vcov,
    s,
    s_mean,
    sig_hat,
    mu_hat,
    n,
    chisq,
    df,
    logl,
    logl_sat,
    base_chisq,
    missing,
    nit,
    fiml,
):
    p = mod.p
    items, factors = mod.items, mod.factors
    _, psi, phi, _ = mod.unpack(theta)
    se = np.sqrt(np.diag(vcov)) if vcov is not None else np.full(mod.q, np.nan)
    with np.errstate(invalid="ignore"):
        se = np.where(np.isfinite(se), se, np.nan)

    # standardized quantities and their delta-method SEs
    std = _std_quantities(mod, theta)
    if vcov is not None and np.all(np.diag(sig_hat) > 0):
        # delta method; quantities that are NaN (negative factor variance) stay NaN alone
        with np.errstate(invalid="ignore"):
            jac = _numeric_jacobian(lambda t: _std_quantities(mod, t), theta)
            std_var = np.einsum("ij,jk,ik->i", jac, vcov, jac)
            std_se = np.sqrt(np.clip(std_var, 0.0, None))
    else:
        std_se = np.full(std.size, np.nan)
    n_l = len(mod.fixed) + len(mod.free)
    n_phi = len(mod.phi_idx)

    # loadings table, in model order (factor by factor, marker first)
    sd_lv = np.sqrt(np.where(np.diag(phi) > 0, np.diag(phi), np.nan))
    order = []
    free_pos = {pair: j for j, pair in enumerate(mod.free)}
    fixed_set = set(mod.fixed)
    pos = {it: i for i, it in enumerate(items)}
    std_map = {}
    for j, pair in enumerate(mod.fixed + mod.free):
        std_map[pair] = (std[j], std_se[j])
    for k, f in enumerate(factors):
        for it in model[f]:
            pair = (pos[it], k)
            if pair in fixed_set:
                est, s_e = 1.0, 0.0
            else:
                j = free_pos[pair]
                est, s_e = theta[j], se[j]
            sa, sa_se = std_map[pair]
            order.append((f, it, est, s_e, est * sd_lv[k], sa, sa_se))
    load_df = pd.DataFrame(
        order,
        columns=["factor", "item", "estimate", "std_error", "std_lv", "std_all", "std_all_se"],
    )
    z, pv = _z_p(load_df["estimate"].to_numpy(), load_df["std_error"].to_numpy())
    load_df.insert(4, "z", z)
    load_df.insert(5, "pvalue", pv)

    # factor (co)variances
    base = mod.n_load + p
    rows = []
    for j, (k, ell) in enumerate(mod.phi_idx):
        est = theta[base + j]
        rows.append((factors[ell], factors[k], est, se[base + j], std[n_l + j], std_se[n_l + j]))
    # lavaan order: variances first? keep lhs <= rhs in model order
    fc = pd.DataFrame(
        rows, columns=["lhs", "rhs", "estimate", "std_error", "std_all", "std_all_se"]
    )
    z, pv = _z_p(fc["estimate"].to_numpy(), fc["std_error"].to_numpy())
    fc.insert(4, "z", z)
    fc.insert(5, "pvalue", pv)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_abs = np.sqrt(np.abs(np.diag(phi)))
        dcor = phi / np.outer(sd_abs, sd_abs)  # as lavaan
        np.fill_diagonal(dcor, np.where(np.diag(phi) > 0, 1.0, np.nan))
    fcor = pd.DataFrame(dcor, index=factors, columns=factors)

    # residual variances
    rv_est = psi
    rv_se = se[mod.n_load : mod.n_load + p]
    z, pv = _z_p(rv_est, rv_se)
    rv = pd.DataFrame(
        {
            "estimate": rv_est,
            "std_error": rv_se,
            "z": z,
            "pvalue": pv,
            "std_all": std[n_l + n_phi :],
        },
        index=pd.Index(items, name="item"),
    )
    r2 = pd.Series(1.0 - std[n_l + n_phi :], index=pd.Index(items, name="item"), name="r2")

    intercepts = None
    if fiml:
        ise = se[mod.n_cov :]
        z, pv = _z_p(mu_hat, ise)
        intercepts = pd.DataFrame(
            {"estimate": mu_hat, "std_error": ise, "z": z, "pvalue": pv},
            index=pd.Index(items, name="item"),
        )

    # fit measures
    npar = mod.q
    base_df = p * (p - 1) // 2
    pvalue = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, base_chisq - base_df, 0.0)
    cfi = 1.0 if t2 == 0.0 else 1.0 - t1 / t2
    if df > 0:
        tli = (base_chisq / base_df - chisq / df) / (base_chisq / base_df - 1.0)
        rmsea = math.sqrt(max(chisq - df, 0.0) / (n * df))
        lo, hi = _rmsea_ci(chisq, df, n)
        rmsea_p = float(stats.ncx2.sf(chisq, df, n * df * 0.05**2))
    else:
        tli = rmsea = lo = hi = rmsea_p = float("nan")
    sd_s = np.sqrt(np.diag(s))
    resid = (s - sig_hat) / np.outer(sd_s, sd_s)
    tri = resid[np.tril_indices(p)]
    if fiml:
        mres = (s_mean - mu_hat) / sd_s
        srmr = math.sqrt((np.sum(tri**2) + np.sum(mres**2)) / (tri.size + p))
    else:
        srmr = math.sqrt(np.mean(tri**2))
    fit = CFAFit(
        npar=int(npar),
        n_obs=int(n),
        chisq=float(chisq),
        df=int(df),
        pvalue=pvalue,
        cfi=float(cfi),
        tli=float(tli),
        rmsea=float(rmsea),
        rmsea_ci_low=float(lo),
        rmsea_ci_high=float(hi),
        rmsea_pvalue=rmsea_p,
        srmr=float(srmr),
        logl=float(logl),
        unrestricted_logl=float(logl_sat),
        aic=float(-2.0 * logl + 2.0 * npar),
        bic=float(-2.0 * logl + npar * math.log(n)),
        baseline_chisq=float(base_chisq),
        baseline_df=int(base_df),
    )

    heywood_items = tuple(items[i] for i in range(p) if psi[i] < 0) + tuple(
        factors[k] for k in range(mod.m) if phi[k, k] <= 0
    )
    std_load = std[:n_l]
    heywood = bool(heywood_items) or bool(np.any(np.abs(std_load) > 1.0))
    try:
        latent_pd = bool(np.linalg.eigvalsh(phi)[0] > 0)
    except np.linalg.LinAlgError:  # pragma: no cover
        latent_pd = False
    names = mod.param_names()
    vc = pd.DataFrame(
        vcov if vcov is not None else np.full((mod.q, mod.q), np.nan), index=names, columns=names
    )
    return CFAResult(
        model=model,
        missing=missing,
        n_obs=int(n),
        converged=True,
        iterations=nit,
        heywood=heywood,
        latent_cov_pd=latent_pd,
        fit=fit,
        loadings=load_df,
        factor_covariances=fc,
        factor_correlations=fcor,
        residual_variances=rv,
        r2=r2,
        intercepts=intercepts,
        sample_cov=pd.DataFrame(s, index=items, columns=items),
        implied_cov=pd.DataFrame(sig_hat, index=items, columns=items),
        vcov=vc,
        heywood_items=heywood_items,
    )


# ---------------------------------------------------------------------------------------------
# composite reliability, AVE
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FactorStatisticResult(Result):
    """A per-factor statistic (composite reliability or AVE).

    ``table`` is indexed by factor with columns ``estimate`` and ``n_items``;
    ``to_frame()`` returns it.
    """

    statistic: str
    variant: str
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def estimate(self) -> pd.Series:
        """The estimates as a Series indexed by factor."""
        return self.table["estimate"]


def _std_loadings_by_factor(source, func: str) -> dict[str, np.ndarray]:
    if isinstance(source, CFAResult):
        ld = source.loadings
        return {f: ld.loc[ld["factor"] == f, "std_all"].to_numpy(dtype=float) for f in source.model}
    if isinstance(source, Mapping):
        out = {}
        for f, vals in source.items():
            arr = np.asarray(
                list(vals.values()) if isinstance(vals, Mapping) else vals, dtype=float
            )
            if arr.ndim != 1 or arr.size < 1 or not np.all(np.isfinite(arr)):
                raise DataError(
                    f"{func}: factor {f!r} needs a list of finite standardized loadings"
                )
            out[str(f)] = arr
        if not out:
            raise DataError(f"{func}: no factors given")
        return out
    raise DataError(
        f"{func} needs a CFAResult (from cfa) or a mapping factor -> standardized loadings"
    )


def _semtools_parts(res: CFAResult, func: str):
    if not isinstance(res, CFAResult):
        raise DataError(f"{func}(variant='semtools') needs a CFAResult from cfa")
    ld = res.loadings
    s = res.sample_cov
    fc = res.factor_covariances
    out = {}
    for f, its in res.model.items():
        lam = ld.loc[ld["factor"] == f, "estimate"].to_numpy(dtype=float)
        phi = float(fc.loc[(fc["lhs"] == f) & (fc["rhs"] == f), "estimate"].iloc[0])
        sub = s.loc[its, its].to_numpy()
        out[f] = (lam, phi, sub)
    return out


def composite_reliability(source, *, variant: str = "formula") -> FactorStatisticResult:
    """Composite reliability (CR, construct reliability) of each factor.

    Parameters
    ----------
    source : CFAResult or mapping of str to sequence of float
        A fitted :func:`cfa`, or (``variant="formula"`` only) factor -> standardized loadings.
    variant : {"formula", "semtools"}
        ``"formula"``: the textbook CR from the standardized (std_all) loadings.
        ``"semtools"``: semTools ``compRelSEM(fit)`` with its defaults (``obs.var = TRUE``).

    Returns
    -------
    FactorStatisticResult
        ``table`` indexed by factor: ``estimate``, ``n_items``.

    Notes
    -----
    ``formula``: with l_j the standardized loadings of the factor's k items,
    CR = (sum l_j)^2 / ((sum l_j)^2 + sum (1 - l_j^2)) (Jöreskog 1971; Fornell & Larcker 1981;
    McDonald's omega for a congeneric factor).

    ``semtools``: CR = (sum lambda_j)^2 phi / 1' S 1, the unstandardized loadings times the
    factor variance over the **observed** total variance of the unit-weighted sum (S the
    N-divisor sample covariance, the EM estimate under FIML). The two differ in the second or
    third decimal when the model does not reproduce S exactly.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research*, 18(1),
    39-50.
    Jöreskog, K. G. (1971). Statistical analysis of sets of congeneric tests.
    *Psychometrika*, 36(2), 109-133.
    Jorgensen, T. D., Pornprasertmanit, S., Schoemann, A. M., & Rosseel, Y. (2022). semTools:
    Useful tools for structural equation modeling (R package version 0.5-6).

    Examples
    --------
    >>> cr = composite_reliability({"A": [0.8, 0.7, 0.6]})
    >>> round(float(cr.estimate["A"]), 4)
    0.7449

    Validated against: R 4.2.2 lavaan 0.6-14 / semTools 0.5-6 ``compRelSEM`` and the formula
    from lavaan's std.all loadings (tests/test_validity.py, tests/reference/validity.R).
    """
    _check_option(variant, ("formula", "semtools"), "variant", "composite_reliability")
    rows = {}
    if variant == "formula":
        for f, ld in _std_loadings_by_factor(source, "composite_reliability").items():
            num = ld.sum() ** 2
            rows[f] = (float(num / (num + np.sum(1.0 - ld**2))), ld.size)
    else:
        for f, (lam, phi, sub) in _semtools_parts(source, "composite_reliability").items():
            rows[f] = (float(lam.sum() ** 2 * phi / sub.sum()), lam.size)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "n_items"])
    table.index.name = "factor"
    return FactorStatisticResult(statistic="composite_reliability", variant=variant, table=table)


def ave(source, *, variant: str = "formula") -> FactorStatisticResult:
    """Average variance extracted (AVE) of each factor.

    Parameters
    ----------
    source : CFAResult or mapping of str to sequence of float
        A fitted :func:`cfa`, or (``variant="formula"`` only) factor -> standardized loadings.
    variant : {"formula", "semtools"}
        ``"formula"``: the mean squared standardized loading. ``"semtools"``: semTools
        ``AVE(fit)`` with its default ``obs.var = TRUE``.

    Returns
    -------
    FactorStatisticResult
        ``table`` indexed by factor: ``estimate``, ``n_items``.

    Notes
    -----
    ``formula``: AVE = sum l_j^2 / k with l_j the standardized loadings (Fornell & Larcker
    1981). ``semtools``: AVE = phi sum lambda_j^2 / sum_j s_jj, the common variance over the
    observed item variances; NaN (as semTools' NA) for a factor with a cross-loading item.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research*, 18(1),
    39-50.

    Examples
    --------
    >>> round(float(ave({"A": [0.8, 0.7, 0.6]}).estimate["A"]), 4)
    0.4967

    Validated against: R 4.2.2 lavaan 0.6-14 / semTools 0.5-6 ``AVE`` and the formula from
    lavaan's std.all loadings (tests/test_validity.py, tests/reference/validity.R).
    """
    _check_option(variant, ("formula", "semtools"), "variant", "ave")
    rows = {}
    if variant == "formula":
        for f, ld in _std_loadings_by_factor(source, "ave").items():
            rows[f] = (float(np.sum(ld**2) / ld.size), ld.size)
    else:
        counts: dict[str, int] = {}
        for its in source.model.values() if isinstance(source, CFAResult) else ():
            for it in its:
                counts[it] = counts.get(it, 0) + 1
        for f, (lam, phi, sub) in _semtools_parts(source, "ave").items():
            if any(counts[it] > 1 for it in source.model[f]):
                # semTools' AVE() returns NA for a factor with a cross-loading indicator
                rows[f] = (float("nan"), lam.size)
                continue
            rows[f] = (float(phi * np.sum(lam**2) / np.trace(sub)), lam.size)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "n_items"])
    table.index.name = "factor"
    return FactorStatisticResult(statistic="ave", variant=variant, table=table)


# ---------------------------------------------------------------------------------------------
# HTMT
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class HTMTResult(Result):
    """HTMT matrix (factor x factor, ones on the diagonal); ``to_frame()`` returns it."""

    variant: str
    absolute: bool
    n_obs: int
    matrix: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.matrix.copy()


def htmt(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[str]],
    *,
    variant: str = "htmt",
    absolute: bool = False,
) -> HTMTResult:
    """Heterotrait-monotrait ratio of correlations between the factors of a model.

    Parameters
    ----------
    data : DataFrame
        One numeric column per item; rows with a missing item of the model are dropped
        (listwise, as semTools does by default).
    model : mapping of str to list of str
        Factor name -> its items (at least 2 per factor).
    variant : {"htmt", "htmt2"}
        ``"htmt"``: Henseler, Ringle & Sarstedt (2015), arithmetic means. ``"htmt2"``: Roemer,
        Schuberth & Henseler (2021), geometric means of absolute correlations (semTools 0.5-6's
        default).
    absolute : bool
        For ``variant="htmt"`` only: average absolute instead of signed correlations
        (semTools ``htmt(..., htmt2 = FALSE)``). HTMT2 always uses absolute values.

    Returns
    -------
    HTMTResult
        ``matrix``: factor x factor DataFrame with ones on the diagonal; ``n_obs``.

    Raises
    ------
    DataError
        Unknown or non-numeric items, a factor with fewer than 2 items, too few complete
        rows, or a factor whose mean within-factor correlation is not positive (HTMT is then
        undefined; check reverse-keyed items).

    Notes
    -----
    With r the Pearson correlations of the complete rows,
    HTMT_ij = mean(r_gh : g in i, h in j) / sqrt(mean(r_gh : g < h in i) mean(r_gh : g < h in j)).
    HTMT2 replaces each arithmetic mean by the geometric mean of |r_gh|. Henseler et al. use
    signed correlations (items keyed in the same direction); semTools takes absolute values.
    Values above 0.85 (or 0.90) indicate a lack of discriminant validity.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science*, 43(1), 115-135.
    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. *Industrial Management &
    Data Systems*, 121(12), 2637-2650.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=(200, 1))
    >>> x = pd.DataFrame(f + rng.normal(size=(200, 4)), columns=["a1", "a2", "b1", "b2"])
    >>> h = htmt(x, {"A": ["a1", "a2"], "B": ["b1", "b2"]})
    >>> h.matrix.shape, bool(h.matrix.loc["A", "A"] == 1.0)
    ((2, 2), True)

    Validated against: R 4.2.2 semTools 0.5-6 ``htmt()`` and the formula
    (tests/test_validity.py, tests/reference/validity.R, shared holzinger/sim_likert).
    """
    _check_option(variant, ("htmt", "htmt2"), "variant", "htmt")
    if not isinstance(absolute, bool):
        raise DataError(f"htmt: 'absolute' must be True or False, got {absolute!r}")
    factors, items = _parse_model(data, model, "htmt")
    small = [f for f in factors if len(model[f]) < 2]
    if small:
        raise DataError(f"htmt: every factor needs at least 2 items; with fewer: {small}")
    x = _numeric_matrix(data, items)
    x = x[~np.isnan(x).any(axis=1)]
    n = x.shape[0]
    if n < 3:
        raise DataError(f"htmt: too few complete rows ({n}); need at least 3")
    sd = x.std(axis=0)
    const = [items[j] for j in range(len(items)) if not sd[j] > 0]
    if const:
        raise DataError(f"htmt: items with zero variance in the complete rows: {const}")
    r = np.corrcoef(x, rowvar=False)
    pos = {it: i for i, it in enumerate(items)}
    geo = variant == "htmt2"

    def agg(v):
        if geo:
            a = np.abs(v)
            return 0.0 if np.any(a == 0) else float(np.exp(np.mean(np.log(a))))
        return float(np.mean(np.abs(v) if absolute else v))

    idx = {f: [pos[it] for it in model[f]] for f in factors}
    mono = {}
    for f in factors:
        sub = r[np.ix_(idx[f], idx[f])]
        mono[f] = agg(sub[np.tril_indices(len(idx[f]), -1)])
    bad = [f for f in factors if not mono[f] > 0]
    if bad:
        raise DataError(
            "htmt: the mean within-factor correlation is not positive for "
            + ", ".join(f"{f!r} ({mono[f]:.3g})" for f in bad)
            + "; HTMT is undefined (are reverse-keyed items recoded?)"
        )
    m = len(factors)
    out = np.eye(m)
    for a in range(m):
        for b in range(a + 1, m):
            het = agg(r[np.ix_(idx[factors[a]], idx[factors[b]])].ravel())
            out[a, b] = out[b, a] = het / math.sqrt(mono[factors[a]] * mono[factors[b]])
    mat = pd.DataFrame(out, index=factors, columns=factors)
    return HTMTResult(variant=variant, absolute=bool(absolute or geo), n_obs=int(n), matrix=mat)


# ---------------------------------------------------------------------------------------------
# Fornell-Larcker
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FornellLarckerResult(Result):
    """Fornell-Larcker criterion.

    ``matrix``: sqrt(AVE) on the diagonal, latent correlations off it. ``pairs``: one row per
    factor pair with ``correlation``, ``sqrt_ave_1``, ``sqrt_ave_2`` and ``passed`` (both
    sqrt(AVE) exceed |correlation|). ``passed`` is True when every pair passes.
    """

    variant: str
    passed: bool
    matrix: pd.DataFrame
    pairs: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.pairs.copy()


def fornell_larcker(cfa_result: CFAResult, *, variant: str = "formula") -> FornellLarckerResult:
    """Fornell-Larcker criterion: sqrt(AVE) of each factor against its latent correlations.

    Parameters
    ----------
    cfa_result : CFAResult
        A fitted :func:`cfa`.
    variant : {"formula", "semtools"}
        Which AVE (see :func:`ave`).

    Returns
    -------
    FornellLarckerResult
        ``matrix`` (sqrt(AVE) on the diagonal, latent correlations below and above it),
        ``pairs`` (one row per pair with a ``passed`` flag) and an overall ``passed``.

    Notes
    -----
    Discriminant validity holds for factors i and j when sqrt(AVE_i) > |phi_ij| and
    sqrt(AVE_j) > |phi_ij|, equivalently AVE_i and AVE_j exceed the squared correlation
    (Fornell & Larcker 1981). The criterion is known to be insensitive (Henseler et al.
    2015); report :func:`htmt` as well.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research*, 18(1),
    39-50.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> f = rng.multivariate_normal([0, 0], [[1, .3], [.3, 1]], size=300)
    >>> x = np.column_stack([f[:, [0]] * [.8, .7, .7], f[:, [1]] * [.8, .7, .7]])
    >>> df = pd.DataFrame(x + rng.normal(scale=.6, size=x.shape),
    ...                   columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    >>> fl = fornell_larcker(cfa(df, {"A": ["a1", "a2", "a3"], "B": ["b1", "b2", "b3"]}))
    >>> fl.passed
    True

    Validated against: the AVE and latent correlations of R 4.2.2 lavaan 0.6-14
    (tests/test_validity.py).
    """
    if not isinstance(cfa_result, CFAResult):
        raise DataError("fornell_larcker needs a CFAResult from cfa")
    a = ave(cfa_result, variant=variant).estimate
    factors = list(cfa_result.model)
    cor = cfa_result.factor_correlations.loc[factors, factors].to_numpy().copy()
    root = np.sqrt(a.loc[factors].to_numpy())
    mat = cor.copy()
    np.fill_diagonal(mat, root)
    rows = []
    for i in range(len(factors)):
        for j in range(i + 1, len(factors)):
            c = cor[i, j]
            ok = bool(root[i] > abs(c) and root[j] > abs(c))
            rows.append((factors[i], factors[j], c, root[i], root[j], ok))
    pairs = pd.DataFrame(
        rows,
        columns=["factor_1", "factor_2", "correlation", "sqrt_ave_1", "sqrt_ave_2", "passed"],
    )
    return FornellLarckerResult(
        variant=variant,
        passed=bool(pairs["passed"].all()) if len(pairs) else True,
        matrix=pd.DataFrame(mat, index=factors, columns=factors),
        pairs=pairs,
    )


# ---------------------------------------------------------------------------------------------
# reliability report
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReliabilityReport(Result):
    """The reliability and validity tables of an instrument (see :func:`reliability_report`).

    Attributes
    ----------
    constructs : DataFrame
        One row per construct (index ``construct``): ``role``, ``n_items``, ``n_obs`` (rows with
        at least one answered item), ``alpha``, ``omega_total``, ``cr``, ``ave``, ``sqrt_ave``,
        ``max_htmt`` (largest HTMT with another construct), ``fornell_larcker_passed`` and
        ``problems`` (why a value is missing). ``to_frame()`` returns this table.
    fit : DataFrame
        One row of CFA fit measures (empty when the CFA could not be fitted).
    loadings : DataFrame
        The CFA loadings table (see :class:`CFAResult`).
    htmt : DataFrame
        Construct x construct HTMT (signed, Henseler et al. 2015).
    fornell_larcker : DataFrame
        sqrt(AVE) on the diagonal, latent correlations off it.
    discriminant : DataFrame
        One row per construct pair: ``construct_1``, ``construct_2``, ``correlation`` (latent),
        ``htmt``, ``htmt_below_085`` and ``fornell_larcker_passed``.
    cfa : CFAResult or None
        The fitted CFA of all constructs with at least 2 items.
    """

    n_constructs: int
    n_obs_cfa: int
    cfa_converged: bool
    heywood: bool
    latent_cov_pd: bool
    constructs: pd.DataFrame
    fit: pd.DataFrame
    loadings: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame
    discriminant: pd.DataFrame
    cfa: CFAResult | None = dataclasses.field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.constructs.copy()


def reliability_report(
    coded: pd.DataFrame, codebook: Any, *, missing: str = "listwise"
) -> ReliabilityReport:
    """Reliability and validity of every construct of an instrument, as a thesis reports it.

    Parameters
    ----------
    coded : DataFrame
        Coded responses, one column per item id, reverse-keyed items already recoded.
    codebook : Codebook
        Anything with ``constructs``: a mapping construct id -> object with ``items`` (item
        ids) and ``role`` (``"dimension"`` or ``"outcome"``).
    missing : {"listwise", "fiml"}
        How the CFA treats missing values (see :func:`cfa`). HTMT always uses the complete
        rows; alpha and omega use pairwise covariances (psych's default).

    Returns
    -------
    ReliabilityReport
        ``constructs`` (one row per construct: alpha, omega total, CR, AVE, sqrt(AVE), the
        largest HTMT, the Fornell-Larcker verdict), the CFA ``fit`` row and ``loadings``,
        ``htmt``, ``fornell_larcker`` and the pairwise ``discriminant`` table.

    Raises
    ------
    DataError
        When the codebook has no constructs or an item of a construct is not a column of
        ``coded`` (the missing items are named).

    Notes
    -----
    Per construct: Cronbach's alpha (:func:`servicestudy.reliability.alpha`, pairwise as
    psych), omega total of a one-factor model (:func:`servicestudy.reliability.omega` with
    ``n_factors=1``). One listwise ML CFA of all constructs with at least 2 items (each item on
    its own construct, latent covariances free) gives CR = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))
    and AVE = sum l^2 / k from the standardized loadings, the Fornell-Larcker matrix and the fit
    row; HTMT uses the complete rows of the same items. Statistics that cannot be computed
    (a one-item construct, a CFA that fails) are NaN with the reason in ``problems``; nothing
    is dropped silently.

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research*, 18(1),
    39-50.
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science*, 43(1), 115-135.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from types import SimpleNamespace as NS
    >>> rng = np.random.default_rng(3)
    >>> f = rng.multivariate_normal([0, 0], [[1, .4], [.4, 1]], size=300)
    >>> x = np.column_stack([f[:, [0]] * [.8, .7, .7], f[:, [1]] * [.8, .7, .7]])
    >>> df = pd.DataFrame(x + rng.normal(scale=.6, size=x.shape),
    ...                   columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    >>> cb = NS(constructs={"A": NS(items=("a1", "a2", "a3"), role="dimension"),
    ...                     "B": NS(items=("b1", "b2", "b3"), role="outcome")})
    >>> rep = reliability_report(df, cb)
    >>> list(rep.to_frame().index), rep.cfa_converged
    (['A', 'B'], True)

    Validated against: R 4.2.2 psych 2.2.9 alpha/omega, lavaan 0.6-14 and the HTMT formula on
    sim_likert (tests/test_validity.py).
    """
    _check_option(missing, ("listwise", "fiml"), "missing", "reliability_report")
    constructs = getattr(codebook, "constructs", None)
    if not isinstance(constructs, Mapping) or not constructs:
        raise DataError("reliability_report needs a codebook with at least one construct")
    if not isinstance(coded, pd.DataFrame):
        raise DataError("reliability_report needs the coded responses as a DataFrame")
    spec: dict[str, tuple[list[str], str]] = {}
    absent: list[str] = []
    for cid, con in constructs.items():
        items = [str(i) for i in getattr(con, "items", ())]
        spec[str(cid)] = (items, str(getattr(con, "role", "dimension")))
        absent.extend(i for i in items if i not in coded.columns)
    if absent:
        raise DataError(
            "reliability_report: items of the codebook are not columns of the data: "
            + ", ".join(repr(a) for a in dict.fromkeys(absent))
        )

    try:
        from servicestudy import reliability as _rel
    except ImportError:  # pragma: no cover - reliability is part of the package
        _rel = None

    rows: dict[str, dict[str, Any]] = {}
    for cid, (items, role) in spec.items():
        problems: list[str] = []
        row: dict[str, Any] = {
            "role": role,
            "n_items": len(items),
            "n_obs": int(coded[items].notna().any(axis=1).sum()) if items else 0,
            "alpha": float("nan"),
            "omega_total": float("nan"),
        }
        if len(items) < 2:
            problems.append(f"{len(items)} item(s): alpha, omega, CR, AVE and HTMT need 2 or more")
        elif _rel is None:  # pragma: no cover
            problems.append("servicestudy.reliability is unavailable: alpha and omega skipped")
        else:
            sub = coded[items]
            try:
                row["alpha"] = float(_rel.alpha(sub).alpha)
            except (DataError, ConvergenceError) as exc:
                problems.append(f"alpha: {exc}")
            if len(items) >= 3:
                try:
                    om = _rel.omega(sub, n_factors=1)
                    row["omega_total"] = float(om.omega_total)
                    if getattr(om, "unstable", False):
                        problems.append(f"omega unstable: {om.problems}")
                except (DataError, ConvergenceError) as exc:
                    problems.append(f"omega: {exc}")
            else:
                problems.append("omega total needs 3 or more items (one-factor model)")
        row["problems"] = "; ".join(problems)
        rows[cid] = row

    model = {cid: items for cid, (items, _) in spec.items() if len(items) >= 2}
    fitted: CFAResult | None = None
    cfa_problem = ""
    if len(model) >= 1:
        try:
            fitted = cfa(coded, model, missing=missing)
        except (DataError, ConvergenceError) as exc:
            cfa_problem = f"CFA: {exc}"
    facs = list(model)
    nan_mat = pd.DataFrame(np.nan, index=facs, columns=facs)
    ht = nan_mat.copy()
    if len(model) >= 2:
        try:
            ht = htmt(coded, model).matrix
        except DataError as exc:
            for cid in model:
                rows[cid]["problems"] = "; ".join(
                    filter(None, [rows[cid]["problems"], f"HTMT: {exc}"])
                )
    if fitted is not None:
        cr = composite_reliability(fitted).estimate
        av = ave(fitted).estimate
        fl = fornell_larcker(fitted)
        fl_mat = fl.matrix
        fit_row = fitted.to_frame()
        loadings = fitted.loadings
    else:
        cr = av = pd.Series(np.nan, index=facs, dtype=float)
        fl = None
        fl_mat = nan_mat.copy()
        fit_row = pd.DataFrame()
        loadings = pd.DataFrame(
            columns=[
                "factor",
                "item",
                "estimate",
                "std_error",
                "z",
                "pvalue",
                "std_lv",
                "std_all",
                "std_all_se",
            ]
        )
    pairs = []
    for i, a in enumerate(facs):
        for b in facs[i + 1 :]:
            corr = fl_mat.loc[a, b] if fitted is not None else float("nan")
            h = float(ht.loc[a, b])
            passed = None
            if fl is not None:
                sel = fl.pairs[(fl.pairs["factor_1"] == a) & (fl.pairs["factor_2"] == b)]
                passed = bool(sel["passed"].iloc[0])
            pairs.append((a, b, corr, h, bool(h < 0.85) if np.isfinite(h) else None, passed))
    disc = pd.DataFrame(
        pairs,
        columns=[
            "construct_1",
            "construct_2",
            "correlation",
            "htmt",
            "htmt_below_085",
            "fornell_larcker_passed",
        ],
    )
    for cid, row in rows.items():
        inm = cid in model
        row["cr"] = float(cr[cid]) if inm else float("nan")
        row["ave"] = float(av[cid]) if inm else float("nan")
        row["sqrt_ave"] = math.sqrt(row["ave"]) if np.isfinite(row["ave"]) else float("nan")
        others = [float(ht.loc[cid, o]) for o in facs if o != cid] if inm else []
        row["max_htmt"] = max(others, key=abs) if others else float("nan")
        if inm and fl is not None and len(facs) > 1:
            mine = disc[(disc["construct_1"] == cid) | (disc["construct_2"] == cid)]
            row["fornell_larcker_passed"] = bool(mine["fornell_larcker_passed"].all())
        else:
            row["fornell_larcker_passed"] = None
        if inm and cfa_problem:
            row["problems"] = "; ".join(filter(None, [row["problems"], cfa_problem]))
        if (
            inm
            and fitted is not None
            and fitted.heywood
            and any(it in fitted.heywood_items for it in model[cid])
        ):
            row["problems"] = "; ".join(
                filter(None, [row["problems"], "Heywood case: negative residual variance"])
            )
    cols = [
        "role",
        "n_items",
        "n_obs",
        "alpha",
        "omega_total",
        "cr",
        "ave",
        "sqrt_ave",
        "max_htmt",
        "fornell_larcker_passed",
        "problems",
    ]
    table = pd.DataFrame.from_dict(rows, orient="index")[cols]
    table.index.name = "construct"
    return ReliabilityReport(
        n_constructs=len(rows),
        n_obs_cfa=int(fitted.n_obs) if fitted is not None else 0,
        cfa_converged=fitted is not None,
        heywood=bool(fitted.heywood) if fitted is not None else False,
        latent_cov_pd=bool(fitted.latent_cov_pd) if fitted is not None else True,
        constructs=table,
        fit=fit_row,
        loadings=loadings,
        htmt=ht,
        fornell_larcker=fl_mat,
        discriminant=disc,
        cfa=fitted,
    )
