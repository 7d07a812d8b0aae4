"""The shared figure builders (cnnviz/viz/figures.py): valid Plotly, the shared colours, true
values on hover, compressed pictures."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from cnnviz.viz import figures, style
from tests.helpers import decode


def picture(uri: str) -> tuple[str, np.ndarray]:
    head, data = uri.split(",", 1)
    img = Image.open(io.BytesIO(base64.b64decode(data)))
    return head, np.asarray(img)


def valid(fig: go.Figure) -> dict:
    """The figure's dict, after Plotly has validated every property (raises on a typo)."""
    spec = fig.to_dict()
    go.Figure(spec)
    return spec


def test_small_map_carries_every_value_on_hover():
    v = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
    spec = valid(figures.map_figure(v, title="t", hover_label="值"))
    (trace,) = spec["data"]
    assert trace["type"] == "heatmap"
    assert np.array_equal(decode(trace["z"]), v)
    assert trace["zmin"] == -6 and trace["zmax"] == 6  # diverging, symmetric around 0
    assert "值" in trace["hovertemplate"]
    assert spec["layout"]["title"]["text"] == "t"
    assert spec["layout"]["yaxis"]["autorange"] == "reversed"


def test_large_signed_map_is_a_jpeg_in_the_shared_colours_with_true_values_on_hover():
    rng = np.random.default_rng(0)
    v = np.zeros((300, 200), np.float32)
    v[:, :100] = -2.0  # left half strongly negative -> blue, right half 0 -> white
    v[0, 0] = 2.0
    v += rng.normal(scale=1e-3, size=v.shape).astype(np.float32)
    spec = valid(figures.map_figure(v, hover_label="value"))
    image, hover = spec["data"]
    head, px = picture(image["source"])
    assert head == "data:image/jpeg;base64" and px.shape == (300, 200, 3)
    blue = np.array([int(style.NEG_COLOR[i:i + 2], 16) for i in (1, 3, 5)])
    assert np.abs(px[150, 50].astype(int) - blue).max() < 12
    assert px[150, 150].min() > 240  # white
    z, xs, ys = decode(hover["z"]), decode(hover["x"]), decode(hover["y"])
    assert z.shape == (len(ys), len(xs)) and max(z.shape) <= figures.HOVER_SIDE
    assert np.array_equal(z, v[np.ix_(ys, xs)])  # the true values at the sampled pixels
    assert hover["showscale"] and hover["zmin"] == -hover["zmax"]


def test_large_gray_map_is_one_channel_and_spans_min_to_max():
    v = np.tile(np.linspace(3.0, 5.0, 400, dtype=np.float32), (150, 1))
    spec = valid(figures.map_figure(v, signed=False))
    _, px = picture(spec["data"][0]["source"])
    assert px.ndim == 2  # gray travels as one channel
    assert px[:, 0].max() < 6 and px[:, -1].min() > 249
    assert spec["data"][1]["zmin"] == 3.0 and spec["data"][1]["zmax"] == 5.0


def test_a_map_with_nan_and_a_constant_map_still_draw():
    v = np.full((200, 200), 7.0, np.float32)
    valid(figures.map_figure(v))
    v[5, 5] = np.nan
    spec = valid(figures.map_figure(v, limit=10.0))
    assert spec["data"][1]["zmax"] == 10.0


def test_image_is_png_when_tiny_and_jpeg_when_large():
    tiny = np.zeros((8, 8, 3), np.float32)
    tiny[2, 3] = (1.0, 0.0, 0.0)
    head, px = picture(valid(figures.image_figure(tiny))["data"][0]["source"])
    assert head == "data:image/png;base64"
    assert tuple(px[2, 3]) == (255, 0, 0) and px[0, 0].max() == 0  # exact
    big = np.random.default_rng(1).random((120, 90)).astype(np.float32)
    head, px = picture(valid(figures.image_figure(big, title="x"))["data"][0]["source"])
    assert head == "data:image/jpeg;base64" and px.shape == (120, 90)


