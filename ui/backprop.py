"""Streamlit pieces of the backprop lesson (pages/backprop.py): the steps taken this session,
small grids per kernel in columns that stack on a phone, option labels in the user's language."""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n
from cnnviz.lessons import backprop as B
from cnnviz.viz import backprop as V
from ui.lang import current, t

HISTORY = "_bp_history"  # {"setup": the settings the steps belong to, "lrs": [lr per step]}
NO_BAR = {"displayModeBar": False}


def labeller(prefix: str):
    lang = current()  # bound now: Streamlit may call format_func outside the script run
    return lambda key: i18n.t(f"backprop.{prefix}{key}", lang)


def weight_name(name: str, lang: str) -> str:
    k, r, c = B.parse_weight(name)
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


def history(setup: B.Setup) -> tuple[float, ...]:
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
    (col or st).plotly_chart(fig, key=key, config=NO_BAR)


def per_kernel(arrays, title_key: str, key: str, *, signed=None, marks=None, cols=None,
               first: int = 0, **kw) -> None:
    """One small grid per kernel, side by side (columns stack on a phone)."""
    cols = cols or st.columns(2)
    for i, (col, values) in enumerate(zip(cols, arrays, strict=False)):
        show(V.grid(values, t(title_key, k=first + i + 1), signed=signed, hover=t("common.value"),
                    marks=None if marks is None else marks[i], **kw), f"{key}_{first + i}", col)


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
