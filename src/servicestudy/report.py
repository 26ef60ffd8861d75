"""The report pipeline: prepared data -> results JSON, figures and tables -> Typst -> PDF.

This is the one module that writes to ``reports/``. The flow has three stages, each usable on
its own (the notebooks call the stages one by one; ``servicestudy report`` and ``make report``
run them all):

1. :func:`prepare` reads an export, codes it with a codebook and screens it (``read_export ->
   code_responses -> screen / apply_exclusions``), returning a :class:`Prepared` wave that
   :meth:`Prepared.save` writes to ``data/processed/`` and :func:`load_prepared` reads back.
2. The section functions (:data:`SECTIONS`: ``sample``, ``reliability``, ``satisfaction``,
   ``groups``, ``drivers``) compute results with the library, draw the figures and build the
   tables, in every requested language; :func:`save_section` writes
   ``results/<section>.json``, ``figures/<name>.<lang>.png`` and ``tables/<name>.<lang>.*``.
   A section whose module has not landed (or that fails) is recorded with status
   ``"missing"`` or ``"error"`` and a message; the PDF says so instead of showing numbers.
3. :func:`collect` merges the section results with the instrument, the provenance and the
   rule-based findings into ``build/report_data.json``, and :func:`build_pdf` compiles the
   Typst template (``servicestudy/templates/report.typ``) into ``report.pdf`` (English) or
   ``report_zh.pdf`` (Chinese). The template only formats what the JSON holds.

Everything is deterministic: fixed PNG metadata, sorted JSON, ``document(date: none)`` in the
template and fonts passed explicitly (Noto Sans SC / Noto Serif SC from
``pylopdf_fonts_zh_cn``; system fonts are ignored).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.resources
import io
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._atomic import atomic_write_bytes, atomic_write_text
from .codebook import Codebook, load_codebook
from .errors import DataError, OutputError, ServicestudyError
from .tables import Table

__all__ = [
    "LANGS",
    "RECOMMENDATION_AREAS",
    "SECTIONS",
    "Prepared",
    "build_pdf",
    "collect",
    "execute_notebook",
    "findings",
    "load_prepared",
    "prepare",
    "run_pipeline",
    "run_section",
    "save_figure",
    "save_section",
    "save_table",
]

LANGS = ("en", "zh")
SECTIONS = ("sample", "reliability", "satisfaction", "groups", "drivers", "text")
#: Single-choice demographics compared across groups (when present in the codebook).
GROUP_VARIABLES = ("gender", "age_group", "education", "residence")
#: Seed of every resampling step of the report (parallel analysis, bootstraps).
SEED = 20221201
PNG_METADATA = {"Software": None}

#: The thesis's four recommendation areas and the service dimensions whose results bear on each.
RECOMMENDATION_AREAS: dict[str, dict[str, Any]] = {
    "resourcing": {
        "en": "Police resourcing and workload",
        "zh": "警力配置与工作负荷",
        "dimensions": ("efficiency", "content"),
    },
    "awareness": {
        "en": "Service awareness",
        "zh": "服务意识",
        "dimensions": ("attitude",),
    },
    "technology": {
        "en": "Wider, technology-enabled services ('run at most once', online channels)",
        "zh": "拓展服务内容与科技赋能（\u201c最多跑一次\u201d、网上渠道）",
        "dimensions": ("forms", "efficiency", "content"),
    },
    "participation": {
        "en": "Public participation",
        "zh": "公众参与",
        "dimensions": ("participation",),
    },
}


def _t(lang: str, en: str, zh: str) -> str:
    return zh if lang == "zh" else en


def _check_lang(lang: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(lang, str):
        if lang == "both":
            return LANGS
        lang = (lang,)
    bad = [x for x in lang if x not in LANGS]
    if bad or not lang:
        raise DataError(
            f"The 'lang' parameter of report must be one of 'en', 'zh', 'both'. Got {bad or lang!r} instead."
        )
    return tuple(lang)


# --- JSON ---------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    """Convert results to JSON-ready values (NaN/inf -> None; numpy scalars -> Python)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return {
            "index": [_jsonable(i) for i in obj.index],
            "columns": [str(c) for c in obj.columns],
            "data": [[_jsonable(v) for v in row] for row in obj.itertuples(index=False)],
        }
    if isinstance(obj, pd.Series):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if obj is None or obj is pd.NA:
        return None
    return str(obj)


def _dumps(obj: Any) -> str:
    return json.dumps(_jsonable(obj), ensure_ascii=False, indent=1, sort_keys=False, allow_nan=False) + "\n"


def _sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- stage 1: prepare -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A coded and screened wave, ready for analysis.

    Attributes
    ----------
    data
        The analysed sample (kept rows): items reverse-coded, ``score_<construct>`` columns,
        categoricals as labels.
    flow
        The respondent flow: one row per step with ``step`` (key), ``label_en``, ``label_zh``,
        ``n_remaining`` and ``n_excluded``.
    codebook
        The codebook used.
    info
        Provenance and notes: input file, SHA-256, platform, screening status.
    """

    data: pd.DataFrame
    flow: pd.DataFrame
    codebook: Codebook
    info: dict[str, Any]

    def save(self, folder: str | Path) -> Path:
        """Write ``data.parquet``, ``flow.csv`` and ``prepared.json`` (last: the make target)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        data = self.data.copy()
        data = data.drop(columns=[c for c in _identifier_columns(self.codebook) if c in data.columns])
        # privacy (issue 8): mask identifiers typed into free text, drop identifier-valued columns
        from .privacy import scrub

        data, _ = scrub(data, self.codebook, pseudonymize_ids=False)
        buf = io.BytesIO()
        data.to_parquet(buf, index=True)
        atomic_write_bytes(folder / "data.parquet", buf.getvalue())
        atomic_write_text(folder / "flow.csv", self.flow.to_csv(index=False, lineterminator="\n"))
        info = dict(self.info)
        info["codebook_source"] = self.codebook.source
        return atomic_write_text(folder / "prepared.json", _dumps(info))


def _identifier_columns(cb: Codebook) -> list[str]:
    return [m.id for m in cb.meta.values() if m.identifier]


def load_prepared(folder: str | Path, *, codebook: str | Path | Codebook | None = None) -> Prepared:
    """Read a wave written by :meth:`Prepared.save`."""
    folder = Path(folder)
    target = folder / "prepared.json"
    if not target.is_file():
        raise OutputError("no prepared data here", file=folder, expected="the folder written by Prepared.save (make data)")
    info = json.loads(target.read_text(encoding="utf-8"))
    cb = load_codebook(codebook if codebook is not None else info.get("codebook", "k_station"))
    data = pd.read_parquet(folder / "data.parquet")
    flow = pd.read_csv(folder / "flow.csv")
    return Prepared(data=data, flow=flow, codebook=cb, info=info)


