"""Convolution: watch a kernel slide over a grid of numbers, see how stride, padding and dilation
set the output size, follow a colour example channel by channel, then run hand-edited kernels
over your own picture (and see what flipping the kernel changes)."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from cnnviz import functional as F
from cnnviz import images, numbers
from cnnviz.lessons import conv as conv_math
from cnnviz.viz import conv as conv_figs
from ui import cache, display, image_input, lazy
from ui.conv import controls as conv_controls
from ui.conv import maps as conv_maps
from ui.errors import guard
from ui.lang import t
from ui.page import header, why

NO_BAR = {"displayModeBar": False}
AXES = ("height", "width")


def _labels() -> dict[str, str]:
    return {"play": t("conv.play"), "pause": t("conv.pause"), "stop": t("conv.stop"),
            "value": t("common.value")}


def fit_messages(reports: dict[str, dict]) -> bool:
    """Write the formula with the numbers, and one sentence per axis that does not fit."""
    both = reports["height"] if reports["height"] == reports["width"] else None
    for axis, rep in ([("", both)] if both else reports.items()):
        prefix = t(f"conv.axis_{axis}") + " " if axis else ""
        if prefix:
            st.markdown(f"**{prefix}**")
        st.latex(conv_math.formula_latex(rep))
        if rep["status"] == "not_exact":
            key = "conv.fit_not_exact" if rep["fix_padding"] else "conv.fit_not_exact_stride"
            st.info(prefix + t(key, **rep), icon="✂️")
        elif rep["status"] != "ok":
            st.warning(prefix + t(f"conv.fit_{rep['status']}", **rep), icon="⚠️")
    return all(r["value"] is not None for r in reports.values())


@st.fragment
def slide_section() -> None:
    st.header(t("conv.slide_title"))
    st.markdown(t("conv.slide_intro"))
    s = conv_controls.slide_controls()
    (h, w), n = s["grid"].shape, s["kernel"].shape
    reports = {ax: conv_math.axis_report(size, k, s["stride"], s["padding"], s["dilation"])
               for ax, size, k in zip(AXES, (h, w), n, strict=True)}
    if not fit_messages(reports):
        return
    with guard():
        sl = cache.shared(conv_math.slide, s["grid"], s["kernel"], 0.0, s["stride"], s["padding"],
                          s["dilation"])
        lines = [conv_math.arithmetic(stop.window[0], sl.kernel[0],
                                      s["names"]) for stop in sl.stops]
        titles = {k: t(f"conv.panel_{k}") for k in ("input", "kernel", "output")}
        # ~100 frames: built once for the class per settings and language
        # side by side where the column is wide enough, stacked on a phone (the browser picks
        # one by the column's width: ui.display.by_width)
        wide, narrow = display.by_width("conv_slide", conv_figs.WIDE_SLIDE_PX)
        pair = [(wide, "conv_slide_chart", False)]
        if display.narrow_too(narrow, "conv_slide"):  # a phone asks for the stacked layout
            pair.append((narrow, "conv_slide_chart_narrow", True))
        for where, key, thin in pair:
            display.chart(where, cache.figure(conv_figs.slide_figure, sl, lines, titles=titles,
                                            labels=_labels(), names=s["names"],
                                            duration=s["duration"], narrow=thin),
                               key=key, config=NO_BAR)
        ho, wo = sl.out.shape
        st.markdown(t("conv.slide_result", h=ho, w=wo, first=numbers.fmt(sl.stops[0].value),
                      n=len(sl.stops)))
        with st.expander(t("conv.all_stops")):
            st.markdown("\n".join(
                f"{k + 1}. " + t("conv.stop_at", r=stp.i + 1, c=stp.j + 1) + " `"
                + " ".join(lines[k]) + "`" for k, stp in enumerate(sl.stops)))
    why("conv.why_size")


@st.fragment
def rgb_section() -> None:
    lazy.section(t("conv.rgb_title"), t("conv.rgb_intro"), "conv_rgb_open", rgb_part,
                 ("conv_rgb_",), "conv.why_rgb")


def rgb_part() -> None:
    s = conv_controls.rgb_controls()
    with guard():
        ex, f = cache.shared(conv_math.rgb_example, s["seed"], s["kernels"]), s["follow"]
        sl = cache.shared(conv_math.slide, ex["image"], ex["kernels"][f], ex["bias"][f],
                          s["stride"],
                          s["padding"])
        maps = cache.shared(F.conv2d_image, ex["image"], ex["kernels"], ex["bias"], s["stride"],
                            s["padding"])
        bias = numbers.fmt(ex["bias"][f])
        lines = []
        for stop in sl.stops:
            chan, sums = conv_math.channel_lines(stop, sl.kernel, conv_controls.CHANNELS)
            lines.append(chan + [t("conv.rgb_total", sums=sums, bias=bias,
                                   value=numbers.fmt(stop.value))])
        titles = {"channels": [t(f"conv.channel_{c}") for c in conv_controls.CHANNELS],
                  "kernel": [t("conv.rgb_kernel_slice", k=f + 1,
                               c=c) for c in conv_controls.CHANNELS],
                  "maps": [t("conv.rgb_map", k=m + 1, b=numbers.fmt(ex["bias"][m]))
                           for m in range(len(maps))]}
        # three channels side by side need ~900 px; below, the channels are stacked
        wide, narrow = display.by_width("conv_rgb", conv_figs.WIDE_RGB_PX)
        for where, key, thin in ((wide, "conv_rgb_chart", False),
                                 (narrow, "conv_rgb_chart_narrow", True)):
            display.chart(where, cache.figure(conv_figs.rgb_slide_figure, sl, maps, f, lines,
                                            titles=titles, labels=_labels(), narrow=thin),
                               key=key, config=NO_BAR)
        k, ho, wo = maps.shape
        st.markdown(t("conv.rgb_depth", k=k, h=ho, w=wo))


@st.fragment
def image_section() -> None:
    st.header(t("conv.img_title"))
    st.markdown(t("conv.img_intro"))
    note = image_input.drawing_note()  # the picture is the student's drawing
    if note is not None:
        st.info(note or t("draw.hint_conv"), icon=":material/draw:")
    if lazy.shown("conv_img_open", ("conv_img_", "conv_pick_", "conv_flip")):
        image_part()
    why("conv.why_image")


def image_part() -> None:
    gray_only = image_input.working_image().ndim == 2
    picture_part(conv_controls.kernel_controls(not gray_only))


@st.fragment
def picture_part(kernels: dict) -> None:
    """Everything a bias, the stride or a picked pixel changes, in a fragment of its own inside
    the picture section's: moving them reruns this part only, and the kernel editors above
    (the page's costliest widgets) are not rebuilt; a kernel edit reruns both."""
    s = {**kernels, **conv_controls.picture_controls(len(kernels["kernels"]))}
    x, src_key = conv_maps.source(s["mode"])
    s["src_key"] = src_key
    h, w = x.shape[1:]
    maps = conv_maps.feature_maps(x, src_key, s)
    axis = (t("common.row"), t("common.col"))
    if not maps:
        return
    cur, i, j = conv_controls.pick(maps)
    k = cur["k"]
    with guard():
        ex = F.conv2d_explain(x, cur["kernel"], cur["bias"], i, j, cur["stride"],
                              cur["padding"], flip=cur["flip"])
        ru, cu = ex["rows_unpadded"], ex["cols_unpadded"]
        win = (int(ru[0]), int(cu[0]), int(ru[-1] - ru[0] + 1), int(cu[-1] - cu[0] + 1))
        layers = cache.session("img_layers", src_key, lambda: conv_figs.image_layers(
            image_input.working_image(gray=(s["mode"] == "gray"))), size=1)
        cols = st.columns(min(3, len(maps) + 1))
        display.chart(cols[0], cache.figure(conv_figs.input_figure, layers,
                                           title=t("conv.img_input", h=h, w=w), window=win,
                                           hover_label=t("common.value"), axis_labels=axis),
                             key="conv_img_input", config=NO_BAR)
        for n, d in enumerate(maps, start=1):
            kk, m = d["k"], d["map"]
            lo, hi = numbers.fmt(np.nanmin(m)), numbers.fmt(np.nanmax(m))
            fig = cache.figure(
                conv_figs.feature_map_figure,
                cache.session(f"layers{kk}", d["key"], lambda m=m: conv_figs.map_layers(m), size=2),
                title=t("conv.img_map", k=kk + 1, h=m.shape[0], w=m.shape[1], lo=lo, hi=hi),
                pick=(i, j) if kk == k else None, hover_label=t("common.value"),
                axis_labels=axis)
            display.chart(cols[n % len(cols)], fig, key=f"conv_fmap_{kk}", selection_mode="points",
                                             on_select=partial(conv_controls.on_map_click, kk),
                                             config=NO_BAR)
        explain_block(ex, k, i, j)
    flip_section(cur["kernel"], x, s)


def explain_block(ex: dict, k: int, i: int, j: int) -> None:
    st.subheader(t("conv.explain_title", k=k + 1, r=i, c=j))
    gray = [t("conv.channel_gray")]
    channels = list(conv_controls.CHANNELS) if ex["window"].shape[0] == 3 else gray
    titles = {key: t(f"conv.explain_{key}") for key in ("window", "kernel", "products")}
    left, right = display.panels("conv_explain", [3, 2], "l")
    # three grids side by side need ~45 px a cell for "0.735": below, products under windows
    with left:
        wide, narrow = display.by_width("conv_explain", conv_figs.WIDE_RGB_PX)
    drawn = conv_figs.explain_parts(ex)  # a bias change finds both figures in the cache
    for where, key, thin in ((wide, "conv_explain", False), (narrow, "conv_explain_narrow", True)):
        display.chart(where, cache.figure(conv_figs.explain_figure, drawn, channels=channels,
                                        titles=titles, hover_label=t("common.value"),
                                        narrow=thin), key=key, config=NO_BAR)
    sums = " + ".join(numbers.fmt_factor(v) for v in ex["channel_sums"])
    with right:
        if ex["window"].shape[0] == 1 and ex["window"][0].size <= 9:
            st.markdown(" ".join(conv_math.arithmetic(ex["window"][0], ex["kernel"][0],
                                                      bias=ex["bias"])))
        one = ex["window"].shape[0] == 1
        st.markdown(t("conv.explain_sum_one" if one else "conv.explain_sum", sums=sums,
                      bias=numbers.fmt(ex["bias"]), value=numbers.fmt(ex["value"])))
        if ex["in_padding"].any():
            st.caption(t("conv.explain_padding"))


def flip_section(kernel: np.ndarray, x: np.ndarray, s: dict) -> None:
    st.subheader(t("conv.flip_title"))
    st.markdown(t("conv.flip_intro"))
    # drawn on demand: it reruns with every change of a kernel or the bias above it
    if lazy.shown("conv_flip_open"):
        flip_part(kernel, x, s)


def flip_part(kernel: np.ndarray, x: np.ndarray, s: dict) -> None:
    k2 = np.asarray(kernel)[0]
    left, right = st.columns([2, 3])
    display.chart(left, cache.figure(conv_figs.kernel_pair_figure, k2, k2[::-1, ::-1], titles=[
        t("conv.flip_as_is"), t("conv.flip_rotated")], hover_label=t("common.value")),
        key="conv_flip_pair", config=NO_BAR)
    same = conv_math.is_flip_symmetric(kernel)
    left.markdown(t("conv.flip_same" if same else "conv.flip_differs"))
    with right, guard():
        small = cache.session("small", s["src_key"], lambda: np.stack(
            [images.resize_to_working(c, 72) for c in x]), size=2)
        corr, conv = cache.session("flip", (s["src_key"], np.asarray(kernel).tobytes(),
                                            np.shape(kernel)), lambda: (
            F.conv2d_image(small, kernel[None])[0], F.convolve_image(small, kernel[None])[0]),
            size=2)
        display.chart(st, cache.figure(
            conv_figs.compare_figure,
            [(corr, t("conv.flip_corr")), (conv, t("conv.flip_conv")),
             (conv - corr, t("conv.flip_diff"))], hover_label=t("common.value")),
            key="conv_flip_maps", config=NO_BAR)


header("conv")
slide_section()
rgb_section()
image_section()
