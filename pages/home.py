"""Overview: the pipeline INPUT -> CONV -> RELU -> POOL -> FC, and why convolution shares
weights."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import images
from cnnviz.lessons import overview
from cnnviz.viz import figures, style
from ui import cache, display, image_input, lazy
from ui.errors import guard
from ui.lang import t
from ui.page import header
from ui.widgets import labeller

STAGES = [
    ("input", "pages/preprocessing.py", "home.stage_input"),
    ("conv", "pages/convolution.py", "home.stage_conv"),
    ("relu", "pages/activation.py", "home.stage_relu"),
    ("pool", "pages/pooling.py", "home.stage_pool"),
    ("fc", "pages/trainer.py", "home.stage_fc"),
]


def pipeline_section() -> None:
    st.header(t("home.pipeline_title"))
    st.markdown(t("home.pipeline_intro"))
    gray = images.resize_to_working(image_input.working_image(gray=True), 96)
    maps = cache.shared(overview.pipeline, np.ascontiguousarray(gray, dtype=np.float32))
    h, w = maps["input"].shape
    ph, pw = maps["pool"].shape
    stages = [
        ("input", maps["input"], f"{t('home.tile_input')}<br>{h}×{w}×1", False),
        ("conv", maps["conv"], f"{t('home.tile_conv')}<br>{h}×{w}×1", True),
        ("relu", maps["relu"], f"{t('home.tile_relu')}<br>{h}×{w}×1", False),
        ("pool", maps["pool"], f"{t('home.tile_pool')}<br>{ph}×{pw}×1", False),
    ]
    # one figure per stage in a row that wraps: on a phone the stages stack, each still readable;
    # pictures with a 32-point hover grid, so the first thing a class sees opens at once
    for col, (name, arr, title, signed) in zip(display.panels("home_pipe", 4, "s"), stages,
                                               strict=True):
        display.chart(col, cache.figure(figures.map_figure, arr, title=title, signed=signed,
                                       colorbar=False, hover_label=t("common.value"),
                                       height=220, exact_cells=0, hover_side=32),
                      key=f"home_pipeline_{name}")
    for col, (name, page, key) in zip(display.panels("home_stages", len(STAGES), "s"), STAGES,
                                      strict=True):
        with col.container(border=True):
            st.markdown(f"**{t(f'home.tile_{name}')}**")
            st.caption(t(key, n=ph * pw))
            try:
                st.page_link(page, label=t(f"{key}_link"), icon=":material/arrow_forward:")
            except Exception:  # the lesson is not registered yet in this build
                st.caption(t("home.coming_soon"))


def calculator_controls() -> dict[str, int]:
    c1, c2, c3 = st.columns(3)
    return {
        "width": c1.number_input(t("home.calc_width"), 1, 4096, 32, key="home_w",
                                 bind="query-params", help=t("home.calc_width_help")),
        "height": c2.number_input(t("home.calc_height"), 1, 4096, 32, key="home_h",
                                  bind="query-params", help=t("home.calc_height_help")),
        "channels": c3.number_input(t("home.calc_channels"), 1, 16, 3, key="home_c",
                                    bind="query-params", help=t("home.calc_channels_help")),
        "units": c1.number_input(t("home.calc_units"), 1, 100_000, 100, key="home_units",
                                 bind="query-params", help=t("home.calc_units_help")),
        "kernels": c2.number_input(t("home.calc_kernels"), 1, 1024, 6, key="home_k",
                                   bind="query-params", help=t("home.calc_kernels_help")),
        "ksize": c3.number_input(t("home.calc_ksize"), 1, 15, 5, key="home_f", bind="query-params",
                                 help=t("home.calc_ksize_help")),
    }


#: The calculator's widget keys (matched exactly: ``home_c`` is a prefix of ``home_copies``).
CALC_KEYS = ("home_w", "home_h", "home_c", "home_units", "home_k", "home_f")


@st.fragment
def calculator_section() -> None:
    """Drawn when a student opens it (or a link or preset carries one of its sizes): it is
    below the first view, and its chart, six inputs and numbers were 0.05-0.2 s of the home
    page's opening (README, "Opening a lesson")."""
    lazy.section(t("home.calc_title"), t("home.calc_intro"), "home_calc_open", calculator_part,
                 why_key="home.calc_why", keys=CALC_KEYS)


