"""Simulated survey waves with known truth, and writers that imitate Wenjuanxing's exports.

The thesis's data are not public, so the package ships a **simulated** wave drawn from a
documented latent-variable model (``docs/simulation.md``). Because every parameter is known,
the analysis modules can be checked against the truth: reliabilities, driver weights, group
differences and the defects that screening should catch.

The model, per respondent ``i`` in demographic cell ``g`` (residence x age group x channel):

* five correlated latent service dimensions
  ``eta_i = mu(g) + z_i``, ``z_i ~ N(0, Phi)`` (``Phi`` the stated correlation matrix,
  ``mu(g) = latent_mean + sum of the group effects of i's categories``);
* Likert item ``j`` of dimension ``c`` (continuous response, construct direction)
  ``y*_ij = shift_j + lambda_j * eta_ic + sqrt(1 - lambda_j**2) * e_ij`` cut at the thresholds
  ``tau`` into codes 1..5; a reverse-keyed item is answered as ``6 - code``;
* overall satisfaction ``S_i = sat_mean + w'(eta_i - E[eta]) + sigma_u * u_i`` with ``sigma_u``
  chosen so that ``Var(S) = 1``; SAT items are cut from ``shift + lambda * S + ...`` alike;
* stated importance ``I_ic = importance_mean_c + g * G_i + sqrt(1 - g**2) * e_ic`` (a general
  "everything matters" factor ``G``), cut at the same thresholds.

Defects of real online surveys are injected at configured rates (straight-liners, random
responders, speeders, duplicate submissions, attention-check failures), as are item
nonresponse (MCAR and MAR: older respondents skip the online-channel items more often) and
"不清楚" (don't know, code 6) answers. Which respondent got which defect is returned in
``SimulatedWave.defects``.

Population values implied by the model for the **ordinal** codes (item means, covariances,
Cronbach's alpha of each scale, the OLS weights of the overall score on the five dimension
scores, R²) are computed exactly by :func:`implied_population`: conditional on the demographic
cell the continuous responses are jointly normal, so the covariance of two ordinal codes is a
sum of bivariate normal probabilities (Owen's T function), mixed over the cells by the law of
total covariance.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import io as _io
import itertools
import json
import math
import re
import sys as _sys
import types as _types
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ._atomic import atomic_path, atomic_write_bytes
from .codebook import Codebook, load_codebook
from .errors import DataError

__all__ = [
    "DEFECT_TYPES",
    "NO_DEFECTS",
    "SimulatedWave",
    "SimulationConfig",
    "implied_population",
    "simulate",
    "wenjuanxing_table",
    "write_sav",
    "write_truth",
    "write_wenjuanxing",
]

DIMENSIONS = ("content", "attitude", "efficiency", "forms", "participation")
DEFECT_TYPES = ("straightliner", "random", "speeder", "duplicate", "attention_fail")
FIXED_ZIP_TIME = (2022, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "2022-01-01T00:00:00Z"
SOURCES = ("手机提交", "微信", "链接")
MULTI_SEP = "┋"
# RFC 5737 documentation ranges: never real hosts
IP_PREFIXES = ("192.0.2", "198.51.100", "203.0.113")
LOCAL_PLACES = ("浙江-温州", "浙江-杭州", "浙江-台州", "浙江-丽水")
LOCAL_PLACE_P = (0.88, 0.05, 0.04, 0.03)
MIGRANT_PLACES = ("浙江-温州", "江西-上饶", "安徽-阜阳", "贵州-毕节", "河南-信阳", "四川-南充", "湖北-黄冈")
MIGRANT_PLACE_P = (0.70, 0.06, 0.06, 0.05, 0.05, 0.04, 0.04)


def _corr() -> tuple[tuple[float, ...], ...]:
    # content, attitude, efficiency, forms, participation
    return (
        (1.00, 0.50, 0.50, 0.55, 0.50),
        (0.50, 1.00, 0.60, 0.40, 0.50),
        (0.50, 0.60, 1.00, 0.45, 0.40),
        (0.55, 0.40, 0.45, 1.00, 0.45),
        (0.50, 0.50, 0.40, 0.45, 1.00),
    )


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """Parameters of the simulation model (defaults: the bundled wave's calibration).

    Pass overrides to :func:`simulate` as ``config={"straightliner_rate": 0, ...}``; every key
    must be a field name. :data:`NO_DEFECTS` switches off all defects, missing values and
    don't-know answers.
    """

    latent_corr: tuple[tuple[float, ...], ...] = dataclasses.field(default_factory=_corr)
    # baseline latent means (before group effects), construct direction
    latent_mean: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "content": -0.30, "attitude": 0.45, "efficiency": 0.35, "forms": -0.45, "participation": -0.50})
    loadings: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "CON1": 0.78, "CON2": 0.74, "CON3": 0.72, "CON4": 0.62,
        "ATT1": 0.82, "ATT2": 0.80, "ATT3": 0.64, "ATT4": 0.76, "ATT5": 0.70,
        "EFF1": 0.78, "EFF2": 0.72, "EFF3": 0.80, "EFF4": 0.70,
        "FRM1": 0.74, "FRM2": 0.70, "FRM3": 0.72, "FRM4": 0.60,
        "PAR1": 0.76, "PAR2": 0.80, "PAR3": 0.78, "PAR4": 0.68,
        "SAT1": 0.88, "SAT2": 0.82, "SAT3": 0.76})
    item_shift: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "CON1": 0.10, "CON2": -0.15, "CON3": 0.05, "CON4": 0.00,
        "ATT1": 0.10, "ATT2": 0.05, "ATT3": -0.20, "ATT4": 0.00, "ATT5": -0.15,
        "EFF1": -0.10, "EFF2": 0.15, "EFF3": 0.05, "EFF4": 0.10,
        "FRM1": 0.20, "FRM2": -0.20, "FRM3": -0.10, "FRM4": 0.05,
        "PAR1": 0.00, "PAR2": 0.10, "PAR3": -0.05, "PAR4": -0.30,
        "SAT1": 0.00, "SAT2": -0.10, "SAT3": 0.05})
    thresholds: tuple[float, ...] = (-1.60, -0.80, 0.15, 1.10)
    sat_weights: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "content": 0.12, "attitude": 0.34, "efficiency": 0.30, "forms": 0.08, "participation": 0.07})
    sat_mean: float = 0.35
    importance_mean: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "content": 0.70, "attitude": 1.25, "efficiency": 1.15, "forms": 0.55, "participation": 0.35})
    importance_general: float = 0.55
    demographics: Mapping[str, tuple[float, ...]] = dataclasses.field(default_factory=lambda: {
        "gender": (0.52, 0.48),
        "age_group": (0.22, 0.28, 0.23, 0.16, 0.11),
        "education": (0.18, 0.26, 0.22, 0.29, 0.05),
        "occupation": (0.30, 0.18, 0.10, 0.20, 0.06, 0.08, 0.08),
        "residence": (0.55, 0.45),
        "years_lived": (0.12, 0.22, 0.18, 0.20, 0.28),
        "contacts": (0.42, 0.35, 0.14, 0.09),
        "service_main": (0.24, 0.26, 0.12, 0.15, 0.08, 0.10, 0.05),
        "channel": (0.50, 0.22, 0.08, 0.12, 0.08),
    })
    # probability that a respondent knows each channel (multi-select), besides the one used
    channels_known_p: tuple[float, ...] = (0.90, 0.50, 0.38, 0.42, 0.28)
    # group effects: variable -> {code: {dimension: mean shift on the latent}}
    group_effects: Mapping[str, Mapping[int, Mapping[str, float]]] = dataclasses.field(default_factory=lambda: {
        "residence": {2: {"attitude": -0.25, "participation": -0.30}},
        "age_group": {1: {"forms": 0.15}, 2: {"forms": 0.08}, 4: {"forms": -0.15}, 5: {"forms": -0.40}},
        "channel": {2: {"forms": 0.30}, 4: {"forms": 0.20}, 5: {"forms": 0.15}},
    })
    straightliner_rate: float = 0.030
    random_rate: float = 0.025
    speeder_rate: float = 0.040
    duplicate_rate: float = 0.015
    attention_fail_rate: float = 0.030
    mcar_rate: float = 0.006
    mar_items: tuple[str, ...] = ("FRM1", "FRM2")
    mar_rate: Mapping[int, float] = dataclasses.field(default_factory=lambda: {4: 0.04, 5: 0.12})
    dont_know_rate: float = 0.020
    dont_know_items: Mapping[str, float] = dataclasses.field(default_factory=lambda: {
        "CON2": 0.05, "EFF4": 0.08, "FRM2": 0.06, "PAR4": 0.07})
    suggestion_empty_rate: float = 0.45
    identifier_rate: float = 0.05
    start_date: str = "2021-11-15"
    days: int = 28
    duration_median: float = 290.0
    duration_sdlog: float = 0.35

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))


NO_DEFECTS: dict[str, Any] = {
    "straightliner_rate": 0.0, "random_rate": 0.0, "speeder_rate": 0.0, "duplicate_rate": 0.0,
    "attention_fail_rate": 0.0, "mcar_rate": 0.0, "mar_rate": {}, "dont_know_rate": 0.0,
    "dont_know_items": {},
}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


def _resolve_config(config: SimulationConfig | Mapping[str, Any] | None) -> SimulationConfig:
    if config is None:
        return SimulationConfig()
    if isinstance(config, SimulationConfig):
        cfg = config
    elif isinstance(config, Mapping):
        names = {f.name for f in dataclasses.fields(SimulationConfig)}
        unknown = sorted(set(map(str, config)) - names)
        if unknown:
            raise DataError(f"unknown simulation parameter(s) {', '.join(unknown)}; "
                            f"expected field names of SimulationConfig")
        cfg = dataclasses.replace(SimulationConfig(), **dict(config))
    else:
        raise DataError(f"config must be None, a mapping or a SimulationConfig; got {type(config).__name__}")
    for name in ("straightliner_rate", "random_rate", "speeder_rate", "duplicate_rate",
                 "attention_fail_rate", "mcar_rate", "dont_know_rate", "suggestion_empty_rate",
                 "identifier_rate"):
        v = getattr(cfg, name)
        if not (0.0 <= v <= 1.0):
            raise DataError(f"simulation parameter {name} must be a rate in [0, 1]; got {v!r}")
    if cfg.straightliner_rate + cfg.random_rate > 1:
        raise DataError("straightliner_rate + random_rate must not exceed 1")
    phi = np.asarray(cfg.latent_corr, dtype=float)
    if phi.shape != (5, 5) or not np.allclose(phi, phi.T) or np.any(np.linalg.eigvalsh(phi) <= 0):
        raise DataError("latent_corr must be a symmetric positive definite 5 x 5 matrix")
    for item, lam in cfg.loadings.items():
        if not (0 < abs(lam) < 1):
            raise DataError(f"loading of {item} must lie strictly between -1 and 1; got {lam!r}")
    return cfg


# --- the model's structure --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Structure:
    """Item layout for a codebook: which items are Likert/overall/importance/attention."""

    likert: tuple[str, ...]
    likert_dim: tuple[int, ...]
    reverse: tuple[bool, ...]
    overall: tuple[str, ...]
    importance: tuple[str, ...]
    importance_dim: tuple[int, ...]
    attention: tuple[str, ...]
    attention_expected: tuple[float, ...]


def _structure(cb: Codebook) -> _Structure:
    dims = cb.dimensions
    if tuple(dims) != DIMENSIONS:
        raise DataError(f"the simulation model needs the dimensions {', '.join(DIMENSIONS)}; "
                        f"codebook has {', '.join(dims)}")
    likert, ldim, rev, overall, imp, idim, attn, attn_exp = [], [], [], [], [], [], [], []
    for it in cb.items.values():
        if it.role == "likert":
            likert.append(it.id)
            ldim.append(dims.index(it.construct))
            rev.append(bool(it.reverse))
        elif it.role == "overall":
            overall.append(it.id)
        elif it.role == "importance":
            imp.append(it.id)
            idim.append(dims.index(it.importance_of))
        elif it.role == "attention":
            attn.append(it.id)
            attn_exp.append(float(it.expected[0]))
    return _Structure(tuple(likert), tuple(ldim), tuple(rev), tuple(overall), tuple(imp),
                      tuple(idim), tuple(attn), tuple(attn_exp))


def _group_vars(cfg: SimulationConfig) -> list[str]:
    return [v for v in cfg.group_effects if cfg.group_effects[v]]


def _effect_matrix(cfg: SimulationConfig, var: str) -> np.ndarray:
    """(k categories) x 5 matrix of latent mean shifts of ``var``."""
    k = len(cfg.demographics[var])
    out = np.zeros((k, 5))
    for code, shifts in cfg.group_effects.get(var, {}).items():
        for dim, value in shifts.items():
            out[int(code) - 1, DIMENSIONS.index(dim)] = value
    return out


def _latent_moments(cfg: SimulationConfig) -> tuple[np.ndarray, np.ndarray]:
    """Population mean and covariance of eta (mixture over independent demographics)."""
    mean = np.array([cfg.latent_mean[d] for d in DIMENSIONS], dtype=float)
    cov = np.asarray(cfg.latent_corr, dtype=float).copy()
    for var in _group_vars(cfg):
        p = np.asarray(cfg.demographics[var], dtype=float)
        eff = _effect_matrix(cfg, var)
        m = p @ eff
        mean = mean + m
        d = eff - m
        cov = cov + (d * p[:, None]).T @ d
    return mean, cov


def _sat_residual_sd(cfg: SimulationConfig, cov_eta: np.ndarray) -> float:
    w = np.array([cfg.sat_weights[d] for d in DIMENSIONS])
    explained = float(w @ cov_eta @ w)
    if explained >= 1:
        raise DataError(f"sat_weights explain {explained:.3f} >= 1 of Var(S); make them smaller")
    return math.sqrt(1.0 - explained)


def _item_design(cfg: SimulationConfig, st: _Structure, cov_eta: np.ndarray, mean_eta: np.ndarray):
    """Linear design of the continuous responses on v = (z_1..z_5, u, G).

    Returns ``ids``, ``B`` (p x 7), ``c`` (p,) residual sds and a function giving the p
    conditional means for latent means ``mu`` (cells x 5).
    """
    w = np.array([cfg.sat_weights[d] for d in DIMENSIONS])
    su = _sat_residual_sd(cfg, cov_eta)
    ids = [*st.likert, *st.overall, *st.importance]
    p = len(ids)
    B = np.zeros((p, 7))
    c = np.zeros(p)
    base = np.zeros(p)
    mu_coef = np.zeros((p, 5))
    for j, item in enumerate(st.likert):
        lam = cfg.loadings[item]
        d = st.likert_dim[j]
        B[j, d] = lam
        c[j] = math.sqrt(1 - lam**2)
        base[j] = cfg.item_shift.get(item, 0.0)
        mu_coef[j, d] = lam
    off = len(st.likert)
    for k, item in enumerate(st.overall):
        j = off + k
        lam = cfg.loadings[item]
        B[j, :5] = lam * w
        B[j, 5] = lam * su
        c[j] = math.sqrt(1 - lam**2)
        base[j] = cfg.item_shift.get(item, 0.0) + lam * (cfg.sat_mean - w @ mean_eta)
        mu_coef[j] = lam * w
    off += len(st.overall)
    g = cfg.importance_general
    for k in range(len(st.importance)):
        j = off + k
        B[j, 6] = g
        c[j] = math.sqrt(1 - g**2)
        base[j] = cfg.importance_mean[DIMENSIONS[st.importance_dim[k]]]

    def means(mu: np.ndarray) -> np.ndarray:
        return base + mu @ mu_coef.T

    return ids, B, c, means


def _omega(cfg: SimulationConfig) -> np.ndarray:
    om = np.eye(7)
    om[:5, :5] = np.asarray(cfg.latent_corr, dtype=float)
    return om


def _cut(y: np.ndarray, tau: np.ndarray) -> np.ndarray:
    return 1 + (y[..., None] > tau).sum(axis=-1)


def _core(n: int, rng: np.random.Generator, cfg: SimulationConfig, st: _Structure) -> dict[str, Any]:
    """Clean (defect-free) draws: demographics codes, latents and item codes."""
    demo = {}
    for var, p in cfg.demographics.items():
        p = np.asarray(p, dtype=float)
        demo[var] = rng.choice(len(p), size=n, p=p / p.sum()) + 1
    mean_eta, cov_eta = _latent_moments(cfg)
    mu = np.tile(np.array([cfg.latent_mean[d] for d in DIMENSIONS]), (n, 1))
    for var in _group_vars(cfg):
        mu = mu + _effect_matrix(cfg, var)[demo[var] - 1]
    L = np.linalg.cholesky(np.asarray(cfg.latent_corr, dtype=float))
    v = np.empty((n, 7))
    v[:, :5] = rng.standard_normal((n, 5)) @ L.T
    v[:, 5:] = rng.standard_normal((n, 2))
    ids, B, c, means = _item_design(cfg, st, cov_eta, mean_eta)
    e = rng.standard_normal((n, len(ids)))
    ystar = means(mu) + v @ B.T + e * c
    codes = _cut(ystar, np.asarray(cfg.thresholds, dtype=float))
    eta = mu + v[:, :5]
    w = np.array([cfg.sat_weights[d] for d in DIMENSIONS])
    S = cfg.sat_mean + (eta - mean_eta) @ w + _sat_residual_sd(cfg, cov_eta) * v[:, 5]
    return {"demo": demo, "eta": eta, "S": S, "ids": ids, "codes": codes, "ystar": ystar}


# --- exact implied population values -----------------------------------------------------------


def _bvn_upper(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """P(X > -h, Y > -k) = Phi2(h, k; rho) for standard bivariate normal (X, Y), corr rho.

    Owen (1956): Phi2(h, k; rho) = (Phi(h) + Phi(k)) / 2 - T(h, a_h) - T(k, a_k) - beta,
    a_h = (k - rho h) / (h sqrt(1 - rho^2)), a_k = (h - rho k) / (k sqrt(1 - rho^2)),
    beta = 1/2 if h k < 0 (or h k = 0 and h + k < 0), else 0. Inputs are broadcast;
    h = 0 or k = 0 are nudged by 1e-300-free handling via a tiny offset of 1e-12.
    """
    h = np.where(h == 0, 1e-12, h)
    k = np.where(k == 0, 1e-12, k)
    r = np.sqrt(1 - rho**2)
    ah = (k - rho * h) / (h * r)
    ak = (h - rho * k) / (k * r)
    beta = np.where(h * k < 0, 0.5, 0.0)
    return 0.5 * (special.ndtr(h) + special.ndtr(k)) - special.owens_t(h, ah) - special.owens_t(k, ak) - beta


def _cells(cfg: SimulationConfig) -> tuple[np.ndarray, np.ndarray]:
    """Latent means and probabilities of every demographic cell of the grouping variables."""
    gvars = _group_vars(cfg)
    base = np.array([cfg.latent_mean[d] for d in DIMENSIONS])
    if not gvars:
        return base[None, :], np.ones(1)
    probs = [np.asarray(cfg.demographics[v], dtype=float) for v in gvars]
    probs = [p / p.sum() for p in probs]
    effs = [_effect_matrix(cfg, v) for v in gvars]
    mus, ps = [], []
    for combo in itertools.product(*(range(len(p)) for p in probs)):
        mus.append(base + sum(e[i] for e, i in zip(effs, combo, strict=True)))
        ps.append(math.prod(p[i] for p, i in zip(probs, combo, strict=True)))
    return np.array(mus), np.array(ps)


def implied_population(config: SimulationConfig | Mapping[str, Any] | None = None, *,
                       codebook: str | Codebook = "k_station") -> dict[str, Any]:
    """Exact population values of the clean model (no defects, missing or don't-know answers).

    Parameters
    ----------
    config
        Overrides of :class:`SimulationConfig` (as for :func:`simulate`).
    codebook
        The instrument (default the shipped ``k_station``).

    Returns
    -------
    dict
        ``latent``: mean and covariance of the five dimensions, the weights and R² of ``S``;
        ``continuous``: Cronbach's alpha of each scale and the OLS weights of the overall
        score on the five dimension scores if the continuous responses ``y*`` were observed;
        ``ordinal``: the same for the 1-5 codes as scored (reverse items reversed), plus
        item means and the full item covariance matrix.

    Notes
    -----
    Within a demographic cell ``g`` the continuous responses are jointly normal with
    means ``m_j(g)``, standard deviations ``s_j`` and correlations ``rho_jk``. With
    ``X_j = 1 + sum_a 1[y_j > tau_a]``,
    ``E[X_j | g] = 1 + sum_a Phi((m_j - tau_a) / s_j)`` and
    ``Cov(X_j, X_k | g) = sum_ab Phi2(h_ja, h_kb; rho_jk) - Phi(h_ja) Phi(h_kb)`` with
    ``h_ja = (m_j - tau_a) / s_j``. The population moments follow by the law of total
    covariance over the cells of the (independent) grouping variables. Cronbach's alpha is
    ``k / (k - 1) * (1 - tr(C) / 1'C1)``; the score weights are ``Cov(D)^-1 Cov(D, sat)`` for
    the dimension mean scores ``D`` and the overall mean score ``sat``.

    ``Phi2`` (the bivariate normal upper-orthant probability) is evaluated through Owen's T
    function (Owen 1956); Genz (2004) gives the accuracy comparisons.

    References
    ----------
    Owen, D. B. (1956). Tables for computing bivariate normal probabilities. *Annals of
    Mathematical Statistics*, 27(4), 1075-1090.

    Genz, A. (2004). Numerical computation of rectangular bivariate and trivariate normal and
    t probabilities. *Statistics and Computing*, 14(3), 251-260.

    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16(3), 297-334.

    Examples
    --------
    >>> pop = implied_population()
    >>> round(pop["latent"]["r2"], 3) > 0.4
    True
    >>> all(pop["ordinal"]["alpha"][c] < pop["continuous"]["alpha"][c] for c in ("content", "attitude"))
    True

    Validated against: SciPy numerical integration of the bivariate normal (abs 1e-9), the
    closed-form latent variance and R² (rel 1e-12), and recovery in 20,000 simulated
    respondents of the item means, alphas and score weights within 4.5 standard errors
    (tests/test_simulate.py).
    """
    cfg = _resolve_config(config)
    cb = load_codebook(codebook)
    st = _structure(cb)
    mean_eta, cov_eta = _latent_moments(cfg)
    ids, B, c, means = _item_design(cfg, st, cov_eta, mean_eta)
    om = _omega(cfg)
    cov_y = B @ om @ B.T + np.diag(c**2)
    sd = np.sqrt(np.diag(cov_y))
    rho = cov_y / np.outer(sd, sd)
    tau = np.asarray(cfg.thresholds, dtype=float)
    mus, ps = _cells(cfg)
    p = len(ids)
    M = means(mus)  # cells x p
    H = (M[:, :, None] - tau[None, None, :]) / sd[None, :, None]  # cells x p x a
    P = special.ndtr(H)
    EX = 1 + P.sum(axis=2)  # cells x p
    iu, ju = np.triu_indices(p, k=1)
    within = np.zeros((p, p))
    # variances: Var(X) = sum_ab P(y > max(tau_a, tau_b)) - P_a P_b
    na = len(tau)
    for a in range(na):
        for b in range(na):
            joint_same = P[:, :, max(a, b)]
            within[np.arange(p), np.arange(p)] += ps @ (joint_same - P[:, :, a] * P[:, :, b])
            hj = H[:, iu, a]
            hk = H[:, ju, b]
            joint = _bvn_upper(hj, hk, np.broadcast_to(rho[iu, ju], hj.shape))
            val = ps @ (joint - P[:, iu, a] * P[:, ju, b])
            within[iu, ju] += val
    within[ju, iu] = within[iu, ju]
    grand = ps @ EX
    dev = EX - grand
    cov_x = within + (dev * ps[:, None]).T @ dev
    # scoring: reverse items as 6 - X flips the sign of their covariances
    sign = np.ones(p)
    # X is in construct direction already (reverse items answered as 6 - X, scored back)
    item_mean = grand * sign
    n_lik = len(st.likert)
    n_sat = len(st.overall)

    def summaries(cov: np.ndarray) -> dict[str, Any]:
        A = np.zeros((6, p))
        alphas = {}
        for d, dim in enumerate(DIMENSIONS):
            idx = [j for j in range(n_lik) if st.likert_dim[j] == d]
            A[d, idx] = 1 / len(idx)
            sub = cov[np.ix_(idx, idx)]
            k = len(idx)
            alphas[dim] = k / (k - 1) * (1 - np.trace(sub) / sub.sum())
        sidx = list(range(n_lik, n_lik + n_sat))
        A[5, sidx] = 1 / n_sat
        sub = cov[np.ix_(sidx, sidx)]
        alphas["overall"] = n_sat / (n_sat - 1) * (1 - np.trace(sub) / sub.sum())
        cs = A @ cov @ A.T
        beta = np.linalg.solve(cs[:5, :5], cs[:5, 5])
        r2 = float(beta @ cs[:5, 5] / cs[5, 5])
        return {"alpha": alphas, "score_cov": cs, "beta": dict(zip(DIMENSIONS, beta, strict=True)),
                "r2": r2, "A": A}

    cont = summaries(cov_y)
    ordn = summaries(cov_x)
    score_mean = ordn["A"] @ item_mean
    ordn["intercept"] = float(score_mean[5] - np.array(list(ordn["beta"].values())) @ score_mean[:5])
    w = np.array([cfg.sat_weights[d] for d in DIMENSIONS])
    out = {
        "latent": {
            "dimensions": list(DIMENSIONS),
            "mean": dict(zip(DIMENSIONS, mean_eta, strict=True)),
            "cov": cov_eta,
            "weights": dict(zip(DIMENSIONS, w, strict=True)),
            "sat_mean": cfg.sat_mean,
            "sat_residual_sd": _sat_residual_sd(cfg, cov_eta),
            "r2": float(w @ cov_eta @ w),
        },
        "continuous": {
            "alpha": cont["alpha"], "beta": cont["beta"], "r2": cont["r2"],
            "note": "for the unobserved continuous responses y* (construct direction)",
        },
        "ordinal": {
            "items": ids,
            "item_mean": dict(zip(ids, item_mean, strict=True)),
            "item_cov": cov_x,
            "score_mean": dict(zip([*DIMENSIONS, "overall"], score_mean, strict=True)),
            "score_cov": ordn["score_cov"],
            "alpha": ordn["alpha"], "beta": ordn["beta"], "intercept": ordn["intercept"],
            "r2": ordn["r2"],
            "note": "for the 1-5 codes as scored (reverse-keyed items reversed), item means "
                    "before reversal are 6 - mean for CON4, ATT3, FRM4",
        },
    }
    return _jsonable(out)


# --- the simulated wave ------------------------------------------------------------------------

_PREFIX = ("希望", "建议", "", "期待", "盼望")
_TOPICS = (
    "增加网上可以办理的业务种类", "延长窗口服务时间", "周末也能办理户籍业务", "多听取群众的意见",
    "加强对外来人员的服务", "提高办事效率，减少排队等候时间", "民警态度再热情一些", "多开展安全防范宣传",
    "多设几台自助服务设备", "办事流程更公开透明", "把需要的材料一次性告知清楚", "加强夜间巡逻",
    "开通更多线上咨询渠道", "对老年人提供更多帮助", "及时回应群众反映的问题", "多到社区走访",
)
_CLOSERS = ("没有", "无", "很好，继续保持", "暂无建议", "满意", "辛苦了")
_FAKE_NAMES = ("张三", "李四", "王五")


def _suggestions(n: int, rng: np.random.Generator, cfg: SimulationConfig, with_identifiers: bool,
                 text_rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Open answers: empty, a short closer, or a substantive answer drawn from the themes of
    ``themes/k_station.yaml`` with known rates (:mod:`servicestudy._open_answers`). The draws
    from ``rng`` are the same as before the themes existed, so nothing else in the wave moves;
    the theme texts come from ``text_rng`` (spawned from ``rng`` without advancing it)."""
    from ._open_answers import compose

    out: list[str] = []
    theme_texts, raised = compose(text_rng, n)
    substantive = np.zeros(n, dtype=bool)
    kind = rng.random(n)
    rng.integers(1, 3, size=n)
    rng.integers(0, len(_PREFIX), size=n)
    rng.integers(0, len(_TOPICS), size=n)
    rng.integers(0, len(_TOPICS), size=n)
    closer = rng.integers(0, len(_CLOSERS), size=n)
    ident = rng.random(n)
    digits = rng.integers(0, 10000, size=n)
    name = rng.integers(0, len(_FAKE_NAMES), size=n)
    for i in range(n):
        if kind[i] < cfg.suggestion_empty_rate:
            out.append("")
            continue
        if kind[i] < cfg.suggestion_empty_rate + 0.12:
            text = _CLOSERS[closer[i]]
        else:
            # the draws pre/t1/t2/n_topics are kept (unused) so the main stream is unchanged
            substantive[i] = True
            text = theme_texts[i]
        if with_identifiers and ident[i] < cfg.identifier_rate:
            # obviously fake: placeholder names, 0000 blocks, region code 000000
            if digits[i] % 2 == 0:
                text += f"我是{_FAKE_NAMES[name[i]]}，电话1380000{digits[i]:04d}，欢迎联系。"
            else:
                text += f"身份证号000000199001{digits[i]:04d}00X，可核实。"
        out.append(text)
    return out, substantive, raised


@dataclasses.dataclass(frozen=True)
class SimulatedWave:
    """A simulated wave: answers, the true parameters and the injected defects.

    Attributes
    ----------
    responses
        One row per submission, columns named by codebook id: metadata (``resp_id``,
        ``submit_time``, ``duration_s``, ``source``, ``source_detail``, ``ip``), demographics as
        Chinese labels (categorical dtype in code order; the multi-select as labels joined
        with ``┋``), items as answered (codes 1-5; reverse-keyed items NOT reversed; 6 =
        不清楚; NaN = no answer) and the free-text ``suggestion`` ("" when empty).
    truth
        The true parameters and the exact implied population values (JSON-serialisable).
    defects
        Indexed like ``responses`` (by ``resp_id``): one boolean column per defect type, the
        ``defects`` string ("+"-joined, "" for none), ``duplicate_of`` (the original's
        ``resp_id`` or 0) and ``fails_attention`` (the attention check as answered).
    latent
        The latent dimensions ``eta`` and overall satisfaction ``S`` of each row.
    """

    responses: pd.DataFrame
    truth: dict[str, Any]
    defects: pd.DataFrame
    latent: pd.DataFrame


from ._open_answers import open_answer_truth  # noqa: E402  (theme rates of the open answers)


def simulate(n: int = 420, *, seed: int | None = 20220315, codebook: str | Codebook = "k_station",
             config: SimulationConfig | Mapping[str, Any] | None = None,
             with_identifiers: bool = False) -> SimulatedWave:
    """Simulate a survey wave from the study's latent-variable model.

    Parameters
    ----------
    n
        Number of submissions (rows), duplicates included.
    seed
        Seed of ``numpy.random.default_rng``; the same seed gives identical output. The
        bundled wave uses the default, 20220315.
    codebook
        The instrument; it must have the five dimensions of the study.
    config
        A :class:`SimulationConfig` or a mapping of overrides of its fields; use
        :data:`NO_DEFECTS` for a clean wave.
    with_identifiers
        Put obviously fake identifier-like strings (placeholder names, phone numbers with a
        ``0000`` block, ID-like numbers with region ``000000``) into some suggestions, for
        privacy tests. Default False.

    Returns
    -------
    SimulatedWave

    Notes
    -----
    The model is described in the module docstring and ``docs/simulation.md``. Submission
    times lie in a fixed window derived from ``start_date`` and ``days`` and the seed, never
    the wall clock. IP addresses lie in the RFC 5737 documentation ranges.

    Draws: demographics from their configured shares; latent dimensions ``eta_i = mu(g) +
    z_i``, ``z_i ~ N(0, Phi)``; items cut from ``shift_j + lambda_j eta_ic + sqrt(1 -
    lambda_j^2) e_ij`` at thresholds ``tau``; then defects, item nonresponse (MCAR and MAR)
    and don't-know answers at the configured rates. ``truth`` carries the parameters and
    :func:`implied_population`; ``defects`` says which row got which defect.

    Raises
    ------
    DataError
        ``n`` is not a positive integer, or a ``config`` override is invalid.

    References
    ----------
    Cotton, M., Vegoda, L., & Arkko, J. (2010). *IPv4 Address Blocks Reserved for
    Documentation*. RFC 5737, IETF.

    Examples
    --------
    >>> wave = simulate(50, seed=1)
    >>> wave.responses.shape[0], list(wave.responses.columns[:3])
    (50, ['resp_id', 'submit_time', 'duration_s'])
    >>> bool(wave.responses["ATT1"].dropna().isin([1, 2, 3, 4, 5, 6]).all())
    True

    Validated against: the model's own population values (:func:`implied_population`) and
    configured rates, recovered from 20,000 simulated respondents within 4.5 standard errors
    (latent weights, group effects, item means, score weights, alpha, defect, missing and
    don't-know rates), plus determinism by seed and byte-for-byte regeneration of the
    bundled wave (tests/test_simulate.py).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"n must be a positive integer; got {n!r}")
    n = int(n)
    cfg = _resolve_config(config)
    cb = load_codebook(codebook)
    st = _structure(cb)
    rng = np.random.default_rng(seed)
    core = _core(n, rng, cfg, st)
    ids: list[str] = core["ids"]
    codes = core["codes"].astype(float)  # construct direction
    col = {item: j for j, item in enumerate(ids)}
    # reverse-keyed items are answered in their own direction
    for j in range(len(st.likert)):
        if st.reverse[j]:
            codes[:, j] = 6 - codes[:, j]
    attn = np.tile(np.asarray(st.attention_expected), (n, 1))

    # --- defects ---
    kind = rng.random(n)
    straight = kind < cfg.straightliner_rate
    random_ = (kind >= cfg.straightliner_rate) & (kind < cfg.straightliner_rate + cfg.random_rate)
    speeder = rng.random(n) < cfg.speeder_rate
    attn_fail = (rng.random(n) < cfg.attention_fail_rate) & ~straight & ~random_
    sl_code = rng.choice([3, 4, 5, 2, 1], size=n, p=[0.30, 0.35, 0.25, 0.06, 0.04])
    codes[straight] = sl_code[straight, None]
    if attn.shape[1]:
        attn[straight] = sl_code[straight, None]
    rand_codes = rng.integers(1, 6, size=(n, len(ids))).astype(float)
    codes[random_] = rand_codes[random_]
    rand_attn = rng.integers(1, 6, size=attn.shape).astype(float)
    if attn.shape[1]:
        attn[random_] = rand_attn[random_]
        wrong = rng.integers(1, 5, size=attn.shape).astype(float)
        exp = np.asarray(st.attention_expected)
        wrong = np.where(wrong >= exp, wrong + 1, wrong)  # uniform over the other four codes
        attn[attn_fail] = wrong[attn_fail]
    careless = straight | random_

    # --- don't know (code 6 of agree5) and item nonresponse ---
    lik_idx = np.arange(len(st.likert))
    dk_p = np.array([cfg.dont_know_items.get(it, cfg.dont_know_rate) for it in st.likert])
    dk = (rng.random((n, len(st.likert))) < dk_p) & ~careless[:, None]
    has_dk = [cb.scale_of(it).missing_codes for it in st.likert]
    for j in lik_idx:
        if 6.0 in has_dk[j]:
            codes[dk[:, j], j] = 6
    mcar = rng.random((n, len(ids))) < cfg.mcar_rate
    codes[mcar] = np.nan
    age = core["demo"]["age_group"]
    mar_u = rng.random((n, len(cfg.mar_items)))
    mar_p = np.array([cfg.mar_rate.get(int(a), 0.0) for a in range(1, 6)])[age - 1]
    for k, item in enumerate(cfg.mar_items):
        if item in col:
            codes[(mar_u[:, k] < mar_p) & ~careless, col[item]] = np.nan

    # --- metadata ---
    start = np.datetime64(cfg.start_date, "s")
    day = rng.integers(0, cfg.days, size=n)
    sec_of_day = (rng.beta(2.2, 2.0, size=n) * 15.5 + 7.0) * 3600  # 07:00 - 22:30, peak afternoon
    t = start + (day * 86400 + sec_of_day.astype(np.int64)).astype("timedelta64[s]")
    dur = np.exp(np.log(cfg.duration_median) + cfg.duration_sdlog * rng.standard_normal(n))
    dur = np.clip(dur, 95, 1800)
    dur = np.where(straight, dur * 0.45, dur)
    dur = np.where(random_, dur * 0.6, dur)
    dur = np.where(speeder, rng.uniform(22, 70, size=n), dur)
    dur = np.round(dur).astype(np.int64)
    source = rng.choice(3, size=n, p=[0.55, 0.35, 0.10])
    octet = rng.integers(1, 255, size=n)
    prefix = rng.integers(0, 3, size=n)
    res = core["demo"]["residence"]
    loc_local = rng.choice(len(LOCAL_PLACES), size=n, p=LOCAL_PLACE_P)
    loc_migr = rng.choice(len(MIGRANT_PLACES), size=n, p=MIGRANT_PLACE_P)
    ip = [f"{IP_PREFIXES[prefix[i]]}.{octet[i]}("
          f"{LOCAL_PLACES[loc_local[i]] if res[i] == 1 else MIGRANT_PLACES[loc_migr[i]]})" for i in range(n)]
    known = rng.random((n, len(cfg.channels_known_p))) < np.asarray(cfg.channels_known_p)
    known[np.arange(n), core["demo"]["channel"] - 1] = True
    suggestions, substantive, raised = _suggestions(n, rng, cfg, with_identifiers, rng.spawn(1)[0])

    # --- duplicates: a later row copies an earlier, non-duplicate submission ---
    dup = rng.random(n) < cfg.duplicate_rate
    dup_of = np.full(n, -1)
    originals = np.flatnonzero(~dup)
    pick = rng.integers(0, max(len(originals), 1), size=n)
    gap = rng.integers(90, 900, size=n)
    jitter = rng.uniform(0.85, 1.15, size=n)
    if len(originals):
        for i in np.flatnonzero(dup):
            j = originals[pick[i]]
            dup_of[i] = j
            codes[i] = codes[j]
            attn[i] = attn[j]
            for var in core["demo"]:
                core["demo"][var][i] = core["demo"][var][j]
            core["eta"][i] = core["eta"][j]
            core["S"][i] = core["S"][j]
            known[i] = known[j]
            ip[i] = ip[j]
            suggestions[i] = suggestions[j]
            substantive[i], raised[i] = substantive[j], raised[j]
            source[i] = source[j]
            t[i] = t[j] + np.timedelta64(int(gap[i]), "s")
            dur[i] = max(20, int(np.rint(dur[j] * jitter[i])))
            straight[i], random_[i], speeder[i], attn_fail[i] = straight[j], random_[j], speeder[j], attn_fail[j]
    else:
        dup[:] = False

    # --- order by submission time; 序号 follows it ---
    order = np.lexsort((np.arange(n), t.astype(np.int64)))
    new_pos = np.empty(n, dtype=np.int64)
    new_pos[order] = np.arange(n)
    resp_id = new_pos + 1

    meta = cb.meta
    data: dict[str, Any] = {
        meta["respondent_id"].id: resp_id,
        meta["submit_time"].id: t.astype("datetime64[s]"),
        meta["duration"].id: dur,
        meta["source"].id: np.array(SOURCES)[source],
        meta["source_detail"].id: np.where(source == 1, "N/A", "直接访问"),
        meta["ip"].id: ip,
    }
    for var, cat in cb.categoricals.items():
        labels = [c.zh for c in cat.categories]
        if cat.multiple:
            if var == "channels_known":
                data[var] = [MULTI_SEP.join(lab for lab, k in zip(labels, row, strict=True) if k) for row in known]
            continue
        codes_v = core["demo"].get(var)
        if codes_v is None:
            raise DataError(f"the simulation model has no distribution for categorical {var!r}")
        data[var] = pd.Categorical.from_codes(codes_v - 1, categories=labels, ordered=cat.ordered)
    for item in cb.items:
        if item in col:
            data[item] = codes[:, col[item]]
        elif item in st.attention:
            data[item] = attn[:, st.attention.index(item)]
    for tid in cb.texts:
        data[tid] = suggestions
    frame = pd.DataFrame(data)
    frame = frame.iloc[order].reset_index(drop=True)

    d = pd.DataFrame({
        "straightliner": straight, "random": random_, "speeder": speeder, "duplicate": dup,
        "attention_fail": attn_fail,
    })
    flags = d[list(DEFECT_TYPES)].to_numpy(dtype=bool)
    d["defects"] = ["+".join(k for k, f in zip(DEFECT_TYPES, row, strict=True) if f) for row in flags.tolist()]
    d["duplicate_of"] = np.where(dup_of >= 0, resp_id[np.maximum(dup_of, 0)], 0)
    if st.attention:
        d["fails_attention"] = np.any(attn != np.asarray(st.attention_expected), axis=1)
    else:
        d["fails_attention"] = False
    d = d.iloc[order].reset_index(drop=True)
    d.index = pd.Index(frame[meta["respondent_id"].id].to_numpy(), name=meta["respondent_id"].id)
    latent = pd.DataFrame(np.column_stack([core["eta"], core["S"]]), columns=[*DIMENSIONS, "overall"])
    latent = latent.iloc[order].reset_index(drop=True)
    latent.index = d.index

    truth = {
        "simulated": True,
        "model": "servicestudy.simulate latent-variable model (docs/simulation.md)",
        "seed": seed, "n": n, "codebook": cb.study.get("id"),
        "codebook_sha256": cb.sha256,
        "with_identifiers": with_identifiers,
        "parameters": cfg.to_dict(),
        "structure": {"likert": list(st.likert), "reverse": [i for i, r in zip(st.likert, st.reverse, strict=True) if r],
                      "overall": list(st.overall), "importance": list(st.importance),
                      "attention": dict(zip(st.attention, st.attention_expected, strict=True))},
        "implied": implied_population(cfg, codebook=cb),
        "realised": {k: int(d[k].sum()) for k in DEFECT_TYPES},
        "open_answers": open_answer_truth(max(0.0, 1.0 - cfg.suggestion_empty_rate - 0.12), raised, substantive),
    }
    return SimulatedWave(responses=frame, truth=_jsonable(truth), defects=d, latent=latent)


# --- writers ------------------------------------------------------------------------------------


def _questions(cb: Codebook) -> list[tuple[int, str, list[str]]]:
    """Question numbering as the questionnaire shows it: (number, kind, column ids).

    Categoricals and texts are single questions; consecutive rated items that share a
    construct (or role) and scale form one matrix question; attention checks join the
    matrix they sit in.
    """
    qs: list[tuple[int, str, list[str]]] = []
    number = 0
    for var, cat in cb.categoricals.items():
        number += 1
        qs.append((number, "multi" if cat.multiple else "single", [var]))
    run: list[str] = []
    key: tuple[str, str] | None = None
    for it in cb.items.values():
        k = (it.construct or it.role, it.scale)
        if it.role == "attention" and run and it.scale == cb.items[run[-1]].scale:
            run.append(it.id)
            continue
        if run and k == key:
            run.append(it.id)
            continue
        if run:
            number += 1
            qs.append((number, "matrix" if len(run) > 1 else "single", run))
        run, key = [it.id], k
    if run:
        number += 1
        qs.append((number, "matrix" if len(run) > 1 else "single", run))
    for tid in cb.texts:
        number += 1
        qs.append((number, "text", [tid]))
    return qs


def _fmt_time(ts: Any) -> str:
    t = pd.Timestamp(ts)
    return f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}:{t.second:02d}"


def wenjuanxing_table(responses: pd.DataFrame, codebook: str | Codebook = "k_station", *,
                      download: str = "text") -> pd.DataFrame:
    """The answers laid out as Wenjuanxing's "download responses" table (object cells).

    Parameters
    ----------
    responses
        ``SimulatedWave.responses`` (columns named by codebook id).
    codebook
        The instrument.
    download
        ``"text"`` (按选项文本: option labels, multi-select joined with ``┋``) or ``"code"``
        (按选项序号: option numbers, multi-select expanded into ``第N题(选项)`` 0/1 columns).

    Returns
    -------
    pandas.DataFrame
        Headers as Wenjuanxing writes them: 序号, 提交答卷时间, 所用时间 ("125秒"), 来源,
        来源详情, 来自IP, then ``N、题干`` for single questions and ``N(子问题)`` for the rows of
        a matrix question. Missing answers are ``None`` (empty cells).

    Examples
    --------
    >>> t = wenjuanxing_table(simulate(3, seed=1).responses, download="code")
    >>> list(t.columns[:7])
    ['序号', '提交答卷时间', '所用时间', '来源', '来源详情', '来自IP', '1、您的性别']
    """
    if download not in ("text", "code"):
        raise DataError(f"The 'download' parameter of wenjuanxing_table must be one of 'text', 'code'. Got {download!r} instead.")
    cb = load_codebook(codebook)
    missing = [c for c in cb.columns() if c not in responses.columns]
    if missing:
        raise DataError(f"responses lack the codebook column(s) {', '.join(missing)}")
    m = cb.meta
    n = len(responses)
    cols: dict[str, list[Any]] = {
        "序号": [int(v) for v in responses[m["respondent_id"].id]],
        "提交答卷时间": [_fmt_time(v) for v in responses[m["submit_time"].id]],
        "所用时间": [f"{int(v)}秒" for v in responses[m["duration"].id]],
        "来源": [str(v) for v in responses[m["source"].id]],
        "来源详情": [str(v) for v in responses[m["source_detail"].id]],
        "来自IP": [str(v) for v in responses[m["ip"].id]],
    }

    def label_or_none(v: Any) -> Any:
        return None if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else v

    for number, kind, ids in _questions(cb):
        if kind in ("single", "multi") and ids[0] in cb.categoricals:
            cat = cb.categoricals[ids[0]]
            values = responses[ids[0]]
            if kind == "multi":
                if download == "text":
                    cols[f"{number}、{cat.zh}"] = [label_or_none(v) or None for v in values]
                else:
                    chosen = [set(str(v).split(MULTI_SEP)) if label_or_none(v) else set() for v in values]
                    for c in cat.categories:
                        cols[f"第{number}题({c.zh})"] = [int(c.zh in s) for s in chosen]
                continue
            lab2code = {c.zh: int(c.code) for c in cat.categories}
            if download == "text":
                cols[f"{number}、{cat.zh}"] = [label_or_none(v) for v in values]
            else:
                cols[f"{number}、{cat.zh}"] = [None if label_or_none(v) is None else lab2code[str(v)] for v in values]
        elif kind == "text":
            tq = cb.texts[ids[0]]
            cols[f"{number}、{tq.zh}"] = [label_or_none(v) or None for v in responses[ids[0]]]
        else:
            for item in ids:
                it = cb.items[item]
                scale = cb.scales[it.scale]
                head = f"{number}({it.zh})" if kind == "matrix" else f"{number}、{it.zh}"
                vals = responses[item].to_numpy(dtype=float)
                if download == "text":
                    cols[head] = [None if math.isnan(v) else scale.label_of(v) for v in vals]
                else:
                    cols[head] = [None if math.isnan(v) else int(v) for v in vals]
    out = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})
    if len(out) != n:  # pragma: no cover - defensive
        raise DataError("internal error: table length changed")
    return out


_CORE_TIME_RE = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _repack_deterministic(raw: bytes) -> bytes:
    """Re-pack an xlsx with fixed zip timestamps, a fixed entry order and fixed core times."""
    src = zipfile.ZipFile(_io.BytesIO(raw))
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME_RE.sub(lambda mt: mt.group(1) + FIXED_DOC_TIME.encode() + mt.group(3), data)
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            zi.create_system = 0
            dst.writestr(zi, data, compresslevel=6)
    return buf.getvalue()


def write_wenjuanxing(responses: pd.DataFrame, path: str | Path, codebook: str | Codebook = "k_station", *,
                      download: str = "text") -> Path:
    """Write the answers as a Wenjuanxing export: ``.xlsx`` (byte-deterministic) or ``.csv``.

    Parameters
    ----------
    responses
        ``SimulatedWave.responses``.
    path
        Output file; the suffix chooses the format: ``.xlsx`` (sheet ``Sheet1``, as
        Wenjuanxing) or ``.csv`` (UTF-8 with BOM, as Wenjuanxing's CSV download).
    codebook
        The instrument.
    download
        ``"text"`` or ``"code"``, see :func:`wenjuanxing_table`.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    The xlsx is written with openpyxl and re-packed with fixed zip timestamps and fixed
    ``docProps/core.xml`` times, so the same answers always give the same bytes. The layout
    is that of :func:`wenjuanxing_table`: the six meta columns in Wenjuanxing's order,
    ``N、stem`` headers, ``N(sub item)`` for matrix rows, multi-select answers joined with
    ``┋`` (text download) or ``第N题(option)`` 0/1 columns (code download). Reverse-keyed items
    are written as answered. The file is written atomically.

    Raises
    ------
    DataError
        The suffix is neither ``.xlsx`` nor ``.csv``.

    References
    ----------
    ECMA International (2021). *ECMA-376: Office Open XML File Formats* (5th ed.).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> wave = simulate(20, seed=2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     a = write_wenjuanxing(wave.responses, pathlib.Path(d) / "a.xlsx")
    ...     b = write_wenjuanxing(wave.responses, pathlib.Path(d) / "b.xlsx")
    ...     print(a.name, a.read_bytes() == b.read_bytes())
    a.xlsx True

    Tested on: the layout of the real Wenjuanxing exports (tests/test_simulate.py with the
    fixtures), text and code downloads decoding to the same answers, fixed zip and core
    times, CSV output, and reading back with :func:`servicestudy.io.read_export`
    (tests/test_simulate.py).
    """
    path = Path(path)
    table = wenjuanxing_table(responses, codebook, download=download)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = table.to_csv(index=False, lineterminator="\r\n")
        return atomic_write_bytes(path, ("\ufeff" + text).encode("utf-8"))
    if suffix != ".xlsx":
        raise DataError(f"write_wenjuanxing writes .xlsx or .csv files; got {path.name!r}")
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    fixed = _dt.datetime(2022, 1, 1, 0, 0, 0)
    wb.properties.creator = "servicestudy"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append(list(row))
    buf = _io.BytesIO()
    wb.save(buf)
    return atomic_write_bytes(path, _repack_deterministic(buf.getvalue()))


def write_sav(responses: pd.DataFrame, path: str | Path, codebook: str | Codebook = "k_station") -> Path:
    """Write the answers as an SPSS ``.sav`` file with variable and value labels.

    Variables are named by codebook id (the multi-select as ``<id>__<code>`` 0/1 variables, as ``read_export`` names them),
    carry the Chinese question text as variable label and the codebook's value labels
    (including missing codes such as 6 = 不清楚, declared as user-missing). The file embeds
    its creation time (ReadStat), so it is not byte-deterministic.
    """
    import pyreadstat

    cb = load_codebook(codebook)
    m = cb.meta
    out: dict[str, Any] = {}
    labels: dict[str, str] = {}
    value_labels: dict[str, dict[float, str]] = {}
    user_missing: dict[str, list[float]] = {}
    out[m["respondent_id"].id] = responses[m["respondent_id"].id].astype("int64")
    labels[m["respondent_id"].id] = "序号"
    out[m["submit_time"].id] = pd.to_datetime(responses[m["submit_time"].id]).astype("datetime64[ns]")
    labels[m["submit_time"].id] = "提交答卷时间"
    out[m["duration"].id] = responses[m["duration"].id].astype("float64")
    labels[m["duration"].id] = "所用时间（秒）"
    for role, lab in (("source", "来源"), ("source_detail", "来源详情"), ("ip", "来自IP")):
        out[m[role].id] = responses[m[role].id].astype(object).map(str)
        labels[m[role].id] = lab
    for var, cat in cb.categoricals.items():
        if cat.multiple:
            chosen = [set(str(v).split(MULTI_SEP)) if isinstance(v, str) and v else set() for v in responses[var]]
            for c in cat.categories:
                name = f"{var}__{int(c.code)}"
                out[name] = np.array([float(c.zh in s) for s in chosen])
                labels[name] = f"{cat.zh}：{c.zh}"
                value_labels[name] = {0.0: "未选", 1.0: "选中"}
            continue
        lab2code = {c.zh: float(c.code) for c in cat.categories}
        out[var] = np.array([np.nan if pd.isna(v) else lab2code[str(v)] for v in responses[var]])
        labels[var] = cat.zh
        value_labels[var] = {float(c.code): c.zh for c in cat.categories}
    for item, it in cb.items.items():
        scale = cb.scales[it.scale]
        out[item] = responses[item].to_numpy(dtype=float)
        labels[item] = it.zh
        value_labels[item] = {float(lv.code): lv.zh for lv in (*scale.levels, *scale.missing)}
        if scale.missing:
            user_missing[item] = [float(lv.code) for lv in scale.missing]
    for tid, tq in cb.texts.items():
        out[tid] = responses[tid].astype(object).map(lambda v: "" if pd.isna(v) else str(v))
        labels[tid] = tq.zh
    frame = pd.DataFrame(out)
    with atomic_path(path) as tmp:
        pyreadstat.write_sav(frame, str(tmp), column_labels=[labels[c] for c in frame.columns],
                             variable_value_labels=value_labels, missing_ranges=user_missing)
    return Path(path)


def write_truth(truth: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``SimulatedWave.truth`` as pretty-printed JSON (UTF-8, sorted keys, full precision)."""
    text = json.dumps(_jsonable(truth), ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode("utf-8"))


class _CallableModule(_types.ModuleType):
    """This module shares its name with its main function (``servicestudy.simulate``).

    Importing the submodule (``import servicestudy.simulate`` or ``from servicestudy.simulate
    import ...``) sets the package attribute ``servicestudy.simulate`` to the module, which
    would shadow the function that ``servicestudy.__init__`` exports lazily. Making the module
    callable keeps ``servicestudy.simulate(n, seed=...)`` working in either import order.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> SimulatedWave:
        return simulate(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
