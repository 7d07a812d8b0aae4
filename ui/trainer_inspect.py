"""Look inside a trained net (kernels, feature maps, the flattened vector, the FC layer's
outputs and softmax, the confusion matrix, the mistakes) and use it (classify the shared
picture, download the weights and the PyTorch code).

Session keys: ``_tr_model`` ((run number, model) of the net being inspected, rebuilt from the
run's saved weights), ``_tr_eval`` ((run number, predictions, probabilities) on the test set),
``_tr_seen`` (newest run the chooser has seen).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from cnnviz import datasets, models, train
from cnnviz.viz import figures, style
from cnnviz.viz import trainer as tv
from ui import image_input
from ui.lang import current, t
from ui.trainer_controls import keep, save
from ui.trainer_live import run_label, runs

MODEL, EVAL, SEEN = "_tr_model", "_tr_eval", "_tr_seen"
MAX_MISTAKES = 16


def pick_run() -> dict[str, Any] | None:
    """Choose a trained run (the newest by default); None when there is none yet."""
    done = [r for r in runs() if r["state"] is not None]
    if not done:
        st.info(t("trainer.inspect_empty"))
        return None
    by_id = {r["n"]: r for r in done}
    ids = list(by_id)
    if st.session_state.get(SEEN) != ids[-1]:  # a new run arrived: show it
        st.session_state[SEEN] = ids[-1]
        st.session_state["tr_inspect"] = ids[-1]
    keep("tr_inspect", ids[-1])
    if st.session_state["tr_inspect"] not in by_id:
        st.session_state["tr_inspect"] = ids[-1]
    lang = current()
    n = st.selectbox(t("trainer.inspect_run"), ids, key="tr_inspect",
                     format_func=lambda i: run_label(by_id[i], lang),
                     help=t("trainer.inspect_run_help"))
    return by_id[save("tr_inspect", n)]


def model_for(run: dict[str, Any]):
    """The run's net with its trained weights (rebuilt once per chosen run)."""
    cached = st.session_state.get(MODEL)
    if cached is not None and cached[0] == run["n"]:
        return cached[1]
    model = models.build(run["spec"], 0)
    model.load_state_dict(run["state"])
    st.session_state[MODEL] = (run["n"], model)
    return model


def _evaluation(run: dict[str, Any], model) -> tuple[np.ndarray, np.ndarray]:
    cached = st.session_state.get(EVAL)
    if cached is not None and cached[0] == run["n"]:
        return cached[1], cached[2]
    ds = models.dataset(run["spec"]["dataset"])
    _, preds, probs = train.evaluate(model, ds.x_test, ds.y_test)
    models.drop_caches(model)
    st.session_state[EVAL] = (run["n"], preds, probs.astype(np.float32))
    return preds, probs


def kernels_section(model) -> None:
    w = model.layers[0].params["weight"]
    k = w.shape[-1]
    st.plotly_chart(tv.mosaic_figure(
        w[:, 0], title=t("trainer.kernels_title", n=w.shape[0], k=k), cols=8, signed=True,
        tile_label=t("trainer.kernel_word"), value_label=t("trainer.weight"),
        cell_px=34 if k <= 3 else 22), key="tr_kernels")  # fmt: skip
    st.caption(t("trainer.kernels_note"))


def example_section(run: dict[str, Any], model) -> None:
    """One test picture through every layer, up to the softmax."""
    ds = models.dataset(run["spec"]["dataset"])
    names = ds.class_names(current())
    preds, probs = _evaluation(run, model)
    keep("tr_example", 0)
    if st.session_state["tr_example"] >= len(ds.y_test):
        st.session_state["tr_example"] = 0
    i = int(st.number_input(t("trainer.example"), 0, len(ds.y_test) - 1, step=1,
                            key="tr_example", help=t("trainer.example_help")))
    save("tr_example", i)
    x = ds.x_test[i : i + 1]
    outs = models.trace(model, x)
    models.drop_caches(model)
    truth, guess = names[int(ds.y_test[i])], names[int(preds[i])]
    st.markdown(t("trainer.example_verdict", truth=truth, guess=guess,
                  p=f"{100 * probs[i, preds[i]]:.1f}%",
                  mark="✅" if preds[i] == ds.y_test[i] else "❌"))
    maps = [("input", x[0])] + [(n, o[0]) for n, o in outs if o.ndim == 4]
    flat = next(o[0] for n, o in outs if n.startswith("flatten"))
    logits = outs[-1][1][0]
    tabs = st.tabs([n for n, _ in maps] + [t("trainer.tab_flatten"), t("trainer.tab_fc")])
    for tab, (name, arr) in zip(tabs, maps, strict=False):
        with tab:
            st.plotly_chart(tv.mosaic_figure(
                arr, title=t("trainer.maps_title", name=name, c=arr.shape[0], h=arr.shape[1],
                             w=arr.shape[2]),
                cols=8, tile_label=t("trainer.channel"), value_label=t("common.value"),
                text=False, cell_px=14 if arr.shape[1] > 8 else 24), key=f"tr_map_{name}")
    last = maps[-1][1]
    with tabs[-2]:
        st.plotly_chart(tv.vector_figure(
            flat, title=t("trainer.flat_title", d=flat.size, c=last.shape[0], h=last.shape[1],
                          w=last.shape[2]),
            x_title=t("trainer.axis_index"), y_title=t("common.value"),
            boundaries=range(0, flat.size, last.shape[1] * last.shape[2])), key="tr_flat")
        st.caption(t("trainer.flat_note"))
    with tabs[-1]:
        c1, c2 = st.columns(2)
        top = int(np.argmax(logits))
        c1.plotly_chart(tv.bars_figure(logits, names, title=t("trainer.logits_title"),
                                       y_title=t("trainer.axis_logit"), highlight=top),
                        key="tr_logits")
        c2.plotly_chart(tv.bars_figure(models.softmax(logits), names,
                                       title=t("trainer.softmax_title"),
                                       y_title=t("trainer.axis_prob"), percent=True,
                                       highlight=top), key="tr_softmax")
        st.caption(t("trainer.fc_note", d=flat.size))


