"""figures.from_parts keeps its figures as plain dicts until something needs a real Plotly
figure: its to_dict must give what Plotly's own to_dict gives for the same parts, and any other
use must behave like a go.Figure."""

from __future__ import annotations

import copy
import json

import numpy as np
import plotly.graph_objects as go
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from plotly.utils import PlotlyJSONEncoder

from cnnviz.viz import figures


def as_json(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, cls=PlotlyJSONEncoder)


def reference(fig) -> dict:
    """Plotly's own to_dict of the same parts (copied first: the fast path edits its own)."""
    data, layout = copy.deepcopy(fig.__dict__["_parts"])
    return go.Figure({"data": data, "layout": layout}, _validate=False).to_dict()


def real_builders():
    from cnnviz import functional as F
    from cnnviz.viz import conv as CV
    from cnnviz.viz import preprocessing as PV

    x = np.random.default_rng(3).random((3, 150, 200)).astype(np.float32)
    k = np.stack([np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)] * 3)
    ex = F.conv2d_explain(x, k, 0.5, 10, 20, 1, 1)
    m = F.conv2d_image(x, k[None], 0.5, 1, 1)[0]
    pts = np.random.default_rng(4).normal(size=(300, 2))
    cov = np.cov(pts.T)
    yield CV.explain_figure(ex, channels=["R", "G", "B"],
                            titles={"window": "w", "kernel": "k", "products": "p"})
    yield CV.input_figure(CV.image_layers(np.moveaxis(x, 0, -1)), title="i", window=(1, 2, 3, 3))
    yield CV.compare_figure([(m[:30, :30], "a"), (-m[:30, :30], "b")])
    yield PV.stage_scatter(pts, cov, pts.mean(0), title="t", axis_labels=("x", "y"),
                           colors=PV.angle_colors(pts), x_range=[-4, 4], y_range=[-4, 4])
    stage = {"points": pts, "cov": cov, "mean": pts.mean(0), "title": "t", "x_range": [-4, 4],
             "y_range": [-4, 4], "axis_labels": ("x", "y")}
    yield PV.story_figure([stage, stage | {"box": True}] * 2, colors=PV.angle_colors(pts))
    yield figures.from_parts([{"type": "heatmap", "z": np.arange(6, dtype=np.int64).reshape(2, 3),
                               "text": np.array([["a", "b", "c"], ["d", "e", "f"]]),
                               "customdata": None}],
                             {**figures.layout_dict("t", 200), "xaxis": {"range": [0, 2]}})


def test_plain_to_dict_equals_plotlys_for_real_builders():
    n = 0
    for fig in real_builders():
        if "_parts" not in fig.__dict__:
            continue  # a builder that edited its figure: it is a real one already
        expected = as_json(reference(fig))
        assert as_json(fig.to_dict()) == expected
        assert as_json(fig.to_dict()) == expected  # twice: the first call changed nothing seen
        n += 1
    assert n >= 4


@settings(max_examples=40, deadline=None)
@given(z=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                elements=st.floats(-1e6, 1e6)),
       ints=arrays(np.int64, st.integers(1, 8), elements=st.integers(-2**40, 2**40)),
       title=st.text(max_size=10))
def test_plain_to_dict_equals_plotlys_for_random_parts(z, ints, title):
    fig = figures.from_parts(
        [{"type": "heatmap", "z": z, "x": ints, "marker": {"color": z.ravel()}},
         {"type": "scatter", "x": ints.astype(np.float32), "y": list(range(len(ints)))}],
        {**figures.layout_dict(title, 300), "shapes": [{"type": "rect", "x0": 0, "x1": 1}]})
    assert as_json(fig.to_dict()) == as_json(reference(fig))


def test_any_other_use_builds_the_real_figure():
    fig = figures.from_parts([{"type": "scatter", "x": np.arange(3.0), "y": [1, 2, 3]}],
                             figures.layout_dict("t", 250))
    assert isinstance(fig, go.Figure)
    assert fig.layout.height == 250 and fig.data[0].type == "scatter"
    fig.update_layout(height=300)
    fig.layout.update(clickmode="event+select")
    spec = fig.to_dict()
    assert spec["layout"]["height"] == 300 and spec["layout"]["clickmode"] == "event+select"
    assert spec["data"][0]["x"]["dtype"] == "f8"
    fig.frames = [go.Frame(data=[{"type": "scatter", "x": [0]}])]
    assert len(fig.to_dict()["frames"]) == 1


DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16",
          "float32", "float64", ">f8", "bool", "<U3", "object"]


@settings(max_examples=120, deadline=None)
@given(dtype=st.sampled_from(DTYPES), shape=st.lists(st.integers(0, 5), min_size=0, max_size=3),
       layout=st.sampled_from(["c", "f", "strided"]), seed=st.integers(0, 2**16),
       key=st.sampled_from(["z", "x", "range", "layers", "customdata"]))
def test_typed_arrays_equals_plotlys_conversion(dtype, shape, layout, seed, key):
    """Every kind of array Plotly may meet (64-bit integers it narrows, big-endian, float16,
    bool, empty, 0-d, Fortran order, strided views) under skipped and ordinary keys, nested in
    dicts, lists and tuples: the fast conversion gives Plotly's own result."""
    from _plotly_utils.utils import convert_to_base64

    rng = np.random.default_rng(seed)
    big = rng.integers(-2**40, 2**40, size=max(1, int(np.prod(shape))))
    a = (big % 200 - 100 if seed % 2 else big).astype(np.float64 if "f" in dtype else np.int64)
    with np.errstate(over="ignore", invalid="ignore"):  # float16 and narrow ints wrap
        a = a[: int(np.prod(shape))].reshape(shape).astype(dtype)
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    obj = {"data": [{key: a, "marker": {"color": a}}, ({"y": a},)], "layout": {key: a}}
    ours, theirs = copy.deepcopy(obj), copy.deepcopy(obj)
    figures.typed_arrays(ours)
    convert_to_base64(theirs)
    assert as_json(ours) == as_json(theirs)
