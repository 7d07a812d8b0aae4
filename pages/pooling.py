"""Pooling: max vs average pooling window by window, the article's examples, real feature maps
pooled slice by slice, tolerance to small shifts, and global pooling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import i18n, images, numbers
from cnnviz.lessons import pooling as L
from cnnviz.viz import pooling as V
from cnnviz.viz import style
from ui import image_input, lazy, share
from ui.errors import guard
from ui.lang import current, t
from ui.page import header, why

#: Real feature maps are computed on the picture scaled to at most this many pixels.
LESSON_SIDE = 128
#: The window / stride / padding each example opens with (the 横折 map: one 3x3 window).
EXAMPLE_DEFAULTS = {"article": (2, 2, 0), "turn": (3, 1, 0), "bump": (3, 1, 1),
                    "random": (2, 2, 0)}
MODES = ("max", "avg")


@st.cache_data(max_entries=64, show_spinner=False)
def step_specs(grid: tuple, window: int, stride: int, padding: int, labels: dict) -> dict:
    seq = L.step_sequence(np.array(grid, dtype=np.float64), window, stride, padding)
    return {m: V.step_spec(seq, m, labels | {"title": labels[f"title_{m}"]}) for m in MODES}


@st.cache_data(max_entries=32, show_spinner=False)
def feature_result(gray: np.ndarray, names: tuple, relu: bool, window: int, stride: int,
                   mode: str) -> tuple[np.ndarray, np.ndarray]:
    maps = L.feature_stack(gray, names, relu)
    return maps, L.pool_stack(maps, window, stride, mode=mode)


@st.cache_data(max_entries=32, show_spinner=False)
def global_result(gray: np.ndarray, names: tuple, relu: bool) -> dict:
    # the engine loops over the window's taps: a whole-map window costs ~40 ms, so cache it
    return L.global_pool(L.feature_stack(gray, names, relu))


@st.cache_data(max_entries=32, show_spinner=False)
def tolerance(gray: np.ndarray, names: tuple, window: int, stride: int, direction: str,
              relu: bool) -> dict:
    return L.tolerance(gray, names, window, stride, direction, relu)


@st.cache_data(max_entries=64, show_spinner=False)
def figure_spec(kind: str, *args) -> dict:
    """A chart's dict, cached: building a Plotly figure costs more than computing its data."""
    builder = {"slices": V.slices_figure, "tolerance": V.tolerance_figure,
               "global": V.global_figure}[kind]
    return builder(*args).to_dict()


def names_in(prefix: str, suffix: str = ""):
    """A format_func for options named in the catalogue, bound to this run's language (AppTest
    calls format_func outside the script thread, where the session's language is unknown)."""
    lang = current()
    return lambda k: i18n.t(f"pooling.{prefix}{k}{suffix}", lang)


#: (label key, smallest, largest, fallback) of every number the page's widgets hold.
RANGES = {"pool_window": ("window", 1, 8, 2), "pool_stride": ("stride", 1, 8, 2),
          "pool_padding": ("padding", 0, 4, 0), "pool_fm_window": ("window", 2, 8, 2),
          "pool_fm_stride": ("stride", 1, 8, 2)}


def number(col, key: str, help_key: str) -> int:
    """A whole-number input whose value lives in session state (so an example can set it) and
    in the link; a value out of range gets one sentence and the fallback."""
    name, lo, hi, fallback = RANGES[key]
    value = st.session_state.setdefault(key, fallback)
    if not L.in_range(value, lo, hi):
        st.warning(t("pooling.err_range", name=t(f"pooling.{name}"), value=value, lo=lo, hi=hi,
                     new=fallback), icon="⚠️")
        st.session_state[key] = fallback
    return int(col.number_input(t(f"pooling.{name}"), lo, hi, fallback, key=key,
                                bind="query-params", help=t(f"pooling.{help_key}")))


def _on_example() -> None:
    f, s, p = EXAMPLE_DEFAULTS.get(st.session_state.get("pool_example"), (2, 2, 0))
    st.session_state.update(pool_window=f, pool_stride=s, pool_padding=p)


