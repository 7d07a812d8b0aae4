"""Convolution: watch a kernel slide over a grid of numbers, see how stride, padding and dilation
set the output size, follow a colour example channel by channel, then run hand-edited kernels
over your own picture (and see what flipping the kernel changes)."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from cnnviz import functional as F
from cnnviz import images, numbers
from cnnviz.lessons import conv as L
from cnnviz.viz import conv as V
from ui import charts, image_input, lazy
from ui.conv import controls as W
from ui.errors import guard
from ui.lang import current, t
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
        st.latex(L.formula_latex(rep))
        if rep["status"] == "not_exact":
            key = "conv.fit_not_exact" if rep["fix_padding"] else "conv.fit_not_exact_stride"
            st.info(prefix + t(key, **rep), icon="✂️")
        elif rep["status"] != "ok":
            st.warning(prefix + t(f"conv.fit_{rep['status']}", **rep), icon="⚠️")
    return all(r["value"] is not None for r in reports.values())


@st.cache_data(max_entries=32, show_spinner=False, hash_funcs=charts.HASH_FUNCS)
def _slide_figure(s: dict, lang: str):
    """The animation's dict for these settings, built once for the class (``lang``, the
    language t() uses inside, is part of the key): every student's first load used to build
    the same ~100-frame figure again."""
    sl = L.slide(s["grid"], s["kernel"], 0.0, s["stride"], s["padding"], s["dilation"])
    lines = [L.arithmetic(st_.window[0], sl.kernel[0], s["names"]) for st_ in sl.stops]
    titles = {k: t(f"conv.panel_{k}") for k in ("input", "kernel", "output")}
    fig = V.slide_figure(sl, lines, titles=titles, labels=_labels(), names=s["names"],
                         duration=s["duration"])
    return fig.to_dict(), sl, lines


@st.fragment
def slide_section() -> None:
    st.header(t("conv.slide_title"))
    st.markdown(t("conv.slide_intro"))
    s = W.slide_controls()
    (h, w), n = s["grid"].shape, s["kernel"].shape
    reports = {ax: L.axis_report(size, k, s["stride"], s["padding"], s["dilation"])
               for ax, size, k in zip(AXES, (h, w), n, strict=True)}
    if not fit_messages(reports):
        return
    with guard():
        key = (s["grid"].tobytes(), s["grid"].shape, s["kernel"].tobytes(), s["kernel"].shape,
               str(s["names"]), s["stride"], s["padding"], s["dilation"], s["duration"],
               current())
        spec, sl, lines = W.memo("slide", key, lambda: _slide_figure(s, current()), size=3)
        st.plotly_chart(charts.Prebuilt(spec), key="conv_slide_chart", config=NO_BAR)
        ho, wo = sl.out.shape
        st.markdown(t("conv.slide_result", h=ho, w=wo, first=numbers.fmt(sl.stops[0].value),
                      n=len(sl.stops)))
        with st.expander(t("conv.all_stops")):
            st.markdown("\n".join(
                f"{k + 1}. " + t("conv.stop_at", r=stp.i + 1, c=stp.j + 1) + " `"
                + " ".join(lines[k]) + "`" for k, stp in enumerate(sl.stops)))
    why("conv.why_size")


@st.cache_data(max_entries=32, show_spinner=False)
def _rgb_figure(s: dict, lang: str):
    """The colour example's dict, built once for the class per settings and language."""
    ex = L.rgb_example(s["seed"], s["kernels"])
    f = s["follow"]
    sl = L.slide(ex["image"], ex["kernels"][f], ex["bias"][f], s["stride"], s["padding"])
    maps = F.conv2d_image(ex["image"], ex["kernels"], ex["bias"], s["stride"], s["padding"])
    bias = numbers.fmt(ex["bias"][f])
    lines = []
    for stp in sl.stops:
        chan, sums = L.channel_lines(stp, sl.kernel, W.CHANNELS)
        lines.append(chan + [t("conv.rgb_total", sums=sums, bias=bias,
                                 value=numbers.fmt(stp.value))])
    titles = {"channels": [t(f"conv.channel_{c}") for c in W.CHANNELS],
              "kernel": [t("conv.rgb_kernel_slice", k=f + 1, c=c) for c in W.CHANNELS],
              "maps": [t("conv.rgb_map", k=m + 1, b=numbers.fmt(ex["bias"][m]))
                       for m in range(len(maps))]}
    fig = V.rgb_slide_figure(sl, maps, f, lines, titles=titles, labels=_labels())
    return fig.to_dict(), maps


