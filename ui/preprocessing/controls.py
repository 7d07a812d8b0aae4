"""The preprocessing lesson's controls: translated segmented controls and sliders bound to the
URL, and the point-cloud story's settings (a plain dict, as every page keeps its settings)."""

from __future__ import annotations

import streamlit as st

from ui.lang import t
from ui.widgets import labeller

N_POINTS = [2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
N_PIXELS = [500, 1000, 2000, 5000]
PAIRS = {"RG": (0, 1), "RB": (0, 2), "GB": (1, 2)}


def choice(where, name: str, options: list, key: str | None = None, fmt: str | None = None):
    """A translated segmented control, its value in the link."""
    return where.segmented_control(t(f"preprocessing.{name}"), options, default=options[0],
                                   required=True, key=key or f"prep_{name}", bind="query-params",
                                   format_func=labeller(f"preprocessing.{fmt or name}_"),
                                   help=t(f"preprocessing.{name}_help"))


def slider(where, name: str, lo, hi, value, step, help_key: str | None = None):
    return where.slider(t(f"preprocessing.{name}"), lo, hi, value, step, key=f"prep_{name}",
                        bind="query-params", help=t(f"preprocessing.{help_key or name}_help"))


def story_controls() -> dict:
    c1, c2 = st.columns([3, 2])
    s = {"source": choice(c1, "source", ["cloud", "image"]),
         "norm": choice(c2, "norm", ["minmax", "std"])}
    cols = st.columns(4)
    seed = {"label": t("preprocessing.seed"), "min_value": 0, "max_value": 9999, "value": 0,
            "key": "prep_seed", "help": t("preprocessing.seed_help"), "bind": "query-params"}
    if s["source"] == "image":
        s["pair"] = cols[0].selectbox(t("preprocessing.pair"), list(PAIRS), key="prep_pair",
                                      format_func=lambda k: f"{k[0]} – {k[1]}",
                                      bind="query-params", help=t("preprocessing.pair_help"))
        s["pixels"] = cols[1].select_slider(t("preprocessing.pixels"), N_PIXELS, value=2000,
            key="prep_pixels", bind="query-params", help=t("preprocessing.pixels_help"))
        s["seed"] = int(cols[2].number_input(**seed))
        return s
    s["mean_x"] = slider(cols[0], "mean_x", -5.0, 5.0, 2.0, 0.5, help_key="mean")
    s["mean_y"] = slider(cols[0], "mean_y", -5.0, 5.0, 1.0, 0.5, help_key="mean")
    s["spread_1"] = slider(cols[1], "spread_1", 0.0, 3.0, 1.5, 0.1, help_key="spread")
    s["spread_2"] = slider(cols[1], "spread_2", 0.0, 3.0, 0.5, 0.1, help_key="spread")
    s["shape"] = choice(cols[2], "shape", ["corr", "angle"])
    if s["shape"] == "corr":
        s["corr"] = slider(cols[2], "corr", -1.0, 1.0, 0.8, 0.05)
    else:
        s["angle"] = slider(cols[2], "angle", -90, 90, 30, 5)
    s["n"] = cols[3].select_slider(t("preprocessing.n"), N_POINTS, value=500, key="prep_n",
                                   bind="query-params", help=t("preprocessing.n_help"))
    s["seed"] = int(cols[3].number_input(**seed))
    return s
