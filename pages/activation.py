"""Activation: curves and their derivatives, a rectified feature map of the student's picture,
vanishing gradients along a chain and through a deep network, and the article's advice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import numbers
from cnnviz.lessons import activation as act_math
from cnnviz.viz import activation as act_figs
from cnnviz.viz import figures, style
from ui import cache, display, image_input, lazy
from ui.activation.controls import (
    NAMES,
    curve_controls,
    fn_name,
    map_controls,
    redraw_selectboxes_after_language_switch,
    section,
)
from ui.lang import current, t
from ui.page import header, why
from ui.widgets import labeller

SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def chart(builder, key: str, *args, **kwargs) -> None:
    """Each figure built once per distinct input and language (ui.cache), drawn as built."""
    display.chart(st, cache.figure(builder, *args, **kwargs), key=key)


# --- 1. curves ---------------------------------------------------------------------------
def draw_curves(s: dict) -> None:
    curves = cache.shared(act_math.curves, s["fns"], *s["x_range"], s["alpha"])
    sat = s["sat"]
    zones = act_math.saturation_zones(curves[sat].x, curves[sat].df,
                                      s["eps"]) if sat in curves else []
    steep = act_math.steepest_point("sigmoid") if "sigmoid" in curves else None
    labels = {k: t(f"activation.{v}") for k, v in [("title", "chart_title"), ("x", "axis_x"),
              ("f", "axis_f"), ("df", "axis_df"), ("f_panel", "panel_f"), ("df_panel", "panel_df")]}
    if sat in curves:
        labels["zone"] = t("activation.zone_legend", fn=fn_name(sat), eps=style.fmt(s["eps"]))
    if steep:
        x0, slope = style.fmt(steep[0]), style.fmt(steep[2])
        labels["tangent"] = t("activation.tangent", slope=slope, x=x0)
        labels["peak"] = t("activation.peak", slope=slope)
    chart(act_figs.curves_figure, "act_curves_chart", curves, names={n: fn_name(n) for n in curves},
          labels=labels, derivative=s["derivative"], zones=zones,
          zone_color=style.ACTIVATION_COLORS.get(sat, "#999999"), steepest=steep)
    if sat != "none" and sat not in curves:
        st.caption(t("activation.sat_hidden", fn=fn_name(sat)))
    if steep:
        st.markdown(t("activation.sigmoid_note", x=style.fmt(steep[0]), slope=style.fmt(steep[2])))


def curves_section() -> float:
    st.header(t("activation.curves_title"))
    st.markdown(t("activation.curves_intro"))
    fns = st.pills(t("activation.fns"), NAMES, selection_mode="multi", default=NAMES[:4],
                   format_func=labeller("activation.fn_"), key="act_fns", bind="query-params",
                   help=t("activation.fns_help"))
    left, right = st.columns([1, 3], gap="large")
    with left:
        s = curve_controls(list(fns))
    with right, section():
        if s["fns"]:
            draw_curves(s)
        else:
            st.info(t("activation.pick_one"))
    why("activation.why_curves")
    return s["alpha"]


# --- 2. rectified feature map ------------------------------------------------------------
def map_column(r: dict, which: str, title: str, hist_title: str) -> None:
    values, hist = r[which], r[f"hist_{which}"]
    height = int(np.clip(90 + 380 * values.shape[0] / values.shape[1], 240, 480))  # fit photo
    chart(figures.map_figure, f"act_{which}_map", values, title=title, signed=True,
          limit=r["limit"], height=height, hover_label=t("common.value"))
    st.caption(t("common.values_range", lo=style.fmt(values.min()), hi=style.fmt(values.max())))
    zero = t("activation.hist_zero", share=style.fmt(100.0 * hist.zeros / max(hist.total, 1)))
    chart(act_figs.histogram_figure, f"act_{which}_hist", hist, title=hist_title,
          x_label=t("activation.hist_x"), y_label=t("activation.hist_y"), zero_label=zero)


@st.fragment  # moving the bias or picking a kernel reruns this section only
def map_section(alpha: float) -> None:
    lazy.section(t("activation.map_title"), t("activation.map_intro"), "act_map_open",
                 lambda: map_part(alpha), ("act_kernel", "act_map_fn", "act_bias"),
                 "activation.why_map")


def map_part(alpha: float) -> None:
    s = map_controls()
    with section():
        gray = image_input.working_image(gray=True)
        slope = alpha if s["fn"] == "leaky_relu" else 0.01  # keep the cache hit for the rest
        r = cache.shared(act_math.rectify, gray, s["kernel"], s["fn"], slope, s["bias"])
        name = fn_name(s["fn"])
        left, right = st.columns(2)
        with left:
            map_column(r, "before", t("activation.before_title"),
                       t("activation.hist_before_title"))
        with right:
            map_column(r, "after", t("activation.after_title", fn=name),
                       t("activation.hist_after_title", fn=name))
        shares = [("m_negative", "negative"), ("m_zero", "zero_after"), ("m_nograd", "no_grad")]
        for col, (key, share) in zip(st.columns(3), shares, strict=True):
            col.metric(t(f"activation.{key}", fn=name), f"{style.fmt(100 * r[share])}%",
                       help=t(f"activation.{key}_help"))
        if s["fn"] != "relu":
            st.markdown(t("activation.relu_compare", share=style.fmt(100 * r["relu_zero"])))


# --- 3. vanishing gradients --------------------------------------------------------------
def chain_part(fns: list[str], alpha: float, seed: int) -> None:
    st.subheader(t("activation.chain_title"))
    st.markdown(t("activation.chain_intro"))
    depth = st.slider(t("activation.chain_n"), 1, 50, 20, key="act_chain_n", bind="query-params",
                      help=t("activation.chain_n_help"))
    z = st.slider(t("activation.chain_z"), -5.0, 5.0, 1.0, 0.1, key="act_chain_z",
                  bind="query-params", help=t("activation.chain_z_help"))
    spread = st.slider(t("activation.chain_spread"), 0.0, 3.0, 0.0, 0.1, key="act_chain_spread",
                       bind="query-params", help=t("activation.chain_spread_help"))
    with section():
        _, products = cache.shared(act_math.chain_products, fns, depth, z, spread, seed, alpha)
        bound = act_math.quarter_bound(depth)
        labels = {k: t(f"activation.chain_{k}") for k in ("x", "y", "bound", "zero", "hover")}
        labels["title"] = t("activation.chain_chart_title")
        chart(act_figs.chain_figure, "act_chain_chart", products, bound, labels=labels,
              names={n: fn_name(n) for n in fns})
        if "sigmoid" in products:
            st.markdown(t("activation.chain_caption", n=depth, power=str(depth).translate(SUP),
                          value=style.fmt(products["sigmoid"][-1]), bound=style.fmt(bound[-1])))


def net_part(fns: list[str], alpha: float) -> tuple[int, dict | None]:
    st.subheader(t("activation.net_title"))
    st.markdown(t("activation.net_intro"))
    layers = st.slider(t("activation.layers"), 2, 16, 8, key="act_layers", bind="query-params",
                       help=t("activation.layers_help"))
    init = st.selectbox(t("activation.init"), list(act_math.INITS), key="act_init",
                        bind="query-params",
                        format_func=labeller("activation.init_"), help=t("activation.init_help"))
    seed = int(st.number_input(t("activation.seed"), 0, 9999, 0, key="act_seed",
                               bind="query-params", help=t("activation.seed_help")))
    norms = None
    with section():
        layer_names, norms = cache.shared(act_math.deep_grad_norms, fns, layers, seed, init, alpha)
        labels = {k: t(f"activation.net_{k}") for k in ("x", "y", "hover")}
        labels["title"] = t("activation.net_chart_title")
        chart(act_figs.grad_norms_figure, "act_norms_chart", layer_names, norms, labels=labels,
              names={n: fn_name(n) for n in fns})
    return seed, norms


def norm_metrics(norms: dict) -> None:
    """First layer's gradient over the output layer's, four functions per row."""
    names = list(norms)
    for start in range(0, len(names), 4):
        for col, name in zip(st.columns(4), names[start : start + 4], strict=False):
            oom = numbers.fmt_ascii(act_math.orders_of_magnitude(norms[name]))  # metric reads "-"
            col.metric(t("activation.net_metric", fn=fn_name(name)),
                       f"{style.fmt(norms[name][0] / norms[name][-1])}×",
                       delta=t("activation.net_orders", n=oom), delta_color="off",
                       help=t("activation.net_metric_help"))


@st.fragment  # alpha comes from the curves section, which reruns the whole page
def vanish_section(alpha: float) -> None:
    lazy.section(t("activation.vanish_title"), t("activation.vanish_intro"), "act_deep_open",
                 lambda: vanish_part(alpha),
                 ("act_deep_", "act_chain_", "act_init", "act_layers", "act_seed"),
                 "activation.why_vanish")


def vanish_part(alpha: float) -> None:
    fns = st.pills(t("activation.deep_fns"), NAMES, selection_mode="multi",
                   default=["sigmoid", "tanh", "relu"], format_func=labeller("activation.fn_"),
                   key="act_deep_fns", bind="query-params", help=t("activation.deep_fns_help"))
    if not fns:
        st.info(t("activation.pick_one"))
        return
    # two log-axis charts with long axis titles: side by side only where each gets ~340 px
    left, right = display.panels("act_vanish", 2, "l")
    with right:
        seed, norms = net_part(fns, alpha)
    with left:
        chain_part(fns, alpha, seed)
    if norms:
        norm_metrics(norms)


# --- 4. summary ----------------------------------------------------------------------------
def summary_section() -> None:
    st.header(t("activation.summary_title"))
    st.markdown(t("activation.summary_intro"))
    with section():
        rows = []
        for name in NAMES:
            p = act_math.PROPERTIES[name]
            rows.append({
                t("activation.col_fn"): fn_name(name),
                t("activation.col_formula"): p["formula"],
                t("activation.col_range"): p["range"],
                t("activation.col_d_range"): p["d_range"],
                t("activation.col_zero"): t(f"activation.zc_{p['zero_centred']}"),
                t("activation.col_cost"): t(f"activation.cost_{name}"),
                t("activation.col_advice"): t(f"activation.advice_{name}"),
            })
        # seven columns do not fit a phone or a tablet: there, one card per function
        wide, narrow = display.by_width("act_summary", 900)
        wide.table(pd.DataFrame(rows).set_index(t("activation.col_fn")))
        for row in rows:
            card = narrow.container(border=True)
            name, *cells = row.items()
            card.markdown(f"**{name[1]}**")
            sep = "：" if current() == "zh" else ": "  # a card reads "以零为中心：否"
            card.markdown("\n".join(f"- {col.rstrip('?？')}{sep}{value}" for col, value in cells))


redraw_selectboxes_after_language_switch()
header("activation")
leaky_alpha = curves_section()
st.divider()
map_section(leaky_alpha)
st.divider()
vanish_section(leaky_alpha)
st.divider()
summary_section()
