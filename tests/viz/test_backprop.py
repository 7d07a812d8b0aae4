"""Figures of the backprop lesson (cnnviz/viz/backprop.py): valid Plotly, the lesson's numbers
printed as given, winners outlined, pooling windows drawn, the dW slide's frames ending on dW."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from cnnviz.lessons import backprop as B
from cnnviz.numbers import MINUS
from cnnviz.viz import backprop as V
from cnnviz.viz import style
from tests.helpers import decode

LABELS = {"input": "x", "dy": "dY", "dw": "dW", "stop": "{k}/{n} dY({i},{j}) = {dy}",
          "play": "Play", "pause": "Pause", "value": "value"}


def test_grid_prints_every_value_and_outlines_the_winners():
    tr = B.current(B.Setup())
    fig = V.grid(tr.d_a[0], "dA", signed=True, marks=tr.winners[0], blocks=2)
    spec = go.Figure(fig.to_dict()).to_dict()  # validates
    trace = spec["data"][0]
    np.testing.assert_array_equal(decode(trace["z"]), tr.d_a[0])
    assert trace["text"] == [[V.num(v) for v in row] for row in tr.d_a[0].tolist()]
    assert [list(c) for c in trace["colorscale"]] == [list(c) for c in style.DIVERGING]
    assert trace["zmin"] == -trace["zmax"]  # signed values: centred on 0
    rects = [s for s in spec["layout"]["shapes"] if s["type"] == "rect"]
    lines = [s for s in spec["layout"]["shapes"] if s["type"] == "line"]
    assert len(rects) == 4 and len(lines) == 2  # one winner per window; one line each way
    centres = {(round((s["y0"] + s["y1"]) / 2), round((s["x0"] + s["x1"]) / 2)) for s in rects}
    assert centres == set(zip(*np.nonzero(tr.winners[0]), strict=True))
    assert trace["textfont"]["size"] >= 11


def test_numbers_use_the_house_format():
    assert V.num(-0.0) == "0"
    assert V.num(-0.03712) == f"{MINUS}0.037"
    assert V.num(0.55123) == "0.55"


def test_labelled_grids_keep_labels_upright():
    tr = B.current(B.Setup())
    classes = ["horizontal<br>横", "vertical<br>竖", "turn<br>横折", "left-falling<br>撇"]
    spec = go.Figure(V.grid(tr.fc_dw.T, "dW", col_labels=classes, row_labels=["x1"] * 8)
                     .to_dict()).to_dict()
    assert spec["layout"]["xaxis"]["tickangle"] == 0
    assert spec["layout"]["xaxis"]["ticktext"] == classes
    assert spec["layout"]["margin"]["t"] >= 2 * 16  # room for two lines of labels


def test_slide_frames_build_dw_stop_by_stop():
    tr = B.current(B.Setup())
    stops = B.dw_slide(tr, 1)
    spec = V.slide_spec(tr.x, tr.d_z[1], stops, LABELS)
    fig = go.Figure(spec)  # validates data, layout and every frame
    assert len(fig.frames) == 16
    for stop, frame in zip(stops, spec["frames"], strict=True):
        np.testing.assert_allclose(np.asarray(frame["data"][0]["z"]), stop.running)
        window, cell = frame["layout"]["shapes"]
        assert (window["y0"] + 0.5, cell["x0"] + 0.5) == (stop.i, stop.j)
        assert window["x1"] - window["x0"] == 3 and cell["x1"] - cell["x0"] == 1
        assert frame["layout"]["annotations"][-1]["text"].startswith(f"{stops.index(stop) + 1}/16")
    np.testing.assert_allclose(np.asarray(spec["frames"][-1]["data"][0]["z"]), tr.conv_dw[1],
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(spec["data"][1]["z"]), tr.d_z[1])
    assert len(spec["layout"]["sliders"][0]["steps"]) == 16


def test_bars_and_curve_are_valid_and_labelled():
    bars = V.bar_compare(["in", "out"], {"relu": [0.1, 0.1], "sigmoid": [0.1, 0.02]},
                         style.ACTIVATION_COLORS,
                         {"title": "t", "y": "y", "relu": "ReLU", "sigmoid": "Sigmoid"})
    spec = go.Figure(bars.to_dict()).to_dict()
    assert [d["marker"]["color"] for d in spec["data"]] == [style.ACTIVATION_COLORS["relu"],
                                                           style.ACTIVATION_COLORS["sigmoid"]]
    assert spec["data"][1]["text"] == ["0.1", "0.02"]
    curve = go.Figure(V.loss_curve([1.14, 0.916], {"title": "t", "x": "x", "y": "y"}).to_dict())
    assert list(curve.data[0].y) == [1.14, 0.916]


@pytest.mark.parametrize("title", ["x and dx", "dWᵀ = x · doutᵀ (a column per class)",
                                   "dWᵀ = x · doutᵀ（每类一列）"])
def test_grid_keeps_room_for_every_title_line(title):
    """A long title is set on two lines (figures.two_lines): the top margin holds both lines
    and the column labels under them (the second line covered the labels on a phone)."""
    fig = V.grid(np.ones((8, 4)), title, col_labels=list("abcd"), label_lines=2,
                       row_labels=[f"x{i}" for i in range(8)]).to_dict()["layout"]
    lines = fig["title"]["text"].count("<br>") + 1
    assert fig["margin"]["t"] >= 20 * lines + 16 * 2
    assert fig["height"] >= fig["margin"]["t"] + 8 * 46


def test_grids_side_by_side_line_up_with_a_two_line_title():
    """x/dx beside dW (the fully connected layer): the short title keeps room for two lines,
    so both grids' rows start at the same height."""
    labels = ["horizontal<br>(横)", "vertical<br>(竖)", "turn<br>(横折)", "left-falling<br>(撇)"]
    rows = [f"x{i}" for i in range(8)]
    flat = V.grid(np.ones((8, 2)), "x and dx = Wᵀ·dout", col_labels=["x", "dx"], row_labels=rows,
                  label_lines=2, title_lines=2).to_dict()["layout"]
    dw = V.grid(np.ones((8, 4)), "dWᵀ = x · doutᵀ (a column per class)", col_labels=labels,
                row_labels=rows, label_lines=2).to_dict()["layout"]
    assert "<br>" in dw["title"]["text"] and "<br>" not in flat["title"]["text"]
    assert flat["margin"]["t"] == dw["margin"]["t"]
    assert flat["height"] == dw["height"]
