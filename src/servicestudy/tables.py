"""APA-style tables: one small immutable :class:`Table`, rendered to Typst, HTML, LaTeX,
Word and Excel.

A :class:`Table` holds a title, a note, a DataFrame at full precision and a number format per
column. Rounding happens only here, when a table is rendered. Builders turn result frames into
tables (:func:`descriptives_table`, :func:`reliability_table`, :func:`loadings_table`,
:func:`cfa_fit_table`, :func:`regression_table`, :func:`group_table`, :func:`ipa_table`).

Number formats (``formats={column: spec}``):

- a ``format()`` spec such as ``".2f"`` or ``"d"``;
- ``"p"``: APA p-value, three decimals without the leading zero, ``< .001`` below that;
- ``"r2"`` / ``"r3"``: a statistic bounded by 1 (correlations, alpha, loadings), two or three
  decimals without the leading zero (APA 7, 6.36);
- ``"pct"``: a proportion shown as a percentage with one decimal.

Missing values render as an en dash. Examples:

>>> import pandas as pd
>>> t = Table("Scale reliability", pd.DataFrame({"alpha": [0.8412], "pvalue": [0.00004]},
...           index=pd.Index(["Attitude"], name="Scale")), formats={"alpha": "r2", "pvalue": "p"},
...           labels={"alpha": "α", "pvalue": "p"})
>>> t.formatted()
          α       p
Scale
Attitude  .84  < .001
>>> print(t.to_latex().splitlines()[5])
Scale & $\\alpha$ & $p$ \\\\
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import io
import json
import math
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._atomic import atomic_write_bytes
from .errors import DataError

__all__ = [
    "Table",
    "cfa_fit_table",
    "descriptives_table",
    "format_value",
    "group_table",
    "ipa_table",
    "loadings_table",
    "regression_table",
    "reliability_table",
]

DASH = "\u2013"
MINUS = "\u2212"
#: Fixed timestamp written into .docx and .xlsx files (deterministic output).
FIXED_TIME = _dt.datetime(2022, 12, 1, 0, 0, 0)


def format_value(value: Any, spec: str | None) -> str:
    """Format one cell. See the module docstring for the specs.

    >>> format_value(0.0004, "p"), format_value(0.0312, "p"), format_value(-0.456, "r2")
    ('< .001', '.031', '−.46')
    >>> format_value(float("nan"), ".2f"), format_value(12, "d"), format_value(0.1234, "pct")
    ('–', '12', '12.3%')
    """
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(value)):
        return DASH
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if value is pd.NA or value is pd.NaT:
        return DASH
    if spec is None or isinstance(value, str):
        if isinstance(value, (float, np.floating)):
            spec = ".2f"
        else:
            return str(value)
    x = float(value) if spec != "d" else value
    if spec == "p":
        if x < 0.001:
            return "< .001"
        s = f"{x:.3f}"
        return s[1:] if s.startswith("0") else s
    if spec in ("r2", "r3"):
        d = int(spec[1])
        s = f"{abs(x):.{d}f}"
        s = s[1:] if s.startswith("0") else s
        neg = x < 0 and float(s) != 0
        return (MINUS + s) if neg else s
    if spec == "pct":
        return f"{100 * x:.1f}%"
    if spec == "d":
        try:
            return f"{round(float(value))}"
        except (TypeError, ValueError):
            return str(value)
    s = format(x, spec)
    if s.startswith("-"):
        body = s[1:]
        s = body if float(body.rstrip("%") or 0) == 0 else MINUS + body
    return s


@dataclasses.dataclass(frozen=True)
class Table:
    """An APA-style table: a title, a note, full-precision data and per-column formats.

    Parameters
    ----------
    title
        Table title (shown in italics above the table, APA style).
    data
        The values at full precision; the index is the stub column.
    note
        Text under the table ("Note." is prefixed when rendered).
    formats
        ``{column: spec}``; see :func:`format_value`. Unlisted float columns use ``.2f``.
    labels
        ``{column: header}`` shown instead of the column names.
    number
        Table number (rendered as "Table n").
    """

    title: str
    data: pd.DataFrame
    note: str = ""
    formats: Mapping[str, str] = dataclasses.field(default_factory=dict)
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    number: int | None = None
    note_label: str = "Note."

    def __post_init__(self) -> None:
        if not isinstance(self.data, pd.DataFrame):
            raise DataError(f"Table: data must be a DataFrame, got {type(self.data).__name__}")
        object.__setattr__(self, "data", self.data.copy())
        object.__setattr__(self, "formats", dict(self.formats))
        object.__setattr__(self, "labels", dict(self.labels))

    # --- formatting -------------------------------------------------------------------------
    @property
    def stub(self) -> str:
        return str(self.data.index.name) if self.data.index.name is not None else ""

    def headers(self) -> list[str]:
        return [self.labels.get(str(c), str(c)) for c in self.data.columns]

    def formatted(self) -> pd.DataFrame:
        """The table as strings, exactly as every renderer shows it."""
        out = {}
        for col in self.data.columns:
            spec = self.formats.get(str(col))
            out[self.labels.get(str(col), str(col))] = [format_value(v, spec) for v in self.data[col]]
        frame = pd.DataFrame(out, index=[str(i) for i in self.data.index], dtype=object)
        frame.index.name = self.data.index.name
        return frame

    def caption(self) -> str:
        return f"Table {self.number}" if self.number is not None else ""

    # --- Typst -------------------------------------------------------------------------------
    def to_typst(self) -> str:
        """Typst markup: a ``#figure`` of kind table, three-rule APA layout."""
        cells = self.formatted()
        ncol = cells.shape[1] + 1
        head = [_typst_str(self.stub), *(_typst_str(h) for h in cells.columns)]
        lines = [
            "#figure(kind: table, supplement: none, caption: none)[",
            "  #set text(size: 8.5pt)",
            "  #set par(justify: false)",
            f"  #align(left)[#emph[{_typst_escape(self.title)}]]",
            "  #table(",
            f"    columns: ({', '.join(['auto'] * ncol)}),",
            f"    align: ({', '.join(['left'] + ['right'] * (ncol - 1))}),",
            "    stroke: none,",
            "    inset: (x: 5pt, y: 3pt),",
            "    table.hline(stroke: 0.8pt),",
            "    table.header(" + ", ".join(f"[{h}]" for h in head) + "),",
            "    table.hline(stroke: 0.5pt),",
        ]
        for idx, row in cells.iterrows():
            lines.append("    " + ", ".join(f"[{_typst_str(v)}]" for v in [idx, *row.tolist()]) + ",")
        lines.append("    table.hline(stroke: 0.8pt),")
        lines.append("  )")
        if self.note:
            lines.append(f"  #align(left)[#text(size: 7.5pt)[#emph[{_typst_str(self.note_label)}] {_typst_escape(self.note)}]]")
        lines.append("]")
        return "\n".join(lines) + "\n"

    # --- HTML -------------------------------------------------------------------------------------
    def to_html(self) -> str:
        """An HTML table (used by Jupyter through ``_repr_html_``)."""
        cells = self.formatted()
        esc = html.escape
        out = ['<table class="servicestudy-table" style="border-collapse:collapse">']
        out.append(f'<caption style="text-align:left;font-style:italic">{esc(self.title)}</caption>')
        out.append('<thead><tr style="border-top:2px solid;border-bottom:1px solid">')
        out.append(f'<th style="text-align:left">{esc(self.stub)}</th>')
        out.extend(f'<th style="text-align:right">{esc(h)}</th>' for h in cells.columns)
        out.append("</tr></thead><tbody>")
        for k, (idx, row) in enumerate(cells.iterrows()):
            last = ' style="border-bottom:2px solid"' if k == len(cells) - 1 else ""
            out.append(f"<tr{last}><td style=\"text-align:left\">{esc(str(idx))}</td>")
            out.extend(f'<td style="text-align:right">{esc(v)}</td>' for v in row.tolist())
            out.append("</tr>")
        out.append("</tbody></table>")
        if self.note:
            out.append(f'<p style="font-size:smaller"><em>{esc(self.note_label)}</em> {esc(self.note)}</p>')
        return "\n".join(out) + "\n"

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"Table({self.title!r}, {self.data.shape[0]}x{self.data.shape[1]})"

    # --- LaTeX ---------------------------------------------------------------------------------------
    def to_latex(self) -> str:
        """A ``table`` environment with booktabs rules (needs ``\\usepackage{booktabs}``)."""
        cells = self.formatted()
        spec = "l" + "r" * cells.shape[1]
        out = [
            "\\begin{table}[htbp]",
            "\\centering",
            f"\\caption{{{_latex(self.title)}}}",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            " & ".join([_latex(self.stub), *(_latex(h) for h in cells.columns)]) + " \\\\",
            "\\midrule",
        ]
        for idx, row in cells.iterrows():
            out.append(" & ".join([_latex(str(idx)), *(_latex(v) for v in row.tolist())]) + " \\\\")
        out += ["\\bottomrule", "\\end{tabular}"]
        if self.note:
            out.append(f"\\par\\smallskip{{\\footnotesize\\textit{{{_latex(self.note_label)}}} {_latex(self.note)}}}")
        out.append("\\end{table}")
        return "\n".join(out) + "\n"

    # --- Word ------------------------------------------------------------------------------------------
    def to_docx(self, path: str | Path) -> Path:
        """Write a Word document with this table (deterministic bytes)."""
        import docx
        from docx.shared import Pt

        cells = self.formatted()
        doc = docx.Document()
        props = doc.core_properties
        props.created = FIXED_TIME
        props.modified = FIXED_TIME
        props.last_printed = FIXED_TIME
        props.author = "servicestudy"
        props.last_modified_by = "servicestudy"
        props.revision = 1
        if self.number is not None:
            doc.add_paragraph().add_run(self.caption()).bold = True
        doc.add_paragraph().add_run(self.title).italic = True
        table = doc.add_table(rows=1 + len(cells), cols=1 + cells.shape[1])
        table.cell(0, 0).text = self.stub
        for j, h in enumerate(cells.columns, start=1):
            table.cell(0, j).text = str(h)
        for i, (idx, row) in enumerate(cells.iterrows(), start=1):
            table.cell(i, 0).text = str(idx)
            for j, v in enumerate(row.tolist(), start=1):
                table.cell(i, j).text = v
        for row in table.rows:
            for cell in row.cells:
                for par in cell.paragraphs:
                    for run in par.runs:
                        run.font.size = Pt(9)
        if self.note:
            p = doc.add_paragraph()
            p.add_run(f"{self.note_label} ").italic = True
            p.add_run(self.note)
        buf = io.BytesIO()
        doc.save(buf)
        return atomic_write_bytes(path, _fix_zip(buf.getvalue()))

    # --- Excel ----------------------------------------------------------------------------------------
    def to_xlsx(self, path: str | Path) -> Path:
        """Write an Excel workbook: the formatted table on sheet ``table`` and the full-precision
        values on sheet ``values``; text cells are neutralised against formula injection."""
        import openpyxl

        neutral = _neutralizer()
        wb = openpyxl.Workbook()
        wb.properties.created = FIXED_TIME
        wb.properties.modified = FIXED_TIME
        wb.properties.creator = "servicestudy"
        ws = wb.active
        ws.title = "table"
        ws.append([neutral(self.title)])
        cells = self.formatted()
        ws.append([neutral(self.stub), *(neutral(str(h)) for h in cells.columns)])
        for idx, row in cells.iterrows():
            ws.append([neutral(str(idx)), *(neutral(v) for v in row.tolist())])
        if self.note:
            ws.append([neutral(f"{self.note_label} {self.note}")])
        raw = wb.create_sheet("values")
        raw.append([neutral(self.stub), *(neutral(str(c)) for c in self.data.columns)])
        for idx, row in self.data.iterrows():
            vals = []
            for v in row.tolist():
                if isinstance(v, (bool, np.bool_)):
                    vals.append(bool(v))
                elif isinstance(v, (int, float, np.integer, np.floating)):
                    vals.append(float(v) if math.isfinite(float(v)) else None)
                else:
                    vals.append(neutral(str(v)))
            raw.append([neutral(str(idx)), *vals])
        buf = io.BytesIO()
        wb.save(buf)
        return atomic_write_bytes(path, _fix_zip(buf.getvalue()))

    # --- serialisation ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (full precision; NaN as null)."""
        return {
            "title": self.title,
            "note": self.note,
            "number": self.number,
            "note_label": self.note_label,
            "stub": self.stub,
            "index": [str(i) for i in self.data.index],
            "columns": [str(c) for c in self.data.columns],
            "labels": dict(self.labels),
            "formats": dict(self.formats),
            "rows": [[_jsonable(v) for v in row] for row in self.data.itertuples(index=False)],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Table:
        data = pd.DataFrame(d["rows"], columns=d["columns"],
                            index=pd.Index(d["index"], name=d.get("stub") or None))
        data = data.apply(lambda s: pd.to_numeric(s) if _all_numeric(s) else s)
        return cls(title=d["title"], data=data, note=d.get("note", ""), formats=d.get("formats", {}),
                   labels=d.get("labels", {}), number=d.get("number"),
                   note_label=d.get("note_label", "Note."))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, allow_nan=False)