def grid_controls(examples: dict[str, np.ndarray]) -> dict:
    """The map (an example, editable cell by cell) and the window, stride and padding."""
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    example = c1.selectbox(t("pooling.example"), list(examples), key="pool_example",
                           format_func=names_in("example_"), bind="query-params",
                           on_change=_on_example, help=t("pooling.example_help"))
    window = number(c2, "pool_window", "window_help")
    stride = number(c3, "pool_stride", "stride_help")
    padding = number(c4, "pool_padding", "padding_help")
    base = share.grid_base("pool_grid", example, examples[example], max_rows=12, max_cols=12)
    with st.expander(t("pooling.edit")):
        st.caption(t("pooling.edit_help"))
        cols = [str(j) for j in range(base.shape[1])]
        config = {c: st.column_config.NumberColumn(c, help=t("pooling.cell_help")) for c in cols}
        edited = st.data_editor(pd.DataFrame(base, columns=cols), key=f"pool_grid_{example}",
                                column_config=config, num_rows="fixed", width="content")
    grid = edited.to_numpy(dtype=np.float64, na_value=np.nan)
    valid_key = f"_pool_valid_{example}"
    if not np.all(np.isfinite(grid)):
        st.warning(t("pooling.err_cells"), icon="⚠️")
        grid = np.asarray(st.session_state.get(valid_key, base))
    else:
        st.session_state[valid_key] = grid.tolist()
    return {"example": example, "window": window, "stride": stride, "padding": padding,
            "grid": share.grid_to_link("pool_grid", grid, examples[example]).tolist()}


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
    s = grid_controls(L.example_maps())
    with guard():
        grid = np.array(s["grid"], dtype=np.float64)
        f, stride, p = s["window"], s["stride"], s["padding"]
        problem = L.check_geometry(*grid.shape, f, stride, p)
        if problem:
            st.warning(t(f"pooling.err_{problem[0]}", **problem[1]), icon="⚠️")
            return
        labels = {k: t(f"pooling.step_{k}") for k in ("input", "output", "step", "play",
                                                       "pause", "padding")}
        labels |= {"value": t("common.value"), "title_max": t("pooling.max_pooling"),
                   "title_avg": t("pooling.avg_pooling")}
        specs = step_specs(tuple(map(tuple, s["grid"])), f, stride, p, labels)
        left, right = st.columns(2)
        left.plotly_chart(V.Prebuilt(specs["max"]), key="pool_step_max")
        right.plotly_chart(V.Prebuilt(specs["avg"]), key="pool_step_avg")
        seq = L.step_sequence(grid, f, stride, p)
        h, w = grid.shape
        if h == w:  # a square map: one formula serves both sides
            lines = [size_formula(seq["info_h"], h, f, p, t("pooling.height_width"))]
        else:
            lines = [size_formula(seq["info_h"], h, f, p, t("pooling.height")),
                     size_formula(seq["info_w"], w, f, p, t("pooling.width"))]
        st.markdown("  \n".join(lines))
        with st.expander(t("pooling.all_windows")):
            rows = V.window_rows(seq, t("pooling.col_cell"), t("pooling.max_pooling"),
                                 t("pooling.avg_pooling"))
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    why("pooling.why_step")


@st.cache_data(max_entries=4, show_spinner=False)
def article_specs(titles: dict, hover: str) -> dict:
    return V.article_specs(L.turn_example(), L.step_sequence(L.ARTICLE_4X4, 2, 2, 0), titles,
                           hover)


@st.fragment
def article_section() -> None:
    st.header(t("pooling.article_title"))
    st.markdown(t("pooling.turn_intro"))
    if lazy.shown("pool_article_open"):
        article_part()
    why("pooling.why_redundant")


def article_part() -> None:
    keys = ("turn_stroke", "turn_kernel", "turn_fmap", "turn_max", "turn_avg", "four_input",
            "four_max", "four_avg")
    specs = article_specs({k: t(f"pooling.{k}") for k in keys}, t("common.value"))
    for col, key in zip(st.columns([3, 2, 3, 2, 2]), keys[:5], strict=True):
        col.plotly_chart(V.Prebuilt(specs[key]), key=f"pool_{key}")
    ex = L.turn_example()
    st.markdown(t("pooling.turn_result", max=style.fmt(ex["max"]), avg=style.fmt(ex["avg"])))
    st.subheader(t("pooling.four_title"))
    for col, key in zip(st.columns(3), keys[5:], strict=True):
        col.plotly_chart(V.Prebuilt(specs[key]), key=f"pool_{key}")
    st.markdown(t("pooling.four_text"))


