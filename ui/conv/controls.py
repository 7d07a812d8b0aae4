"""Widgets of the convolution page (pages/convolution.py): editable grids and kernels, example
and preset pickers, and which feature-map pixel to explain.

Each control group returns plain values; arrays are validated here
(``cnnviz.lessons.conv.check_matrix``) and the last valid value is kept in ``st.session_state``
so a bad cell never blanks the page.
A data_editor's key carries a version number: loading an example or a preset bumps it, which
gives a fresh editor on the new values (edits are relative to the data shown).

Session keys (all ``conv_``): the widgets' own keys, plus ``conv_slide`` (the sliding example's
grid, kernel, weight names, editor version, last valid arrays) and ``conv_img`` (per image kernel:
base weights (3, n, n), editor version, last valid weights).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from cnnviz import numbers
from cnnviz.classroom import links
from cnnviz.lessons import conv as conv_math
from ui import display, share
from ui.lang import t
from ui.widgets import labeller, matrix_editor

SPEEDS = {"slow": 1400, "normal": 800, "fast": 350}
CHANNELS = ("R", "G", "B")
#: Starting presets of image kernels 1..4, so adding a kernel shows a different feature.
DEFAULT_PRESETS = ("sobel_x", "sobel_y", "gaussian", "outline")
MAX_IMAGE_KERNELS = 4


def _bad(reason: str) -> None:
    st.warning(t(f"conv.bad_{reason}", limit=numbers.fmt(conv_math.ABSURD)), icon="⚠️")


# --------------------------------------------------------------------------------------------
# 1 + 2: the sliding example
# --------------------------------------------------------------------------------------------


def _slide_state() -> dict:
    if "conv_slide" not in st.session_state:
        _load_example("article")
        share.reapply_preset()  # a teacher preset from the link wins over the example
    return st.session_state["conv_slide"]


def _load_example(name: str) -> None:
    ex = conv_math.example(name)
    old = st.session_state.get("conv_slide", {})
    st.session_state["conv_slide"] = {
        "grid": ex["image"], "kernel": ex["kernel"], "names": ex["names"],
        "ver": old.get("ver", -1) + 1, "grid_ok": ex["image"], "kernel_ok": ex["kernel"],
    }
    for what in ("stride", "padding", "dilation"):
        st.session_state[f"conv_{what}"] = ex[what]
    st.session_state["conv_rows"], st.session_state["conv_cols"] = ex["image"].shape
    st.session_state["conv_ksize"] = ex["kernel"].shape[0]


def _on_example() -> None:
    _load_example(st.session_state["conv_example"])


def _from_link(s: dict) -> None:
    """The grid / kernel of a shared link or a teacher preset (ui/share.py), once."""
    grid = share.incoming_grid("conv_grid", lambda x: links.decode_grid(
        x, min_size=2, max_rows=conv_math.MAX_GRID, max_cols=conv_math.MAX_GRID,
        limit=conv_math.ABSURD))
    kernel = share.incoming_grid("conv_kernel", lambda x: links.decode_grid(
        x, max_rows=5, max_cols=5, square=True, limit=conv_math.ABSURD))
    if grid is not None:
        s["grid"] = s["grid_ok"] = grid
        st.session_state["conv_rows"], st.session_state["conv_cols"] = grid.shape
    if kernel is not None:
        ex = conv_math.example(st.session_state.get("conv_example", "article"))
        same = ex["kernel"].shape == kernel.shape and np.allclose(ex["kernel"], kernel)
        s["kernel"], s["kernel_ok"], s["names"] = kernel, kernel, ex["names"] if same else None
        st.session_state["conv_ksize"] = kernel.shape[0]
    if grid is not None or kernel is not None:
        s["ver"] += 1


def _on_resize() -> None:
    s = st.session_state["conv_slide"]
    rows, cols = st.session_state["conv_rows"], st.session_state["conv_cols"]
    n = st.session_state["conv_ksize"]
    s["grid"] = conv_math.resize_matrix(s["grid_ok"], rows, cols)
    if s["kernel_ok"].shape != (n, n):
        s["kernel"], s["names"] = conv_math.resize_matrix(s["kernel_ok"], n, n), None
    else:
        s["kernel"] = s["kernel_ok"]
    s["grid_ok"], s["kernel_ok"] = s["grid"], s["kernel"]
    s["ver"] += 1


def bounded_number(where, label: str, lo: int, hi: int, value: int, key: str,
                   notes: list[str] | None = None, **kw) -> int:
    """A whole-number box whose value is always the one the page computes with.

    The box has no browser-side limits on purpose: with them, typing 5 where 4 is the most
    leaves "5" in the box while the page keeps using the last accepted value. Instead a value
    out of range (typed, or from a link) is set to the nearest allowed one before the box is
    drawn, and one sentence says so (appended to ``notes`` when given, so a row of narrow
    boxes can show it at full width under the row).
    """
    typed = st.session_state.get(key)
    clamped = None
    if isinstance(typed, int | float) and not lo <= typed <= hi:
        clamped = int(min(max(typed, lo), hi))
        st.session_state[key] = clamped
    out = int(where.number_input(label, value=value, step=1, key=key, **kw))
    if clamped is not None:
        text = t("conv.clamped", name=label, typed=numbers.fmt(typed), lo=lo, hi=hi,
                 used=clamped)
        if notes is None:
            where.warning(text, icon="⚠️")
        else:
            notes.append(text)
    return out


def show_notes(notes: list[str]) -> None:
    for text in notes:
        st.warning(text, icon="⚠️")


#: Width of the example's select box (the longest name, in English, and its arrow).
EXAMPLE_BOX_PX = 400


def slide_controls() -> dict[str, Any]:
    """Example, speed, stride / padding / dilation, and the editable grid and kernel."""
    s = _slide_state()
    # the example on a line of its own: a select box cuts a name it cannot fit (an <input>
    # does not wrap), and "5×5 picture, X-shaped 3×3 kernel" needs ~260 px; the rest wraps
    st.selectbox(t("conv.example"), list(conv_math.EXAMPLES), key="conv_example",
                 on_change=_on_example,
                 format_func=labeller("conv.example_"), bind="query-params",
                 help=t("conv.example_help"), width=EXAMPLE_BOX_PX)
    c2, c3, c4, c5 = display.panels("conv_slide_ctl", [2, 1, 1, 1], "s")
    speed = c2.select_slider(t("conv.speed"), list(SPEEDS), value="normal", key="conv_speed",
                             format_func=labeller("conv.speed_"), bind="query-params",
                             help=t("conv.speed_help"))
    # value= is what a fresh session shows (the article's example), so a link can leave it out
    notes: list[str] = []
    stride = bounded_number(c3, t("conv.stride"), 0, 4, 1, key="conv_stride", notes=notes,
                            bind="query-params", help=t("conv.stride_help"))
    padding = bounded_number(c4, t("conv.padding"), 0, 3, 0, key="conv_padding", notes=notes,
                             bind="query-params", help=t("conv.padding_help"))
    dilation = bounded_number(c5, t("conv.dilation"), 1, 3, 1, key="conv_dilation",
                              notes=notes, bind="query-params", help=t("conv.dilation_help"))
    show_notes(notes)
    _from_link(s)
    with st.expander(t("conv.edit_title")):
        st.caption(t("conv.edit_intro"))
        e1, e2, e3 = st.columns(3)
        e1.number_input(t("conv.rows"), 2, conv_math.MAX_GRID, 5, key="conv_rows",
                        on_change=_on_resize,
                        bind="query-params", help=t("conv.rows_help", n=conv_math.MAX_GRID))
        e2.number_input(t("conv.cols"), 2, conv_math.MAX_GRID, 5, key="conv_cols",
                        on_change=_on_resize,
                        bind="query-params", help=t("conv.cols_help", n=conv_math.MAX_GRID))
        e3.number_input(t("conv.ksize"), 1, 5, 3, key="conv_ksize", on_change=_on_resize,
                        bind="query-params", help=t("conv.ksize_help"))
        g_col, k_col = st.columns([3, 2])
        with g_col:
            st.markdown(f"**{t('conv.input_grid')}**")
            grid, bad_g = matrix_editor(f"conv_grid_v{s['ver']}", s["grid"],
                                        help=t("conv.cell_help"))
        with k_col:
            st.markdown(f"**{t('conv.kernel_grid')}**")
            kernel, bad_k = matrix_editor(f"conv_kernel_v{s['ver']}", s["kernel"],
                                          help=t("conv.cell_help"))
    for reason in {bad_g, bad_k} - {None}:
        _bad(reason)
    if grid is not None:
        s["grid_ok"] = grid
    if kernel is not None:
        s["kernel_ok"] = kernel
    share.grid_to_link("conv_grid", s["grid_ok"], conv_math.ARTICLE_IMAGE)
    share.grid_to_link("conv_kernel", s["kernel_ok"], conv_math.ARTICLE_KERNEL)
    return {"grid": s["grid_ok"], "kernel": s["kernel_ok"], "names": s["names"],
            "stride": int(stride), "padding": int(padding), "dilation": int(dilation),
            "duration": SPEEDS[speed]}


# --------------------------------------------------------------------------------------------
# 3: the colour example
# --------------------------------------------------------------------------------------------


def rgb_controls() -> dict[str, Any]:
    c1, c2, c3, c4, c5 = display.panels("conv_rgb_ctl", 5, "s")  # "卷积核 1" fits its box
    k = c1.number_input(t("conv.rgb_kernels"), 1, 3, 2, key="conv_rgb_k", bind="query-params",
                        help=t("conv.rgb_kernels_help"))
    follow = c2.selectbox(t("conv.rgb_follow"), list(range(int(k))), key="conv_rgb_follow",
                          format_func=lambda i: t("conv.kernel_n", n=i + 1),
                          bind="query-params", help=t("conv.rgb_follow_help"))
    stride = bounded_number(c3, t("conv.stride"), 1, 2, 2, key="conv_rgb_stride",
                            bind="query-params", help=t("conv.stride_jump_help"))
    padding = bounded_number(c4, t("conv.padding"), 0, 1, 1, key="conv_rgb_padding",
                             bind="query-params", help=t("conv.padding_help"))
    seed = c5.number_input(t("conv.rgb_seed"), 0, 999, 0, key="conv_rgb_seed", bind="query-params",
                           help=t("conv.rgb_seed_help"))
    return {"kernels": int(k), "follow": min(int(follow or 0), int(k) - 1),
            "stride": int(stride), "padding": int(padding), "seed": int(seed)}


# --------------------------------------------------------------------------------------------
# 4: kernels for the picture
# --------------------------------------------------------------------------------------------


def _img_state(k: int) -> dict:
    states = st.session_state.setdefault("conv_img", {})
    if k not in states:
        name = DEFAULT_PRESETS[k % len(DEFAULT_PRESETS)]
        st.session_state.setdefault(f"conv_img_preset_{k}", name)
        st.session_state.setdefault(f"conv_img_size_{k}", 3)
        st.session_state.setdefault(f"conv_img_target_{k}", "all")
        st.session_state.setdefault(f"conv_img_bias_{k}", 0.0)
        base = np.repeat(conv_math.kernel_preset(name, 3)[None], 3, axis=0)
        linked = share.incoming_grid(f"conv_img_k{k}", lambda x: links.decode_stack(
            x, max_rows=conv_math.MAX_KERNEL, max_cols=conv_math.MAX_KERNEL, square=True,
            limit=conv_math.ABSURD))
        if linked is not None:  # from a shared link: one channel or three
            base = np.repeat(linked, 3 // len(linked), axis=0)
            st.session_state[f"conv_img_size_{k}"] = base.shape[-1]
        states[k] = {"base": base, "ver": 0, "ok": base}
    return states[k]


def _apply_preset(k: int) -> None:
    s = _img_state(k)
    name = st.session_state[f"conv_img_preset_{k}"]
    ker = conv_math.kernel_preset(name, st.session_state[f"conv_img_size_{k}"],
                                  seed=s["ver"] + 7 * k)
    st.session_state[f"conv_img_size_{k}"] = ker.shape[0]
    target = st.session_state.get(f"conv_img_target_{k}", "all")
    base = np.repeat(ker[None], 3, axis=0)
    if target in CHANNELS:
        base = np.zeros_like(base)
        base[CHANNELS.index(target)] = ker
    s["base"], s["ok"], s["ver"] = base, base, s["ver"] + 1


def _one_kernel(k: int, color: bool) -> tuple[np.ndarray, str | None]:
    s = _img_state(k)
    # a row that wraps below ~210 px a column: a preset's name (横折（先横后向下）) must fit
    c1, c2, c4 = (display.panels(f"conv_kernel_{k}", 3 if color else 2, "m")
                  + ([] if color else [None]))
    first = list(conv_math.KERNEL_PRESETS).index(DEFAULT_PRESETS[k % len(DEFAULT_PRESETS)])
    c1.selectbox(t("conv.preset"), list(conv_math.KERNEL_PRESETS), first,
                 key=f"conv_img_preset_{k}",
                 format_func=labeller("conv.preset_"), on_change=_apply_preset, args=(k,),
                 bind="query-params", help=t("conv.preset_help"))
    c2.number_input(t("conv.ksize"), 1, conv_math.MAX_KERNEL, 3, key=f"conv_img_size_{k}",
                    on_change=_apply_preset, args=(k,), bind="query-params",
                    help=t("conv.img_ksize_help"))
    if color:
        c4.selectbox(t("conv.target"), ["all", *CHANNELS], key=f"conv_img_target_{k}",
                     format_func=lambda c: t("conv.target_all") if c == "all" else c,
                     on_change=_apply_preset, args=(k,), bind="query-params",
                     help=t("conv.target_help"))
    chans = range(3) if color else range(1)
    cols = st.columns(3) if color else [st.container()]
    got, reason = [], None
    for ci, col in zip(chans, cols, strict=False):
        with col:
            if color:
                st.markdown(f"**{t('conv.channel_kernel', c=CHANNELS[ci])}**")
            arr, bad = matrix_editor(f"conv_img_k{k}_c{ci}_v{s['ver']}", s["base"][ci],
                                     help=t("conv.cell_help"))
            got.append(arr if arr is not None else s["ok"][ci])
            reason = reason or bad
    ker = np.stack(got)
    if reason is None:
        s["ok"] = np.concatenate([ker, s["ok"][len(got):]]) if not color else ker
    fresh = conv_math.kernel_preset(DEFAULT_PRESETS[k % len(DEFAULT_PRESETS)], 3)
    share.grid_to_link(f"conv_img_k{k}", s["ok"], np.repeat(fresh[None], 3, axis=0))
    return (s["ok"] if color else s["ok"][:1]), reason


def kernel_controls(is_color: bool) -> dict[str, Any]:
    """Mode and count, then one tab per kernel with its preset, size and editor(s).

    The page keeps these out of the fragment that draws the maps (it calls them in the picture
    section's outer fragment): the editors are the costliest widgets of the page (a pandas/Arrow
    round trip each, three per kernel in colour), and the bias, stride and picked pixel, which
    students move most, then rerun without rebuilding them. An edit here reruns both."""
    c1, c2, _ = display.panels("conv_img_kernels", [2, 1, 2], "s")
    modes = ["color", "gray"] if is_color else ["gray"]
    if st.session_state.get("conv_img_mode") not in modes:  # first run, or a gray picture now
        st.session_state["conv_img_mode"] = modes[0]
    mode = c1.segmented_control(t("conv.mode"), modes, key="conv_img_mode", required=True,
                                format_func=labeller("conv.mode_"),
                                bind="query-params", help=t("conv.mode_help")) or modes[0]
    count = c2.number_input(t("conv.img_count"), 1, MAX_IMAGE_KERNELS, 1, key="conv_img_count",
                            bind="query-params", help=t("conv.img_count_help"))
    color = mode == "color"
    kernels, reasons = [], []
    tabs = st.tabs([t("conv.kernel_n", n=k + 1) for k in range(int(count))])
    for k, tab in enumerate(tabs):
        with tab:
            ker, reason = _one_kernel(k, color)
        kernels.append(np.asarray(ker).tolist())
        if reason:
            reasons.append((k, reason))
    for k, reason in reasons:
        st.warning(t("conv.bad_kernel", n=k + 1) + " " + t(f"conv.bad_{reason}",
                   limit=numbers.fmt(conv_math.ABSURD)), icon="⚠️")
    return {"mode": mode, "kernels": kernels}


def picture_controls(count: int) -> dict[str, Any]:
    """Stride, padding, each kernel's bias and the flip switch: what changes the maps without
    touching a kernel (in the fragment that draws them)."""
    cols = display.panels("conv_img_ctl", [1, 1] + [1] * count + [2], "s")
    stride = bounded_number(cols[0], t("conv.stride"), 1, 8, 1, key="conv_img_stride",
                            bind="query-params", help=t("conv.stride_jump_help"))
    padding = bounded_number(cols[1], t("conv.padding"), 0, 3, 0, key="conv_img_padding",
                             bind="query-params", help=t("conv.padding_help"))
    biases = []
    for k in range(count):
        label = t("conv.bias") if count == 1 else t("conv.kernel_bias", n=k + 1)
        biases.append(float(cols[2 + k].number_input(
            label, -10.0, 10.0, 0.0, step=0.1, key=f"conv_img_bias_{k}", bind="query-params",
            help=t("conv.bias_help"))))
    flip = cols[-1].toggle(t("conv.flip"), False, key="conv_flip", bind="query-params",
                           help=t("conv.flip_help"))
    return {"bias": biases, "stride": int(stride), "padding": int(padding), "flip": bool(flip)}


def pick(maps: list[dict]) -> tuple[dict, int, int]:
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


def on_map_click(k: int) -> None:
    points = (st.session_state.get(f"conv_fmap_{k}") or {}).get("selection", {}).get("points")
    if points:
        st.session_state["conv_pick_k"] = k
        st.session_state["conv_pick_r"] = int(round(points[0]["y"]))
        st.session_state["conv_pick_c"] = int(round(points[0]["x"]))