# --- helpers ---------------------------------------------------------------------------------------


def _all_numeric(s: pd.Series) -> bool:
    return all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in s)


def _jsonable(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(float(v)) else None
    return str(v)


def _typst_str(text: Any) -> str:
    """A Typst string literal in markup (``#"..."``): no markup character is interpreted."""
    body = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")
    return f'#"{body}"'


_typst_escape = _typst_str


_LATEX_MAP = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", MINUS: "$-$", DASH: "--",
    "α": r"$\alpha$", "ω": r"$\omega$", "β": r"$\beta$", "χ": r"$\chi$", "²": r"$^2$",
    "η": r"$\eta$", "Δ": r"$\Delta$", "≥": r"$\geq$", "≤": r"$\leq$",
}


def _latex(text: str) -> str:
    s = "".join(_LATEX_MAP.get(ch, ch) for ch in str(text))
    if s in ("p", "t", "F", "M", "SD", "n", "r", "R²", "df"):
        return f"${s}$" if s in ("p", "t", "F", "n", "r") else s
    return s


def _neutralizer():
    try:
        from ._spreadsheet import neutralize_value as neutralize
    except ImportError:  # not landed yet: a local equivalent of the OWASP rule
        def neutralize(value: Any) -> Any:
            if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                if value[:1] in ("-", "+") and _looks_numeric(value):
                    return value
                return "'" + value
            return value
    return neutralize


