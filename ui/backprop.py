"""Streamlit pieces of the backprop lesson (pages/backprop.py): its controls, the steps taken this
session, small grids per kernel in columns that stack on a phone."""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n
from cnnviz.lessons import backprop as bp_math
from cnnviz.viz import backprop as bp_figs
from ui import display
from ui.lang import current, t
from ui.widgets import labeller

HISTORY = "_bp_history"  # {"setup": the settings the steps belong to, "lrs": [lr per step]}
NO_BAR = {"displayModeBar": False}


def weight_name(name: str, lang: str) -> str:
    k, r, c = bp_math.parse_weight(name)
    return i18n.t("backprop.weight_name", lang, k=k + 1, r=r, c=c)


def redraw_selectboxes_after_language_switch() -> None:
    """A selectbox keeps its old label when only its format_func's text changes (streamlit
    #13788); assigning the values again makes Streamlit redraw them in the new language."""
    lang, seen = current(), st.session_state.get("_bp_lang")
    if seen is not None and seen != lang:
        for key in ("bp_example", "bp_weight"):
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
    st.session_state["_bp_lang"] = lang


def controls() -> bp_math.Setup:
    """The stroke, seed, number of kernels and pooling (all in the link)."""
    fresh = bp_math.Setup()
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    example = c1.selectbox(t("backprop.example"), list(bp_math.EXAMPLES),
                           index=fresh.example, key="bp_example",
                           format_func=labeller("backprop.class_"), bind="query-params",
                           help=t("backprop.example_help"))
    seed = c2.number_input(t("backprop.seed"), 0, bp_math.MAX_SEED, fresh.seed,
                           key="bp_seed", bind="query-params", help=t("backprop.seed_help"))
    kernels = c3.radio(t("backprop.kernels"), [1, 2], index=fresh.kernels - 1, key="bp_kernels",
                       horizontal=True, bind="query-params", help=t("backprop.kernels_help"))
    pool = c4.radio(t("backprop.pool"), list(bp_math.POOLS), key="bp_pool",
                    horizontal=True, format_func=labeller("backprop.pool_"),
                    bind="query-params", help=t("backprop.pool_help"))
    return bp_math.Setup(bp_math.EXAMPLES.index(example), int(seed), int(kernels),
                               pool)


def history(setup: bp_math.Setup) -> tuple[float, ...]:
    """The learning rates of the steps taken on these settings (new settings start over)."""
    h = st.session_state.setdefault(HISTORY, {"setup": setup, "lrs": []})
    if h["setup"] != setup:
        h.update(setup=setup, lrs=[])
    return tuple(h["lrs"])


def take_step(lr: float) -> None:
    st.session_state[HISTORY]["lrs"].append(float(lr))


def reset() -> None:
    st.session_state[HISTORY]["lrs"] = []


def show(fig, key: str, col=None) -> None:
    display.chart((col or st), fig, key=key, config=NO_BAR)


def per_kernel(arrays, title_key: str, key: str, *, signed=None, marks=None, cols=None,
               first: int = 0, **kw) -> None:
    """One small grid per kernel, side by side (columns stack on a phone)."""
    cols = cols or st.columns(2)
    for i, (col, values) in enumerate(zip(cols, arrays, strict=False)):
        title = t(title_key, k=first + i + 1)
        show(bp_figs.grid(values, title, signed=signed, hover=t("common.value"),
                          marks=None if marks is None else marks[i], **kw), f"{key}_{first + i}",
             col)


def pairs(left, left_key: str, right, right_key: str, key: str, *, signed=(None, None),
          widths=(1, 1), marks=None, **kw) -> None:
    """Per kernel one row: a grid and what it became (never more than two grids across, so
    each stays readable on a projector with the sidebar open)."""
    for k in range(len(left)):
        a, b = st.columns(list(widths))
        per_kernel(left[k : k + 1], left_key, f"{key}_l", signed=signed[0], cols=[a], first=k,
                   marks=None if marks is None else marks[k : k + 1], **kw)
        per_kernel(right[k : k + 1], right_key, f"{key}_r", signed=signed[1], cols=[b],
                   first=k, **kw)


def columns(classes: list[str]) -> list[str]:
    """Class names as column labels: one word per line, so four fit a phone's width."""
    return [c.replace(" ", "<br>") for c in classes]