def calculator_part() -> None:
    left, right = st.columns([1, 1])
    with left:
        s = calculator_controls()
    with guard():
        fc = overview.fc_params(s["height"], s["width"], s["channels"], s["units"])
        conv = overview.conv_params(s["channels"], s["kernels"], s["ksize"])
        with right:
            display.chart(st, cache.figure(
                figures.counts_figure, (t("home.calc_fc"), t("home.calc_conv")),
                (fc.total, conv.total), axis_title=t("home.calc_axis"),
                title=t("home.calc_chart_title")), key="home_counts")
        m1, m2, m3 = st.columns(3)
        m1.metric(t("home.calc_fc"), f"{fc.total:,}")
        m2.metric(t("home.calc_conv"), f"{conv.total:,}")
        m3.metric(t("home.calc_ratio"), f"{fc.total / conv.total:,.0f}×")
        st.markdown(t("home.calc_fc_formula", h=s["height"], w=s["width"], c=s["channels"],
                      n=s["units"], weights=f"{fc.weights:,}", total=f"{fc.total:,}"))
        st.markdown(t("home.calc_conv_formula", f=s["ksize"], c=s["channels"], k=s["kernels"],
                      weights=f"{conv.weights:,}", total=f"{conv.total:,}"))


@st.fragment
def sharing_section() -> None:
    lazy.section(t("home.share_title"), t("home.share_intro"), "home_share_open", sharing_part,
                 ("home_pattern", "home_copies", "home_seed", "home_noise"), "home.share_why")


def sharing_part() -> None:
    # the pattern's name needs the widest box ("turn (横折: across, then down)"); the row wraps
    c1, c2, c3, c4 = display.panels("home_share_ctl", [2, 1, 1, 1], "m")
    pattern = c1.selectbox(t("home.share_pattern"), list(overview.PATTERNS), key="home_pattern",
                           format_func=labeller("home.pattern_"),
                           bind="query-params", help=t("home.share_pattern_help"))
    copies = c2.slider(t("home.share_copies"), 1, 6, 3, key="home_copies", bind="query-params",
                       help=t("home.share_copies_help"))
    seed = c3.number_input(t("home.share_seed"), 0, 9999, 0, key="home_seed", bind="query-params",
                           help=t("home.share_seed_help"))
    noise = c4.slider(t("home.share_noise"), 0.0, 0.5, 0.0, 0.05, key="home_noise",
                      bind="query-params", help=t("home.share_noise_help"))
    with guard():
        demo = cache.shared(overview.sharing_scene, pattern, copies, seed=int(seed), noise=noise)
        a, b, c = display.panels("home_share", [5, 2, 5], "s")
        display.chart(a, cache.figure(figures.map_figure, demo.scene, title=t("home.share_scene"),
                                     signed=None, hover_label=t("common.value"), height=360),
                       key="home_scene")
        display.chart(b, cache.figure(figures.grid_figure, overview.PATTERNS[pattern],
                                     title=t("home.share_kernel"), signed=False, cell_px=40),
                       key="home_kernel")
        display.chart(c, cache.figure(figures.map_figure, demo.fmap, title=t("home.share_map"),
                                     hover_label=t("common.value"), height=360),
                       key="home_fmap")
        st.caption(t("home.share_result", n=len(demo.positions), peak=style.fmt(demo.peak),
                     hits=demo.hits))


header("home")
pipeline_section()
calculator_section()
sharing_section()
