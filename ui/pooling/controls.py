"""The pooling page's controls (pages/pooling.py): each group returns plain values.

The map is an example, editable cell by cell (:func:`ui.widgets.matrix_editor`); numbers live in
session state (so an example can set them) and in the link.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.lessons import pooling as pool_math
from ui import share
from ui.lang import t
from ui.widgets import labeller, matrix_editor

MODES = ("max", "avg")

#: The window / stride / padding each example opens with (the 横折 map: one 3x3 window).
EXAMPLE_DEFAULTS = {"article": (2, 2, 0), "turn": (3, 1, 0), "bump": (3, 1, 1),
                    "random": (2, 2, 0)}


#: (label key, smallest, largest, fallback) of every number the page's widgets hold.
RANGES = {"pool_window": ("window", 1, 8, 2), "pool_stride": ("stride", 1, 8, 2),
          "pool_padding": ("padding", 0, 4, 0), "pool_fm_window": ("window", 2, 8, 2),
          "pool_fm_stride": ("stride", 1, 8, 2)}


def number(col, key: str, help_key: str) -> int:
    """A whole-number input whose value lives in session state (so an example can set it) and
    in the link; a value out of range gets one sentence and the fallback."""
    name, lo, hi, fallback = RANGES[key]
    value = st.session_state.setdefault(key, fallback)
    if not pool_math.in_range(value, lo, hi):
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
                           format_func=labeller("pooling.example_"), bind="query-params",
                           on_change=_on_example, help=t("pooling.example_help"))
    window = number(c2, "pool_window", "window_help")
    stride = number(c3, "pool_stride", "stride_help")
    padding = number(c4, "pool_padding", "padding_help")
    base = share.grid_base("pool_grid", example, examples[example], max_rows=12, max_cols=12)
    with st.expander(t("pooling.edit")):
        st.caption(t("pooling.edit_help"))
        grid, bad = matrix_editor(f"pool_grid_{example}", base, help=t("pooling.cell_help"),
                                  limit=np.inf)
    valid_key = f"_pool_valid_{example}"
    if bad:  # the charts keep the last complete map
        st.warning(t("pooling.err_cells"), icon="⚠️")
        grid = np.asarray(st.session_state.get(valid_key, base))
    else:
        st.session_state[valid_key] = grid.tolist()
    return {"example": example, "window": window, "stride": stride, "padding": padding,
            "grid": share.grid_to_link("pool_grid", grid, examples[example]).tolist()}


def feature_controls() -> dict:
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    kernels = list(pool_math.KERNELS)
    names = c1.multiselect(t("pooling.fm_kernels"), kernels, default=kernels,
                           format_func=labeller("pooling.kernel_"), key="pool_fm_kernels",
                           bind="query-params", help=t("pooling.fm_kernels_help"))
    window = number(c2, "pool_fm_window", "fm_window_help")
    stride = number(c3, "pool_fm_stride", "stride_help")
    mode = c4.radio(t("pooling.fm_mode"), MODES, key="pool_fm_mode", bind="query-params",
                    format_func=labeller("pooling.", "_pooling"), help=t("pooling.fm_mode_help"))
    relu = c4.toggle(t("pooling.fm_relu"), True, key="pool_fm_relu", bind="query-params",
                     help=t("pooling.fm_relu_help"))
    return {"kernels": list(names), "window": window, "stride": stride, "mode": mode,
            "relu": bool(relu)}
