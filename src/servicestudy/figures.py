"""Figures for the report and the notebooks (matplotlib).

Every plotting function takes data (a DataFrame) or a result object, an optional ``ax`` and
keyword-only options, draws on the Axes and returns it. Nothing here saves or shows a figure:
:func:`servicestudy.report.save_figure` does that, after :func:`check_glyphs` has confirmed
that the font can render every character.

One style for all figures: :data:`STYLE` (an ``rcParams`` dict) applied by :func:`style`, a
context manager that also registers the OFL font Noto Sans SC shipped by
``pylopdf_fonts_zh_cn`` with matplotlib, so Chinese labels render without system fonts.

Examples
--------
>>> import pandas as pd
>>> from servicestudy import figures
>>> frame = pd.DataFrame({"estimate": [3.4, 3.9], "ci_low": [3.2, 3.7], "ci_high": [3.6, 4.1]},
...                      index=["服务效率", "服务态度"])
>>> with figures.style():
...     ax = figures.dimension_means(frame)
>>> [t.get_text() for t in ax.get_yticklabels()]
['服务效率', '服务态度']
>>> figures.check_glyphs(ax.figure)
>>> import matplotlib.pyplot as plt; plt.close("all")
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, OutputError

__all__ = [
    "STYLE",
    "check_glyphs",
    "coefficient_plot",
    "correlation_heatmap",
    "dimension_means",
    "figure_text",
    "font_path",
    "group_means",
    "ipa_plot",
    "likert_bars",
    "loadings_heatmap",
    "register_fonts",
    "respondent_flow",
    "scree_plot",
    "style",
]

FONT_FAMILY = "Noto Sans SC"

#: Colours: a diverging palette for Likert categories (negative -> positive) and accents.
NEGATIVE = ("#b2182b", "#ef8a62", "#fddbc7")
NEUTRAL = "#d9d9d9"
POSITIVE = ("#d1e5f0", "#67a9cf", "#2166ac")
ACCENT = "#2166ac"
ACCENT2 = "#b2182b"
GREY = "#636363"

#: The rcParams every servicestudy figure is drawn with.
STYLE: dict[str, Any] = {
    "font.family": [FONT_FAMILY],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "normal",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "axes.unicode_minus": True,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "figure.figsize": (6.4, 3.6),
    "svg.hashsalt": "servicestudy",
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "image.cmap": "RdBu_r",
}


def font_path() -> str:
    """Path of the Noto Sans SC font file (package ``pylopdf_fonts_zh_cn``)."""
    try:
        import pylopdf_fonts_zh_cn
    except ImportError as exc:  # pragma: no cover - a locked dependency
        raise OutputError(
            "the font package pylopdf_fonts_zh_cn is not installed",
            expected="the locked environment (make venv)",
        ) from exc
    return str(pylopdf_fonts_zh_cn.sans_path())


@functools.cache
def register_fonts() -> str:
    """Register Noto Sans SC with matplotlib's font manager (once) and return its family."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(font_path())
    return FONT_FAMILY


