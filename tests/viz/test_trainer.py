"""The trainer's figure builders: valid Plotly, translated titles and axes passed through, no
NaN drawn, the shared colours."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.viz import style
from cnnviz.viz import trainer as trainer_figs


def test_lines_drop_non_finite_and_validate():
    y = [1.0, np.nan, 0.5, np.inf, 0.25]
    lines = [{"name": "ReLU", "x": [0, 1, 2, 3, 4], "y": y,
              "color": style.ACTIVATION_COLORS["relu"]},
             {"name": "Sigmoid", "x": [0, 1], "y": [1.0, 0.0], "dash": "dot", "markers": True}]
    for validate in (True, False):
        fig = trainer_figs.lines_figure(lines, title="Loss", x_title="Epoch", y_title="Loss",
                                        log_y=True, validate=validate)
        relu, sig = fig.data
        assert list(relu.y) == [1.0, 0.5, 0.25] and list(relu.x) == [0, 2, 4]
        assert list(sig.y) == [1.0]  # 0 cannot be drawn on a log axis
        assert relu.line.color == style.ACTIVATION_COLORS["relu"] and sig.line.dash == "dot"
        assert relu.mode == "lines" and sig.mode == "lines+markers"
        assert fig.layout.title.text == "Loss" and fig.layout.yaxis.type == "log"
        assert fig.layout.xaxis.title.text == "Epoch" and fig.layout.showlegend


def test_lines_keep_the_shared_look():
    fig = trainer_figs.lines_figure([{"name": "a", "x": [0], "y": [1]}], title="T", x_title="x",
                                    y_title="y", y_range=(0, 1.02))
    assert fig.layout.font.size == style.FONT_SIZE and fig.layout.plot_bgcolor == "white"
    assert list(fig.layout.yaxis.range) == [0, 1.02] and fig.layout.showlegend is False


@pytest.mark.parametrize("validate", [True, False])
def test_gradient_panels_one_per_layer_when_comparing(validate):
    grads = {"conv1": [0.01, 0.02], "conv2": [0.1, 0.2], "fc1": [1.0, 2.0]}
    members = [{"name": a, "x": [0.5, 1.0], "grad": grads,
                "color": style.ACTIVATION_COLORS[a]} for a in ("relu", "sigmoid")]
    fig = trainer_figs.grad_figure(members, title="G", x_title="Epoch", y_title="norm",
                                   validate=validate)
    assert len(fig.data) == 6
    assert [a.text for a in fig.layout.annotations] == ["conv1", "conv2", "fc1"]
    assert fig.layout.yaxis.type == fig.layout.yaxis3.type == "log"
    assert {t.line.color for t in fig.data} == {style.ACTIVATION_COLORS["relu"],
                                                 style.ACTIVATION_COLORS["sigmoid"]}
    single = trainer_figs.grad_figure(members[:1], title="G", x_title="Epoch", y_title="norm",
                                      validate=validate)
    assert [t.name for t in single.data] == ["conv1", "conv2", "fc1"]


def test_mosaic_tiles_with_gaps():
    tiles = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    m = trainer_figs.mosaic(tiles, cols=2)
    assert m.shape == (5, 5)
    np.testing.assert_array_equal(m[:2, :2], tiles[0])
    np.testing.assert_array_equal(m[3:, :2], tiles[2])
    assert np.isnan(m[2]).all() and np.isnan(m[3:, 3:]).all()


def test_kernel_mosaic_is_signed_and_prints_small_grids():
    w = np.array([[[-1, 0], [0, 2]], [[1, 1], [1, 1]]], np.float32)
    fig = trainer_figs.mosaic_figure(w, title="k", signed=True)
    trace = fig.data[0]
    assert trace.zmin == -2 and trace.zmax == 2 and trace.colorscale[0][1] == style.NEG_COLOR
    assert "2" in np.asarray(trace.text).ravel()


def test_other_builders_carry_titles_and_axes():
    names = ["横", "竖", "横折", "撇"]
    x = np.random.default_rng(0).random((40, 1, 16, 16), np.float32)
    y = np.arange(40) % 4
    prev = trainer_figs.preview_figure(x, y, names, title="P")
    assert list(prev.layout.yaxis.ticktext) == names
    cm = trainer_figs.confusion_figure(np.eye(4, dtype=int) * 5, names, title="C", x_title="pred",
                                       y_title="true")
    assert cm.layout.xaxis.title.text == "pred" and cm.layout.yaxis.title.text == "true"
    bars = trainer_figs.bars_figure([0.1, 0.7, 0.1, 0.1], names, title="S", y_title="p",
                                    percent=True,
                          highlight=1)
    assert bars.data[0].marker.color[1] == style.HIGHLIGHT and bars.data[0].text[1] == "70.0%"
    vec = trainer_figs.vector_figure(np.array([1.0, -1.0, 0.5, 0.0]), title="V", x_title="i",
                                     y_title="v", boundaries=[2])
    assert list(vec.data[0].marker.color[:2]) == [style.POS_COLOR, style.NEG_COLOR]
    assert len(vec.layout.shapes) == 1
    ex = trainer_figs.examples_figure(x[:5, 0], [f"#{i}" for i in range(5)], title="E")
    assert [a.text for a in ex.layout.annotations] == ["#0", "#1", "#2", "#3", "#4"]


def test_gradient_figure_before_the_first_measurement():
    # a race that has not taken its first step yet: no layer has a gradient norm
    members = [{"name": a, "x": [], "grad": {}, "color": "#000000"} for a in ("relu", "tanh")]
    fig = trainer_figs.grad_figure(members, title="G", x_title="Epoch", y_title="norm",
                                   validate=True)
    assert fig.layout.title.text == "G" and len(fig.data) == 0
