"""Pooling: max vs average pooling window by window, the article's examples, real feature maps
pooled slice by slice, tolerance to small shifts, and global pooling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import images, numbers
from cnnviz.lessons import pooling as pool_math
from cnnviz.viz import pooling as pool_figs
from cnnviz.viz import style
from ui import cache, display, image_input, lazy
from ui.errors import guard
from ui.lang import t
from ui.page import header, why
from ui.pooling.controls import MODES, feature_controls, grid_controls
from ui.widgets import labeller

#: Real feature maps are computed on the picture scaled to at most this many pixels.
LESSON_SIDE = 128


def size_formula(info: dict, size: int, f: int, p: int, axis: str) -> str:
    text = t("pooling.size_formula", axis=axis, size=size, p=p, f=f, s=info["stride"],
             out=info["value"])
    if info["remainder"]:
        text += " " + t("pooling.size_rest", rest=info["remainder"])
    return text


@st.fragment
def step_section() -> None:
    st.header(t("pooling.step_title"))
    st.markdown(t("pooling.step_intro"))
    s = grid_controls(pool_math.example_maps())
    with guard():
        grid = np.array(s["grid"], dtype=np.float64)
        f, stride, p = s["window"], s["stride"], s["padding"]
        problem = pool_math.check_geometry(*grid.shape, f, stride, p)
        if problem:
            st.warning(t(f"pooling.err_{problem[0]}", **problem[1]), icon="⚠️")
            return
        labels = {k: t(f"pooling.step_{k}") for k in ("input", "output", "step", "play",
                                                       "pause", "padding")}
        labels |= {"value": t("common.value"), "title_max": t("pooling.max_pooling"),
                   "title_avg": t("pooling.avg_pooling")}
        seq = cache.shared(pool_math.step_sequence, grid, f, stride, p)
        # stacked where two do not fit (a phone, or next to the sidebar)
        for col, m in zip(display.panels("pool_step", 2, "l"), MODES, strict=True):
            spec = cache.figure(pool_figs.step_spec, seq, m,
                                labels | {"title": labels[f"title_{m}"]})
            display.chart(col, spec, key=f"pool_step_{m}")
        h, w = grid.shape
        if h == w:  # a square map: one formula serves both sides
            lines = [size_formula(seq["info_h"], h, f, p, t("pooling.height_width"))]
        else:
            lines = [size_formula(seq["info_h"], h, f, p, t("pooling.height")),
                     size_formula(seq["info_w"], w, f, p, t("pooling.width"))]
        st.markdown("  \n".join(lines))
        with st.expander(t("pooling.all_windows")):
            rows = pool_figs.window_rows(seq, t("pooling.col_cell"), t("pooling.max_pooling"),
                                         t("pooling.avg_pooling"))
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    why("pooling.why_step")


@st.fragment
def article_section() -> None:
    lazy.section(t("pooling.article_title"), t("pooling.turn_intro"), "pool_article_open",
                 article_part, why_key="pooling.why_redundant")


def article_part() -> None:
    keys = ("turn_stroke", "turn_kernel", "turn_fmap", "turn_max", "turn_avg", "four_input",
            "four_max", "four_avg")
    specs = cache.shared(pool_figs.article_specs, cache.shared(pool_math.turn_example),
                         cache.shared(pool_math.step_sequence, pool_math.ARTICLE_4X4, 2, 2, 0),
                         {k: t(f"pooling.{k}") for k in keys}, t("common.value"))
    # one figure per panel in rows that wrap: next to the sidebar or on a phone the panels go
    # onto new lines instead of being cut (each grid keeps its cell size)
    for col, key in zip(display.panels("pool_turn", [3, 2, 3, 2, 2], "s"), keys[:5],
                        strict=True):
        display.chart(col, cache.Prebuilt(specs[key]), key=f"pool_{key}")
    ex = pool_math.turn_example()
    st.markdown(t("pooling.turn_result", max=style.fmt(ex["max"]), avg=style.fmt(ex["avg"])))
    st.subheader(t("pooling.four_title"))
    for col, key in zip(display.panels("pool_four", 3, "s"), keys[5:], strict=True):
        display.chart(col, cache.Prebuilt(specs[key]), key=f"pool_{key}")
    st.markdown(t("pooling.four_text"))


def shape_text(shape: tuple) -> str:
    return " × ".join(str(n) for n in shape)


def feature_section(gray: np.ndarray, s: dict) -> tuple[np.ndarray, np.ndarray] | None:
    names, f, stride = tuple(s["kernels"]), s["window"], s["stride"]
    if not names:
        st.warning(t("pooling.err_no_kernel"), icon="⚠️")
        return None
    problem = pool_math.check_geometry(*gray.shape, f, stride, 0)
    if problem:
        st.warning(t(f"pooling.err_{problem[0]}", **problem[1]), icon="⚠️")
        return None
    maps = cache.shared(pool_math.feature_stack, gray, names, s["relu"])
    pooled = cache.shared(pool_math.pool_stack, maps, f, stride, mode=s["mode"])
    top = tuple(f"{t(f'pooling.kernel_{n}')} {shape_text(maps.shape[1:])}" for n in names)
    bottom = tuple(f"→ {shape_text(pooled.shape[1:])}" for _ in names)
    # one figure per kernel in a row that wraps: four maps side by side ran their titles into
    # each other next to the sidebar and on a phone
    for i, col in enumerate(display.panels("pool_slices", len(names), "s")):
        display.chart(col, cache.figure(pool_figs.slices_figure, maps[i : i + 1], pooled[i : i + 1],
                                      top[i : i + 1], bottom[i : i + 1], t("common.value")),
                         key="pool_slices" if i == 0 else f"pool_slices_{i}")
    comp = pool_math.compression(maps.shape, pooled.shape)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t("pooling.fm_in"), shape_text(maps.shape), help=t("pooling.fm_in_help"))
    m2.metric(t("pooling.fm_out"), shape_text(pooled.shape), help=t("pooling.fm_out_help"))
    m3.metric(t("common.parameters"), "0", help=t("pooling.fm_params_help"))
    m4.metric(t("pooling.fm_ratio"), f"{style.fmt(comp['ratio'])}×",
              help=t("pooling.fm_ratio_help"))
    st.caption(t("pooling.fm_caption", n=len(names), vin=f"{comp['in']:,}",
                 vout=f"{comp['out']:,}", kept=style.fmt(100 * comp["kept"])))
    return maps, pooled


def tolerance_section(gray: np.ndarray, s: dict) -> None:
    st.header(t("pooling.tol_title"))
    st.markdown(t("pooling.tol_intro", window=s["window"], stride=s["stride"]))
    c1, c2 = st.columns([3, 1])
    shift = c1.slider(t("pooling.tol_shift"), 0, pool_math.MAX_SHIFT, 1, key="pool_shift",
                      bind="query-params", help=t("pooling.tol_shift_help"))
    direction = c2.selectbox(t("pooling.tol_dir"), list(pool_math.DIRECTIONS), key="pool_shift_dir",
                             format_func=labeller("pooling.dir_"),
                             bind="query-params", help=t("pooling.tol_dir_help"))
    with guard():
        cropped = (gray.shape[0] - pool_math.MAX_SHIFT,
                   gray.shape[1] - pool_math.MAX_SHIFT)  # see shifted_pair
        if not s["kernels"] or pool_math.check_geometry(*cropped, s["window"], s["stride"], 0):
            st.info(t("pooling.tol_needs_maps"), icon="ℹ️")
            return
        tol = cache.shared(pool_math.tolerance, gray, tuple(s["kernels"]), s["window"], s["stride"],
                           direction, s["relu"])
        pct = {k: 100 * float(tol[k][shift]) for k in ("feature", "max", "avg")}
        m1, m2, m3 = st.columns(3)
        m1.metric(t("pooling.tol_feature"), f"{style.fmt(pct['feature'])}%",
                  help=t("pooling.tol_metric_help"))
        for col, m in ((m2, "max"), (m3, "avg")):
            delta = pct[m] - pct["feature"]
            col.metric(t(f"pooling.tol_{m}"), f"{style.fmt(pct[m])}%",
                       delta=t("pooling.tol_delta", d=numbers.fmt_ascii(delta)) if shift else None,
                       delta_color="inverse", help=t("pooling.tol_metric_help"))
        labels = {k: t(f"pooling.tol_{k}") for k in ("feature", "max", "avg")}
        labels |= {"title": t("pooling.tol_chart"), "x": t("pooling.tol_x"),
                   "y": t("pooling.tol_y"), "now": t("pooling.tol_now")}
        display.chart(st, cache.figure(pool_figs.tolerance_figure, tol, shift, labels),
                        key="pool_tol_chart")
    why("pooling.why_tolerance")


def global_section(gray: np.ndarray, maps: np.ndarray, s: dict) -> None:
    st.header(t("pooling.global_title"))
    names = s["kernels"]
    # the engine loops over the window's taps: a whole-map window costs ~40 ms, so cache it
    g = cache.shared(pool_math.global_pool, cache.shared(pool_math.feature_stack, gray,
                                                         tuple(names), s["relu"]))
    article = pool_math.global_pool(pool_math.ARTICLE_4X4[None])
    st.markdown(t("pooling.global_intro", shape_in=shape_text(maps.shape),
                  shape_out=shape_text((maps.shape[0], 1, 1)),
                  gmax=style.fmt(article["max"][0]), gavg=style.fmt(article["avg"][0])))
    labels = {"title": t("pooling.global_chart"), "x": t("pooling.global_x"),
              "y": t("pooling.global_y"), "max": t("pooling.global_max"),
              "avg": t("pooling.global_avg")}
    spec = cache.figure(pool_figs.global_figure, tuple(t(f"pooling.kernel_{n}") for n in names),
                        g["max"], g["avg"], labels)
    display.chart(st, spec, key="pool_global")
    why("pooling.why_global")


@st.fragment
def real_maps_section() -> None:
    lazy.section(t("pooling.fm_title"), t("pooling.fm_intro", side=LESSON_SIDE), "pool_fm_open",
                 real_maps_part, ("pool_fm_", "pool_shift"))


def real_maps_part() -> None:
    s = feature_controls()
    gray = np.ascontiguousarray(images.resize_to_working(
        image_input.working_image(gray=True), LESSON_SIDE), dtype=np.float32)
    result = None
    with guard():
        result = feature_section(gray, s)
    why("pooling.why_slices")
    tolerance_section(gray, s)
    if result is not None:
        with guard():
            global_section(gray, result[0], s)


header("pooling")
step_section()
article_section()
real_maps_section()