def test_grid_prints_numbers_marks_padding_and_highlight():
    v = np.array([[0, 0, 0], [0, 1.23456, 0], [0, 0, 0]])
    spec = valid(figures.grid_figure(v, padding=1, highlight=[(0, 0, 2, 2)], hover_label="v"))
    (trace,) = spec["data"]
    assert trace["text"][1][1] == "1.23"  # 3 significant digits in the cell ...
    assert decode(trace["z"])[1, 1] == 1.23456  # ... full precision on hover
    shapes = spec["layout"]["shapes"]
    assert sum(s["fillcolor"] == style.PADDING_COLOR for s in shapes) == 8
    assert shapes[-1]["line"]["color"] == style.HIGHLIGHT
    # the figure stays editable (the pooling page removes tick marks)
    fig = figures.grid_figure(v).update_xaxes(ticks="")
    assert fig.layout.xaxis.ticks == ""


def test_maps_row_gives_each_map_its_own_axes_scale_and_title():
    a = np.arange(16, dtype=np.float32).reshape(4, 4)
    big = np.ones((200, 150), np.float32)
    spec = valid(figures.maps_row_figure([(a, "A", False), (a - 8, "B", True), (big, "C", False)],
                                         hover_label="值"))
    kinds = [(t["type"], t.get("xaxis"), t.get("yaxis")) for t in spec["data"]]
    assert kinds == [("heatmap", "x", "y"), ("heatmap", "x2", "y2"), ("image", "x3", "y3"),
                     ("heatmap", "x3", "y3")]
    assert spec["data"][1]["zmin"] == -8 and spec["data"][1]["zmax"] == 8
    assert [n["text"] for n in spec["layout"]["annotations"]] == ["A", "B", "C"]
    lay = spec["layout"]
    assert lay["xaxis"]["domain"][1] < lay["xaxis2"]["domain"][0] < lay["xaxis3"]["domain"][0]
    assert lay["yaxis3"]["scaleanchor"] == "x3"


@settings(max_examples=40, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 140), st.integers(1, 140)),
              elements=st.floats(-1e6, 1e6, width=32)),
       st.booleans())
def test_any_map_gives_a_valid_figure(v, signed):
    spec = valid(figures.map_figure(v, signed=signed))
    zmin, zmax = spec["data"][-1]["zmin"], spec["data"][-1]["zmax"]
    assert np.isfinite([zmin, zmax]).all() and zmax > zmin


@pytest.mark.parametrize("signed", [True, False])
def test_colour_table_matches_the_shared_scale(signed):
    u = np.linspace(-1.0 if signed else 0.0, 1.0, 1001)
    exact = style.colorize(u[None, :], signed=signed, limit=1.0)[0].astype(int)
    idx = figures.color_index(u, -1.0 if signed else 0.0, 1.0)
    fast = figures.LUTS[signed][idx].astype(int)
    assert np.abs(fast - exact).max() <= 2  # 256 levels: at most one step of the table apart


def test_base_layout_applies_the_shared_look_to_any_figure():
    fig = figures.base_layout(go.Figure(go.Bar(x=[1], y=[2])), "T", height=200)
    assert fig.layout.title.text == "T" and fig.layout.height == 200
    assert fig.layout.font.size == style.FONT_SIZE and fig.layout.plot_bgcolor == "white"


def test_activation_histogram_written_as_dicts_is_valid_plotly():
    from cnnviz.lessons import activation as act_math
    from cnnviz.viz import activation as act_figs

    values = np.maximum(np.random.default_rng(2).normal(size=(50, 40)), 0).astype(np.float32)
    hist = act_math.histogram(values, 30)
    spec = valid(act_figs.histogram_figure(hist, title="T", x_label="x", y_label="y",
                                           zero_label="exactly 0"))
    bars, zero = spec["data"]
    assert zero["name"] == "exactly 0" and zero["marker"]["color"] == style.HIGHLIGHT
    assert set(bars["marker"]["color"]) <= {style.NEG_COLOR, style.POS_COLOR}
    assert np.isclose(decode(bars["y"]).sum() + zero["y"][0], 100.0)
    assert spec["layout"]["annotations"][0]["text"] == "exactly 0"


