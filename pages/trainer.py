"""Train a small CNN live: INPUT -> CONV -> activation -> POOL -> ... -> FC -> softmax.

Choose the data and the network, watch the curves grow while the engine's hand-written
backprop trains it on a background thread, race ReLU against sigmoid from identical weights,
then look inside the trained net and try it on your own picture.
"""

from __future__ import annotations

import streamlit as st

from cnnviz import models
from ui import lazy
from ui.errors import guard
from ui.lang import t
from ui.page import header, why
from ui.trainer.compare import compare_section, history_section
from ui.trainer.controls import (
    DEFAULTS,
    data_controls,
    network_controls,
    shape_table,
    too_big,
    training_controls,
)
from ui.trainer.draw import draw_section
from ui.trainer.inspect import (
    download_section,
    errors_section,
    example_section,
    kernels_section,
    model_for,
    pick_run,
    use_section,
)
from ui.trainer.live import collect, current_job, live_section, start_single

header("trainer")
collect()  # a run that ended while another page was open joins the history now

with st.container(key="tr_sec_data"):
    st.header(t("trainer.sec_data"))
    dataset = DEFAULTS["tr_data"]
    with guard():
        dataset = data_controls()

with st.container(key="tr_sec_net"):
    st.header(t("trainer.sec_net"))
    st.markdown(t("trainer.net_intro"))
    spec, problem = dict(models.DEFAULT_SPEC, dataset=dataset), None
    with guard():
        spec = network_controls(dataset)
        problem = shape_table(spec)
    why("trainer.why_net")

with st.container(key="tr_sec_train"):
    st.header(t("trainer.sec_train"))
    st.markdown(t("trainer.train_intro"))
    settings = {"optimizer": "momentum", "lr": 0.05, "batch_size": 32, "epochs": 10, "seed": 0,
                "slow": False}
    with guard():
        settings = training_controls()
        if problem is None and too_big(spec, settings):
            problem = "too_big"

    def start(paused: bool = False) -> None:
        start_single(spec, settings, paused)

    with guard():
        live_section("single", start, blocked=problem is not None)
    why("trainer.why_train")

with st.container(key="tr_sec_compare"):
    st.header(t("trainer.sec_compare"))
    st.markdown(t("trainer.compare_intro"))
    job = current_job()
    if job is not None and not job.finished and job.kind == "compare":
        st.session_state["tr_cmp_open"] = True  # a race in progress stays in view
    if lazy.shown("tr_cmp_open", ("tr_cmp_", "tr_overlay", "tr_clear")):
        with guard():
            compare_section(spec, settings, blocked=problem is not None)
        st.subheader(t("trainer.sec_history"))
        with guard():
            history_section()
    why("trainer.why_compare")

with st.container(key="tr_sec_inspect"):
    st.header(t("trainer.sec_inspect"))
    run, model = None, None
    with guard():
        run = pick_run()
        model = model_for(run) if run is not None else None
    if model is not None:
        for title, part in (("sec_kernels", kernels_section), ("sec_example", example_section),
                            ("sec_errors", errors_section)):
            st.subheader(t(f"trainer.{title}"))
            with guard():
                part(run, model)
        why("trainer.why_inspect")

if model is not None:
    with st.container(key="tr_sec_use"):
        st.header(t("trainer.sec_use"))
        with guard():
            use_section(run, model)
        st.subheader(t("trainer.sec_download"))
        with guard():
            download_section(run, model)

with st.container(key="tr_sec_draw"):
    st.header(t("draw.sec_title"))
    with guard():
        draw_section(settings)