@st.fragment
def rgb_section() -> None:
    st.header(t("conv.rgb_title"))
    st.markdown(t("conv.rgb_intro"))
    if lazy.shown("conv_rgb_open", ("conv_rgb_",)):
        rgb_part()
    why("conv.why_rgb")


def rgb_part() -> None:
    s = W.rgb_controls()
    with guard():
        key = (tuple(sorted(s.items())), current())
        spec, maps = W.memo("rgb", key, lambda: _rgb_figure(s, current()), size=3)
        st.plotly_chart(charts.Prebuilt(spec), key="conv_rgb_chart", config=NO_BAR)
        k, ho, wo = maps.shape
        st.markdown(t("conv.rgb_depth", k=k, h=ho, w=wo))


def _source(mode: str) -> tuple[np.ndarray, tuple]:
    """The shared picture as (C, H, W) for the chosen mode, and a cheap key for the memo."""
    img = image_input.working_image(gray=(mode == "gray"))
    meta = st.session_state.get("image", {})
    key = (meta.get("serial"), st.session_state.get("work_size"), mode, img.shape)
    return W.memo("src", key, lambda: images.to_chw(img).astype(np.float32), size=2), key


def _pick(maps: list[dict]) -> tuple[dict, int, int]:
    """Which feature map to explain and its output pixel (a click on a map sets them too)."""
    ks = [d["k"] for d in maps]
    if st.session_state.get("conv_pick_k") not in ks:
        st.session_state["conv_pick_k"] = ks[0]
    c1, c2, c3 = st.columns([1, 2, 2])
    k = c1.selectbox(t("conv.pick_kernel"), ks, key="conv_pick_k", bind="query-params",
                     format_func=lambda i: t("conv.kernel_n", n=i + 1),
                     help=t("conv.pick_kernel_help"))
    cur = maps[ks.index(k)]
    picks = []
    for col, name, top in ((c2, "conv_pick_r", cur["map"].shape[0] - 1),
                           (c3, "conv_pick_c", cur["map"].shape[1] - 1)):
        st.session_state[name] = min(max(int(st.session_state.get(name, top // 2)), 0), top)
        if top < 1:  # a map one pixel high or wide: nothing to choose (a slider needs a range)
            picks.append(0)
            continue
        picks.append(col.slider(t("conv.pick_row" if name.endswith("r") else "conv.pick_col"),
                                0, top, key=name, bind="query-params",
                                help=t("conv.pick_help")))
    return cur, picks[0], picks[1]


def _on_click(k: int) -> None:
    points = (st.session_state.get(f"conv_fmap_{k}") or {}).get("selection", {}).get("points")
    if points:
        st.session_state["conv_pick_k"] = k
        st.session_state["conv_pick_r"] = int(round(points[0]["y"]))
        st.session_state["conv_pick_c"] = int(round(points[0]["x"]))


def feature_maps(x: np.ndarray, src_key: tuple, s: dict) -> list[dict]:
    """One feature map per kernel (memoised per session); a kernel that does not fit gets one
    sentence and keeps its last valid map (same picture and mode only)."""
    h, w = x.shape[1:]
    maps = []
    for k, (ker, bias) in enumerate(zip(s["kernels"], s["bias"], strict=True)):
        ker = np.asarray(ker, dtype=np.float32)
        reps = [L.axis_report(size, ker.shape[-1], s["stride"], s["padding"]) for size in (h, w)]
        bad = next((r for r in reps if r["value"] is None), None)
        if bad is not None:
            st.warning(t("conv.kernel_n", n=k + 1) + ": " + t(f"conv.fit_{bad['status']}", **bad)
                       + " " + t("conv.kept_last"), icon="⚠️")
        else:
            geo = {"kernel": ker, "bias": bias, "stride": s["stride"], "padding": s["padding"],
                   "flip": s["flip"]}
            key = (src_key, ker.tobytes(), ker.shape, bias, s["stride"], s["padding"], s["flip"])
            with guard():
                fmap = W.memo(f"map{k}", key, lambda g=geo: F.conv2d_image(
                    x, g["kernel"][None], g["bias"], g["stride"], g["padding"],
                    flip=g["flip"])[0], size=2)
                st.session_state[f"_conv_last{k}"] = {"k": k, "src": src_key, "map": fmap,
                                                      "key": key, **geo}
        last = st.session_state.get(f"_conv_last{k}")
        if last is not None and last["src"] == src_key:
            maps.append(last)
    return maps


@st.fragment
def image_section() -> None:
    st.header(t("conv.img_title"))
    st.markdown(t("conv.img_intro"))
    if lazy.shown("conv_img_open", ("conv_img_", "conv_pick_", "conv_flip")):
        image_part()
    why("conv.why_image")


def image_part() -> None:
    gray_only = image_input.working_image().ndim == 2
    s = W.image_controls(not gray_only)
    x, src_key = _source(s["mode"])
    s["src_key"] = src_key
    h, w = x.shape[1:]
    maps = feature_maps(x, src_key, s)
    axis = (t("common.row"), t("common.col"))
    if not maps:
        return
    cur, i, j = _pick(maps)
    k = cur["k"]
    with guard():
        ex = F.conv2d_explain(x, cur["kernel"], cur["bias"], i, j, cur["stride"],
                              cur["padding"], flip=cur["flip"])
        ru, cu = ex["rows_unpadded"], ex["cols_unpadded"]
        win = (int(ru[0]), int(cu[0]), int(ru[-1] - ru[0] + 1), int(cu[-1] - cu[0] + 1))
        layers = W.memo("img_layers", src_key, lambda: V.image_layers(
            image_input.working_image(gray=(s["mode"] == "gray"))), size=1)
        cols = st.columns(min(3, len(maps) + 1))
        cols[0].plotly_chart(charts.figure(V.input_figure, layers,
                                           title=t("conv.img_input", h=h, w=w), window=win,
                                           hover_label=t("common.value"), axis_labels=axis),
                             key="conv_img_input", config=NO_BAR)
        for n, d in enumerate(maps, start=1):
            kk, m = d["k"], d["map"]
            lo, hi = numbers.fmt(np.nanmin(m)), numbers.fmt(np.nanmax(m))
            fig = charts.figure(
                V.feature_map_figure,
                W.memo(f"layers{kk}", d["key"], lambda m=m: V.map_layers(m), size=2),
                title=t("conv.img_map", k=kk + 1, h=m.shape[0], w=m.shape[1], lo=lo, hi=hi),
                pick=(i, j) if kk == k else None, hover_label=t("common.value"),
                axis_labels=axis)
            cols[n % len(cols)].plotly_chart(fig, key=f"conv_fmap_{kk}", selection_mode="points",
                                             on_select=partial(_on_click, kk), config=NO_BAR)
        explain_block(ex, k, i, j)
    flip_section(cur["kernel"], x, s)


def explain_block(ex: dict, k: int, i: int, j: int) -> None:
    st.subheader(t("conv.explain_title", k=k + 1, r=i, c=j))
    channels = list(W.CHANNELS) if ex["window"].shape[0] == 3 else [t("conv.channel_gray")]
    titles = {key: t(f"conv.explain_{key}") for key in ("window", "kernel", "products")}
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.figure(V.explain_figure, ex, channels=channels, titles=titles,
                                    hover_label=t("common.value")),
                      key="conv_explain", config=NO_BAR)
    sums = " + ".join(numbers.fmt_factor(v) for v in ex["channel_sums"])
    with right:
        if ex["window"].shape[0] == 1 and ex["window"][0].size <= 9:
            st.markdown(" ".join(L.arithmetic(ex["window"][0], ex["kernel"][0],
                                              bias=ex["bias"])))
        one = ex["window"].shape[0] == 1
        st.markdown(t("conv.explain_sum_one" if one else "conv.explain_sum", sums=sums,
                      bias=numbers.fmt(ex["bias"]), value=numbers.fmt(ex["value"])))
        if ex["in_padding"].any():
            st.caption(t("conv.explain_padding"))


def flip_section(kernel: np.ndarray, x: np.ndarray, s: dict) -> None:
    st.subheader(t("conv.flip_title"))
    st.markdown(t("conv.flip_intro"))
    k2 = np.asarray(kernel)[0]
    left, right = st.columns([2, 3])
    left.plotly_chart(charts.figure(V.kernel_pair_figure, k2, k2[::-1, ::-1], titles=[
        t("conv.flip_as_is"), t("conv.flip_rotated")], hover_label=t("common.value")),
        key="conv_flip_pair", config=NO_BAR)
    left.markdown(t("conv.flip_same" if L.is_flip_symmetric(kernel) else "conv.flip_differs"))
    with right, guard():
        small = W.memo("small", s["src_key"], lambda: np.stack(
            [images.resize_to_working(c, 72) for c in x]), size=2)
        corr = F.conv2d_image(small, kernel[None])[0]
        conv = F.convolve_image(small, kernel[None])[0]
        st.plotly_chart(charts.figure(
            V.compare_figure,
            [(corr, t("conv.flip_corr")), (conv, t("conv.flip_conv")),
             (conv - corr, t("conv.flip_diff"))], hover_label=t("common.value")),
            key="conv_flip_maps", config=NO_BAR)


header("conv")
slide_section()
rgb_section()
image_section()
