"""Tables: number formats, snapshot tests of the rendered Typst/HTML/LaTeX, deterministic
Word and Excel files."""

from __future__ import annotations

import hashlib
import io
import math
import zipfile

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicestudy import tables
from servicestudy.tables import Table, format_value


def _table() -> Table:
    data = pd.DataFrame(
        {"n_items": [4, 5], "alpha": [0.81234, 0.6], "pvalue": [0.0004, 0.04449], "delta": [-0.0004, -1.5]},
        index=pd.Index(["Service content", "Attitude & awareness"], name="Scale"),
    )
    return Table("Reliability by scale", data, note="Feldt CI; n = 170.",
                 formats={"n_items": "d", "alpha": "r2", "pvalue": "p", "delta": ".2f"},
                 labels={"n_items": "Items", "alpha": "α", "pvalue": "p", "delta": "Δ"}, number=2)


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        (0.0004, "p", "< .001"),
        (0.001, "p", ".001"),
        (0.04449, "p", ".044"),
        (1.0, "p", "1.000"),
        (0.8149, "r2", ".81"),
        (-0.456, "r2", "\u2212.46"),
        (-0.004, "r2", ".00"),  # no negative zero
        (1.0, "r2", "1.00"),
        (0.12345, "r3", ".123"),
        (-1.5, ".2f", "\u22121.50"),
        (-0.0004, ".2f", "0.00"),
        (12.0, "d", "12"),
        (0.1234, "pct", "12.3%"),
        (float("nan"), ".2f", "\u2013"),
        (None, "p", "\u2013"),
        ("Welch t", None, "Welch t"),
        (True, None, "yes"),
    ],
)
def test_format_value(value, spec, expected):
    assert format_value(value, spec) == expected


@given(st.floats(min_value=-1, max_value=1, allow_nan=False))
def test_r2_format_round_trips_to_two_decimals(x):
    s = format_value(x, "r2").replace("\u2212", "-")
    assert not s.startswith("0")
    assert not s.startswith("-0")
    assert float(s) == pytest.approx(round(x, 2), abs=0.0051)


def test_formatted_is_the_only_rounding():
    t = _table()
    # the data keep full precision; rendering rounds
    assert t.data.loc["Service content", "alpha"] == 0.81234
    assert t.formatted().loc["Service content", "α"] == ".81"


def test_table_is_immutable_and_copies_its_data():
    data = pd.DataFrame({"x": [1.0]}, index=["a"])
    t = Table("T", data)
    data.loc["a", "x"] = 99.0
    assert t.data.loc["a", "x"] == 1.0
    with pytest.raises(AttributeError):
        t.title = "other"  # type: ignore[misc]


TYPST_SNAPSHOT = """\
#figure(kind: table, supplement: none, caption: none)[
  #set text(size: 8.5pt)
  #set par(justify: false)
  #align(left)[#emph[#"Reliability by scale"]]
  #table(
    columns: (auto, auto, auto, auto, auto),
    align: (left, right, right, right, right),
    stroke: none,
    inset: (x: 5pt, y: 3pt),
    table.hline(stroke: 0.8pt),
    table.header([#"Scale"], [#"Items"], [#"α"], [#"p"], [#"Δ"]),
    table.hline(stroke: 0.5pt),
    [#"Service content"], [#"4"], [#".81"], [#"< .001"], [#"0.00"],
    [#"Attitude & awareness"], [#"5"], [#".60"], [#".044"], [#"−1.50"],
    table.hline(stroke: 0.8pt),
  )
  #align(left)[#text(size: 7.5pt)[#emph[#"Note."] #"Feldt CI; n = 170."]]
]
"""


def test_typst_snapshot():
    assert _table().to_typst() == TYPST_SNAPSHOT


def test_typst_escapes_markup():
    t = Table('A "quoted" #title with \\ and [brackets]', pd.DataFrame({"x": ["*bold*"]}, index=["$r"]))
    out = t.to_typst()
    assert '#"A \\"quoted\\" #title with \\\\ and [brackets]"' in out
    assert '[#"*bold*"]' in out
    assert '[#"$r"]' in out


HTML_SNAPSHOT = """\
<table class="servicestudy-table" style="border-collapse:collapse">
<caption style="text-align:left;font-style:italic">Reliability by scale</caption>
<thead><tr style="border-top:2px solid;border-bottom:1px solid">
<th style="text-align:left">Scale</th>
<th style="text-align:right">Items</th>
<th style="text-align:right">α</th>
<th style="text-align:right">p</th>
<th style="text-align:right">Δ</th>
</tr></thead><tbody>
<tr><td style="text-align:left">Service content</td>
<td style="text-align:right">4</td>
<td style="text-align:right">.81</td>
<td style="text-align:right">&lt; .001</td>
<td style="text-align:right">0.00</td>
</tr>
<tr style="border-bottom:2px solid"><td style="text-align:left">Attitude &amp; awareness</td>
<td style="text-align:right">5</td>
<td style="text-align:right">.60</td>
<td style="text-align:right">.044</td>
<td style="text-align:right">−1.50</td>
</tr>
</tbody></table>
<p style="font-size:smaller"><em>Note.</em> Feldt CI; n = 170.</p>
"""


