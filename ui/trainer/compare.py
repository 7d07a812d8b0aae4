"""Comparing runs: the run history, overlaying chosen runs, and the one-click activation race
(ReLU vs sigmoid, optionally tanh and Leaky ReLU) from the same seed and the same weights."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from cnnviz import models
from cnnviz.viz import style
from ui.lang import current, t
from ui.trainer.controls import act_name, keep, save
from ui.trainer.live import (
    OVERLAY_NEXT,
    curve_figures,
    live_section,
    run_label,
    runs,
    start_compare,
)
from ui.widgets import labeller


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _history_table(history: list[dict[str, Any]]) -> None:
    rows = []
    for r in reversed(history):
        tr, f = r["train"], r["final"]
        rows.append({
            "#": r["n"],
            t("trainer.col_data"): t(f"trainer.data_{r['spec']['dataset']}"),
            t("trainer.activation"): act_name(r["spec"]["activation"]),
            t("trainer.col_net"): " · ".join(
                f"{b['filters']}@{b['kernel']}×{b['kernel']}" for b in r["spec"]["blocks"]),
            t("trainer.optimizer"): t(f"trainer.opt_{tr['optimizer']}"),
            t("trainer.lr"): style.fmt(tr["lr"]),
            t("trainer.batch"): tr["batch_size"],
            t("trainer.epochs"): tr["epochs"],
            t("trainer.seed"): tr["seed"],
            t("trainer.col_status"): t(f"trainer.status_{r['status']}"),
            t("trainer.col_loss"): "–" if f["loss"] is None else style.fmt(f["loss"]),
            t("trainer.m_train"): _pct(f["train_acc"]),
            t("trainer.m_test"): _pct(f["test_acc"]),
            t("trainer.col_epoch95"): "–" if f["epoch95"] is None else style.fmt(f["epoch95"]),
            t("trainer.m_time95"): "–" if f["time95"] is None else style.fmt(f["time95"]),
        })  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 height=min(36 * (len(rows) + 1) + 4, 300))


def history_section() -> None:
    """The table of this student's runs and an overlay of any chosen ones."""
    history = runs()
    if not history:
        st.info(t("trainer.history_empty"))
        return
    _history_table(history)
    ids = [r["n"] for r in history]
    by_id = {r["n"]: r for r in history}
    pending = st.session_state.pop(OVERLAY_NEXT, None)
    if pending:
        st.session_state["tr_overlay"] = [i for i in pending if i in by_id]
    keep("tr_overlay", ids[-2:])
    st.session_state["tr_overlay"] = [i for i in st.session_state["tr_overlay"] if i in by_id]
    c1, c2 = st.columns([5, 1], vertical_alignment="bottom")
    lang = current()
    chosen = c1.multiselect(t("trainer.overlay"), ids, key="tr_overlay",
                            format_func=lambda n: run_label(by_id[n], lang),
                            help=t("trainer.overlay_help"))
    save("tr_overlay", chosen)
    if c2.button(t("trainer.clear"), key="tr_clear", help=t("trainer.clear_help"),
                 icon=":material/delete:"):
        history.clear()
        st.session_state["_tr_saved"].pop("tr_overlay", None)
        st.session_state.pop("tr_overlay", None)
        st.rerun()
    if not chosen:
        st.caption(t("trainer.overlay_none"))
        return
    items = [{"activation": by_id[n]["spec"]["activation"], "curves": by_id[n]["curves"]}
             for n in chosen]
    names = [f"#{n} {act_name(by_id[n]['spec']['activation'])}" for n in chosen]
    curve_figures(items, names, key="tr_overlay_fig", done_key=("overlay", *chosen))


def compare_section(spec: dict[str, Any], settings: dict[str, Any], blocked: bool) -> None:
    """Pick activations, then race them from identical initial weights."""
    keep("tr_cmp_acts", ["relu", "sigmoid"])
    acts = st.multiselect(t("trainer.cmp_acts"), list(models.ACTIVATIONS), ["relu", "sigmoid"],
                          key="tr_cmp_acts", bind="query-params",
                          format_func=labeller("trainer.act_"), help=t("trainer.cmp_acts_help"))
    save("tr_cmp_acts", acts)
    st.caption(t("trainer.cmp_same_weights", seed=settings["seed"],
                 init=t(f"trainer.init_{models.COMPARE_INIT}")))
    few = len(acts) < 2
    if few:
        st.caption(t("trainer.cmp_pick_two"))

    def start(paused: bool = False) -> None:
        start_compare(spec, settings, list(acts), paused)

    live_section("compare", start, blocked or few)
