"""How a CNN learns: one training step of a tiny CNN, forward and then backwards layer by layer
with the engine's own numbers, the SGD update, ReLU beside sigmoid, and a gradient check."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.lessons import backprop as B
from cnnviz.numbers import MINUS, fmt_ascii
from cnnviz.viz import backprop as V
from cnnviz.viz import style
from cnnviz.viz.pooling import Prebuilt
from ui.backprop import (
    HISTORY,
    NO_BAR,
    columns,
    history,
    labeller,
    pairs,
    per_kernel,
    reset,
    show,
    take_step,
    weight_name,
)
from ui.backprop import redraw_selectboxes_after_language_switch as redraw_selectboxes
from ui.errors import guard
from ui.lang import current, t
from ui.page import header, why

EPS_OPTIONS = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7]


def precise(x: float, spec: str = ".8f") -> str:
    """A gradient-check number: enough digits to compare two slopes, the house minus sign."""
    return format(x, spec).replace("-", MINUS)


@st.cache_data(max_entries=256, show_spinner=False)
def compute(name: str, *args):
    """A pure lesson result (plain values in), cached: students on the same settings share it."""
    return getattr(B, name)(*args)


def controls() -> B.Setup:
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    example = c1.selectbox(t("backprop.example"), list(B.EXAMPLES), index=B.Setup().example,
                           key="bp_example", format_func=labeller("class_"),
                           bind="query-params", help=t("backprop.example_help"))
    seed = c2.number_input(t("backprop.seed"), 0, B.MAX_SEED, B.Setup().seed, key="bp_seed",
                           bind="query-params", help=t("backprop.seed_help"))
    kernels = c3.radio(t("backprop.kernels"), [1, 2], index=1, key="bp_kernels",
                       horizontal=True, bind="query-params", help=t("backprop.kernels_help"))
    pool = c4.radio(t("backprop.pool"), list(B.POOLS), key="bp_pool", horizontal=True,
                    format_func=labeller("pool_"), bind="query-params",
                    help=t("backprop.pool_help"))
    return B.Setup(B.EXAMPLES.index(example), int(seed), int(kernels), pool)


def forward_section(tr: B.Trace, classes: list[str]) -> None:
    st.header(t("backprop.fwd_title"))
    st.markdown(t("backprop.fwd_intro", cls=classes[tr.label]))
    left, right = st.columns([3, 2])
    show(V.grid(tr.x, t("backprop.g_input"), signed=False, hover=t("common.value")), "bp_x",
         left)
    with right:  # kernels one under the other: a 3x3 grid needs ~150 px across
        per_kernel(tr.kernel, "backprop.g_kernel", "bp_kernel", signed=True,
                   cols=[st.container() for _ in tr.kernel])
    pairs(tr.a, "backprop.g_act", tr.pooled, "backprop.g_pooled", "bp_ap", widths=(2, 1),
          signed=(False, False), blocks=2, marks=tr.winners if tr.pool == "max" else None)
    c1, c2 = st.columns([3, 1])
    show(V.grid(tr.probs[None], t("backprop.g_probs"), signed=False, digits=3,
                col_labels=columns(classes)), "bp_probs", c1)
    c2.metric(t("backprop.loss"), style.fmt(tr.loss), help=t("backprop.loss_help"))
    st.caption(t("backprop.fwd_caption", cls=classes[tr.label], p=style.fmt(tr.probs[tr.label]),
                 loss=style.fmt(tr.loss)))


def backward_section(tr: B.Trace, classes: list[str]) -> None:
    st.header(t("backprop.bwd_title"))
    st.markdown(t("backprop.bwd_intro"))
    st.subheader(t("backprop.loss_title"))
    st.markdown(t("backprop.loss_rule"))
    rows = [t("backprop.row_p"), t("backprop.row_y"), t("backprop.row_grad")]
    show(V.grid([tr.probs, tr.onehot, tr.d_logits], "", signed=True, digits=3, row_labels=rows,
                col_labels=columns(classes)), "bp_dlogits")
    st.subheader(t("backprop.fc_title"))
    st.markdown(t("backprop.fc_rule"))
    feats = [f"x{i + 1}" for i in range(tr.flat.size)]
    a, b = st.columns([2, 3])  # one row per feature: x and dx, and its dW towards each class
    show(V.grid(np.stack([tr.flat, tr.d_flat], axis=1), t("backprop.g_flat"), signed=True,
                row_labels=feats, col_labels=["x", "dx"], label_lines=2), "bp_flat", a)
    show(V.grid(tr.fc_dw.T, t("backprop.g_fc_dw"), signed=True, col_labels=columns(classes),
                row_labels=feats, label_lines=2), "bp_fc_dw", b)
    st.subheader(t("backprop.flat_title"))
    st.markdown(t("backprop.flat_rule"))
    per_kernel(tr.d_pooled, "backprop.g_dpooled", "bp_dpooled", signed=True)
    st.subheader(t(f"backprop.pool_title_{tr.pool}"))
    st.markdown(t(f"backprop.pool_rule_{tr.pool}"))
    per_kernel(tr.d_a, "backprop.g_da", "bp_da", signed=True, blocks=2,
               marks=tr.winners if tr.pool == "max" else None)
    st.subheader(t("backprop.relu_title"))
    st.markdown(t("backprop.relu_rule"))
    pairs(tr.local, "backprop.g_mask", tr.d_z, "backprop.g_dz", "bp_relu", signed=(False, True))
    conv_section(tr)


@st.cache_data(max_entries=64, show_spinner=False)
def slide(setup: B.Setup, hist: tuple, k: int, labels: dict) -> dict:
    tr = B.current(setup, hist)
    return V.slide_spec(tr.x, tr.d_z[k], B.dw_slide(tr, k), labels)


def conv_section(tr: B.Trace) -> None:
    st.subheader(t("backprop.conv_title"))
    st.markdown(t("backprop.conv_rule"))
    setup, hist = st.session_state[HISTORY]["setup"], tuple(st.session_state[HISTORY]["lrs"])
    k = 1
    if setup.kernels == 2:
        k = st.radio(t("backprop.slide_kernel"), [1, 2], key="bp_slide_k", horizontal=True,
                     bind="query-params", help=t("backprop.slide_kernel_help"))
    labels = {key: t(f"backprop.slide_{key}") for key in ("input", "dy", "dw", "stop")}
    labels |= {"play": t("backprop.play"), "pause": t("backprop.pause"),
               "value": t("common.value")}
    st.plotly_chart(Prebuilt(slide(setup, hist, int(k) - 1, labels)), key="bp_slide",
                    config=NO_BAR)
    left, right = st.columns([2, 3], vertical_alignment="center")
    show(V.grid(tr.conv_dw[int(k) - 1], t("backprop.g_conv_dw", k=k), signed=True),
         "bp_conv_dw", left)
    right.caption(t("backprop.slide_caption"))
    st.markdown(t("backprop.dx_rule"))
    left, right = st.columns([2, 3])
    with left:
        per_kernel(B.flipped(tr.kernel), "backprop.g_flipped", "bp_flip", signed=True,
                   cols=[st.container() for _ in tr.kernel])
    show(V.grid(tr.d_x, t("backprop.g_dx"), signed=True, cell_px=52), "bp_dx", right)
    why("backprop.why_chain")


def update_section(setup: B.Setup, hist: tuple) -> None:
    st.header(t("backprop.upd_title"))
    st.markdown(t("backprop.upd_intro"))
    c1, c2, c3 = st.columns(3, vertical_alignment="bottom")
    lr = c1.number_input(t("backprop.lr"), value=B.DEFAULT_LR, step=0.05, format="%g",
                         key="bp_lr", bind="query-params", help=t("backprop.lr_help"))
    code = B.check_lr(lr)
    u = None if code else compute("step", setup, hist, float(lr))
    c2.button(t("backprop.step"), key="bp_step", on_click=take_step, args=(lr,),
              disabled=u is None or u.status == "diverged",  # never store a broken step
              icon=":material/skip_next:", width="stretch", help=t("backprop.step_help"))
    c3.button(t("backprop.reset"), key="bp_reset", on_click=reset, width="stretch",
              icon=":material/restart_alt:", help=t("backprop.reset_help"))
    if code:
        st.warning(t(f"backprop.err_{code}", max=style.fmt(B.MAX_LR)), icon="⚠️")
        return
    m1, m2, m3 = st.columns(3)
    m1.metric(t("backprop.steps_taken"), len(hist), help=t("backprop.steps_taken_help"))
    m2.metric(t("backprop.loss_now"), style.fmt(u.loss_before), help=t("backprop.loss_help"))
    if u.status == "diverged":
        st.warning(t("backprop.diverged"), icon="⚠️")
    else:
        m3.metric(t("backprop.loss_next"), style.fmt(u.loss_after),
                  delta=fmt_ascii(u.loss_after - u.loss_before), delta_color="inverse",
                  help=t("backprop.loss_next_help"))
        st.markdown(t(f"backprop.status_{u.status}", lr=style.fmt(u.lr)))
        pairs(u.kernel_before, "backprop.g_before", u.kernel_after, "backprop.g_after", "bp_k",
              signed=(True, True), digits=3)
    curve = compute("losses", setup, hist)
    show(V.loss_curve(curve, {k: t(f"backprop.curve_{k}") for k in ("title", "x", "y")}),
         "bp_curve")


def sigmoid_section(setup: B.Setup, hist: tuple) -> None:
    st.subheader(t("backprop.sig_title"))
    st.markdown(t("backprop.sig_intro"))
    both = compute("compare_activations", setup, hist)
    s = {act: B.shrink(tr) for act, tr in both.items()}
    groups = [t("backprop.sig_in"), t("backprop.sig_out"), t("backprop.sig_dw")]
    series = {act: [s[act]["in"], s[act]["out"], s[act]["dw"]] for act in both}
    names = {"relu": "ReLU", "sigmoid": "Sigmoid", "title": t("backprop.sig_chart"),
             "y": t("backprop.sig_y")}
    show(V.bar_compare(groups, series, style.ACTIVATION_COLORS, names), "bp_sig_bars")
    pairs(both["relu"].local[:1], "backprop.g_mask", both["sigmoid"].local[:1],
          "backprop.g_sig_local", "bp_sig_local", signed=(False, False), limit=1.0)
    st.markdown(t("backprop.sig_result", relu=style.fmt(s["relu"]["ratio"]),
                  sig=style.fmt(s["sigmoid"]["ratio"]),
                  top=style.fmt(s["sigmoid"]["max_local"])))
    st.markdown(t("backprop.sig_link"))


def check_section(setup: B.Setup, hist: tuple) -> None:
    st.header(t("backprop.gc_title"))
    st.markdown(t("backprop.gc_intro"))
    c1, c2 = st.columns(2)
    lang = current()
    name = c1.selectbox(t("backprop.gc_weight"), B.weight_options(setup.kernels),
                        key="bp_weight", format_func=lambda n: weight_name(n, lang),
                        bind="query-params", help=t("backprop.gc_weight_help"))
    eps = c2.select_slider(t("backprop.gc_eps"), EPS_OPTIONS, B.DEFAULT_EPS, key="bp_eps",
                           format_func=lambda e: precise(e, ".0e"), bind="query-params",
                           help=t("backprop.gc_eps_help"))
    g = compute("grad_check", setup, hist, *B.parse_weight(name), float(eps))
    m = st.columns(3)
    m[0].metric(t("backprop.gc_plus"), precise(g["loss_plus"]), help=t("backprop.gc_plus_help"))
    m[1].metric(t("backprop.gc_minus"), precise(g["loss_minus"]),
                help=t("backprop.gc_minus_help"))
    m[2].metric(t("backprop.gc_rel"), precise(g["rel_error"], ".1e"),
                help=t("backprop.gc_rel_help"))
    n = st.columns(2)
    n[0].metric(t("backprop.gc_numeric"), precise(g["numeric"]),
                help=t("backprop.gc_numeric_help"))
    n[1].metric(t("backprop.gc_backprop"), precise(g["backprop"]),
                help=t("backprop.gc_backprop_help"))
    verdict = "gc_good" if g["rel_error"] < 1e-5 else "gc_bad"
    st.markdown(t(f"backprop.{verdict}", rel=precise(g["rel_error"], ".1e"),
                  eps=precise(eps, ".0e")))
    why("backprop.why_check")


header("backprop")
redraw_selectboxes()
with guard():
    setup = controls()
    hist = history(setup)
    class_names = [t(f"backprop.class_{c}") for c in B.EXAMPLES]
    trace = compute("current", setup, hist)
    forward_section(trace, class_names)
    backward_section(trace, class_names)
with guard():
    update_section(setup, hist)
    sigmoid_section(setup, hist)
with guard():
    check_section(setup, hist)
