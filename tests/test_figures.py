"""Figures: each function draws what it is given on the Axes it is given and returns it;
the glyph check refuses characters the font lacks; saved PNGs are deterministic."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from servicestudy import figures
from servicestudy.errors import DataError, OutputError


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _ax():
    with figures.style():
        _, ax = plt.subplots()
    return ax


def test_font_is_registered_and_used():
    from matplotlib import font_manager

    with figures.style():
        assert matplotlib.rcParams["font.family"] == [figures.FONT_FAMILY]
        path = font_manager.findfont(font_manager.FontProperties(family=figures.FONT_FAMILY))
    assert path == figures.font_path()


def test_likert_bars_centres_the_neutral_category():
    # item a: 1 x "1", 2 x "3", 1 x "5" -> 25% / 50% / 25%: the neutral bar straddles zero
    data = pd.DataFrame({"a": [1, 3, 3, 5], "b": [4, 4, 5, np.nan]}, dtype=float)
    ax = _ax()
    out = figures.likert_bars(data, levels={1: "SD", 2: "D", 3: "N", 4: "A", 5: "SA"}, ax=ax)
    assert out is ax
    bars = {(round(p.get_y() + p.get_height() / 2), c): p for c, cont in enumerate(ax.containers)
            for p in cont.patches}
    # rows: item a is drawn at the top (y = 1), b at y = 0
    neutral_a = bars[(1, 2)]
    assert neutral_a.get_x() == pytest.approx(-25.0)
    assert neutral_a.get_width() == pytest.approx(50.0)
    assert bars[(1, 0)].get_x() == pytest.approx(-50.0)  # left end of "1" (25%) + half neutral
    # b: 2/3 agree, 1/3 strongly agree (the NaN is not counted), nothing left of zero
    assert bars[(0, 3)].get_x() == pytest.approx(0.0)
    assert bars[(0, 3)].get_width() == pytest.approx(200 / 3)
    assert bars[(0, 4)].get_width() == pytest.approx(100 / 3)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SD", "D", "N", "A", "SA"]


def test_likert_bars_rejects_an_empty_item():
    with pytest.raises(DataError, match="no valid answers"):
        figures.likert_bars(pd.DataFrame({"a": [np.nan, np.nan], "b": [1.0, 2.0]}), levels=[1, 2, 3], ax=_ax())


def test_dimension_means_draws_estimates_and_intervals():
    frame = pd.DataFrame({"estimate": [3.2, 3.9], "ci_low": [3.0, 3.7], "ci_high": [3.5, 4.0]},
                         index=["效率", "态度"])
    ax = figures.dimension_means(frame, ax=_ax())
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), [3.2, 3.9])
    np.testing.assert_allclose(line.get_ydata(), [1, 0])
    segs = ax.collections[0].get_segments()
    np.testing.assert_allclose([s[:, 0] for s in segs], [[3.0, 3.5], [3.7, 4.0]])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["效率", "态度"]


def test_dimension_means_needs_its_columns():
    with pytest.raises(DataError, match="ci_low"):
        figures.dimension_means(pd.DataFrame({"estimate": [1.0]}), ax=_ax())


def test_ipa_plot_places_points_and_cross_hairs():
    frame = pd.DataFrame({"performance": [3.0, 4.0, 3.5], "importance": [4.5, 4.0, 3.5]}, index=["a", "b", "c"])
    ax = figures.ipa_plot(frame, ax=_ax(), x_cut=3.4, y_cut=4.1, quadrant_labels=list("QRST"))
    np.testing.assert_allclose(ax.collections[0].get_offsets(), frame.to_numpy())
    vlines = [line.get_xdata()[0] for line in ax.lines if line.get_xdata()[0] == line.get_xdata()[1]]
    hlines = [line.get_ydata()[0] for line in ax.lines if line.get_ydata()[0] == line.get_ydata()[1]]
    assert 3.4 in vlines
    assert 4.1 in hlines
    texts = {t.get_text() for t in ax.texts}
    assert {"Q", "R", "S", "T"} <= texts


def test_ipa_plot_default_cuts_are_the_means():
    frame = pd.DataFrame({"performance": [3.0, 4.0, 3.2], "importance": [4.0, 5.0, 4.2]}, index=list("abc"))
    ax = figures.ipa_plot(frame, ax=_ax())
    assert any(line.get_xdata()[0] == pytest.approx(3.4) for line in ax.lines)
    assert any(line.get_ydata()[0] == pytest.approx(4.4) for line in ax.lines)


def test_label_offsets_separate_close_points():
    off = figures._label_offsets(np.array([3.0, 3.01, 4.5]), np.array([4.0, 4.001, 3.0]))
    assert off[0] == 0.0
    assert off[1] >= 10.0  # pushed up
    assert off[2] == 0.0


def test_heatmaps_show_the_matrix():
    corr = pd.DataFrame([[1.0, -0.3], [-0.3, 1.0]], index=list("ab"), columns=list("ab"))
    ax = figures.correlation_heatmap(corr, ax=_ax())
    np.testing.assert_allclose(ax.images[0].get_array(), corr.to_numpy())
    assert "\u2212.30" not in {t.get_text() for t in ax.texts}
    assert "\u22120.30" in {t.get_text() for t in ax.texts}
    with pytest.raises(DataError, match="square"):
        figures.correlation_heatmap(corr.iloc[:, :1], ax=_ax())
    load = pd.DataFrame({"MR1": [0.7, 0.1], "MR2": [0.05, 0.8]}, index=["x1", "x2"])
    ax = figures.loadings_heatmap(load, ax=_ax())
    np.testing.assert_allclose(ax.images[0].get_array(), load.to_numpy())


def test_scree_plot_draws_observed_and_simulated():
    ax = figures.scree_plot([3.0, 1.2, 0.5], simulated=[1.3, 1.1, 1.0], ax=_ax())
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [3.0, 1.2, 0.5])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1.3, 1.1, 1.0])
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3])


def test_coefficient_plot_drops_missing_betas():
    coef = pd.DataFrame({"beta": [np.nan, 0.3, -0.1], "ci_low": [np.nan, 0.1, -0.3], "ci_high": [np.nan, 0.5, 0.1]},
                        index=["Intercept", "x1", "x2"])
    ax = figures.coefficient_plot(coef, ax=_ax())
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.3, -0.1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2"]


def test_group_means_one_series_per_group():
    frame = pd.DataFrame({"group": ["m", "f", "m", "f"], "panel": ["A", "A", "B", "B"],
                          "estimate": [3.0, 3.2, 4.0, 4.1], "ci_low": [2.8, 3.0, 3.8, 3.9],
                          "ci_high": [3.2, 3.4, 4.2, 4.3]})
    ax = figures.group_means(frame, panel="panel", ax=_ax())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["m", "f"]
    np.testing.assert_allclose(ax.containers[0].lines[0].get_xdata(), [3.0, 4.0])
    np.testing.assert_allclose(ax.containers[1].lines[0].get_xdata(), [3.2, 4.1])


def test_respondent_flow_shows_counts():
    flow = pd.DataFrame({"step": ["Received", "Excluded: duplicates", "Excluded: out of range", "Analysed"],
                         "n_remaining": [200, 196, 196, 196], "n_excluded": [0, 4, 0, 0]})
    ax = figures.respondent_flow(flow, ax=_ax(), none_label="None for")
    texts = [t.get_text() for t in ax.texts]
    assert "Received\nn = 200" in texts
    assert "Analysed\nn = 196" in texts
    assert "Excluded: duplicates\nn = 4" in texts
    assert "None for:\nExcluded: out of range" in texts
    with pytest.raises(DataError, match="first and a last"):
        figures.respondent_flow(flow.iloc[:1], ax=_ax())


def test_check_glyphs_accepts_chinese_and_rejects_missing_glyphs():
    ax = _ax()
    ax.set_title("服务态度与意识 α ω χ² − β")
    figures.check_glyphs(ax.figure)
    ax.set_xlabel("emoji \U0001F600 here")
    with pytest.raises(OutputError, match="U\\+1F600"):
        figures.check_glyphs(ax.figure)


def test_saved_png_is_deterministic(tmp_path):
    from servicestudy.report import save_figure

    def draw():
        with figures.style():
            ax = figures.dimension_means(pd.DataFrame({"estimate": [3.0], "ci_low": [2.0], "ci_high": [4.0]},
                                                      index=["公众参与"]))
        return ax.figure

    a = save_figure(draw(), tmp_path / "a.png").read_bytes()
    b = save_figure(draw(), tmp_path / "b.png").read_bytes()
    assert a == b
    assert b"Software" not in a
    assert a[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(plt.get_fignums()) == 0  # save_figure closes


def test_functions_create_axes_when_none_given():
    ax = figures.scree_plot([2.0, 1.0])
    assert ax.figure is not None
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png")
    assert buf.getvalue()