def feature_controls() -> dict:
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    names = c1.multiselect(t("pooling.fm_kernels"), list(L.KERNELS), default=list(L.KERNELS),
                           format_func=names_in("kernel_"), key="pool_fm_kernels",
                           bind="query-params", help=t("pooling.fm_kernels_help"))
    window = number(c2, "pool_fm_window", "fm_window_help")
    stride = number(c3, "pool_fm_stride", "stride_help")
    mode = c4.radio(t("pooling.fm_mode"), MODES, key="pool_fm_mode", bind="query-params",
                    format_func=names_in("", "_pooling"), help=t("pooling.fm_mode_help"))
    relu = c4.toggle(t("pooling.fm_relu"), True, key="pool_fm_relu", bind="query-params",
                     help=t("pooling.fm_relu_help"))
    return {"kernels": list(names), "window": window, "stride": stride, "mode": mode,
            "relu": bool(relu)}


def shape_text(shape: tuple) -> str:
    return " × ".join(str(n) for n in shape)


def feature_section(gray: np.ndarray, s: dict) -> tuple[np.ndarray, np.ndarray] | None:
    names, f, stride = tuple(s["kernels"]), s["window"], s["stride"]
    if not names:
        st.warning(t("pooling.err_no_kernel"), icon="⚠️")
        return None
    problem = L.check_geometry(*gray.shape, f, stride, 0)
    if problem:
        st.warning(t(f"pooling.err_{problem[0]}", **problem[1]), icon="⚠️")
        return None
    maps, pooled = feature_result(gray, names, s["relu"], f, stride, s["mode"])
    top = tuple(f"{t(f'pooling.kernel_{n}')} {shape_text(maps.shape[1:])}" for n in names)
    bottom = tuple(f"→ {shape_text(pooled.shape[1:])}" for _ in names)
    spec = figure_spec("slices", maps, pooled, top, bottom, t("common.value"))
    st.plotly_chart(V.Prebuilt(spec), key="pool_slices")
    comp = L.compression(maps.shape, pooled.shape)
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
    shift = c1.slider(t("pooling.tol_shift"), 0, L.MAX_SHIFT, 1, key="pool_shift",
                      bind="query-params", help=t("pooling.tol_shift_help"))
    direction = c2.selectbox(t("pooling.tol_dir"), list(L.DIRECTIONS), key="pool_shift_dir",
                             format_func=names_in("dir_"),
                             bind="query-params", help=t("pooling.tol_dir_help"))
    with guard():
        cropped = (gray.shape[0] - L.MAX_SHIFT, gray.shape[1] - L.MAX_SHIFT)  # see shifted_pair
        if not s["kernels"] or L.check_geometry(*cropped, s["window"], s["stride"], 0):
            st.info(t("pooling.tol_needs_maps"), icon="ℹ️")
            return
        tol = tolerance(gray, tuple(s["kernels"]), s["window"], s["stride"], direction,
                        s["relu"])
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
        st.plotly_chart(V.Prebuilt(figure_spec("tolerance", tol, shift, labels)),
                        key="pool_tol_chart")
    why("pooling.why_tolerance")


def global_section(gray: np.ndarray, maps: np.ndarray, s: dict) -> None:
    st.header(t("pooling.global_title"))
    names = s["kernels"]
    g = global_result(gray, tuple(names), s["relu"])
    article = L.global_pool(L.ARTICLE_4X4[None])
    st.markdown(t("pooling.global_intro", shape_in=shape_text(maps.shape),
                  shape_out=shape_text((maps.shape[0], 1, 1)),
                  gmax=style.fmt(article["max"][0]), gavg=style.fmt(article["avg"][0])))
    labels = {"title": t("pooling.global_chart"), "x": t("pooling.global_x"),
              "y": t("pooling.global_y"), "max": t("pooling.global_max"),
              "avg": t("pooling.global_avg")}
    spec = figure_spec("global", tuple(t(f"pooling.kernel_{n}") for n in names), g["max"],
                       g["avg"], labels)
    st.plotly_chart(V.Prebuilt(spec), key="pool_global")
    why("pooling.why_global")


@st.fragment
def real_maps_section() -> None:
    st.header(t("pooling.fm_title"))
    st.markdown(t("pooling.fm_intro", side=LESSON_SIDE))
    if lazy.shown("pool_fm_open", ("pool_fm_", "pool_shift")):
        real_maps_part()


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
