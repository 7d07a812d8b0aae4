"""Trainer: "Draw and classify". The student draws a stroke (or a digit); each trained net of
the chosen run (both nets of an activation race, side by side) gives its four softmax
probabilities, its answer in words and the feature maps of every conv block.

Per session (ui.cache.session): the nets rebuilt from the runs' saved weights (the last
:data:`MAX_NETS`), the figures (the trainer's ``remember``); the canvas keeps its own.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from cnnviz import models
from cnnviz.lessons import drawing as D
from cnnviz.viz import trainer as tv
from ui import cache, display, drawing
from ui.lang import current, t
from ui.trainer.live import current_job, remember, run_label, runs, start_single

MAX_NETS = 4
#: Small charts beside the canvas: Plotly's tool bar would cover their titles.
NO_BAR = {"displayModeBar": False}


def _net(run: dict[str, Any]):
    """The run's net with its trained weights, rebuilt once (this user's last few)."""

    def build():
        model = models.build(run["spec"], 0)
        model.load_state_dict(run["state"])
        return model

    return cache.session("draw_nets", run["n"], build, size=MAX_NETS)


def _chosen(done: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run being inspected (the newest if none), with its race partners."""
    by_id = {r["n"]: r for r in done}
    run = by_id.get(st.session_state.get("tr_inspect"), done[-1])
    if run["group"] is None:
        return [run]
    return [r for r in done if r["group"] == run["group"]]


def _no_net(settings: dict[str, Any]) -> None:
    job = current_job()
    busy = job is not None and not job.finished
    st.info(t("draw.no_net_busy" if busy else "draw.no_net"), icon=":material/school:")
    if st.button(t("draw.train_default"), key="tr_draw_train", type="primary", disabled=busy,
                 help=t("draw.train_default_help"), icon=":material/play_arrow:"):
        start_single(dict(models.DEFAULT_SPEC), settings)
        st.rerun()  # the whole page, so the training section shows the live curves


@st.fragment
def draw_section(settings: dict[str, Any]) -> None:
    """The canvas, the preview and each net's answer (a fragment: a stroke reruns only this).

    ``settings``: the page's training settings, used by the one-click default network.
    """
    done = [r for r in runs() if r["state"] is not None]
    if not done:
        _no_net(settings)
        return
    chosen = _chosen(done)
    dataset = chosen[0]["spec"]["dataset"]
    lang = current()
    names = models.dataset(dataset).class_names(lang)
    st.markdown(t(f"draw.intro_{dataset}"))
    race = len(chosen) > 1
    # the first column holds the 240-px canvas even at tablet width (768 px)
    cols = st.columns([1, 1] if race else [1.3, 1, 1.3])
    with cols[0]:
        rgba = drawing.canvas("tr_draw", dataset)
        st.caption(t("draw.toolbar_note"))
    x, problem = drawing.prepare(rgba, dataset)
    if problem is not None:
        cols[1].info(problem, icon=":material/draw:")
        return
    mark = drawing.fingerprint(x)
    display.chart(cols[1], remember(("draw_prev", mark, lang), lambda: drawing.preview_figure(x)),
                         key="tr_draw_preview", config=NO_BAR)
    cols[1].caption(t(f"draw.preview_note_{dataset}", s=x.shape[-1]))
    if not race:
        with cols[2]:
            model = _verdict(chosen[0], x, mark, names, lang, label=False)
        _maps(chosen[0], model, x, mark, lang, width_px=900)
        return
    for col, run in zip(st.columns(len(chosen)), chosen, strict=True):
        with col:
            model = _verdict(run, x, mark, names, lang, label=True)
            _maps(run, model, x, mark, lang, width_px=700)


def _verdict(run, x, mark: str, names, lang: str, label: bool):
    """The net's answer in words and its softmax bars; returns the net."""
    model = _net(run)
    probs, top = remember(("draw_p", run["n"], mark), lambda: D.classify(model, x))
    if label:
        st.markdown(f"**{run_label(run, lang)}**")
    st.markdown(t("draw.verdict", guess=names[top], p=f"{100 * probs[top]:.1f}%",
                  act=t(f"trainer.act_{run['spec']['activation']}")))
    display.chart(st, remember(("draw_bars", run["n"], mark, lang), lambda: tv.bars_figure(
        probs, names, title=t("trainer.softmax_title"), y_title=t("trainer.axis_prob"),
        x_title=t("trainer.axis_class"), percent=True, highlight=top, height=280)),
        key=f"tr_draw_bars_{run['n']}", config=NO_BAR)  # fmt: skip
    return model


def _maps(run, model, x, mark: str, lang: str, width_px: int) -> None:
    """Every conv block's feature maps for the drawing."""
    maps = remember(("draw_maps", run["n"], mark), lambda: D.block_maps(model, x))
    for b, (name, arr) in enumerate(maps, start=1):
        title = t("draw.maps_title", b=b, name=name, c=arr.shape[0], h=arr.shape[1],
                  w=arr.shape[2])
        display.chart(st, remember(("draw_map", run["n"], mark, b, lang), lambda a=arr, s=title: (
            tv.mosaic_figure(a, title=s, cols=8, tile_label=t("trainer.channel"),
                             value_label=t("common.value"), text=False, width_px=width_px))),
            key=f"tr_draw_map_{run['n']}_{b}")  # fmt: skip
    st.caption(t("draw.maps_note"))