@functools.cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(font_path(), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager: draw with :data:`STYLE` and the registered Chinese font."""
    import matplotlib as mpl

    register_fonts()
    with mpl.rc_context(STYLE):
        yield


def figure_text(fig: Any) -> list[str]:
    """Every visible string drawn on ``fig`` (titles, labels, ticks, legends, annotations)."""
    from matplotlib.text import Text

    out = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text():
            out.append(t.get_text())
    return out


def check_glyphs(fig: Any) -> None:
    """Raise :class:`~servicestudy.errors.OutputError` if any text on ``fig`` uses a character
    that Noto Sans SC cannot render (it would come out as an empty box).

    Mathtext (``$...$``) is checked as its literal characters, which is stricter than needed.
    """
    cmap = _cmap()
    missing: dict[str, str] = {}
    for text in figure_text(fig):
        for ch in text:
            if ch in "\n\r\t" or ord(ch) in cmap:
                continue
            missing.setdefault(ch, text)
    if missing:
        listed = ", ".join(f"{ch!r} (U+{ord(ch):04X}) in {txt!r}" for ch, txt in missing.items())
        raise OutputError(
            f"figure text has characters the font {FONT_FAMILY} cannot render: {listed}",
            expected="labels the font covers (change the label or the codebook text)",
        )


# --- helpers ---------------------------------------------------------------------------


def _axes(ax: Any, figsize: tuple[float, float] | None = None) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    register_fonts()
    _, ax = plt.subplots(figsize=figsize)
    return ax


def _frame(obj: Any, what: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        return obj.to_frame()
    if hasattr(obj, "to_frame"):
        return obj.to_frame()
    raise DataError(f"{what}: expected a DataFrame or a result with to_frame(), got {type(obj).__name__}")


def _need(frame: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: missing column(s) {', '.join(map(repr, missing))}",
            expected=f"columns {', '.join(cols)}",
        )


# --- Likert items ------------------------------------------------------------------------


def likert_bars(
    data: pd.DataFrame,
    *,
    levels: Mapping[float, str] | Sequence[float] | None = None,
    labels: Mapping[str, str] | None = None,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "%",
) -> Any:
    """Diverging stacked bars of Likert items, centred on the neutral category.

    Parameters
    ----------
    data
        One column per item, cells are response codes (missing as NaN).
    levels
        The valid codes in order, or ``{code: label}`` (the legend). Default: the sorted
        distinct codes found. With an odd number of levels the middle one is the neutral
        category and is split half left, half right of zero; with an even number the bars
        are centred between the two middle categories.
    labels
        ``{item: label}`` for the y axis (default: the column names).

    Returns
    -------
    matplotlib.axes.Axes
        Percentages of valid answers per item; negative categories to the left of zero.
    """
    if not isinstance(data, pd.DataFrame) or data.shape[1] == 0:
        raise DataError("likert_bars: expected a DataFrame with at least one item column")
    if levels is None:
        codes = sorted(pd.unique(data.stack().dropna()))
        names = {c: f"{c:g}" for c in codes}
    elif isinstance(levels, Mapping):
        codes = list(levels)
        names = dict(levels)
    else:
        codes = list(levels)
        names = {c: f"{c:g}" for c in codes}
    k = len(codes)
    if k < 2:
        raise DataError("likert_bars: expected at least two response levels")
    counts = np.column_stack([(data.to_numpy(dtype=float) == c).sum(axis=0) for c in codes])
    totals = counts.sum(axis=1, keepdims=True)
    if (totals == 0).any():
        empty = [str(c) for c, t in zip(data.columns, totals[:, 0], strict=True) if t == 0]
        raise DataError(f"likert_bars: item(s) {', '.join(empty)} have no valid answers")
    pct = 100.0 * counts / totals
    half = k // 2
    if k % 2:
        left = pct[:, :half].sum(axis=1) + pct[:, half] / 2
    else:
        left = pct[:, :half].sum(axis=1)
    colours = list(NEGATIVE[3 - half:]) if half <= 3 else _ramp(NEGATIVE, half)
    if k % 2:
        colours.append(NEUTRAL)
    colours += list(POSITIVE[:half]) if half <= 3 else _ramp(POSITIVE, half)
    ax = _axes(ax, (6.4, 0.32 * len(data.columns) + 1.2))
    ypos = np.arange(len(data.columns))[::-1]
    start = -left
    for j, code in enumerate(codes):
        ax.barh(ypos, pct[:, j], left=start, color=colours[j], edgecolor="white", linewidth=0.4,
                height=0.7, label=names[code])
        start = start + pct[:, j]
    ax.axvline(0, color=GREY, linewidth=0.8)
    ax.set_yticks(ypos)
    ax.set_yticklabels([(labels or {}).get(c, str(c)) for c in data.columns])
    lim = max(float(left.max()), float((100 - left).max()))
    lim = min(100.0, 10 * np.ceil(lim / 10))
    ax.set_xlim(-lim, lim)
    ticks = np.arange(-lim, lim + 1, 20 if lim > 50 else 10)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{abs(t):.0f}" for t in ticks])
    ax.set_xlabel(xlabel)
    ax.legend(ncol=k, loc="lower center", bbox_to_anchor=(0.5, 1.0), handlelength=1.0,
              columnspacing=0.8, borderaxespad=0.3)
    if title:
        ax.set_title(title, pad=22)
    return ax


def _ramp(base: Sequence[str], n: int) -> list[str]:
    from matplotlib.colors import LinearSegmentedColormap, to_hex

    cmap = LinearSegmentedColormap.from_list("ramp", list(base))
    return [to_hex(cmap(x)) for x in np.linspace(0, 1, n)]


# --- means and intervals -------------------------------------------------------------------


def dimension_means(
    summary: Any,
    *,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "",
    midpoint: float | None = 3.0,
    xlim: tuple[float, float] | None = (1.0, 5.0),
) -> Any:
    """Dimension (or item) means with confidence intervals, one row each.

    ``summary`` is a DataFrame (or a result with ``to_frame()``) indexed by the labels to show,
    with columns ``estimate``, ``ci_low``, ``ci_high``. A dashed line marks the scale
    midpoint.
    """
    frame = _frame(summary, "dimension_means")
    _need(frame, ("estimate", "ci_low", "ci_high"), "dimension_means")
    ax = _axes(ax, (6.4, 0.35 * len(frame) + 1.0))
    y = np.arange(len(frame))[::-1]
    est = frame["estimate"].to_numpy(float)
    err = np.vstack([est - frame["ci_low"].to_numpy(float), frame["ci_high"].to_numpy(float) - est])
    ax.errorbar(est, y, xerr=err, fmt="o", color=ACCENT, ecolor=ACCENT, capsize=3, markersize=5)
    if midpoint is not None:
        ax.axvline(midpoint, color=GREY, linestyle="--", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([str(i) for i in frame.index])
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_ylim(-0.6, len(frame) - 0.4)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return ax


def group_means(
    summary: Any,
    *,
    group: str = "group",
    panel: str | None = None,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "",
    midpoint: float | None = 3.0,
    xlim: tuple[float, float] | None = (1.0, 5.0),
) -> Any:
    """Means with confidence intervals by group.

    ``summary`` has one row per (``panel``, ``group``) with columns ``estimate``, ``ci_low``,
    ``ci_high``, the ``group`` column and, optionally, a ``panel`` column (e.g. the dimension):
    each panel is a block of rows on the y axis, groups are colours.
    """
    frame = _frame(summary, "group_means").reset_index(drop=False)
    _need(frame, ("estimate", "ci_low", "ci_high", group), "group_means")
    groups = list(dict.fromkeys(frame[group].astype(str)))
    panels = list(dict.fromkeys(frame[panel].astype(str))) if panel else [""]
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    ax = _axes(ax, (6.4, 0.45 * len(panels) * max(1, len(groups)) ** 0.5 + 1.2))
    step = 0.7 / max(1, len(groups))
    for g_i, g in enumerate(groups):
        sub = frame[frame[group].astype(str) == g]
        ys, est, lo, hi = [], [], [], []
        for _, row in sub.iterrows():
            p_i = panels.index(str(row[panel])) if panel else 0
            ys.append(len(panels) - 1 - p_i + 0.35 - step * (g_i + 0.5))
            est.append(float(row["estimate"]))
            lo.append(float(row["ci_low"]))
            hi.append(float(row["ci_high"]))
        est_a = np.asarray(est)
        ax.errorbar(est_a, ys, xerr=np.vstack([est_a - lo, np.asarray(hi) - est_a]), fmt="o",
                    color=palette(g_i % 10), capsize=2, markersize=4, label=g)
    if midpoint is not None:
        ax.axvline(midpoint, color=GREY, linestyle="--", linewidth=0.8)
    ax.set_yticks(np.arange(len(panels))[::-1])
    ax.set_yticklabels(panels)
    if xlim is not None:
        ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=min(len(groups), 5))
    if title:
        ax.set_title(title)
    return ax


# --- importance-performance ------------------------------------------------------------------


def ipa_plot(
    result: Any,
    *,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "Performance",
    ylabel: str = "Importance",
    quadrant_labels: Sequence[str] | None = None,
    x_cut: float | None = None,
    y_cut: float | None = None,
) -> Any:
    """Importance-performance quadrant plot.

    ``result`` has one row per attribute (index = label) with columns ``performance`` and
    ``importance``. The cross-hairs are at ``x_cut``/``y_cut`` (default: the means of the
    columns, the data-centred IPA of Martilla & James 1977). ``quadrant_labels`` are, in order,
    top-left, top-right, bottom-left, bottom-right (default "Concentrate here", "Keep up the
    good work", "Low priority", "Possible overkill").
    """
    frame = _frame(result, "ipa_plot")
    _need(frame, ("performance", "importance"), "ipa_plot")
    x = frame["performance"].to_numpy(float)
    y = frame["importance"].to_numpy(float)
    xc = float(np.mean(x)) if x_cut is None else float(x_cut)
    yc = float(np.mean(y)) if y_cut is None else float(y_cut)
    ax = _axes(ax, (5.6, 4.4))
    ax.scatter(x, y, color=ACCENT, s=28, zorder=3)
    for (xi, yi), name, dy_pt in zip(zip(x, y, strict=True), frame.index, _label_offsets(x, y), strict=True):
        ax.annotate(str(name), (xi, yi), xytext=(5, dy_pt), textcoords="offset points", fontsize=8,
                    va="center", arrowprops={"arrowstyle": "-", "color": GREY, "linewidth": 0.5}
                    if dy_pt else None)
    ax.axvline(xc, color=GREY, linestyle="--", linewidth=0.8)
    ax.axhline(yc, color=GREY, linestyle="--", linewidth=0.8)
    dx = max(float(np.ptp(x)), 0.2) * 0.35
    dy = max(float(np.ptp(y)), 0.2) * 0.35
    ax.set_xlim(min(x.min(), xc) - dx, max(x.max(), xc) + dx)
    ax.set_ylim(min(y.min(), yc) - dy, max(y.max(), yc) + dy)
    q = list(quadrant_labels or ("Concentrate here", "Keep up the good work", "Low priority",
                                 "Possible overkill"))
    kw = {"transform": ax.transAxes, "fontsize": 8, "color": GREY, "style": "italic"}
    ax.text(0.02, 0.98, q[0], ha="left", va="top", **kw)
    ax.text(0.98, 0.98, q[1], ha="right", va="top", **kw)
    ax.text(0.02, 0.02, q[2], ha="left", va="bottom", **kw)
    ax.text(0.98, 0.02, q[3], ha="right", va="bottom", **kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


def _label_offsets(x: np.ndarray, y: np.ndarray, min_gap: float = 11.0) -> list[float]:
    """Vertical label offsets (points) that keep labels of nearby points from overlapping.

    Points are taken in order of ``y``; a label closer than ``min_gap`` points (in data units,
    approximated on a 4-inch-high axis) to the previous one is pushed up.
    """
    if len(y) == 0:
        return []
    span_x = max(float(np.ptp(x)), 1e-9)
    span_y = max(float(np.ptp(y)), 1e-9)
    scale = 4 * 72 / (span_y * 1.7)  # points per data unit, roughly
    order = np.argsort(y, kind="stable")
    offsets = [0.0] * len(y)
    placed: list[tuple[float, float]] = []  # (x, label y in points)
    for i in order:
        pos = float(y[i]) * scale
        for px, py in placed:
            if abs(float(x[i]) - px) < 0.35 * span_x and abs(pos - py) < min_gap:
                pos = py + min_gap
        offsets[i] = pos - float(y[i]) * scale
        placed.append((float(x[i]), pos))
    return offsets


# --- matrices ----------------------------------------------------------------------------------


def _heatmap(matrix: pd.DataFrame, ax: Any, vmin: float, vmax: float, fmt: str,
             title: str | None, figsize: tuple[float, float], cmap: str = "RdBu_r") -> Any:
    ax = _axes(ax, figsize)
    values = matrix.to_numpy(float)
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(np.arange(matrix.shape[1]))
    ax.set_xticklabels([str(c) for c in matrix.columns], rotation=90)
    ax.set_yticks(np.arange(matrix.shape[0]))
    ax.set_yticklabels([str(i) for i in matrix.index])
    if matrix.size <= 400:
        for (i, j), v in np.ndenumerate(values):
            if np.isfinite(v):
                ax.text(j, i, format(v, fmt).replace("-", "\u2212"), ha="center", va="center",
                        fontsize=6, color="white" if abs(v) > 0.6 * vmax else "black")
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
    return ax


def correlation_heatmap(corr: pd.DataFrame, *, ax: Any = None, title: str | None = None,
                        annotate_format: str = ".2f") -> Any:
    """Heatmap of a correlation matrix (diverging colours from -1 to 1)."""
    if not isinstance(corr, pd.DataFrame) or corr.shape[0] != corr.shape[1]:
        raise DataError("correlation_heatmap: expected a square DataFrame (a correlation matrix)")
    n = corr.shape[0]
    return _heatmap(corr, ax, -1.0, 1.0, annotate_format, title,
                    (max(4.0, 0.3 * n + 1.5), max(3.5, 0.3 * n + 1.0)))


def loadings_heatmap(loadings: Any, *, ax: Any = None, title: str | None = None,
                     annotate_format: str = ".2f") -> Any:
    """Heatmap of a factor loadings matrix (items by factors)."""
    frame = _frame(loadings, "loadings_heatmap")
    frame = frame.select_dtypes("number")
    if frame.empty:
        raise DataError("loadings_heatmap: expected a numeric items-by-factors DataFrame")
    return _heatmap(frame, ax, -1.0, 1.0, annotate_format, title,
                    (0.7 * frame.shape[1] + 2.5, 0.25 * frame.shape[0] + 1.2))


def scree_plot(
    eigenvalues: Any,
    *,
    simulated: Any = None,
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "Factor number",
    ylabel: str = "Eigenvalue",
    observed_label: str = "Observed",
    simulated_label: str = "Parallel analysis (simulated)",
) -> Any:
    """Scree plot of observed eigenvalues, with the parallel-analysis reference line.

    ``eigenvalues`` and ``simulated`` are sequences (or Series) of the same length, in
    decreasing order of the observed values.
    """
    obs = np.asarray(eigenvalues, dtype=float).ravel()
    if obs.size == 0:
        raise DataError("scree_plot: expected at least one eigenvalue")
    ax = _axes(ax, (5.6, 3.4))
    k = np.arange(1, obs.size + 1)
    ax.plot(k, obs, "o-", color=ACCENT, markersize=4, label=observed_label)
    if simulated is not None:
        sim = np.asarray(simulated, dtype=float).ravel()
        ax.plot(np.arange(1, sim.size + 1), sim, "s--", color=ACCENT2, markersize=3,
                label=simulated_label)
    ax.axhline(1.0, color=GREY, linewidth=0.6, linestyle=":")
    ax.set_xticks(k)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# --- regression ---------------------------------------------------------------------------------


def coefficient_plot(
    coefficients: Any,
    *,
    estimate: str = "beta",
    ax: Any = None,
    title: str | None = None,
    xlabel: str = "Standardized coefficient (β)",
) -> Any:
    """Forest plot of (standardized) regression coefficients with confidence intervals.

    ``coefficients`` is indexed by term label with columns ``estimate`` (default ``beta``),
    ``ci_low`` and ``ci_high``. Rows with a missing estimate (e.g. the intercept for betas) are
    left out.
    """
    frame = _frame(coefficients, "coefficient_plot")
    _need(frame, (estimate, "ci_low", "ci_high"), "coefficient_plot")
    frame = frame[frame[estimate].notna()]
    ax = _axes(ax, (5.6, 0.35 * len(frame) + 1.2))
    y = np.arange(len(frame))[::-1]
    est = frame[estimate].to_numpy(float)
    err = np.vstack([est - frame["ci_low"].to_numpy(float), frame["ci_high"].to_numpy(float) - est])
    ax.errorbar(est, y, xerr=err, fmt="s", color=ACCENT, capsize=3, markersize=5)
    ax.axvline(0, color=GREY, linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([str(i) for i in frame.index])
    ax.set_ylim(-0.6, len(frame) - 0.4)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return ax


# --- respondent flow ------------------------------------------------------------------------------


def respondent_flow(
    flow: Any,
    *,
    step: str = "step",
    n: str = "n_remaining",
    excluded: str = "n_excluded",
    ax: Any = None,
    title: str | None = None,
    none_label: str = "No exclusions",
) -> Any:
    """Respondent flow (CONSORT style): the first and last steps as boxes on the main line,
    each exclusion step as a side box with its count.

    ``flow`` has one row per step, in order, with a label column ``step``, the count remaining
    after it ``n`` and the number excluded at it ``excluded``. The first row is the start (all
    submissions) and the last the analysed sample; exclusion steps that removed no one are
    listed together in one grey note (``none_label``).
    """
    frame = _frame(flow, "respondent_flow")
    if step not in frame.columns:
        frame = frame.rename_axis(step).reset_index()
    _need(frame, (step, n, excluded), "respondent_flow")
    if len(frame) < 2:
        raise DataError("respondent_flow: expected at least a first and a last step")
    first, last = frame.iloc[0], frame.iloc[-1]
    middle = frame.iloc[1:-1]
    hits = middle[middle[excluded].fillna(0).astype(int) > 0]
    zero = middle[middle[excluded].fillna(0).astype(int) == 0]
    rows = max(len(hits), 1) + (1 if len(zero) else 0)
    ax = _axes(ax, (6.4, 0.55 * rows + 1.6))
    top, bottom = rows + 1.0, 0.0
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom - 0.5, top + 0.5)
    ax.axis("off")
    main = {"ha": "center", "va": "center", "fontsize": 8.5,
            "bbox": {"boxstyle": "round,pad=0.45", "facecolor": "#f0f0f0", "edgecolor": GREY}}
    ax.text(0.28, top, f"{first[step]}\nn = {int(first[n])}", **main)
    ax.text(0.28, bottom, f"{last[step]}\nn = {int(last[n])}", **main)
    ax.annotate("", xy=(0.28, bottom + 0.42), xytext=(0.28, top - 0.42),
                arrowprops={"arrowstyle": "->", "color": GREY, "linewidth": 1.0})
    side = {"ha": "left", "va": "center", "fontsize": 7.5,
            "bbox": {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": ACCENT2}}
    for k, (_, row) in enumerate(hits.iterrows()):
        y = top - (k + 1) * (top - bottom) / (rows + 1)
        ax.annotate("", xy=(0.55, y), xytext=(0.28, y),
                    arrowprops={"arrowstyle": "->", "color": ACCENT2, "linewidth": 0.8})
        ax.text(0.56, y, f"{row[step]}\nn = {int(row[excluded])}", color=ACCENT2, **side)
    if len(zero):
        y = top - (len(hits) + 1) * (top - bottom) / (rows + 1)
        names = "\n".join(str(v) for v in zero[step])
        ax.text(0.56, y, f"{none_label}:\n{names}", ha="left", va="center", fontsize=7, color=GREY)
    if title:
        ax.set_title(title)
    return ax


# --- the qualitative half ------------------------------------------------------------------


def theme_bars(frequencies: Any, *, labels: Mapping[str, str] | None = None, ax: Any = None,
               title: str | None = None, xlabel: str = "") -> Any:
    """Share of segments raising each theme, one bar per group (horizontal, with Wilson CIs).

    ``frequencies`` is a :func:`servicestudy.qualitative.theme_frequencies` result (columns
    ``group, theme, proportion, ci_low, ci_high``); ``labels`` maps theme ids to the labels
    shown. Themes keep the order of the table; groups are colours.
    """
    frame = _frame(frequencies, "theme_bars")
    _need(frame, ("group", "theme", "proportion", "ci_low", "ci_high"), "theme_bars")
    themes = list(dict.fromkeys(frame["theme"].astype(str)))
    groups = list(dict.fromkeys(frame["group"].astype(str)))
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    ax = _axes(ax, (6.4, 0.32 * len(themes) * max(1, len(groups)) ** 0.5 + 1.4))
    height = 0.8 / max(1, len(groups))
    for g_i, g in enumerate(groups):
        sub = frame[frame["group"].astype(str) == g]
        sub = sub.set_index(sub["theme"].astype(str)).reindex(themes)
        y = len(themes) - 1 - np.arange(len(themes)) + 0.4 - height * (g_i + 0.5)
        p = sub["proportion"].to_numpy(float)
        lo = np.clip(np.nan_to_num(p - sub["ci_low"].to_numpy(float)), 0, None)
        hi = np.clip(np.nan_to_num(sub["ci_high"].to_numpy(float) - p), 0, None)
        ax.barh(y, np.nan_to_num(p), height=height * 0.9, color=palette(g_i % 10), label=g,
                xerr=np.vstack([lo, hi]), error_kw={"elinewidth": 0.6, "capsize": 1.5})
    ax.set_yticks(np.arange(len(themes))[::-1])
    ax.set_yticklabels([(labels or {}).get(t, t) for t in themes])
    top = float(np.nanmax(frame["ci_high"].to_numpy(float), initial=0.0))
    ax.set_xlim(0, min(1.0, max(0.1, np.ceil(top * 10.5) / 10)))
    ax.set_xlabel(xlabel)
    if len(groups) > 1:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=min(len(groups), 4))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def cooccurrence_heatmap(cooccurrence: Any, *, labels: Mapping[str, str] | None = None, ax: Any = None,
                         title: str | None = None) -> Any:
    """Heatmap of theme co-occurrence counts (:func:`servicestudy.qualitative.theme_cooccurrence`)."""
    matrix = _frame(cooccurrence, "cooccurrence_heatmap")
    if matrix.shape[0] != matrix.shape[1]:
        raise DataError("cooccurrence_heatmap: expected a square table of counts (themes x themes)")
    lab = labels or {}
    m = matrix.rename(index=lambda t: lab.get(t, t), columns=lambda t: lab.get(t, t)).astype(float)
    n = m.shape[0]
    vmax = float(np.nanmax(m.to_numpy())) if m.size else 1.0
    return _heatmap(m, ax, 0.0, max(vmax, 1.0), ".0f", title,
                    (max(4.0, 0.35 * n + 2.0), max(3.5, 0.35 * n + 1.5)), cmap="Blues")