def _looks_numeric(s: str) -> bool:
    try:
        float(s.replace(MINUS, "-"))
    except ValueError:
        return False
    return True


def _fix_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx/xlsx) with fixed timestamps and a stable member order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with the clock
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                body = re.sub(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + stamp + rb"\g<2>", body)
            dst.writestr(fixed, body)
    return out.getvalue()


def _frame(obj: Any) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return obj
    if hasattr(obj, "to_frame"):
        return obj.to_frame()
    raise DataError(f"expected a DataFrame or a result with to_frame(), got {type(obj).__name__}")


def _pick(frame: pd.DataFrame, spec: Mapping[str, tuple[str, str]]) -> tuple[pd.DataFrame, dict, dict]:
    cols = [c for c in spec if c in frame.columns]
    if not cols:
        raise DataError(f"none of the expected columns {', '.join(spec)} are present")
    labels = {c: spec[c][0] for c in cols}
    formats = {c: spec[c][1] for c in cols}
    return frame[cols], labels, formats


# --- builders --------------------------------------------------------------------------------------


def descriptives_table(frame: Any, *, title: str = "Item descriptive statistics", note: str = "",
                       stub: str = "Item", labels: Mapping[str, str] | None = None) -> Table:
    """Item or dimension descriptives (n, M, SD, skew, kurtosis, % missing)."""
    spec = {"n_obs": ("n", "d"), "mean": ("M", ".2f"), "estimate": ("M", ".2f"),
            "sd": ("SD", ".2f"), "ci_low": ("95% CI low", ".2f"), "ci_high": ("95% CI high", ".2f"),
            "median": ("Mdn", ".1f"), "skew": ("Skew", ".2f"), "kurtosis": ("Kurtosis", ".2f"),
            "pct_missing": ("Missing", "pct"), "missing": ("Missing", "pct")}
    data, lab, fmt = _pick(_frame(frame), spec)
    data = _relabel_index(data, stub, labels)
    return Table(title, data, note=note, formats=fmt, labels=lab)