def test_convolution_figures_written_as_dicts_are_valid_plotly():
    from cnnviz import functional as F
    from cnnviz.lessons import conv as conv_math
    from cnnviz.viz import conv as conv_figs

    x = np.random.default_rng(3).random((3, 150, 200)).astype(np.float32)
    k = np.stack([np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)] * 3)
    ex = F.conv2d_explain(x, k, 0.5, 10, 20, 1, 1)
    m = F.conv2d_image(x, k[None], 0.5, 1, 1)[0]
    for fig in (conv_figs.explain_figure(ex, channels=["R", "G", "B"],
                                         titles={"window": "w", "kernel": "k", "products": "p"}),
                conv_figs.feature_map_figure(conv_figs.map_layers(m), title="m", pick=(3, 4)),
                conv_figs.feature_map_figure(conv_figs.map_layers(m[:20, :20]), title="m",
                                             clickable=False),
                conv_figs.input_figure(conv_figs.image_layers(np.moveaxis(x, 0, -1)), title="i",
                                       window=(1, 2, 3, 3)),
                conv_figs.kernel_pair_figure(k[0], k[0][::-1, ::-1], titles=["a", "b"]),
                conv_figs.compare_figure([(m[:30, :30], "a"), (-m[:30, :30], "b")])):
        spec = valid(fig)
        assert spec["data"] and spec["layout"]["font"]["size"] == style.FONT_SIZE
    clickable = conv_figs.feature_map_figure(conv_figs.map_layers(m), title="m").to_dict()
    assert clickable["layout"]["clickmode"] == "event+select"  # a click picks a pixel
    assert clickable["layout"]["hovermode"] == "closest"
    sl = conv_math.slide(np.arange(16.0).reshape(4, 4), np.ones((2, 2)), 0.0, 1, 1, 1)
    lines = [conv_math.arithmetic(s.window[0], sl.kernel[0]) for s in sl.stops]
    spec = valid(conv_figs.slide_figure(sl, lines, titles={"input": "i", "kernel": "k",
                                                           "output": "o"},
                                 labels={"play": "p", "pause": "q", "stop": "s", "value": "v"}))
    assert len(spec["frames"]) == len(sl.stops)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 999), channels=st.sampled_from([1, 3]), n=st.integers(1, 5),
       bias=st.floats(-5, 5), padding=st.integers(0, 2), narrow=st.booleans())
def test_explain_figure_draws_only_its_parts_so_a_bias_change_keeps_it(seed, channels, n, bias,
                                                                      padding, narrow):
    """explain_parts holds everything explain_figure draws: the figure from the parts equals the
    figure from the whole result, and a bias change changes the value but not the parts (so the
    page's cached figure still serves); a kernel change does change them."""
    from cnnviz import functional as F
    from cnnviz.viz import conv as conv_figs
    from tests.helpers import as_json

    rng = np.random.default_rng(seed)
    x = rng.random((channels, 9, 11)).astype(np.float32)
    k = rng.normal(size=(channels, n, n)).astype(np.float32)
    kw = {"channels": ["R", "G", "B"][:channels] if channels == 3 else ["gray"],
          "titles": {"window": "w", "kernel": "k", "products": "p"}, "narrow": narrow}
    ex = F.conv2d_explain(x, k, bias, 1, 2, 1, padding)
    parts = conv_figs.explain_parts(ex)
    assert as_json(conv_figs.explain_figure(parts, **kw).to_dict()) == as_json(
        conv_figs.explain_figure(ex, **kw).to_dict())
    moved = F.conv2d_explain(x, k, bias + 1.0, 1, 2, 1, padding)
    assert moved["value"] != ex["value"]
    assert as_json(conv_figs.explain_parts(moved)) == as_json(parts)
    other = F.conv2d_explain(x, k + 1.0, bias, 1, 2, 1, padding)
    assert as_json(conv_figs.explain_parts(other)) != as_json(parts)
