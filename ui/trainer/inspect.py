"""Look inside a trained net (kernels, feature maps, the flattened vector, the FC layer's
outputs and softmax, the confusion matrix, the mistakes) and use it (classify the shared
picture, download the weights and the PyTorch code).

Session keys: ``_tr_model`` ((run number, model) of the net being inspected, rebuilt from the
run's saved weights), ``_tr_eval`` ((run number, predictions, probabilities) on the test set),
``_tr_seen`` (newest run the chooser has seen).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import datasets, models, train
from cnnviz.viz import figures, style
from cnnviz.viz import trainer as trainer_figs
from ui import display, image_input
from ui.lang import current, t
from ui.trainer.controls import keep, save
from ui.trainer.live import remember, run_label, runs

MODEL, EVAL, SEEN = "_tr_model", "_tr_eval", "_tr_seen"
MAX_MISTAKES = 12


def pick_run() -> dict[str, Any] | None:
    """Choose a trained run (the newest by default); None when there is none yet."""
    done = [r for r in runs() if r["state"] is not None]
    if not done:
        st.info(t("trainer.inspect_empty"))
        return None
    by_id = {r["n"]: r for r in done}
    ids = list(by_id)
    seen = st.session_state.get(SEEN) or 0
    if ids[-1] > seen:  # new runs arrived: show the best of them (a race's winner)
        st.session_state[SEEN] = ids[-1]
        fresh = [r for r in done if r["n"] > seen]
        st.session_state["tr_inspect"] = max(fresh, key=lambda r: r["final"]["test_acc"] or 0)["n"]
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


def kernels_section(run: dict[str, Any], model) -> None:
    w = model.layers[0].params["weight"]
    k = w.shape[-1]
    display.chart(st, remember(("fig_kernels", run["n"], current()),
                             lambda: trainer_figs.mosaic_figure(
        w[:, 0], title=t("trainer.kernels_title", n=w.shape[0], k=k), cols=4 if k in (3, 5) else 8,
        signed=True, tile_label=t("trainer.kernel_word"), value_label=t("trainer.weight"),
        width_px=900, max_height=520)), key="tr_kernels")  # fmt: skip
    st.caption(t("trainer.kernels_note"))


@st.fragment
def example_section(run: dict[str, Any], model) -> None:
    """One test picture through every layer, up to the softmax (a fragment: choosing another
    picture or layer redraws only this part)."""
    ds = models.dataset(run["spec"]["dataset"])
    lang = current()
    names = ds.class_names(lang)
    preds, probs = _evaluation(run, model)
    keep("tr_example", 0)
    if st.session_state["tr_example"] >= len(ds.y_test):
        st.session_state["tr_example"] = 0
    spatial = ["input"] + [n for n, shape, _ in _shapes(run) if len(shape) == 3]
    views = spatial + ["flatten", "fc"]
    keep("tr_layer", "conv1")
    if st.session_state["tr_layer"] not in views:
        st.session_state["tr_layer"] = "conv1"
    labels = {"input": t("common.input"), "flatten": t("trainer.tab_flatten"),
              "fc": t("trainer.tab_fc")}  # in this run's language
    c1, c2 = st.columns([1, 3], vertical_alignment="bottom")
    i = int(c1.number_input(t("trainer.example"), 0, len(ds.y_test) - 1, step=1,
                            key="tr_example", help=t("trainer.example_help")))
    view = st.segmented_control(
        t("trainer.layer"), views, key="tr_layer", required=True, help=t("trainer.layer_help"),
        format_func=lambda v: labels.get(v, v))
    save("tr_example", i)
    save("tr_layer", view)
    truth, guess = names[int(ds.y_test[i])], names[int(preds[i])]
    c2.markdown(t("trainer.example_verdict", truth=truth, guess=guess,
                  p=f"{100 * probs[i, preds[i]]:.1f}%",
                  mark=":green[:material/check_circle:]" if preds[i] == ds.y_test[i]
                  else ":red[:material/cancel:]"))
    key = (run["n"], i, view, lang)
    if view == "fc":
        logits, _ = remember(("logits",) + key[:2], lambda: _outputs(run, model, ds, i))
        top = int(np.argmax(logits))
        c1, c2 = st.columns(2)
        display.chart(c1, remember(("fig_logits",) + key, lambda: trainer_figs.bars_figure(
            logits, names, title=t("trainer.logits_title"), y_title=t("trainer.axis_logit"),
            x_title=t("trainer.axis_class"), highlight=top)), key="tr_logits")  # fmt: skip
        display.chart(c2, remember(("fig_softmax",) + key, lambda: trainer_figs.bars_figure(
            models.softmax(logits), names, title=t("trainer.softmax_title"),
            y_title=t("trainer.axis_prob"), x_title=t("trainer.axis_class"), percent=True,
            highlight=top)), key="tr_softmax")
        st.caption(t("trainer.fc_note", d=model.layers[-1].in_features))
    elif view == "flatten":
        display.chart(st, remember(("fig_flat",) + key, lambda: _flat_figure(run, model, ds, i)),
                        key="tr_flat")
        st.caption(t("trainer.flat_note"))
    else:
        display.chart(st, remember(("fig_map",) + key, lambda: _map_figure(model, ds, i, view)),
                        key="tr_map")
        st.caption(t(f"trainer.maps_note_{_kind(view)}"))


def _shapes(run: dict[str, Any]) -> list[tuple[str, tuple, int]]:
    rows = models.layer_table(run["spec"])[1:]
    return [(r["name"], r["shape"], r["params"]) for r in rows]


def _kind(name: str) -> str:
    for prefix, kind in (("conv", "conv"), ("maxpool", "pool"), ("avgpool", "pool"),
                         ("input", "input")):
        if name.startswith(prefix):
            return kind
    return "act"


def _outputs(run, model, ds, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(logits, flattened vector) of test picture ``i``."""
    outs = dict(models.trace(model, ds.x_test[i : i + 1]))
    models.drop_caches(model)
    flat = next(v for k, v in outs.items() if k.startswith("flatten"))
    return list(outs.values())[-1][0], flat[0]


