"""The activation page's controls (pages/activation.py): each group returns plain values; and
the lesson's error codes turned into sentences."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from cnnviz.lessons import activation as act_math
from ui import display
from ui.errors import guard
from ui.lang import current, t
from ui.widgets import labeller

NAMES = list(act_math.NAMES)


def fn_name(name: str) -> str:
    return t(f"activation.fn_{name}")


def redraw_selectboxes_after_language_switch() -> None:
    """A selectbox keeps its old label when only its format_func's text changes (streamlit
    #13788); setting the values again makes Streamlit send and redraw them in the new language."""
    lang, seen = current(), st.session_state.get("_act_lang")
    if seen is not None and seen != lang:
        for key in ("act_kernel", "act_map_fn", "act_sat", "act_init"):
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
    st.session_state["_act_lang"] = lang


@contextmanager
def section() -> Iterator[None]:
    """guard(), plus this lesson's own sentences for settings it cannot use."""
    with guard():
        try:
            yield
        except act_math.LessonError as exc:
            st.warning(t(f"activation.err_{exc.code}"), icon="⚠️")


def curve_controls(fns: list[str]) -> dict:
    deriv = st.toggle(t("activation.deriv"), value=True, key="act_deriv", bind="query-params",
                      help=t("activation.deriv_help"))
    alpha = st.slider(t("activation.alpha"), 0.0, 0.5, 0.1, 0.01, key="act_alpha",
                      bind="query-params", help=t("activation.alpha_help"))
    lo, hi = st.slider(t("activation.xrange"), -20.0, 20.0, (-6.0, 6.0), 0.5, key="act_xrange",
                       bind="query-params", help=t("activation.xrange_help"))
    names, none = labeller("activation.fn_"), t("activation.sat_none")
    sat = st.selectbox(t("activation.sat_fn"), ["none", *NAMES], index=1, key="act_sat",
                       format_func=lambda n: none if n == "none" else names(n),
                       bind="query-params", help=t("activation.sat_fn_help"))
    eps = st.slider(t("activation.sat_eps"), 0.01, 0.2, 0.05, 0.01, key="act_eps",
                    bind="query-params", help=t("activation.sat_eps_help"))
    return {"fns": fns, "derivative": deriv, "alpha": alpha, "x_range": [lo, hi],
            "sat": sat, "eps": eps}


def map_controls() -> dict:
    c1, c2, c3 = display.panels("act_map_ctl", 3, "m")  # "Sobel x (vertical edges)" fits
    kernel = c1.selectbox(t("activation.kernel"), list(act_math.KERNELS), key="act_kernel",
                          bind="query-params", format_func=labeller("activation.kernel_"),
                          help=t("activation.kernel_help"))
    fn = c2.selectbox(t("activation.map_fn"), NAMES, index=NAMES.index("relu"), key="act_map_fn",
                      bind="query-params", format_func=labeller("activation.fn_"),
                      help=t("activation.map_fn_help"))
    bias = c3.slider(t("activation.bias"), -1.0, 1.0, 0.0, 0.05, key="act_bias",
                     bind="query-params", help=t("activation.bias_help"))
    return {"kernel": kernel, "fn": fn, "bias": bias}