def test_html_snapshot():
    t = _table()
    assert t.to_html() == HTML_SNAPSHOT
    assert t._repr_html_() == HTML_SNAPSHOT


LATEX_SNAPSHOT = r"""\begin{table}[htbp]
\centering
\caption{Reliability by scale}
\begin{tabular}{lrrrr}
\toprule
Scale & Items & $\alpha$ & $p$ & $\Delta$ \\
\midrule
Service content & 4 & .81 & \textless{} .001 & 0.00 \\
Attitude \& awareness & 5 & .60 & .044 & $-$1.50 \\
\bottomrule
\end{tabular}
\par\smallskip{\footnotesize\textit{Note.} Feldt CI; n = 170.}
\end{table}
"""


def test_latex_snapshot():
    assert _table().to_latex() == LATEX_SNAPSHOT


def test_json_round_trip():
    t = _table()
    back = Table.from_dict(__import__("json").loads(t.to_json()))
    assert back.to_typst() == t.to_typst()
    pd.testing.assert_frame_equal(back.data, t.data, check_dtype=False)


def test_json_writes_nan_as_null():
    t = Table("T", pd.DataFrame({"x": [math.nan, 1.0]}, index=["a", "b"]))
    assert '"rows": [\n  [\n   null\n  ],' in t.to_json()


def test_docx_is_deterministic_and_has_the_cells(tmp_path):
    import docx

    t = _table()
    a = t.to_docx(tmp_path / "a.docx").read_bytes()
    b = t.to_docx(tmp_path / "b.docx").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    for info in zipfile.ZipFile(io.BytesIO(a)).infolist():
        assert info.date_time == tables.FIXED_TIME.timetuple()[:6]
    doc = docx.Document(io.BytesIO(a))
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert cells[0] == ["Scale", "Items", "α", "p", "Δ"]
    assert cells[1] == ["Service content", "4", ".81", "< .001", "0.00"]
    assert doc.core_properties.created.replace(tzinfo=None) == tables.FIXED_TIME


def test_xlsx_is_deterministic_neutralised_and_keeps_full_precision(tmp_path):
    import openpyxl

    data = pd.DataFrame({"text": ["=HYPERLINK(\"x\")", "ok"], "value": [0.123456789, -2.0]},
                        index=pd.Index(["@a", "b"], name="Row"))
    t = Table("=cmd()", data, formats={"value": ".2f"})
    a = t.to_xlsx(tmp_path / "a.xlsx").read_bytes()
    b = t.to_xlsx(tmp_path / "b.xlsx").read_bytes()
    assert a == b
    core = zipfile.ZipFile(io.BytesIO(a)).read("docProps/core.xml").decode()
    assert core.count("2022-12-01T00:00:00Z") == 2  # created and modified, not the clock
    wb = openpyxl.load_workbook(io.BytesIO(a))
    shown = wb["table"]
    assert shown["A1"].value == "'=cmd()"
    assert shown["A3"].value == "'@a"
    assert shown["B3"].value == "'=HYPERLINK(\"x\")"
    assert shown["C3"].value == "0.12"
    raw = wb["values"]
    assert raw["C2"].value == 0.123456789
    assert raw["C3"].value == -2.0


def test_builders_pick_known_columns():
    frame = pd.DataFrame({"estimate": [0.5, 0.25], "std_error": [0.1, 0.05], "beta": [float("nan"), 0.3],
                          "statistic": [5.0, 5.0], "pvalue": [1e-6, 0.2], "other": [1, 2]},
                         index=["Intercept", "score_attitude"])
    t = tables.regression_table(frame, labels={"score_attitude": "Attitude"})
    assert list(t.formatted().columns) == ["B", "SE", "β", "t", "p"]
    assert list(t.formatted().index) == ["Intercept", "Attitude"]
    assert t.formatted().loc["Intercept", "β"] == "\u2013"
    fit = tables.cfa_fit_table({"chisq": 172.53, "df": 179, "pvalue": 0.62, "cfi": 1.0, "rmsea": 0.0, "srmr": 0.047})
    assert fit.formatted().iloc[0].tolist() == ["172.53", "179", ".620", "1.000", "0.000", "0.047"]


def test_builder_without_known_columns_raises():
    from servicestudy.errors import DataError

    with pytest.raises(DataError, match="none of the expected columns"):
        tables.reliability_table(pd.DataFrame({"foo": [1]}))