def _map_figure(model, ds, i: int, view: str):
    x = ds.x_test[i : i + 1]
    arr = x[0] if view == "input" else dict(models.trace(model, x))[view][0]
    models.drop_caches(model)
    title = (t("trainer.input_title", h=arr.shape[1], w=arr.shape[2]) if view == "input" else
             t("trainer.maps_title", name=view, c=arr.shape[0], h=arr.shape[1], w=arr.shape[2]))
    return trainer_figs.mosaic_figure(
        arr, title=title,
        cols=8, tile_label=t("trainer.channel"), value_label=t("common.value"), text=False)


def _flat_figure(run, model, ds, i: int):
    _, flat = remember(("logits", run["n"], i), lambda: _outputs(run, model, ds, i))
    c, h, w = next(s for n, s, _ in reversed(_shapes(run)) if len(s) == 3)
    return trainer_figs.vector_figure(
        flat, title=t("trainer.flat_title", d=flat.size, c=c, h=h, w=w),
        x_title=t("trainer.axis_index"), y_title=t("common.value"),
        boundaries=range(0, flat.size, h * w))  # fmt: skip


def errors_section(run: dict[str, Any], model) -> None:
    ds = models.dataset(run["spec"]["dataset"])
    lang = current()
    names = ds.class_names(lang)
    preds, _ = _evaluation(run, model)
    cm = train.confusion_matrix(ds.y_test, preds, len(names))
    c1, c2 = st.columns([1, 1], vertical_alignment="center")
    display.chart(c1, remember(("fig_cm", run["n"], lang), lambda: trainer_figs.confusion_figure(
        cm, names, title=t("trainer.cm_title"), x_title=t("trainer.cm_pred"),
        y_title=t("trainer.cm_true"), count_label=t("trainer.cm_count"))), key="tr_cm")
    wrong = np.flatnonzero(preds != ds.y_test)
    if wrong.size == 0:
        c2.success(t("trainer.no_mistakes", n=len(preds)), icon=":material/check_circle:")
        return
    c2.caption(t("trainer.mistakes_note"))
    shown = wrong[:MAX_MISTAKES]
    captions = [f"{names[int(ds.y_test[j])]} → {names[int(preds[j])]}" for j in shown]
    display.chart(st, remember(("fig_wrong", run["n"], lang), lambda: trainer_figs.examples_figure(
        ds.x_test[shown, 0], captions,
        title=t("trainer.mistakes_title", n=wrong.size, total=len(preds)),
        value_label=t("common.value"))), key="tr_mistakes")  # fmt: skip


def use_section(run: dict[str, Any], model) -> None:
    """Classify the shared picture, exactly as prepared for this net's training data."""
    name = run["spec"]["dataset"]
    lang = current()
    names = models.dataset(name).class_names(lang)
    image = image_input.working_image()
    picture = (st.session_state.get("image") or {}).get("serial"), image.shape
    x, probs = remember(("use", run["n"], picture), lambda: _classify(name, image, model))
    top = int(np.argmax(probs))
    side = x.shape[-1]
    c1, c2, c3 = st.columns([1, 1, 1.4])
    c1.image(remember(("thumb", picture), lambda: _png(image)), caption=t("trainer.use_original"),
             width="stretch")
    display.chart(c2, remember(("fig_use_x", run["n"], picture, lang), lambda: figures.map_figure(
        x[0, 0], title=t("trainer.use_sees", s=side), signed=False, limit=1.0,
        hover_label=t("common.value"), height=300)), key="tr_use_input")  # fmt: skip
    display.chart(c3, remember(("fig_use_p", run["n"], picture, lang),
                             lambda: trainer_figs.bars_figure(
        probs, names, title=t("trainer.use_probs_title"), y_title=t("trainer.axis_prob"),
        x_title=t("trainer.axis_class"), percent=True, highlight=top)), key="tr_use_probs")
    st.markdown(t("trainer.use_verdict", guess=names[top], p=f"{100 * probs[top]:.1f}%"))
    st.caption(t(f"trainer.use_steps_{name}", s=side))


def _png(image: np.ndarray, side: int = 200) -> bytes:
    """A small PNG of the picture, encoded once (st.image would re-encode it every rerun)."""
    u8 = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    thumb = Image.fromarray(u8)
    thumb.thumbnail((side, side))
    buf = io.BytesIO()
    thumb.save(buf, format="PNG")
    return buf.getvalue()


def _classify(dataset_name: str, image: np.ndarray, model) -> tuple[np.ndarray, np.ndarray]:
    x = datasets.preprocess_for(dataset_name, image)
    with np.errstate(over="ignore", invalid="ignore"):
        probs = models.softmax(model.forward(x))[0]
    models.drop_caches(model)
    return x, probs


def download_section(run: dict[str, Any], model) -> None:
    cached = st.session_state.get("_tr_npz")
    if cached is None or cached[0] != run["n"]:
        meta = {"train": run["train"], "final": run["final"], "status": run["status"]}
        ds = models.dataset(run["spec"]["dataset"])
        cached = (run["n"], models.save_npz(model, run["spec"], meta, (ds.x_test, ds.y_test)))
        st.session_state["_tr_npz"] = cached
    # the run's own settings and result, never the sliders' current values
    code = models.pytorch_code(run["spec"], run["train"], run["final"])
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