def reliability_table(frame: pd.DataFrame, *, title: str = "Internal consistency by scale",
                      note: str = "", stub: str = "Scale",
                      labels: Mapping[str, str] | None = None) -> Table:
    """One row per scale: items, alpha (CI), omega, CR, AVE."""
    spec = {"n_items": ("Items", "d"), "alpha": ("α", "r2"), "ci_low": ("95% CI low", "r2"),
            "ci_high": ("95% CI high", "r2"), "omega": ("ω", "r2"), "omega_total": ("ω", "r2"),
            "cr": ("CR", "r2"), "ave": ("AVE", "r2"), "average_r": ("Mean r", "r2")}
    data, lab, fmt = _pick(frame, spec)
    data = _relabel_index(data, stub, labels)
    return Table(title, data, note=note, formats=fmt, labels=lab)


def loadings_table(loadings: pd.DataFrame, *, title: str = "Factor loadings", note: str = "",
                   stub: str = "Item", labels: Mapping[str, str] | None = None,
                   extra: pd.DataFrame | None = None) -> Table:
    """Items by factors (loadings without leading zeros), optionally with communalities."""
    data = loadings.copy()
    if extra is not None:
        data = data.join(extra)
    fmt = {str(c): "r2" for c in data.columns}
    data = _relabel_index(data, stub, labels)
    return Table(title, data, note=note, formats=fmt)