def prepare(export: str | Path, *, codebook: str | Path | Codebook = "k_station") -> Prepared:
    """Read, code and screen an export: the first stage of the report.

    Screening uses :func:`servicestudy.screen` and :func:`servicestudy.apply_exclusions` when
    the screening module is available; otherwise every coded row is kept and the flow and
    ``info["screening"]`` say so.
    """
    from .coding import code_responses
    from .io import read_export

    cb = load_codebook(codebook)
    export = Path(export)
    raw = read_export(export, cb)
    coded = code_responses(raw, cb)
    n_sub = len(coded.data)
    steps: list[dict[str, Any]] = [
        {"step": "submitted", "label_en": "Submissions in the export", "label_zh": "导出文件中的答卷",
         "n_remaining": n_sub, "n_excluded": 0},
    ]
    info: dict[str, Any] = {
        "codebook": cb.study.get("id", "custom") if cb.source and cb.source.startswith("<") else str(cb.source),
        "codebook_sha256": cb.sha256,
        "input": {"file": export.name, "sha256": getattr(raw, "sha256", None) or _sha256(export),
                  "platform": getattr(raw, "platform", None)},
        "n_submitted": n_sub,
        "simulated": _is_simulated(export),
    }
    data = coded.data
    try:
        screening = importlib.import_module(".screening", __package__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.screening":
            raise
        info["screening"] = {"status": "missing",
                             "message": "the screening module (servicestudy.screening) has not landed: no responses were excluded"}
    else:
        kept, flow_rows, detail = _screen(screening, coded, cb)
        data = kept
        steps.extend(flow_rows)
        info["screening"] = {"status": "ok", **detail}
    steps.append({"step": "analysed", "label_en": "Analysed sample", "label_zh": "分析样本",
                  "n_remaining": len(data), "n_excluded": 0})
    info["n_analysed"] = len(data)
    flow = pd.DataFrame(steps)
    return Prepared(data=data, flow=flow, codebook=cb, info=info)


def _is_simulated(export: Path) -> bool:
    """A wave written by ``servicestudy simulate`` comes with its truth file beside it."""
    stem = export.stem
    return any((export.parent / f"{stem}{suffix}").is_file() for suffix in ("_truth.json", ".truth.json"))


_REASONS = {
    "out_of_range": ("out-of-range codes", "超出取值范围"),
    "duplicate": ("duplicate submissions", "重复提交"),
    "near_duplicate": ("near-duplicate submissions", "近似重复提交"),
    "attention": ("failed the attention check", "未通过注意力检测"),
    "speeder": ("answered too fast", "答题过快"),
    "longstring": ("long strings of identical answers", "连续相同作答"),
    "too_few_answered": ("too few items answered", "作答题目过少"),
    "mahalanobis": ("multivariate outliers", "多元离群值"),
}


def _screen(screening: Any, coded: Any, cb: Codebook) -> tuple[pd.DataFrame, list[dict[str, Any]], dict]:
    """screen + apply_exclusions (default rule); the flow as rows for the report."""
    flags = screening.screen(coded)
    result = screening.apply_exclusions(coded, flags)
    kept = result.kept.data if hasattr(result.kept, "data") else result.kept
    rows: list[dict[str, Any]] = []
    for rec in result.flow.to_dict(orient="records"):
        if rec["step"] != "excluded":
            continue
        reason = str(rec["reason"])
        en, zh = _REASONS.get(reason, (reason.replace("_", " "), reason))
        rows.append({"step": reason, "label_en": f"Excluded: {en}", "label_zh": f"剔除：{zh}",
                     "n_remaining": int(rec["remaining"]), "n_excluded": int(rec["n"]),
                     "n_flagged": _jsonable(rec.get("n_flagged"))})
    detail = {"rule": list(getattr(screening, "DEFAULT_RULE", ())), "n_excluded": int(result.n_excluded),
              "n_flagged": int(flags.n_flagged)}
    return kept, rows, detail


# --- output helpers ---------------------------------------------------------------------------------


def save_figure(fig: Any, path: str | Path) -> Path:
    """Check the glyphs of ``fig`` and save it as a deterministic PNG; closes the figure."""
    import matplotlib.pyplot as plt

    from .figures import check_glyphs

    try:
        check_glyphs(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=200, metadata=PNG_METADATA, bbox_inches="tight")
        return atomic_write_bytes(path, buf.getvalue())
    finally:
        plt.close(fig)


def save_table(table: Table, folder: str | Path, name: str, *,
               formats: Iterable[str] = ("typ", "html", "tex", "json", "docx", "xlsx")) -> list[Path]:
    """Write ``table`` as ``<name>.typ``, ``.html``, ``.tex``, ``.json``, ``.docx``, ``.xlsx``."""
    folder = Path(folder)
    out = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        if fmt == "typ":
            out.append(atomic_write_text(path, table.to_typst()))
        elif fmt == "html":
            out.append(atomic_write_text(path, table.to_html()))
        elif fmt == "tex":
            out.append(atomic_write_text(path, table.to_latex()))
        elif fmt == "json":
            out.append(atomic_write_text(path, table.to_json() + "\n"))
        elif fmt == "docx":
            out.append(table.to_docx(path))
        elif fmt == "xlsx":
            out.append(table.to_xlsx(path))
        else:
            raise DataError(f"The 'formats' parameter of save_table must be among typ, html, tex, json, docx, xlsx. Got {fmt!r} instead.")
    return out


@dataclasses.dataclass
class _Section:
    """What a section function produces: results, figures and tables per language."""

    name: str
    results: dict[str, Any]
    figures: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # name -> lang -> Figure
    tables: dict[str, dict[str, Table]] = dataclasses.field(default_factory=dict)  # name -> lang -> Table

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        parts = [f"<h4>{self.name}</h4>"]
        for by_lang in self.tables.values():
            t = by_lang.get("en") or next(iter(by_lang.values()))
            parts.append(t.to_html())
        return "\n".join(parts)


def save_section(section: _Section, out: str | Path) -> Path:
    """Write a section's figures, tables and ``results/<name>.json`` under ``out``."""
    out = Path(out)
    figs: dict[str, dict[str, str]] = {}
    for name, by_lang in section.figures.items():
        for lang, fig in by_lang.items():
            rel = f"figures/{name}.{lang}.png"
            save_figure(fig, out / rel)
            figs.setdefault(name, {})[lang] = rel
    tabs: dict[str, dict[str, str]] = {}
    for name, by_lang in section.tables.items():
        for lang, table in by_lang.items():
            if lang == "zh" and table.note_label == "Note.":
                table = dataclasses.replace(table, note_label="注：")
            save_table(table, out / "tables", f"{name}.{lang}")
            tabs.setdefault(name, {})[lang] = f"tables/{name}.{lang}.typ"
    results = dict(section.results)
    results["figures"] = figs
    results["tables"] = tabs
    return atomic_write_text(out / "results" / f"{section.name}.json", _dumps(results))


# --- shared bits for the sections ------------------------------------------------------------------


def _label(cb: Codebook, key: str, lang: str) -> str:
    if key in cb.constructs:
        c = cb.constructs[key]
        return c.zh if lang == "zh" else c.en
    if key in cb.items:
        return key
    if key in cb.categoricals:
        c = cb.categoricals[key]
        return _short_zh(c.zh) if lang == "zh" else c.en
    return key


def _short_zh(text: str) -> str:
    return text.removeprefix("您的").removeprefix("您")


def _cat_label(cb: Codebook, var: str, value: Any, lang: str) -> str:
    """Translate a category label (coded in any language) to ``lang``."""
    cat = cb.categoricals.get(var)
    if cat is None:
        return str(value)
    from .codebook import normalize_label

    key = normalize_label(value)
    for c in cat.categories:
        if key in {normalize_label(x) for x in c.labels()} or (isinstance(value, (int, float)) and c.code == value):
            return c.zh if lang == "zh" else c.en
    return str(value)


def _dims(cb: Codebook, data: pd.DataFrame) -> list[str]:
    return [d for d in cb.dimensions if cb.items_of(d) and all(i in data.columns for i in cb.items_of(d))]


def _score(cb: Codebook, data: pd.DataFrame, construct: str) -> pd.Series:
    col = f"score_{construct}"
    if col in data.columns:
        return data[col].astype(float)
    return data[cb.items_of(construct)].astype(float).mean(axis=1)


def _mean_ci(x: pd.Series, level: float = 0.95) -> dict[str, float]:
    from scipy import stats

    v = x.dropna().to_numpy(float)
    n = v.size
    if n < 2:
        return {"estimate": float(v.mean()) if n else math.nan, "sd": math.nan, "ci_low": math.nan,
                "ci_high": math.nan, "n_obs": n}
    m = float(v.mean())
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return {"estimate": m, "sd": sd, "ci_low": m - half, "ci_high": m + half, "n_obs": n}


def _missing(module: str) -> dict[str, Any]:
    return {"status": "missing", "message": f"the module servicestudy.{module} has not landed yet"}


class _Guard:
    """Run parts of a section, recording ``missing`` (module not there) or ``error``."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict

    def __call__(self, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            out = fn()
        except ModuleNotFoundError as exc:
            name = str(exc.name or "")
            if not name.startswith(f"{__package__}."):
                raise
            return _missing(name.split(".", 1)[1])
        except ImportError as exc:
            if self.strict:
                raise
            return {"status": "missing", "message": f"not available yet: {exc}"}
        except (ServicestudyError, ValueError, np.linalg.LinAlgError) as exc:
            if self.strict:
                raise
            return {"status": "error", "message": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
        out.setdefault("status", "ok")
        return out


def _fig(draw: Callable[[Any], Any]) -> Any:
    """Draw on a new figure with the house style; returns the Figure."""
    from .figures import style

    with style():
        ax = draw(None)
        fig = ax.figure
        # render inside the style context so fonts resolve identically
        fig.canvas.draw()
    return fig


# --- the sections -----------------------------------------------------------------------------------


def section_sample(prep: Prepared, *, langs: Sequence[str] = LANGS, strict: bool = False) -> _Section:
    """Sample: respondent flow, sample composition by demographic."""
    from . import figures

    cb, data = prep.codebook, prep.data
    sec = _Section("sample", {"status": "ok"})
    flow = prep.flow.copy()
    sec.results["flow"] = flow.to_dict(orient="records")
    sec.results["n_submitted"] = int(prep.info.get("n_submitted", flow["n_remaining"].iloc[0]))
    sec.results["n_analysed"] = len(data)
    sec.results["screening"] = prep.info.get("screening", {})
    sec.results["input"] = prep.info.get("input", {})
    for lang in langs:
        lab = flow.assign(label=flow[f"label_{lang}"])
        sec.figures.setdefault("flow", {})[lang] = _fig(lambda ax, lab=lab, lang=lang: figures.respondent_flow(
            lab, step="label", ax=ax, none_label=_t(lang, "No one excluded for", "以下规则未剔除答卷")))
    comp: list[dict[str, Any]] = []
    for var in (*GROUP_VARIABLES, "occupation", "channel"):
        if var not in data.columns or var not in cb.categoricals:
            continue
        counts = data[var].value_counts(sort=False, dropna=False)
        n = int(counts.sum())
        for value, count in counts.items():
            comp.append({"variable": var, "category": None if pd.isna(value) else str(value),
                         "n": int(count), "share": count / n if n else math.nan})
    sec.results["composition"] = comp
    for lang in langs:
        rows = []
        for r in comp:
            label = _t(lang, "Not answered", "未作答") if r["category"] is None else _cat_label(cb, r["variable"], r["category"], lang)
            rows.append((f"{_label(cb, r['variable'], lang)}: {label}", r["n"], r["share"]))
        frame = pd.DataFrame(rows, columns=["category", "n", "share"]).set_index("category")
        frame.index.name = _t(lang, "Characteristic", "特征")
        sec.tables.setdefault("composition", {})[lang] = Table(
            _t(lang, "Sample composition", "样本构成"), frame, formats={"n": "d", "share": "pct"},
            labels={"n": "n", "share": "%"},
            note=_t(lang, f"Analysed sample, N = {len(data)}.", f"分析样本，N = {len(data)}。"))
    return sec


def section_reliability(prep: Prepared, *, langs: Sequence[str] = LANGS, strict: bool = False,
                        seed: int = SEED) -> _Section:
    """Reliability and validity: alpha, omega, KMO/Bartlett, parallel analysis, EFA, CFA,
    CR/AVE, HTMT and Fornell-Larcker."""
    from . import figures

    cb, data = prep.codebook, prep.data
    dims = _dims(cb, data)
    guard = _Guard(strict)
    sec = _Section("reliability", {"status": "ok", "dimensions": dims})
    all_items = [i for d in dims for i in cb.items_of(d)]
    items = data[all_items].astype(float)

    def _alpha() -> dict[str, Any]:
        from .reliability import alpha, omega

        rows = {}
        for d in [*dims, *[o for o in cb.outcomes if cb.items_of(o)]]:
            its = data[cb.items_of(d)].astype(float)
            a = alpha(its)
            row = {"n_items": a.n_items, "alpha": a.alpha, "ci_low": a.ci_low, "ci_high": a.ci_high,
                   "average_r": a.average_r, "n_obs": a.n_obs}
            try:
                with _quiet():
                    o = omega(its, n_factors=1)
                row["omega_total"] = o.omega_total
            except (ServicestudyError, ValueError, np.linalg.LinAlgError):
                row["omega_total"] = None
            rows[d] = row
        return {"by_scale": rows}

    sec.results["alpha"] = guard(_alpha)

    def _adequacy() -> dict[str, Any]:
        from .reliability import bartlett, kmo

        k = kmo(items)
        b = bartlett(items)
        return {"kmo": k.overall, "bartlett_statistic": b.statistic, "bartlett_df": b.df,
                "bartlett_pvalue": b.pvalue, "n_obs": b.n_obs, "n_items": b.n_items}

    sec.results["adequacy"] = guard(_adequacy)

    def _pa() -> dict[str, Any]:
        from .factor import parallel_analysis

        pa = parallel_analysis(items.dropna(), seed=seed)
        ev = pa.eigenvalues
        return {"n_factors": pa.n_factors, "n_iter": pa.n_iter, "observed": ev["observed_fa"].tolist(),
                "simulated": ev["simulated_fa_quantile"].tolist()}

    sec.results["parallel"] = pa_res = guard(_pa)
    if pa_res["status"] == "ok":
        for lang in langs:
            sec.figures.setdefault("scree", {})[lang] = _fig(lambda ax, lang=lang: figures.scree_plot(
                pa_res["observed"], simulated=pa_res["simulated"], ax=ax,
                xlabel=_t(lang, "Factor number", "因子序号"), ylabel=_t(lang, "Eigenvalue", "特征值"),
                observed_label=_t(lang, "Observed", "实际数据"),
                simulated_label=_t(lang, "Parallel analysis (95th percentile)", "平行分析（第95百分位）")))

    def _efa() -> dict[str, Any]:
        from .factor import efa

        res = efa(items.dropna(), len(dims), method="minres", rotation="oblimin")
        load = res.loadings
        # assign each factor to the dimension whose items load most on it (for labelling only)
        return {"n_factors": res.n_factors, "converged": bool(res.converged), "heywood": bool(res.heywood),
                "tli": res.tli, "rmsea": res.rmsea, "loadings": load, "communalities": res.communalities}

    sec.results["efa"] = efa_res = guard(_efa)
    if efa_res["status"] == "ok":
        load = efa_res["loadings"]
        for lang in langs:
            sec.figures.setdefault("loadings", {})[lang] = _fig(lambda ax, load=load: figures.loadings_heatmap(load, ax=ax))
            sec.tables.setdefault("efa", {})[lang] = _loadings_table(load, efa_res["communalities"], lang)

    model = {d: cb.items_of(d) for d in dims}

    def _cfa() -> dict[str, Any]:
        from .errors import ConvergenceError
        from .validity import ave, cfa, composite_reliability, fornell_larcker, htmt

        note = None
        try:
            res = cfa(data, model, missing="fiml")
        except ConvergenceError as exc:
            note = f"FIML did not converge ({exc}); listwise deletion used instead"
            res = cfa(data, model, missing="listwise")
        fit = res.fit.scalars()
        out: dict[str, Any] = {"converged": bool(res.converged), "heywood": bool(res.heywood), "fit": fit,
                               "n_obs": res.n_obs, "missing": res.missing, "fallback": note}
        out["cr"] = composite_reliability(res).table["estimate"].to_dict()
        out["ave"] = ave(res).table["estimate"].to_dict()
        h = htmt(data, model)
        out["htmt"] = h.matrix
        hm = h.matrix.to_numpy(float)
        off = hm[np.triu_indices_from(hm, 1)]
        out["htmt_max"] = float(np.nanmax(np.abs(off))) if off.size else None
        fl = fornell_larcker(res)
        out["fornell_larcker_passed"] = bool(fl.passed) if not isinstance(fl.passed, (pd.Series, dict)) else bool(all(dict(fl.passed).values()))
        return out

    sec.results["cfa"] = cfa_res = guard(_cfa)
    for lang in langs:
        if sec.results["alpha"]["status"] == "ok":
            sec.tables.setdefault("reliability", {})[lang] = _reliability_table(cb, sec.results, lang)
        if cfa_res["status"] == "ok":
            from .tables import cfa_fit_table

            sec.tables.setdefault("cfa_fit", {})[lang] = cfa_fit_table(
                cfa_res["fit"], title=_t(lang, "Confirmatory factor analysis: model fit", "验证性因子分析：模型拟合"),
                note=_t(lang, f"Maximum likelihood, {len(dims)} correlated factors, missing answers: "
                        + ("full-information ML (FIML)" if cfa_res["missing"] == "fiml" else "listwise deletion")
                        + "; RMSEA with 90% CI.",
                        f"极大似然估计，{len(dims)}个相关因子，缺失值处理："
                        + ("全信息极大似然（FIML）" if cfa_res["missing"] == "fiml" else "列删除") + "；RMSEA附90%置信区间。"))
            names = {d: _label(cb, d, lang) for d in cfa_res["htmt"].index}
            hm = cfa_res["htmt"].rename(index=names, columns=names)
            hm.index.name = ""
            sec.tables.setdefault("htmt", {})[lang] = Table(
                _t(lang, "Discriminant validity: heterotrait-monotrait ratios (HTMT)", "区分效度：异质-单质比率（HTMT）"),
                hm, formats={str(c): "r2" for c in hm.columns},
                note=_t(lang, "Values below .85 support discriminant validity.", "小于 .85 支持区分效度。"))
    return sec


@contextlib.contextmanager
def _quiet() -> Any:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _reliability_table(cb: Codebook, res: dict[str, Any], lang: str) -> Table:
    rows = {}
    cfa_ok = res.get("cfa", {}).get("status") == "ok"
    for d, r in res["alpha"]["by_scale"].items():
        row = {k: r.get(k) for k in ("n_items", "alpha", "ci_low", "ci_high", "omega_total")}
        if cfa_ok:
            row["cr"] = res["cfa"]["cr"].get(d)
            row["ave"] = res["cfa"]["ave"].get(d)
        rows[_label(cb, d, lang)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame = frame.apply(pd.to_numeric)
    frame.index.name = _t(lang, "Scale", "量表")
    labels = {"n_items": _t(lang, "Items", "题数"), "alpha": "α", "ci_low": _t(lang, "95% CI low", "95% CI 下限"),
              "ci_high": _t(lang, "95% CI high", "95% CI 上限"), "omega_total": "ω", "cr": "CR", "ave": "AVE"}
    fmt = {"n_items": "d", "alpha": "r2", "ci_low": "r2", "ci_high": "r2", "omega_total": "r2", "cr": "r2", "ave": "r2"}
    return Table(_t(lang, "Internal consistency and convergent validity by scale", "各量表的内部一致性与聚合效度"),
                 frame, formats=fmt, labels=labels,
                 note=_t(lang, "α: Cronbach's alpha with Feldt 95% CI; ω: omega total (one factor); CR and AVE from the CFA standardized loadings.",
                         "α：克朗巴哈系数（Feldt 95% 置信区间）；ω：omega total（单因子）；CR 与 AVE 基于验证性因子分析的标准化载荷。"))


def _loadings_table(load: pd.DataFrame, h2: Any, lang: str) -> Table:
    frame = load.copy()
    frame["h2"] = pd.Series(h2, dtype=float).reindex(frame.index) if h2 is not None else np.nan
    frame.index.name = _t(lang, "Item", "题项")
    fmt = {str(c): "r2" for c in frame.columns}
    return Table(_t(lang, "Exploratory factor analysis: pattern loadings", "探索性因子分析：模式载荷"), frame,
                 formats=fmt, labels={"h2": "h²"},
                 note=_t(lang, "Minimum residual extraction, oblimin rotation; h²: communality.",
                         "最小残差法提取，oblimin 斜交旋转；h²：共同度。"))


def section_satisfaction(prep: Prepared, *, langs: Sequence[str] = LANGS, strict: bool = False) -> _Section:
    """Satisfaction by dimension: dimension means with 95% CIs, item distributions."""
    from . import figures

    cb, data = prep.codebook, prep.data
    dims = _dims(cb, data)
    sec = _Section("satisfaction", {"status": "ok"})
    means = {d: _mean_ci(_score(cb, data, d)) for d in [*dims, *cb.outcomes] if f"score_{d}" in data.columns or cb.items_of(d)}
    sec.results["means"] = means
    order = sorted(dims, key=lambda d: means[d]["estimate"])
    sec.results["ranking"] = order  # lowest first
    sec.results["lowest"] = order[:2]
    sec.results["highest"] = order[-1] if order else None
    scale = cb.scale_of(cb.items_of(dims[0])[0]) if dims else None
    sec.results["scale"] = {"min": scale.min, "max": scale.max, "neutral": scale.neutral} if scale else None
    item_rows = {}
    for d in dims:
        for i in cb.items_of(d):
            m = _mean_ci(data[i].astype(float))
            m["dimension"] = d
            m["reverse"] = bool(cb.items[i].reverse)
            item_rows[i] = m
    sec.results["items"] = item_rows
    for lang in langs:
        frame = pd.DataFrame({_label(cb, d, lang): means[d] for d in dims}).T
        sec.figures.setdefault("dimension_means", {})[lang] = _fig(lambda ax, frame=frame, lang=lang: figures.dimension_means(
            frame.astype(float), ax=ax, xlabel=_t(lang, "Mean score (1-5), 95% CI", "平均得分（1-5），95% 置信区间")))
        for d in dims:
            its = cb.items_of(d)
            answers = data[its].astype(float).copy()
            # show the items as answered (undo reverse keying) so the bars match the wording
            for i in its:
                if cb.items[i].reverse:
                    sc = cb.scale_of(i)
                    answers[i] = (sc.min + sc.max) - answers[i]
            sc = cb.scale_of(its[0])
            levels = {lv.code: (lv.zh if lang == "zh" else lv.en) for lv in sc.levels}
            labels = {i: _wrap(f"{i} {(cb.items[i].zh if lang == 'zh' else cb.items[i].en)}"
                               + (_t(lang, " (R)", "（反向）") if cb.items[i].reverse else ""), 34 if lang == "zh" else 60)
                      for i in its}
            sec.figures.setdefault(f"likert_{d}", {})[lang] = _fig(
                lambda ax, answers=answers, levels=levels, labels=labels, d=d, lang=lang: figures.likert_bars(
                    answers, levels=levels, labels=labels, ax=ax, title=_label(cb, d, lang),
                    xlabel=_t(lang, "% of valid answers", "有效回答百分比")))
        desc = pd.DataFrame({_label(cb, d, lang): means[d] for d in [*dims, *cb.outcomes] if d in means}).T
        desc = desc[["n_obs", "estimate", "sd", "ci_low", "ci_high"]].apply(pd.to_numeric)
        desc.index.name = _t(lang, "Dimension", "维度")
        sec.tables.setdefault("dimension_means", {})[lang] = Table(
            _t(lang, "Satisfaction by dimension", "各维度满意度"), desc,
            formats={"n_obs": "d", "estimate": ".2f", "sd": ".2f", "ci_low": ".2f", "ci_high": ".2f"},
            labels={"n_obs": "n", "estimate": "M", "sd": "SD", "ci_low": _t(lang, "95% CI low", "95% CI 下限"),
                    "ci_high": _t(lang, "95% CI high", "95% CI 上限")},
            note=_t(lang, "Scores are item means on 1-5 after reverse-keying; CI from the t distribution.",
                    "得分为反向计分后各题项的均值（1-5）；置信区间基于 t 分布。"))
        items_frame = pd.DataFrame(item_rows).T[["n_obs", "estimate", "sd"]].apply(pd.to_numeric)
        items_frame.index = [f"{i}{'*' if cb.items[i].reverse else ''}" for i in items_frame.index]
        items_frame.index.name = _t(lang, "Item", "题项")
        sec.tables.setdefault("items", {})[lang] = Table(
            _t(lang, "Item descriptive statistics", "题项描述统计"), items_frame,
            formats={"n_obs": "d", "estimate": ".2f", "sd": ".2f"}, labels={"n_obs": "n", "estimate": "M", "sd": "SD"},
            note=_t(lang, "* reverse-keyed item, shown after reverse coding.", "* 反向计分题，已反向计分。"))
    return sec


def _wrap(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if " " not in text[:width]:  # Chinese: hard wrap
        return text[:width] + "\n" + _wrap(text[width:], width)
    cut = text.rfind(" ", 0, width)
    return text[:cut] + "\n" + _wrap(text[cut + 1:], width)


def section_groups(prep: Prepared, *, langs: Sequence[str] = LANGS, strict: bool = False) -> _Section:
    """Group differences: every dimension score and overall satisfaction by each demographic."""
    from . import figures

    cb, data = prep.codebook, prep.data
    dims = _dims(cb, data)
    outcomes = [d for d in [*dims, *cb.outcomes] if f"score_{d}" in data.columns]
    groups = [g for g in GROUP_VARIABLES if g in data.columns and data[g].nunique(dropna=True) >= 2]
    guard = _Guard(strict)
    sec = _Section("groups", {"status": "ok", "groups": groups, "outcomes": outcomes})

    def _tests() -> dict[str, Any]:
        from .compare import compare_groups

        res = compare_groups(data, [f"score_{d}" for d in outcomes], groups, correction="holm")
        table = res.table.copy()
        table["outcome"] = table["outcome"].str.removeprefix("score_")
        keep = [c for c in ("outcome", "group", "test", "n_obs", "statistic", "df", "df2", "pvalue",
                            "p_adjusted", "effect_size", "effect_size_name") if c in table.columns]
        table = table[keep]
        sig = table[table["p_adjusted"] < 0.05]
        return {"correction": res.correction, "n_tests": res.n_tests, "table": table.to_dict(orient="records"),
                "significant": sig[["outcome", "group", "p_adjusted", "effect_size", "effect_size_name"]].to_dict(orient="records")}

    sec.results["tests"] = tests = guard(_tests)
    means = []
    for g in groups:
        for level, sub in data.groupby(g, observed=True, sort=True):
            for d in outcomes:
                m = _mean_ci(sub[f"score_{d}"].astype(float))
                means.append({"group": g, "level": str(level), "outcome": d, **m})
    sec.results["means"] = means
    show = [g for g in ("residence", "age_group") if g in groups]
    for lang in langs:
        for g in show:
            frame = pd.DataFrame([m for m in means if m["group"] == g])
            frame["panel"] = [_label(cb, d, lang) for d in frame["outcome"]]
            frame["level_label"] = [_cat_label(cb, g, v, lang) for v in frame["level"]]
            sec.figures.setdefault(f"groups_{g}", {})[lang] = _fig(lambda ax, frame=frame, g=g, lang=lang: figures.group_means(
                frame, group="level_label", panel="panel", ax=ax, title=_label(cb, g, lang),
                xlabel=_t(lang, "Mean score (1-5), 95% CI", "平均得分（1-5），95% 置信区间")))
        if tests["status"] == "ok":
            t = pd.DataFrame(tests["table"])
            t.index = [f"{_label(cb, o, lang)} × {_label(cb, g, lang)}" for o, g in zip(t["outcome"], t["group"], strict=True)]
            t.index.name = _t(lang, "Outcome × grouping", "结果变量 × 分组")
            t = t.drop(columns=["outcome", "group"])
            t["test"] = t["test"].map(lambda x: _TEST_LABEL.get(x, x))
            cols = [c for c in ("test", "n_obs", "statistic", "df", "df2", "pvalue", "p_adjusted", "effect_size") if c in t.columns]
            sec.tables.setdefault("tests", {})[lang] = Table(
                _t(lang, "Group differences in satisfaction", "满意度的群体差异"), t[cols],
                formats={"n_obs": "d", "statistic": ".2f", "df": ".1f", "df2": ".1f", "pvalue": "p", "p_adjusted": "p", "effect_size": ".2f"},
                labels={"test": _t(lang, "Test", "检验"), "n_obs": "n", "statistic": _t(lang, "Statistic", "统计量"),
                        "df": "df", "df2": "df2", "pvalue": "p", "p_adjusted": _t(lang, "p (Holm)", "p（Holm 校正）"),
                        "effect_size": _t(lang, "Effect size", "效应量")},
                note=_t(lang, "Two groups: Welch t test, effect size Cohen's d; more groups: Welch ANOVA, effect size as reported by compare_groups. p adjusted with Holm's method across all tests.",
                        "两组：Welch t 检验，效应量为 Cohen's d；多组：Welch 方差分析。p 值经 Holm 法对全部检验进行校正。"))
    return sec


_TEST_LABEL = {"welch_t": "Welch t", "welch_anova": "Welch F", "anova": "F", "t": "t",
               "mann_whitney": "Mann-Whitney U", "kruskal": "Kruskal-Wallis H"}


def section_drivers(prep: Prepared, *, langs: Sequence[str] = LANGS, strict: bool = False,
                    seed: int = SEED) -> _Section:
    """Drivers of overall satisfaction (OLS with standardized betas, relative importance) and
    importance-performance analysis (stated importance)."""
    from . import figures

    cb, data = prep.codebook, prep.data
    dims = _dims(cb, data)
    guard = _Guard(strict)
    outcome = cb.outcomes[0] if cb.outcomes else None
    sec = _Section("drivers", {"status": "ok", "outcome": outcome, "dimensions": dims})
    if outcome is None or f"score_{outcome}" not in data.columns:
        sec.results.update(status="error", message="the codebook defines no overall-satisfaction outcome")
        return sec
    y = f"score_{outcome}"
    xs = [f"score_{d}" for d in dims]

    def _ols() -> dict[str, Any]:
        from .drivers import ols

        r = ols(data, y, xs, cov_type="HC3")
        coef = r.coefficients.rename(index=lambda s: str(s).removeprefix("score_"))
        return {"r2": r.r2, "adj_r2": r.adj_r2, "f_statistic": r.f_statistic, "f_pvalue": r.f_pvalue,
                "n_obs": r.n_obs, "df_model": r.df_model, "df_resid": r.df_resid, "cov_type": r.cov_type,
                "coefficients": coef.to_dict(orient="index")}

    sec.results["ols"] = ols_res = guard(_ols)

    def _ri() -> dict[str, Any]:
        from .drivers import relative_importance

        r = relative_importance(data, y, xs, method="relative_weights", n_boot=200, seed=seed)
        tab = r.table.rename(index=lambda s: str(s).removeprefix("score_"))
        return {"method": r.method, "table": tab.to_dict(orient="index")}

    sec.results["relative_importance"] = guard(_ri)

    def _ipa() -> dict[str, Any]:
        from .drivers import ipa

        stated = cb.importance_items()
        have = [d for d in dims if d in stated and stated[d] in data.columns]
        if len(have) < 2:
            raise DataError("importance-performance analysis needs stated-importance items for at least two dimensions")
        perf = {d: float(_score(cb, data, d).mean()) for d in have}
        imp = {d: float(data[stated[d]].astype(float).mean()) for d in have}
        r = ipa(perf, imp, cuts="means", scale_max=cb.scale_of(cb.items_of(have[0])[0]).max, importance_source="stated")
        tab = r.table
        return {"performance_cut": r.performance_cut, "importance_cut": r.importance_cut,
                "table": tab.drop(columns=[c for c in ("quadrant_label",) if c in tab.columns]).to_dict(orient="index"),
                "concentrate_here": [str(i) for i in tab.index[tab["quadrant"] == "concentrate_here"]],
                "priority_order": [str(i) for i in tab.sort_values("priority_rank").index]}

    sec.results["ipa"] = ipa_res = guard(_ipa)
    # Pearson correlations of the scores (pairwise complete), shown as a heatmap
    corr = data[[*xs, y]].astype(float).corr(method="pearson")
    corr = corr.rename(index=lambda s: s.removeprefix("score_"), columns=lambda s: s.removeprefix("score_"))
    sec.results["correlations"] = corr
    for lang in langs:
        names = {d: _label(cb, d, lang) for d in corr.index}
        shown = corr.rename(index=names, columns=names)
        sec.figures.setdefault("correlations", {})[lang] = _fig(
            lambda ax, shown=shown: figures.correlation_heatmap(shown, ax=ax))
    for lang in langs:
        if ols_res["status"] == "ok":
            coef = pd.DataFrame(ols_res["coefficients"]).T
            coef.index = [_label(cb, d, lang) if d in cb.constructs else _t(lang, d, "截距") for d in coef.index]
            coef = coef.apply(pd.to_numeric)
            beta = coef.dropna(subset=["beta"]).copy()
            # CI of beta: scale the CI of B by beta/B (same standardisation factor)
            factor = beta["beta"] / beta["estimate"]
            beta["ci_low"], beta["ci_high"] = beta["ci_low"] * factor, beta["ci_high"] * factor
            lo = np.minimum(beta["ci_low"], beta["ci_high"])
            hi = np.maximum(beta["ci_low"], beta["ci_high"])
            beta["ci_low"], beta["ci_high"] = lo, hi
            sec.figures.setdefault("coefficients", {})[lang] = _fig(lambda ax, beta=beta, lang=lang: figures.coefficient_plot(
                beta, ax=ax, xlabel=_t(lang, "Standardized coefficient β (95% CI, HC3)", "标准化系数 β（95% 置信区间，HC3）")))
            coef.index.name = _t(lang, "Predictor", "预测变量")
            cols = [c for c in ("estimate", "std_error", "beta", "statistic", "pvalue", "vif") if c in coef.columns]
            sec.tables.setdefault("ols", {})[lang] = Table(
                _t(lang, "Drivers of overall satisfaction: OLS regression", "总体满意度的影响因素：OLS 回归"), coef[cols],
                formats={"estimate": ".3f", "std_error": ".3f", "beta": ".3f", "statistic": ".2f", "pvalue": "p", "vif": ".2f"},
                labels={"estimate": "B", "std_error": "SE (HC3)", "beta": "β", "statistic": "t", "pvalue": "p", "vif": "VIF"},
                note=_t(lang, f"Outcome: overall satisfaction score. R² = {ols_res['r2']:.3f}, n = {ols_res['n_obs']}.",
                        f"因变量：总体满意度得分。R² = {ols_res['r2']:.3f}，n = {ols_res['n_obs']}。"))
        if ipa_res["status"] == "ok":
            tab = pd.DataFrame(ipa_res["table"]).T
            qlab = _QUADRANTS[lang]
            plot = tab[["performance", "importance"]].astype(float)
            plot.index = [_label(cb, d, lang) for d in plot.index]
            sec.figures.setdefault("ipa", {})[lang] = _fig(lambda ax, plot=plot, lang=lang, qlab=qlab: figures.ipa_plot(
                plot, ax=ax, x_cut=ipa_res["performance_cut"], y_cut=ipa_res["importance_cut"],
                xlabel=_t(lang, "Performance (mean satisfaction, 1-5)", "表现（满意度均值，1-5）"),
                ylabel=_t(lang, "Stated importance (mean, 1-5)", "重要性（自评均值，1-5）"),
                quadrant_labels=[qlab[k] for k in ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")]))
            t = tab[["performance", "importance", "quadrant", "priority_rank"]].copy()
            t["quadrant"] = t["quadrant"].map(qlab)
            t[["performance", "importance"]] = t[["performance", "importance"]].astype(float)
            t["priority_rank"] = t["priority_rank"].astype(int)
            t.index = [_label(cb, d, lang) for d in t.index]
            t.index.name = _t(lang, "Dimension", "维度")
            sec.tables.setdefault("ipa", {})[lang] = Table(
                _t(lang, "Importance-performance analysis", "重要性-表现分析"), t,
                formats={"performance": ".2f", "importance": ".2f", "priority_rank": "d"},
                labels={"performance": _t(lang, "Performance", "表现"), "importance": _t(lang, "Importance", "重要性"),
                        "quadrant": _t(lang, "Quadrant", "象限"), "priority_rank": _t(lang, "Priority", "优先级")},
                note=_t(lang, "Cut-offs at the means of the dimensions. Priority 1 = largest importance-weighted room for improvement.",
                        "分界线为各维度的均值。优先级 1 = 按重要性加权的改进空间最大。"))
    return sec


_QUADRANTS = {
    "en": {"concentrate_here": "Concentrate here", "keep_up_the_good_work": "Keep up the good work",
           "low_priority": "Low priority", "possible_overkill": "Possible overkill"},
    "zh": {"concentrate_here": "重点改进区", "keep_up_the_good_work": "继续保持区",
           "low_priority": "次要改进区", "possible_overkill": "过度投入区"},
}

def section_text(prep: Prepared, **options: Any) -> _Section:
    """Open answers and interviews (issue 15): see :func:`servicestudy.report_text.section_text`."""
    from .report_text import section_text as run

    return run(prep, **options)


_SECTION_FUNCS: dict[str, Callable[..., _Section]] = {
    "sample": section_sample,
    "reliability": section_reliability,
    "satisfaction": section_satisfaction,
    "groups": section_groups,
    "drivers": section_drivers,
    "text": section_text,
}


def run_section(name: str, prep: Prepared, out: str | Path, *, lang: str | Sequence[str] = "both",
                strict: bool = False, **options: Any) -> _Section:
    """Compute section ``name`` on ``prep`` and write its outputs under ``out``."""
    if name not in _SECTION_FUNCS:
        raise DataError(f"The 'name' parameter of run_section must be one of {', '.join(map(repr, SECTIONS))}. Got {name!r} instead.")
    sec = _SECTION_FUNCS[name](prep, langs=_check_lang(lang), strict=strict, **options)
    save_section(sec, out)
    return sec


# --- stage 3: collect and build ------------------------------------------------------------------


def findings(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Map the results onto the four recommendation areas, by rule.

    An area is a **priority** when one of its dimensions is in the IPA "concentrate here"
    quadrant or among the two lowest-scoring dimensions; a **strength** when its dimensions
    include the highest-scoring one and none of the above holds; otherwise **monitor**. Each
    finding lists the evidence (dimension, mean, rank, quadrant, standardized beta and p).
    """
    sat = results.get("satisfaction", {})
    drv = results.get("drivers", {})
    if sat.get("status") != "ok":
        return []
    means = sat["means"]
    ranking = sat["ranking"]  # lowest first
    lowest = set(sat.get("lowest", []))
    ipa_ok = drv.get("status") == "ok" and drv.get("ipa", {}).get("status") == "ok"
    ols_ok = drv.get("status") == "ok" and drv.get("ols", {}).get("status") == "ok"
    concentrate = set(drv["ipa"]["concentrate_here"]) if ipa_ok else set()
    out = []
    for key, area in RECOMMENDATION_AREAS.items():
        evidence = []
        reasons = set()
        for d in area["dimensions"]:
            if d not in means:
                continue
            ev: dict[str, Any] = {"dimension": d, "mean": means[d]["estimate"], "ci_low": means[d]["ci_low"],
                                  "ci_high": means[d]["ci_high"], "rank_from_lowest": ranking.index(d) + 1 if d in ranking else None,
                                  "n_dimensions": len(ranking)}
            if ipa_ok and d in drv["ipa"]["table"]:
                ev["quadrant"] = drv["ipa"]["table"][d]["quadrant"]
                ev["priority_rank"] = drv["ipa"]["table"][d].get("priority_rank")
            if ols_ok and d in drv["ols"]["coefficients"]:
                ev["beta"] = drv["ols"]["coefficients"][d].get("beta")
                ev["pvalue"] = drv["ols"]["coefficients"][d].get("pvalue")
            if d in concentrate:
                reasons.add("concentrate_here")
            if d in lowest:
                reasons.add("lowest")
            evidence.append(ev)
        if not evidence:
            continue
        if reasons:
            status = "priority"
        elif sat.get("highest") in area["dimensions"]:
            status = "strength"
        else:
            status = "monitor"
        out.append({"area": key, "en": area["en"], "zh": area["zh"], "status": status,
                    "reasons": sorted(reasons), "evidence": evidence})
    return out


def _instrument(cb: Codebook) -> dict[str, Any]:
    return {
        "title": {"en": cb.title("en"), "zh": cb.title("zh")},
        "study": _jsonable(dict(cb.study)),
        "constructs": [{"id": c.id, "en": c.en, "zh": c.zh, "role": c.role, "n_items": len(c.items)}
                       for c in cb.constructs.values()],
        "items": [{"id": i.id, "en": i.en, "zh": i.zh, "construct": i.construct, "role": i.role,
                   "reverse": i.reverse, "scale": i.scale} for i in cb.items.values()],
        "scales": {s.id: [{"code": lv.code, "en": lv.en, "zh": lv.zh} for lv in s.levels] for s in cb.scales.values()},
        "categoricals": [{"id": c.id, "en": c.en, "zh": c.zh, "n_categories": len(c.categories)} for c in cb.categoricals.values()],
        "n_items": len(cb.items),
    }


_PACKAGES = ("servicestudy", "numpy", "pandas", "scipy", "statsmodels", "matplotlib", "openpyxl",
             "python-calamine", "typst", "pylopdf-fonts-zh-cn", "pyarrow", "python-docx")


def _provenance(prep_info: Mapping[str, Any], cb: Codebook, seed: int) -> dict[str, Any]:
    versions = {}
    for p in _PACKAGES:
        try:
            versions[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            versions[p] = None
    inputs = [dict(prep_info.get("input", {}))]
    inputs.append({"file": f"codebook {cb.study.get('id', '')}", "sha256": cb.sha256})
    return {"inputs": inputs, "packages": versions, "python": platform.python_version(), "seed": seed}


def collect(out: str | Path, *, prepared: str | Path | None = None, codebook: str | Path | Codebook | None = None,
            seed: int = SEED) -> Path:
    """Merge ``results/*.json`` with the instrument, provenance and findings into
    ``build/report_data.json`` (what the Typst template reads)."""
    out = Path(out)
    sections: dict[str, Any] = {}
    for name in SECTIONS:
        path = out / "results" / f"{name}.json"
        if path.is_file():
            sections[name] = json.loads(path.read_text(encoding="utf-8"))
        else:
            sections[name] = {"status": "missing", "message": f"the pipeline did not write results/{name}.json"}
    info: dict[str, Any] = {}
    if prepared is not None and (Path(prepared) / "prepared.json").is_file():
        info = json.loads((Path(prepared) / "prepared.json").read_text(encoding="utf-8"))
    elif sections["sample"].get("input"):
        info = {"input": sections["sample"]["input"]}
    cb = load_codebook(codebook if codebook is not None else info.get("codebook", "k_station"))
    simulated = bool(info.get("simulated", False))
    doc = {
        "format": "servicestudy-report-data",
        "version": 1,
        "simulated": simulated,
        "instrument": _instrument(cb),
        "provenance": _provenance(info, cb, seed),
        "sections": sections,
        "findings": findings(sections),
        "areas": {k: {"en": v["en"], "zh": v["zh"], "dimensions": list(v["dimensions"])} for k, v in RECOMMENDATION_AREAS.items()},
    }
    return atomic_write_text(out / "build" / "report_data.json", _dumps(doc))


def font_paths() -> list[str]:
    """Folders holding Noto Sans SC and Noto Serif SC (passed to Typst)."""
    import pylopdf_fonts_zh_cn as fonts

    return sorted({str(Path(fonts.sans_path()).parent), str(Path(fonts.serif_path()).parent)})


def template_text(name: str = "report.typ") -> str:
    return (importlib.resources.files("servicestudy") / "templates" / name).read_text(encoding="utf-8")


def build_pdf(out: str | Path, *, lang: str = "en", template: str | Path | None = None) -> Path:
    """Compile ``build/report_data.json`` into ``report.pdf`` (en) or ``report_zh.pdf`` (zh)."""
    import typst

    (langs,) = (_check_lang(lang),)
    if len(langs) != 1:
        raise DataError(f"The 'lang' parameter of build_pdf must be one of 'en', 'zh'. Got {lang!r} instead.")
    out = Path(out)
    data = out / "build" / "report_data.json"
    if not data.is_file():
        raise OutputError("no report data", file=data, expected="the output of collect() (run the pipeline first)")
    text = Path(template).read_text(encoding="utf-8") if template else template_text()
    atomic_write_text(out / "build" / "format.typ", template_text("format.typ"))
    main = atomic_write_text(out / "build" / "report.typ", text)
    target = out / ("report.pdf" if lang == "en" else f"report_{lang}.pdf")
    pdf = typst.compile(str(main), root=str(out), font_paths=font_paths(), ignore_system_fonts=True,
                        sys_inputs={"lang": lang, "data": "/build/report_data.json"}, format="pdf")
    return atomic_write_bytes(target, pdf)


def execute_notebook(notebook: str | Path, *, out: str | Path = "reports", cwd: str | Path = ".",
                     timeout: int = 600, env: Mapping[str, str] | None = None) -> Path:
    """Execute a Jupytext percent-format notebook headless (nbclient, the ``python3`` kernel of
    this environment) and write the executed ``.ipynb`` to ``out/build/notebooks/``.

    The notebook itself writes its section's results through :func:`run_section`.
    """
    import os

    import jupytext
    from nbclient import NotebookClient

    notebook = Path(notebook)
    nb = jupytext.read(notebook)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", shutdown_kernel="immediate",
                                resources={"metadata": {"path": str(Path(cwd).resolve())}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    target = Path(out) / "build" / "notebooks" / (notebook.stem + ".ipynb")
    for cell in nb.cells:  # drop volatile execution metadata (timestamps)
        cell.get("metadata", {}).pop("execution", None)
    return atomic_write_text(target, jupytext.writes(nb, fmt="ipynb"))


def _progress(msg: str, *, quiet: bool) -> None:
    if not quiet:
        print(f">> {msg}", file=sys.stderr, flush=True)


def _interviews(export: str | Path, interviews: str | Path | None) -> Path | None:
    if interviews != "auto":
        return None if interviews is None else Path(interviews)
    auto = Path(export).parent / "interviews" / "interviews.csv"
    return auto if auto.is_file() else None


def run_pipeline(export: str | Path, *, codebook: str | Path | Codebook = "k_station", out: str | Path = "reports",
                 lang: str = "both", prepared: str | Path | None = None, strict: bool = False,
                 quiet: bool = False, interviews: str | Path | None = "auto") -> list[Path]:
    """Run everything on one export, without notebooks: prepare, every section, collect and the
    PDF(s). Returns the PDF paths.

    Parameters
    ----------
    export
        The survey export (CSV, xlsx, xls, sav, dta).
    codebook
        A codebook path or the name of a shipped one.
    out
        Output folder (figures/, tables/, results/, build/, the PDFs).
    lang
        ``"en"``, ``"zh"`` or ``"both"``.
    prepared
        Where to write the prepared data (default ``out/build/prepared``).
    strict
        Raise instead of recording a section as failed.
    interviews
        Interview metadata for the open-answers and interviews section (docs/qualitative.md);
        ``"auto"``: ``interviews/interviews.csv`` beside the export when it exists; None: none.
    """
    langs = _check_lang(lang)
    out = Path(out)
    if out.resolve() == Path(export).resolve().parent:
        # raw data is immutable: nothing is written into the folder of the raw export
        raise OutputError("the output folder is the raw export's own folder", file=out,
                          expected="another folder, e.g. reports/mine (raw data is never modified)")
    t0 = time.perf_counter()
    _progress(f"reading and coding {export}", quiet=quiet)
    prep = prepare(export, codebook=codebook)
    prep.save(prepared or out / "build" / "prepared")
    for name in SECTIONS:
        _progress(f"section {name}", quiet=quiet)
        options = {"interviews": _interviews(export, interviews)} if name == "text" else {}
        run_section(name, prep, out, lang=langs, strict=strict, **options)
    collect(out, prepared=prepared or out / "build" / "prepared", codebook=prep.codebook)
    pdfs = []
    for lg in langs:
        _progress(f"typesetting the {'English' if lg == 'en' else 'Chinese'} report", quiet=quiet)
        pdfs.append(build_pdf(out, lang=lg))
    _progress(f"done in {time.perf_counter() - t0:.1f} s: {', '.join(map(str, pdfs))}", quiet=quiet)
    return pdfs


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m servicestudy.report`` steps used by the Makefile.

    ``prepare EXPORT CODEBOOK PREPARED_DIR``, ``section NAME PREPARED_DIR OUT``,
    ``notebook NOTEBOOK.py OUT``, ``collect OUT PREPARED_DIR``, ``pdf OUT LANG``.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(main.__doc__, file=sys.stderr)
        return 2
    cmd, rest = args[0], args[1:]
    try:
        if cmd == "prepare":
            export, cb, folder = rest
            prepare(export, codebook=cb).save(folder)
        elif cmd == "section":
            name, folder, out = rest
            run_section(name, load_prepared(folder), out)
        elif cmd == "collect":
            out, folder = rest
            collect(out, prepared=folder)
        elif cmd == "notebook":
            path, out = rest
            execute_notebook(path, out=out)
        elif cmd == "pdf":
            out, lang = rest
            build_pdf(out, lang=lang)
        else:
            print(f"unknown step {cmd!r}", file=sys.stderr)
            return 2
    except ServicestudyError as exc:
        print(f"servicestudy report {cmd}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
