"""Input preprocessing: mean-centering, normalization, PCA and whitening as plots you can drive.

Three fragments (the point-cloud story, the picture, ZCA on patches): moving a slider reruns only
its own section, which keeps reruns light for a whole class on one server.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz.lessons import preprocessing as prep_math
from cnnviz.viz import figures, style
from cnnviz.viz import preprocessing as prep_figs
from ui import cache, display, lazy
from ui.errors import guard
from ui.lang import current, t
from ui.page import header
from ui.preprocessing.controls import PAIRS, choice, story_controls
from ui.preprocessing.picture import small_gray, small_image

EPS_OPTIONS = [float(10.0**e) for e in np.arange(-6.0, 0.01, 0.5)]
N_SHOWN = 10  # patches shown side by side
NO_BAR = {"displayModeBar": False}


# ---- small UI helpers ------------------------------------------------------------------------
def explain(name: str) -> None:
    """The longer text, folded; each with its own question as the label."""
    with st.expander(t(f"preprocessing.{name}_label")):
        st.markdown(t(f"preprocessing.{name}"))


def chart(where, fig, key: str) -> None:
    display.chart(where, fig, key=key, config=NO_BAR)


# ---- 1. the story on point clouds ------------------------------------------------------------
def story_messages(story: prep_math.Story, labels: tuple[str, str], gray: bool) -> None:
    if story.degenerate:
        st.warning(t("preprocessing.msg_all_equal"), icon="⚠️")
        return
    if story.rank < story.dims:
        st.warning(t("preprocessing.msg_gray" if gray else "preprocessing.msg_line"), icon="⚠️")
    for k in np.flatnonzero(story.constant):
        st.info(t("preprocessing.msg_constant", axis=labels[k]), icon="ℹ️")


def story_panels(story: prep_math.Story, labels: tuple[str, str], colors, box: bool) -> None:
    """The five stages: one figure (three panels, then two), each stage's covariance and mean
    printed under its panel; on a phone, on request, a figure per stage with its numbers below
    (five panels side by side would be too small there, and a second figure drawn hidden on
    every screen would cost what one figure saves: see ``prep_figs.story_figure``)."""
    pcs = (t("preprocessing.pc", k=1), t("preprocessing.pc", k=2))
    groups = [("original", "centered"), ("normalized", "pca"), ("whitened",)]
    ranges = prep_figs.story_ranges(story.points, story.covs, story.means, groups)
    stages = {name: {
        "points": story.points[name], "cov": story.covs[name], "mean": story.means[name],
        "title": t(f"preprocessing.stage_{name}"), "x_range": ranges[name][0],
        "y_range": ranges[name][1], "box": box and name == "normalized",
        "axis_labels": pcs if name in ("pca", "whitened") else labels,
    } for name in prep_math.STAGES}
    wide, narrow = display.by_width("prep_story", 560)
    notes = [[*prep_figs.cov_text(story.covs[name]), mean_text(story, name)] for name in stages]
    chart(wide, cache.figure(prep_figs.story_figure, list(stages.values()), colors=colors,
                             hover_point=t("preprocessing.point"), notes=notes), "prep_story")
    if not display.narrow_too(narrow, "prep_story"):
        return
    # the five stages wrap onto new lines, each still readable on a phone
    with narrow:
        for col, (name, stage) in zip(display.panels("prep_story", len(stages), "m"),
                                      stages.items(), strict=True):
            chart(col, cache.figure(prep_figs.stage_scatter, colors=colors,
                                    hover_point=t("preprocessing.point"), **stage),
                  f"prep_plot_{name}")
            stage_numbers(col, story, name)


def mean_text(story: prep_math.Story, name: str) -> str:
    mx, my = (prep_figs.fmt_mean(v) for v in story.means[name])
    return t("preprocessing.mean_caption", mx=mx, my=my)


def stage_numbers(col, story: prep_math.Story, name: str) -> None:
    """A stage's covariance matrix and mean, below its own figure (a phone's layout)."""
    col.latex(prep_figs.cov_latex(story.covs[name], name=False))
    col.caption(mean_text(story, name))


@st.fragment
def story_section() -> None:
    st.header(t("preprocessing.story_title"))
    st.markdown(t("preprocessing.story_intro"))
    s = story_controls()
    story = rgb = None
    with guard():
        if s["source"] == "image":
            rgb, story, story3 = cache.shared(prep_math.pixel_story, small_image(), s["pixels"],
                                              s["seed"], PAIRS[s["pair"]], s["norm"])
            labels = tuple(t(f"preprocessing.ch_{c}") for c in s["pair"])
            colors = prep_figs.rgb_strings(rgb)
            gray = bool(np.ptp(rgb, axis=1).max() < 1e-6)  # R = G = B in every pixel
        else:
            story = cache.shared(prep_math.cloud_story, s["n"], (s["mean_x"], s["mean_y"]),
                                 (s["spread_1"], s["spread_2"]), s["shape"], s.get("corr", 0.0),
                                 s.get("angle", 0), s["seed"], s["norm"])
            labels, gray = ("x", "y"), False
            colors = prep_figs.angle_colors(story.points["original"])
        story_messages(story, labels, gray)
        story_panels(story, labels, colors, s["norm"] == "minmax")
        code, params = prep_math.whitened_claim(story)
        claim = "" if code == "none" else t(f"preprocessing.white_{code}",
                                            eps=style.fmt(prep_math.STORY_EPS), **params)
        claim = (" " if claim and current() == "en" else "") + claim
        st.caption(t("preprocessing.story_share", share=f"{story.explained_ratio[0]:.0%}") + claim)
    explain("why_pca")
    if rgb is not None:
        with guard():
            rgb3d_section(rgb, story3)
    if story is not None:
        descent_section(story)


def rgb3d_section(rgb: np.ndarray, story3: prep_math.Story) -> None:
    st.subheader(t("preprocessing.rgb3d_title"))
    stage = choice(st, "rgb3d_stage", list(prep_math.STAGES), key="prep_stage3d", fmt="stage")
    pts = story3.points[stage]
    names = [t(f"preprocessing.ch_{c}") for c in "RGB"]
    if stage in ("pca", "whitened"):
        names = [t("preprocessing.pc", k=k) for k in (1, 2, 3)]
    left, right = st.columns([2, 1])
    chart(left, cache.figure(prep_figs.cloud_3d, pts, prep_figs.rgb_strings(rgb),
                             prep_math.axes_segments(pts),
                              title=t(f"preprocessing.stage_{stage}"), axis_labels=tuple(names),
                              hover_point=t("preprocessing.point"), cube=stage == "original"),
          "prep_rgb3d")
    right.latex(prep_figs.cov_latex(story3.covs[stage]))
    right.caption(t("preprocessing.rgb3d_note", n=len(rgb)))


def descent_section(story: prep_math.Story) -> None:
    st.subheader(t("preprocessing.descent_title"))
    st.markdown(t("preprocessing.descent_intro"))
    if lazy.shown("prep_descent_open"):
        with guard():
            descent_part(story)
    explain("why_centering")


def descent_part(story: prep_math.Story) -> None:
    paths = {k: prep_math.descent(story.points[k]) for k in ("original", "normalized", "whitened")}

    def cond(d: prep_math.DescentPath) -> str:
        return "∞" if not np.isfinite(d.condition) else style.fmt(d.condition)

    def steps(d: prep_math.DescentPath) -> str:
        return t("preprocessing.descent_never") if d.steps_to_tol is None else str(d.steps_to_tol)

    panels = [(d, t("preprocessing.descent_panel", name=t(f"preprocessing.stage_{k}"),
                     k=cond(d))) for k, d in paths.items()]
    # one figure per panel, in a row that wraps (their titles ran into each other on a phone)
    for col, name, panel in zip(display.panels("prep_descent", 3, "m"), paths, panels,
                                strict=True):
        chart(col, cache.figure(prep_figs.descent_figure, [panel], axis_labels=("w₁", "w₂"),
                                start_label=t("preprocessing.descent_start"),
                                best_label=t("preprocessing.descent_best"),
                                step_label=t("preprocessing.descent_step")),
              "prep_descent" if name == "original" else f"prep_descent_{name}")
    st.caption(t("preprocessing.descent_steps", a=steps(paths["original"]),
                 b=steps(paths["normalized"]), c=steps(paths["whitened"])))


# ---- 2. the picture --------------------------------------------------------------------------
@st.fragment
def image_section() -> None:
    lazy.section(t("preprocessing.image_title"), t("preprocessing.image_intro"),
                 "prep_img_open", image_part, ("prep_img_",))


def image_part() -> None:
    norm = choice(st, "norm", ["minmax", "std"], key="prep_img_norm")
    with guard():
        stages, hists = cache.shared(prep_math.image_views, small_image(), norm)
        if stages.ranges["centered"] == (0.0, 0.0):
            st.warning(t("preprocessing.msg_flat_image"), icon="⚠️")
        for col, name in zip(st.columns(3), hists, strict=True):
            arr = stages.stage(name)
            shown = arr if name == "original" else prep_math.display_signed(arr)
            chart(col, cache.figure(figures.image_figure, shown,
                                     title=t(f"preprocessing.img_{name}"), height=280),
                  f"prep_img_{name}")
            lo, hi = stages.ranges[name]
            col.caption(t("common.values_range", lo=style.fmt(lo), hi=style.fmt(hi)))
        m = [style.fmt(v) for v in stages.mean]
        st.caption(t("preprocessing.img_means", r=m[0], g=m[1], b=m[2],
                     norm=t(f"preprocessing.norm_{norm}")))
        chart(st, cache.figure(prep_figs.histograms_figure,
                                [(*hists[k], t(f"preprocessing.img_{k}")) for k in hists],
                                ["R", "G", "B"], x_label=t("common.value"),
                                y_label=t("preprocessing.hist_share")), "prep_hists")


# ---- 3. ZCA whitening of patches -------------------------------------------------------------
@st.fragment
def zca_section() -> None:
    lazy.section(t("preprocessing.zca_title"), t("preprocessing.zca_intro"), "prep_zca_open",
                 zca_part, ("prep_zca_", "prep_eps"))
    explain("why_whitening")


def zca_part() -> None:
    c1, c2 = st.columns([2, 3])
    source = choice(c1, "zca_source", ["picture", "digits"])
    eps = c2.select_slider(t("preprocessing.eps"), EPS_OPTIONS, EPS_OPTIONS[8], style.fmt,
                           key="prep_eps", bind="query-params", help=t("preprocessing.eps_help"))
    with guard():
        gray = small_gray() if source == "picture" else None
        z = cache.shared(prep_math.zca, source, gray, float(eps))
        if z.no_variance:
            st.warning(t("preprocessing.msg_zca_flat"), icon="⚠️")
        idx = np.linspace(0, len(z.patches) - 1, N_SHOWN).astype(int)
        chart(st, cache.figure(prep_figs.patches_figure, z.patches[idx], z.whitened[idx],
                                titles=(t("preprocessing.zca_raw"),
                                        t("preprocessing.zca_white")),
                                hover_label=t("common.value")), "prep_patches")
        st.caption(t("preprocessing.zca_range", lo=style.fmt(z.whitened.min()),
                     hi=style.fmt(z.whitened.max())))
        # the filter's printed weights need ~50 px a cell: below that its column wraps
        left, right = display.panels("prep_zca", [2, 3], "l")
        chart(left, cache.figure(prep_figs.filter_figure, z.filter,
                                  title=t("preprocessing.zca_filter"),
                                  hover_label=t("common.value")), "prep_filter")
        if z.picture is not None:
            lim = float(np.percentile(np.abs(z.picture), 99.5)) or None
            chart(right, cache.figure(figures.map_figure, z.picture,
                                       title=t("preprocessing.zca_picture"), signed=True,
                                       limit=lim, height=400, hover_label=t("common.value")),
                  "prep_zca_picture")
        if not z.no_variance:
            spectrum(z, right if z.picture is None else st)


def spectrum(z: prep_math.ZCAResult, where) -> None:
    live = z.gain > 0
    eps = style.fmt(z.eps)
    chart(where, cache.figure(
        prep_figs.spectrum_figure,
        z.eigenvalues, z.gain, z.eps, title=t("preprocessing.spec_title"),
        x_label=t("preprocessing.spec_x"), var_label=t("preprocessing.spec_var"),
        gain_label=t("preprocessing.spec_gain"), eps_label=f"ε = {eps}"), "prep_spectrum")
    weak = np.flatnonzero(live)[-1]
    where.caption(t("preprocessing.spec_readout", eps=eps,
                    lmin=style.fmt(z.eigenvalues[weak]), gmax=style.fmt(z.gain[weak]),
                    lmax=style.fmt(z.eigenvalues[0]), gmin=style.fmt(z.gain[0])))
    if (~live).any():
        where.caption(t("preprocessing.spec_dead", n=int((~live).sum())))


header("preprocessing")
story_section()
image_section()
zca_section()