def cfa_fit_table(fit: Mapping[str, float] | pd.DataFrame, *, title: str = "Confirmatory factor analysis: model fit",
                  note: str = "") -> Table:
    """χ², df, p, CFI, TLI, RMSEA (90% CI), SRMR."""
    frame = pd.DataFrame([fit]) if isinstance(fit, Mapping) else _frame(fit)
    spec = {"chisq": ("χ²", ".2f"), "df": ("df", "d"), "pvalue": ("p", "p"), "cfi": ("CFI", ".3f"),
            "tli": ("TLI", ".3f"), "rmsea": ("RMSEA", ".3f"), "rmsea_ci_low": ("RMSEA low", ".3f"),
            "rmsea_ci_high": ("RMSEA high", ".3f"), "srmr": ("SRMR", ".3f"), "n_obs": ("n", "d")}
    data, lab, fmt = _pick(frame, spec)
    data.index = pd.Index(["Model"] * len(data), name="")
    return Table(title, data, note=note, formats=fmt, labels=lab)


def regression_table(coefficients: pd.DataFrame, *, title: str = "Regression coefficients",
                     note: str = "", stub: str = "Predictor",
                     labels: Mapping[str, str] | None = None) -> Table:
    """B, SE, β, t, p, 95% CI per term."""
    spec = {"estimate": ("B", ".3f"), "std_error": ("SE", ".3f"), "beta": ("β", ".3f"),
            "statistic": ("t", ".2f"), "pvalue": ("p", "p"), "ci_low": ("95% CI low", ".3f"),
            "ci_high": ("95% CI high", ".3f")}
    data, lab, fmt = _pick(coefficients, spec)
    data = _relabel_index(data, stub, labels)
    return Table(title, data, note=note, formats=fmt, labels=lab)


def group_table(frame: pd.DataFrame, *, title: str = "Group comparisons", note: str = "",
                stub: str = "Dimension", labels: Mapping[str, str] | None = None) -> Table:
    """One row per comparison: test, statistic, df, p, effect size."""
    spec = {"group": ("Grouping", ""), "by": ("Grouping", ""), "test": ("Test", ""),
            "statistic": ("Statistic", ".2f"), "df": ("df", ".1f"), "df1": ("df1", ".0f"),
            "df2": ("df2", ".1f"), "pvalue": ("p", "p"), "p_adjusted": ("p (adj.)", "p"),
            "effect_size": ("Effect size", ".3f"), "effect": ("Effect", "")}
    data, lab, fmt = _pick(frame, spec)
    fmt = {k: v for k, v in fmt.items() if v}
    data = _relabel_index(data, stub, labels)
    return Table(title, data, note=note, formats=fmt, labels=lab)


def ipa_table(frame: pd.DataFrame, *, title: str = "Importance-performance analysis", note: str = "",
              stub: str = "Dimension", labels: Mapping[str, str] | None = None,
              quadrant_labels: Mapping[str, str] | None = None) -> Table:
    """Performance, importance, gap and quadrant per attribute."""
    spec = {"performance": ("Performance", ".2f"), "importance": ("Importance", ".2f"),
            "gap": ("Gap", ".2f"), "quadrant": ("Quadrant", "")}
    data, lab, fmt = _pick(frame, spec)
    if quadrant_labels and "quadrant" in data.columns:
        data = data.assign(quadrant=data["quadrant"].map(lambda q: quadrant_labels.get(q, q)))
    fmt = {k: v for k, v in fmt.items() if v}
    data = _relabel_index(data, stub, labels)
    return Table(title, data, note=note, formats=fmt, labels=lab)


def _relabel_index(data: pd.DataFrame, stub: str, labels: Mapping[str, str] | None) -> pd.DataFrame:
    data = data.copy()
    if labels:
        data.index = [labels.get(str(i), str(i)) for i in data.index]
    data.index.name = stub
    return data
