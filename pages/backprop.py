"""How a CNN learns: one training step of a tiny CNN, forward and then backwards layer by layer
with the engine's own numbers, the SGD update, ReLU beside sigmoid, and a gradient check.

The page opens with the forward pass; the backward pass, the update, ReLU beside sigmoid and the
check are parts drawn on demand (ui/lazy.py): all of them at once mount ~30 charts."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.lessons import backprop as bp_math
from cnnviz.numbers import fmt_ascii
from cnnviz.viz import backprop as bp_figs
from cnnviz.viz import style
from ui import cache, display, lazy
from ui.backprop import (
    HISTORY,
    NO_BAR,
    columns,
    controls,
    history,
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
#: Significant digits of the gradient check's numbers: enough to see two slopes agree.
CHECK_DIGITS = 9


def forward_section(tr: bp_math.Trace, classes: list[str]) -> None:
    st.header(t("backprop.fwd_title"))
    st.markdown(t("backprop.fwd_intro", cls=classes[tr.label]))
    left, right = st.columns([3, 2])
    show(bp_figs.grid(tr.x, t("backprop.g_input"), signed=False, hover=t("common.value")), "bp_x",
         left)
    with right:  # kernels one under the other: a 3x3 grid needs ~150 px across
        per_kernel(tr.kernel, "backprop.g_kernel", "bp_kernel", signed=True,
                   cols=[st.container() for _ in tr.kernel])
    pairs(tr.a, "backprop.g_act", tr.pooled, "backprop.g_pooled", "bp_ap", widths=(2, 1),
          signed=(False, False), blocks=2, marks=tr.winners if tr.pool == "max" else None)
    c1, c2 = st.columns([3, 1])
    show(bp_figs.grid(tr.probs[None], t("backprop.g_probs"), signed=False, digits=3,
                col_labels=columns(classes)), "bp_probs", c1)
    c2.metric(t("backprop.loss"), style.fmt(tr.loss), help=t("backprop.loss_help"))
    st.caption(t("backprop.fwd_caption", cls=classes[tr.label], p=style.fmt(tr.probs[tr.label]),
                 loss=style.fmt(tr.loss)))


def backward_section(tr: bp_math.Trace, classes: list[str]) -> None:
    st.header(t("backprop.bwd_title"))
    st.markdown(t("backprop.bwd_intro"))
    if not lazy.shown("bp_bwd_open", ("bp_slide_k",)):
        return
    st.subheader(t("backprop.loss_title"))
    st.markdown(t("backprop.loss_rule"))
    rows = [t("backprop.row_p"), t("backprop.row_y"), t("backprop.row_grad")]
    show(bp_figs.grid([tr.probs, tr.onehot, tr.d_logits], "", signed=True, digits=3,
                      row_labels=rows, col_labels=columns(classes)), "bp_dlogits")
    st.subheader(t("backprop.fc_title"))
    st.markdown(t("backprop.fc_rule"))
    feats = [f"x{i + 1}" for i in range(tr.flat.size)]
    a, b = st.columns([2, 3])  # one row per feature: x and dx, and its dW towards each class
    show(bp_figs.grid(np.stack([tr.flat, tr.d_flat], axis=1), t("backprop.g_flat"), signed=True,
                row_labels=feats, col_labels=["x", "dx"], label_lines=2, title_lines=2),
         "bp_flat", a)
    show(bp_figs.grid(tr.fc_dw.T, t("backprop.g_fc_dw"), signed=True, col_labels=columns(classes),
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


def conv_section(tr: bp_math.Trace) -> None:
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
    x, dy, stops = cache.shared(bp_math.slide, setup, hist, int(k) - 1)
    # text=1: the slide places its cells, notes and player by pixel arithmetic (cell_px)
    display.chart(st, cache.figure(bp_figs.slide_spec, x, dy, stops, labels), key="bp_slide",
                  config=NO_BAR, text=1)
    left, right = st.columns([2, 3], vertical_alignment="center")
    show(bp_figs.grid(tr.conv_dw[int(k) - 1], t("backprop.g_conv_dw", k=k), signed=True),
         "bp_conv_dw", left)
    right.caption(t("backprop.slide_caption"))
    st.markdown(t("backprop.dx_rule"))
    left, right = st.columns([2, 3])
    with left:
        per_kernel(bp_math.flipped(tr.kernel), "backprop.g_flipped", "bp_flip", signed=True,
                   cols=[st.container() for _ in tr.kernel])
    show(bp_figs.grid(tr.d_x, t("backprop.g_dx"), signed=True, cell_px=52), "bp_dx", right)
    why("backprop.why_chain")


@st.fragment
def update_section(setup: bp_math.Setup, hist: tuple) -> None:
    """A fragment: a new learning rate reruns this section alone (the forward and backward
    passes above do not depend on it); a step or a reset changes the weights every section
    shows, so it reruns the page."""
    if history(setup) != hist:  # Step or Reset was pressed in this section
        st.rerun()
    st.header(t("backprop.upd_title"))
    st.markdown(t("backprop.upd_intro"))
    if not lazy.shown("bp_upd_open", ("bp_lr",)):
        return
    c1, c2, c3 = st.columns(3, vertical_alignment="bottom")
    lr = c1.number_input(t("backprop.lr"), value=bp_math.DEFAULT_LR, step=0.05, format="%g",
                         key="bp_lr", bind="query-params", help=t("backprop.lr_help"))
    code = bp_math.check_lr(lr)
    u = None if code else cache.shared(bp_math.step, setup, hist, float(lr))
    c2.button(t("backprop.step"), key="bp_step", on_click=take_step, args=(lr,),
              disabled=u is None or u.status == "diverged",  # never store a broken step
              icon=":material/skip_next:", width="stretch", help=t("backprop.step_help"))
    c3.button(t("backprop.reset"), key="bp_reset", on_click=reset, width="stretch",
              icon=":material/restart_alt:", help=t("backprop.reset_help"))
    if code:
        st.warning(t(f"backprop.err_{code}", max=style.fmt(bp_math.MAX_LR)), icon="⚠️")
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
    curve = cache.shared(bp_math.losses, setup, hist)
    show(bp_figs.loss_curve(curve, {k: t(f"backprop.curve_{k}") for k in ("title", "x", "y")}),
         "bp_curve")


def sigmoid_section(setup: bp_math.Setup, hist: tuple) -> None:
    st.subheader(t("backprop.sig_title"))
    st.markdown(t("backprop.sig_intro"))
    if not lazy.shown("bp_sig_open"):
        return
    both = cache.shared(bp_math.compare_activations, setup, hist)
    s = {act: bp_math.shrink(tr) for act, tr in both.items()}
    groups = [t("backprop.sig_in"), t("backprop.sig_out"), t("backprop.sig_dw")]
    series = {act: [s[act]["in"], s[act]["out"], s[act]["dw"]] for act in both}
    names = {"relu": "ReLU", "sigmoid": "Sigmoid", "title": t("backprop.sig_chart"),
             "y": t("backprop.sig_y")}
    show(bp_figs.bar_compare(groups, series, style.ACTIVATION_COLORS, names), "bp_sig_bars")
    pairs(both["relu"].local[:1], "backprop.g_mask", both["sigmoid"].local[:1],
          "backprop.g_sig_local", "bp_sig_local", signed=(False, False), limit=1.0)
    st.markdown(t("backprop.sig_result", relu=style.fmt(s["relu"]["ratio"]),
                  sig=style.fmt(s["sigmoid"]["ratio"]),
                  top=style.fmt(s["sigmoid"]["max_local"])))
    st.markdown(t("backprop.sig_link"))


def check_section(setup: bp_math.Setup, hist: tuple) -> None:
    st.header(t("backprop.gc_title"))
    st.markdown(t("backprop.gc_intro"))
    if not lazy.shown("bp_gc_open", ("bp_weight", "bp_eps")):
        return
    c1, c2 = st.columns(2)
    lang = current()
    name = c1.selectbox(t("backprop.gc_weight"), bp_math.weight_options(setup.kernels),
                        key="bp_weight", format_func=lambda n: weight_name(n, lang),
                        bind="query-params", help=t("backprop.gc_weight_help"))
    eps = c2.select_slider(t("backprop.gc_eps"), EPS_OPTIONS, bp_math.DEFAULT_EPS, key="bp_eps",
                           format_func=lambda e: style.fmt(e, 1), bind="query-params",
                           help=t("backprop.gc_eps_help"))
    g = cache.shared(bp_math.grad_check, setup, hist, *bp_math.parse_weight(name), float(eps))
    m = st.columns(3)
    m[0].metric(t("backprop.gc_plus"), style.fmt(g["loss_plus"], CHECK_DIGITS),
                help=t("backprop.gc_plus_help"))
    m[1].metric(t("backprop.gc_minus"), style.fmt(g["loss_minus"], CHECK_DIGITS),
                help=t("backprop.gc_minus_help"))
    m[2].metric(t("backprop.gc_rel"), style.fmt(g["rel_error"], 2),
                help=t("backprop.gc_rel_help"))
    n = st.columns(2)
    n[0].metric(t("backprop.gc_numeric"), style.fmt(g["numeric"], CHECK_DIGITS),
                help=t("backprop.gc_numeric_help"))
    n[1].metric(t("backprop.gc_backprop"), style.fmt(g["backprop"], CHECK_DIGITS),
                help=t("backprop.gc_backprop_help"))
    verdict = "gc_good" if g["rel_error"] < 1e-5 else "gc_bad"
    st.markdown(t(f"backprop.{verdict}", rel=style.fmt(g["rel_error"], 2),
                  eps=style.fmt(eps, 1)))
    why("backprop.why_check")


header("backprop")
redraw_selectboxes()
with guard():
    setup = controls()
    hist = history(setup)
    class_names = [t(f"backprop.class_{c}") for c in bp_math.EXAMPLES]
    trace = cache.shared(bp_math.current, setup, hist)
    forward_section(trace, class_names)
    backward_section(trace, class_names)
with guard():
    update_section(setup, hist)
    sigmoid_section(setup, hist)
with guard():
    check_section(setup, hist)
