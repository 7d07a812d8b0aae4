"""Figures for narrow columns (a phone, a tablet, the projector next to the sidebar): the
stacked variants of the convolution animations and of the explained pixel are valid Plotly with
the same frames and numbers as the side-by-side ones; long texts are broken, never altered."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from cnnviz.lessons import conv as conv_math
from cnnviz.viz import conv as conv_figs
from cnnviz.viz import figures
from tests.helpers import decode

LABELS = {"play": "p", "pause": "q", "stop": "s", "value": "v"}


def valid(fig: go.Figure) -> dict:
    spec = fig.to_dict()
    go.Figure(spec)
    return spec


def heat_positions(spec: dict) -> list[tuple[float, float, tuple]]:
    """(min x, min y, shape) of every heatmap with explicit coordinates."""
    out = []
    for tr in spec["data"]:
        if tr.get("type") == "heatmap" and "y" in tr:
            z = np.asarray(decode(tr["z"]))
            x = tr.get("x", [0])
            out.append((float(np.min(decode(x))) if "x" in tr else None,
                        float(np.min(decode(tr["y"]))), z.shape))
    return out


def test_narrow_slide_puts_kernel_and_map_under_the_input():
    ex = conv_math.example("article")
    sl = conv_math.slide(ex["image"], ex["kernel"], 0.0, 1, 0, 1)
    lines = [conv_math.arithmetic(s.window[0], sl.kernel[0], ex["names"]) for s in sl.stops]
    titles = {"input": "i", "kernel": "k", "output": "o"}
    wide = valid(conv_figs.slide_figure(sl, lines, titles=titles, labels=LABELS,
                                        names=ex["names"]))
    narrow = valid(conv_figs.slide_figure(sl, lines, titles=titles, labels=LABELS,
                                          names=ex["names"], narrow=True))
    assert len(narrow["frames"]) == len(wide["frames"]) == len(sl.stops)
    # the same grids (input, kernel, map) with the same numbers
    for a, b in zip(wide["data"], narrow["data"], strict=True):
        np.testing.assert_array_equal(decode(a["z"]), decode(b["z"]))
    # kernel and map start below the input's last row; the wide one keeps them beside it
    hp = sl.padded.shape[1]
    assert min(decode(narrow["data"][-1]["y"])) > hp - 1
    assert min(decode(wide["data"][-1]["y"])) == 0
    # every frame's sum is there, broken into lines no wider than a phone's column
    for frame in narrow["frames"]:
        text = [a["text"] for a in frame["layout"]["annotations"] if "=" in a["text"]][-1]
        for line in text.split("<br>"):
            assert figures.text_units(line) * conv_figs.CHAR_EM * 17 <= conv_figs.NARROW_PX
    # the slider gets the whole width under the buttons
    assert narrow["layout"]["sliders"][0]["x"] == 0 and narrow["layout"]["sliders"][0]["len"] == 1


def test_narrow_rgb_stacks_the_channels():
    ex = conv_math.rgb_example(0, 2)
    sl = conv_math.slide(ex["image"], ex["kernels"][0], ex["bias"][0], 2, 1)
    maps = F.conv2d_image(ex["image"], ex["kernels"], ex["bias"], 2, 1)
    lines = [conv_math.channel_lines(s, sl.kernel, ("R", "G", "B"))[0] for s in sl.stops]
    titles = {"channels": ["R", "G", "B"], "kernel": ["k R", "k G", "k B"],
              "maps": ["m1", "m2"]}
    wide = valid(conv_figs.rgb_slide_figure(sl, maps, 0, lines, titles=titles, labels=LABELS))
    narrow = valid(conv_figs.rgb_slide_figure(sl, maps, 0, lines, titles=titles, labels=LABELS,
                                              narrow=True))
    assert len(narrow["frames"]) == len(wide["frames"]) == len(sl.stops)
    tops = sorted({y for _, y, shape in heat_positions(narrow) if shape == sl.padded.shape[1:]})
    assert len(tops) == 3  # three channel grids, one above the other
    wide_tops = {y for _, y, shape in heat_positions(wide) if shape == sl.padded.shape[1:]}
    assert wide_tops == {0.0}  # side by side


def test_narrow_explanation_puts_products_under_the_window():
    x = np.random.default_rng(0).random((3, 6, 6)).astype(np.float32)
    k = np.ones((3, 3, 3), np.float32)
    ex = F.conv2d_explain(x, k, 0.0, 2, 2, 1, 0)
    kw = {"channels": ["R", "G", "B"], "titles": {"window": "w", "kernel": "k",
                                                 "products": "p"}}
    wide = valid(conv_figs.explain_figure(ex, **kw))
    narrow = valid(conv_figs.explain_figure(ex, **kw, narrow=True))
    xs = {float(np.min(decode(tr["x"]))) for tr in narrow["data"] if "x" in tr}
    assert max(xs) < max(float(np.min(decode(tr["x"]))) for tr in wide["data"] if "x" in tr)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab (（）:：·→ 卷积核") + [" · ", " → ", ": "]),
               max_size=40).map("".join), st.integers(4, 40))
def test_two_lines_only_inserts_one_break(text, limit):
    out = figures.two_lines(text, limit)
    assert out.replace("<br>", "") == text and out.count("<br>") <= 1
    assert (out == text) == (figures.text_units(text) <= limit)


def test_wrap_terms_keeps_every_term_and_respects_the_width():
    line = " + ".join(f"{i}×{i % 3}" for i in range(25)) + " = 7"
    out = conv_figs.wrap_terms([line], 300, 16)
    assert len(out) > 1 and " ".join(out) == line  # later lines start with "+ "
    assert all(figures.text_units(o) * conv_figs.CHAR_EM * 16 <= 300 for o in out)
