"""The seven steps of the guided lesson (pages/lesson.py): explanation, one interaction, one
question answered by using it, and a verdict with a hint.

Every check is computed by :mod:`cnnviz.lessons.guided` from the values on screen. Session keys:
``lesson_results`` (step -> (answer seen, right?)), ``lesson_done`` (steps answered right at
least once), ``lesson_race`` (the training race, once per session); widgets start with
``lesson_``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz.lessons import guided
from cnnviz.viz import backprop as backprop_figs
from cnnviz.viz import figures, style
from ui import display
from ui.lang import t

RESULTS, DONE, RACE = "lesson_results", "lesson_done", "lesson_race"
NO_BAR = {"displayModeBar": False}
#: Lesson controls: in the link, and kept while another step is shown.
KEEP = {"bind": "query-params", "persist_state": "session"}
_RACE_LOCK = threading.Lock()  # one training at a time for the whole class; the rest wait


def _record(step: str, seen: Hashable, right: bool) -> None:
    st.session_state.setdefault(RESULTS, {})[step] = (seen, right)
    if right:
        st.session_state.setdefault(DONE, set()).add(step)


def verdict(step: str, seen: Hashable, right: bool, praise: str, hint: str,
            empty: str | None = None) -> None:
    """The check button (it judges what was on screen when it was pressed) and the verdict,
    shown while the answer stays as it was checked.

    ``empty``: the catalogue key to show instead of a verdict when Check is pressed with no
    answer yet ("lesson.need_number" / "lesson.need_choice"): nothing was wrong, nothing given.
    """
    st.button(t("lesson.check"), key=f"lesson_check_{step}", type="primary", on_click=_record,
              args=(step, seen, right and empty is None), icon=":material/task_alt:",
              help=t("lesson.check_help"))
    got = st.session_state.get(RESULTS, {}).get(step)
    if got is None or got[0] != seen:
        return
    if empty is not None:
        st.info(t(empty), icon=":material/edit:")
    elif got[1]:
        st.success(f"**{t('lesson.right')}** {praise}", icon=":material/check_circle:")
    else:
        st.warning(f"**{t('lesson.wrong')}** {hint}", icon=":material/lightbulb:")


def grid(values: np.ndarray, title: str, key: str, *, signed: bool | None = None,
         padding: int = 0, cell_px: int = 56, picture: bool = False,
         hidden: tuple[tuple[int, int], ...] = ()) -> None:
    fig = figures.grid_figure(values, title=title, signed=signed, padding=padding,
                              cell_px=cell_px, hover_label=t("common.value"), picture=picture,
                              hidden=hidden)
    display.chart(st, fig, key=key, config=NO_BAR)


def labels(prefix: str, options: tuple[str, ...] | list[str]) -> Callable[[str], str]:
    """A format_func for catalogue-named options, its texts looked up now (Streamlit may call
    it outside the script run, where the user's language is unknown)."""
    table = {o: t(f"lesson.{prefix}{o}") for o in options}
    return lambda option: table.get(option, str(option))


def answered_right(step: str) -> bool:
    return step in st.session_state.get(DONE, set())


def number_answer(step: str) -> float | None:
    return st.number_input(t("lesson.answer"), value=None, step=1.0, format="%g",
                           key=f"lesson_answer_{step}",
                           placeholder="?", persist_state="session", help=t("lesson.answer_help"))


# ---- 1. input -------------------------------------------------------------------------------

def step_input() -> None:
    st.markdown(t("lesson.input_text"))
    left, right = st.columns([1, 1], gap="large")
    with left:
        mode = st.segmented_control(t("lesson.input_mode"), list(guided.PREP_MODES),
                                    default="original",
                                    required=True, key="lesson_input_mode", **KEEP,
                                    format_func=labels("input_mode_", guided.PREP_MODES),
                                    help=t("lesson.input_mode_help")) or "original"
        r = guided.input_step(mode)
        st.caption(t("lesson.input_mean", mean=style.fmt(r["mean"])))
        if mode == "normalized":
            st.caption(t("lesson.input_scale", scale=style.fmt(r["scale"])))
        st.markdown(t("lesson.input_question"))
        answer = number_answer("input")
    with right:
        # the asked pixel stays a "?" in the processed patches until it was answered right
        hide = () if mode == "original" or answered_right("input") else ((0, 0),)
        grid(r["values"], t("lesson.input_grid", mode=t(f"lesson.input_mode_{mode}")),
             "lesson_input_grid", signed=mode != "original", picture=mode == "original",
             hidden=hide)
        if hide:
            st.caption(t("lesson.input_hidden"))
    right_now = guided.check_number(answer, r["centred_corner"])
    verdict("input", answer, right_now, t("lesson.input_right"),
            t("lesson.input_hint", mean=style.fmt(r["mean"])),
            empty="lesson.need_number" if answer is None else None)


# ---- 2. convolution -------------------------------------------------------------------------

def step_conv() -> None:
    st.markdown(t("lesson.conv_text"))
    c1, c2, _ = st.columns([1, 1, 2])
    stride = int(c1.number_input(t("lesson.conv_stride"), 1, 3, 1, key="lesson_conv_stride",
                                 **KEEP, help=t("lesson.conv_stride_help")))
    padding = int(c2.number_input(t("lesson.conv_padding"), 0, 2, 0, key="lesson_conv_padding",
                                  **KEEP, help=t("lesson.conv_padding_help")))
    r = guided.conv_step(stride, padding)
    n = r["padded"].shape[0]
    a, b, c = st.columns([3, 2, 3])
    with a:
        title = t("lesson.conv_input_padded" if padding else "lesson.conv_input", h=n, w=n)
        grid(r["padded"], title, "lesson_conv_input", signed=False, padding=padding,
             cell_px=40, picture=True)
    with b:
        grid(r["kernel"], t("lesson.conv_kernel"), "lesson_conv_kernel", signed=False)
    h, w = r["size"]
    with c:
        grid(r["map"], t("lesson.conv_map", h=h, w=w), "lesson_conv_map", signed=False)
    st.markdown(t("lesson.conv_formula", n=5, p=padding, s=stride, out=h))
    st.markdown(t("lesson.conv_question"))
    hint = t("lesson.conv_hint_padding") if padding else t("lesson.conv_hint", h=h, w=w)
    verdict("conv", (stride, padding), padding == 0 and (h, w) == (2, 2),
            t("lesson.conv_right"), hint)


# ---- 3. activation --------------------------------------------------------------------------

def step_activation() -> None:
    st.markdown(t("lesson.act_text"))
    fmt = labels("act_fn_", guided.ACTIVATIONS)
    left, right = st.columns([1, 2], gap="large")
    with left:
        fn = st.selectbox(t("lesson.act_fn"), list(guided.ACTIVATIONS), index=None,
                          key="lesson_act_fn", placeholder=t("lesson.choose"), **KEEP,
                          format_func=fmt, help=t("lesson.act_fn_help"))
        st.markdown(t("lesson.act_question"))
        answer = number_answer("activation")
    with right:
        a, b = st.columns(2)
        with a:
            grid(guided.MAP, t("lesson.act_before"), "lesson_act_before", signed=True)
        with b:
            if fn is None:
                st.caption(t("lesson.act_none"))
            else:
                grid(guided.activate(fn), t("lesson.act_after", fn=fmt(fn)), "lesson_act_after",
                     signed=True)
    zeros = guided.relu_zeros()
    verdict("activation", answer, guided.check_number(answer, zeros),
            t("lesson.act_right", n=zeros), t("lesson.act_hint"),
            empty="lesson.need_number" if answer is None else None)


# ---- 4. pooling -----------------------------------------------------------------------------

def step_pooling() -> None:
    st.markdown(t("lesson.pool_text"))
    mode = st.radio(t("lesson.pool_mode"), ["avg", "max"], index=None, key="lesson_pool_mode",
                    horizontal=True, **KEEP, format_func=labels("pool_mode_", ("avg", "max")),
                    help=t("lesson.pool_mode_help"))
    r = guided.pool_step(mode or "avg")
    cols = st.columns([3, 2, 3, 2])
    for col, values, title, key in zip(
            cols, (r["stroke"], r["kernel"], r["fmap"], np.array([[r["kept"]]])),
            ("pool_stroke", "pool_kernel", "pool_fmap", "pool_kept"),
            ("stroke", "kernel", "fmap", "kept"), strict=True):
        with col:
            grid(values, t(f"lesson.{title}"), f"lesson_pool_{key}", signed=False,
                 hidden=((0, 0),) if key == "kept" and mode is None else ())
    st.markdown(t("lesson.pool_question"))
    verdict("pooling", mode, r["kept"] == r["peak"], t("lesson.pool_right"),
            t("lesson.pool_hint", kept=style.fmt(r["kept"])),
            empty="lesson.need_choice" if mode is None else None)


# ---- 5. fully connected ---------------------------------------------------------------------

def step_fc() -> None:
    st.markdown(t("lesson.fc_text"))
    left, right = st.columns([1, 2], gap="large")
    with left:
        maps = int(st.slider(t("lesson.fc_maps"), 1, 4, 2, key="lesson_fc_maps",
                             **KEEP, help=t("lesson.fc_maps_help")))
        r = guided.fc_step(maps)
        st.markdown(t("lesson.fc_question"))
        answer = number_answer("fc")
    with right:
        for k, col in enumerate(st.columns(4)):
            if k < maps:
                with col:
                    grid(r["stack"][k], t("lesson.fc_stack", k=k + 1), f"lesson_fc_map{k}",
                         signed=False, cell_px=44)
        grid(r["vector"][None, :], t("lesson.fc_vector", n=r["features"]), "lesson_fc_vector",
             signed=False, cell_px=44)
    n = r["features"]
    verdict("fc", (maps, answer), guided.check_number(answer, r["weights"]),
            t("lesson.fc_right", n=n, w=r["weights"]), t("lesson.fc_hint", n=n),
            empty="lesson.need_number" if answer is None else None)


# ---- 6. training ----------------------------------------------------------------------------

@st.cache_data(max_entries=2, show_spinner=False)
def _race_cached() -> dict:
    return guided.race()


def race() -> dict:
    with _RACE_LOCK:  # forty students pressing at once train it once; the others wait
        return _race_cached()


def _train() -> None:
    st.session_state[RACE] = race()


def loss_figure(results: dict, names: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    for act, curves in results.items():
        epochs = list(range(1, len(curves["loss"]) + 1))
        fig.add_trace(go.Scatter(x=epochs, y=curves["loss"], name=names[act], mode="lines+markers",
                                 line={"color": style.ACTIVATION_COLORS.get(act), "width": 3},
                                 hovertemplate="%{x}: %{y:.4f}<extra>" + names[act] + "</extra>"))
    fig.update_xaxes(title=t("lesson.train_x"), dtick=1)
    fig.update_yaxes(title=t("lesson.train_y"), rangemode="tozero")
    return figures.base_layout(fig, t("lesson.train_chart"), height=340)


def step_training() -> None:
    st.markdown(t("lesson.train_text"))
    fmt = labels("act_fn_", guided.ACTIVATIONS)
    st.button(t("lesson.train_run"), key="lesson_train", on_click=_train,
              icon=":material/play_arrow:", help=t("lesson.train_run_help"))
    results = st.session_state.get(RACE)
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.markdown(t("lesson.train_question"))
        answer = st.radio(t("lesson.answer"), ["relu", "sigmoid"], index=None, format_func=fmt,
                          key="lesson_train_answer", persist_state="session",
                          help=t("lesson.train_answer_help"))
    if results is None:
        right.info(t("lesson.train_wait"), icon="ℹ️")
        verdict("training", answer, False, "", t("lesson.train_first"),
                empty="lesson.need_choice" if answer is None else None)
        return
    with right:
        names = {a: fmt(a) for a in results}
        display.chart(st, loss_figure(results, names), key="lesson_train_chart", config=NO_BAR)
        for act, curves in results.items():
            st.caption(t("lesson.train_acc", fn=names[act], loss=style.fmt(curves["loss"][-1]),
                         acc=style.fmt(100 * curves["acc"][-1])))
    best = guided.winner(results)
    verdict("training", answer, answer == best, t("lesson.train_right", fn=fmt(best)),
            t("lesson.train_hint"), empty="lesson.need_choice" if answer is None else None)


# ---- 7. backpropagation ---------------------------------------------------------------------

def step_backprop() -> None:
    st.markdown(t("lesson.bp_text"))
    mode = st.radio(t("lesson.bp_mode"), ["avg", "max"], key="lesson_bp_mode", horizontal=True,
                    **KEEP, format_func=labels("pool_mode_", ("avg", "max")),
                    help=t("lesson.bp_mode_help"))
    r = guided.backprop_step(mode)
    cols = st.columns(3)  # three small grids: each keeps ~190 px on a projector with the sidebar
    for col, values, title, extra in zip(
            cols, (r["map"], r["pooled"], r["d_pooled"]), ("bp_map", "bp_pooled", "bp_grad"),
            ({"blocks": 2, "signed": False}, {"signed": False}, {"signed": True}), strict=True):
        fig = backprop_figs.grid(values, t(f"lesson.{title}"), hover=t("common.value"), **extra)
        display.chart(col, fig, key=f"lesson_{title}", config=NO_BAR)
    st.markdown(t("lesson.bp_question"))
    answer = number_answer("backprop")
    verdict("backprop", (mode, answer), guided.check_number(answer, r["nonzero"]),
            t("lesson.bp_right", n=r["nonzero"]), t("lesson.bp_hint"))


TITLES = {"input": "input_title", "conv": "conv_title", "activation": "act_title",
          "pooling": "pool_title", "fc": "fc_title", "training": "train_title",
          "backprop": "bp_title"}
RENDER: dict[str, Callable[[], None]] = {
    "input": step_input, "conv": step_conv, "activation": step_activation,
    "pooling": step_pooling, "fc": step_fc, "training": step_training,
    "backprop": step_backprop,
}