def errors_section(run: dict[str, Any], model) -> None:
    ds = models.dataset(run["spec"]["dataset"])
    names = ds.class_names(current())
    preds, _ = _evaluation(run, model)
    cm = train.confusion_matrix(ds.y_test, preds, len(names))
    c1, c2 = st.columns([2, 3])
    c1.plotly_chart(tv.confusion_figure(cm, names, title=t("trainer.cm_title"),
                                        x_title=t("trainer.cm_pred"), y_title=t("trainer.cm_true"),
                                        count_label=t("trainer.cm_count")), key="tr_cm")
    wrong = np.flatnonzero(preds != ds.y_test)
    with c2:
        if wrong.size == 0:
            st.success(t("trainer.no_mistakes", n=len(preds)), icon="✅")
            return
        shown = wrong[:MAX_MISTAKES]
        captions = [f"#{j}: {names[int(ds.y_test[j])]} → {names[int(preds[j])]}" for j in shown]
        st.plotly_chart(tv.examples_figure(ds.x_test[shown, 0], captions,
                                           title=t("trainer.mistakes_title", n=wrong.size,
                                                   total=len(preds)),
                                           value_label=t("common.value")), key="tr_mistakes")
        st.caption(t("trainer.mistakes_note"))


def use_section(run: dict[str, Any], model) -> None:
    """Classify the shared picture, exactly as prepared for this net's training data."""
    name = run["spec"]["dataset"]
    names = models.dataset(name).class_names(current())
    image = image_input.working_image()
    x = datasets.preprocess_for(name, image)
    with np.errstate(over="ignore", invalid="ignore"):
        probs = models.softmax(model.forward(x))[0]
    models.drop_caches(model)
    top = int(np.argmax(probs))
    side = x.shape[-1]
    c1, c2, c3 = st.columns([1, 1, 1.4])
    c1.image(np.clip(image, 0, 1), caption=t("trainer.use_original"), width="stretch")
    c2.plotly_chart(figures.map_figure(x[0, 0], title=t("trainer.use_sees", s=side),
                                       signed=False, limit=1.0, hover_label=t("common.value"),
                                       height=300), key="tr_use_input")
    c3.plotly_chart(tv.bars_figure(probs, names, title=t("trainer.softmax_title"),
                                   y_title=t("trainer.axis_prob"), percent=True, highlight=top),
                    key="tr_use_probs")
    st.markdown(t("trainer.use_verdict", guess=names[top], p=f"{100 * probs[top]:.1f}%"))
    st.caption(t(f"trainer.use_steps_{name}", s=side))


def download_section(run: dict[str, Any], model) -> None:
    cached = st.session_state.get("_tr_npz")
    if cached is None or cached[0] != run["n"]:
        meta = {"train": run["train"], "final": run["final"], "status": run["status"]}
        cached = (run["n"], models.save_npz(model, run["spec"], meta))
        st.session_state["_tr_npz"] = cached
    code = models.pytorch_code(run["spec"], run["train"])
    c1, c2 = st.columns(2)
    c1.download_button(t("trainer.dl_weights"), cached[1], file_name="cnnviz_weights.npz",
                       mime="application/octet-stream", key="tr_dl_npz", on_click="ignore",
                       help=t("trainer.dl_weights_help"), icon=":material/download:")
    c2.download_button(t("trainer.dl_code"), code, file_name="cnnviz_model.py",
                       mime="text/x-python", key="tr_dl_code", on_click="ignore",
                       help=t("trainer.dl_code_help"), icon=":material/code:")
    st.caption(t("trainer.dl_note", size=style.fmt(len(cached[1]) / 1024)))
    with st.expander(t("trainer.code_title")):
        st.code(code, language="python")
