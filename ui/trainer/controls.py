"""Trainer page widgets: the data set, the network and the training settings.

Every function returns plain, serialisable values (a spec dict, a settings dict); widget keys
start with ``tr_``. Streamlit drops a widget's state while another page is shown, so each value
is also saved in ``st.session_state["_tr_saved"]`` and restored when the trainer page comes
back: switching pages loses no setting.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from cnnviz import i18n, models
from cnnviz.classroom.train_jobs import MAX_EPOCHS, USUAL_LR
from cnnviz.viz import style
from cnnviz.viz import trainer as trainer_figs
from ui import display
from ui.lang import current, t
from ui.trainer.live import remember
from ui.widgets import labeller

SAVED = "_tr_saved"
LR_OPTIONS = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0,
              5.0, 10.0]
OPTIMIZERS = ("sgd", "momentum", "adam")
BATCHES = [8, 16, 32, 64, 128]
DEFAULTS: dict[str, Any] = {
    "tr_data": "shapes", "tr_blocks": 2, "tr_act": "relu", "tr_pool": "max",
    "tr_opt": "momentum", "tr_lr": 0.05, "tr_batch": 32, "tr_epochs": 10, "tr_seed": 0,
    "tr_slow": False,
}  # fmt: skip
BLOCK_DEFAULTS = [(8, 3, 1, True), (16, 3, 1, True), (32, 3, 1, True)]


def keep(key: str, default: Any) -> None:
    """Restore widget ``key`` from the saved copy (or ``default``) before it is drawn."""
    saved = st.session_state.setdefault(SAVED, {})
    if key not in st.session_state:
        st.session_state[key] = saved.get(key, default)


def save(key: str, value: Any) -> Any:
    st.session_state.setdefault(SAVED, {})[key] = value
    return value


def act_name(act: str) -> str:
    return t(f"trainer.act_{act}")


def class_names(ds) -> tuple[str, ...]:
    return ds.class_names(current())


def data_controls() -> str:
    """Choose the data set; show a preview per class and the sizes. Returns its name."""
    keep("tr_data", DEFAULTS["tr_data"])
    left, right = st.columns([1, 2])
    with left:
        name = st.radio(t("trainer.data"), ["shapes", "digits"], key="tr_data",
                        format_func=labeller("trainer.data_"), bind="query-params",
                        help=t("trainer.data_help"))
        save("tr_data", name)
        ds = models.dataset(name)
        side = ds.image_size[0]
        st.markdown(t(f"trainer.data_{name}_about"))
        st.caption(t("trainer.data_sizes", train=len(ds.y_train), test=len(ds.y_test),
                     h=side, w=side))
    with right:
        lang = current()
        display.chart(st, remember(("preview", name, lang), lambda: _preview(name, lang)),
                        key="tr_preview")
    return name


def _preview(name: str, lang: str):
    ds = models.dataset(name)
    return trainer_figs.preview_figure(ds.x_train, ds.y_train, ds.class_names(lang),
                                       title=i18n.t("trainer.preview_title", lang))


def network_controls(dataset: str) -> dict[str, Any]:
    """1-3 conv blocks, activation and pooling; returns the spec dict (not yet checked)."""
    for key in ("tr_blocks", "tr_act", "tr_pool"):
        keep(key, DEFAULTS[key])
    c1, c2, c3 = st.columns(3)
    # value= / index= repeat DEFAULTS: a link leaves out what equals the widget's default
    n = c1.slider(t("trainer.blocks"), 1, models.MAX_BLOCKS, DEFAULTS["tr_blocks"],
                  key="tr_blocks", bind="query-params", help=t("trainer.blocks_help"))
    act = c2.selectbox(t("trainer.activation"), list(models.ACTIVATIONS), key="tr_act",
                       format_func=labeller("trainer.act_"), bind="query-params",
                       help=t("trainer.activation_help"))
    pool = c3.radio(t("trainer.pool"), list(models.POOLS), key="tr_pool", horizontal=True,
                    format_func=labeller("trainer.pool_"), bind="query-params",
                    help=t("trainer.pool_help"))
    for key, value in (("tr_blocks", n), ("tr_act", act), ("tr_pool", pool)):
        save(key, value)
    blocks = []
    for i in range(n):
        f0, k0, p0, pool0 = BLOCK_DEFAULTS[i]
        keys = [f"tr_b{i}_{x}" for x in ("filters", "kernel", "padding", "pool")]
        for key, default in zip(keys, (f0, k0, p0, pool0), strict=True):
            keep(key, default)
        cols = st.columns([1.2, 2, 2, 2, 1.4], vertical_alignment="bottom")
        cols[0].markdown(t("trainer.block_n", n=i + 1))
        b = {
            "filters": cols[1].select_slider(t("trainer.filters"), list(models.FILTERS), f0,
                                             key=keys[0], bind="query-params",
                                             help=t("trainer.filters_help")),
            "kernel": cols[2].select_slider(t("trainer.kernel"), list(models.KERNELS), k0,
                                            key=keys[1], format_func=lambda k: f"{k}×{k}",
                                            bind="query-params", help=t("trainer.kernel_help")),
            "padding": cols[3].select_slider(t("trainer.padding"),
                                             list(range(models.MAX_PADDING + 1)), p0,
                                             key=keys[2], bind="query-params",
                                             help=t("trainer.padding_help")),
            "pool": cols[4].checkbox(t("trainer.block_pool"), pool0, key=keys[3],
                                     bind="query-params", help=t("trainer.block_pool_help")),
        }
        for key, name in zip(keys, ("filters", "kernel", "padding", "pool"), strict=True):
            save(key, b[name])
        blocks.append(b)
    return {"dataset": dataset, "blocks": blocks, "activation": act, "pool": pool}


def problem_text(exc: models.ArchitectureError) -> str:
    """One sentence saying which layer does not fit and what to change."""
    p = exc.params
    if exc.code == "arch_shrinks":
        key = "trainer.arch_conv" if p["layer"] == "conv" else "trainer.arch_pool"
        return t(key, block=p["block"], size=p["size"], kernel=p["kernel"], padding=p["padding"])
    return t("trainer.arch_setting", name=p.get("name", "?"), value=p.get("value", "?"))


def shape_table(spec: dict[str, Any]) -> models.ArchitectureError | None:
    """The table of output shapes and parameter counts, or the explanation of why the
    architecture cannot work. Returns the problem (None when the net is fine)."""
    try:
        rows = models.layer_table(spec)
    except models.ArchitectureError as exc:
        st.warning(problem_text(exc), icon="⚠️")
        return exc
    kinds = {"input": "input", "Conv2d": "conv", "ReLU": "act", "LeakyReLU": "act",
             "Sigmoid": "act", "Tanh": "act", "MaxPool2d": "pool", "AvgPool2d": "pool",
             "Flatten": "flatten", "Linear": "fc"}
    table = pd.DataFrame({
        t("trainer.col_layer"): [r["name"] for r in rows],
        t("trainer.col_kind"): [t(f"trainer.kind_{kinds[r['kind']]}") for r in rows],
        t("trainer.col_shape"): [" × ".join(str(s) for s in r["shape"]) for r in rows],
        t("trainer.col_params"): [f"{r['params']:,}" for r in rows],
    })  # fmt: skip
    # a static table, not st.dataframe: the data grid's script costs the page ~0.3 s to open,
    # and nine rows need no sorting or scrolling
    st.table(table, hide_index=True)
    total = sum(r["params"] for r in rows)
    fc_in = rows[-2]["shape"][0]
    st.caption(t("trainer.table_note", total=f"{total:,}", features=f"{fc_in:,}"))
    return None


def _on_opt() -> None:
    opt = st.session_state.get("tr_opt")
    if opt in USUAL_LR:
        st.session_state["tr_lr"] = USUAL_LR[opt]
        save("tr_lr", USUAL_LR[opt])


def training_controls() -> dict[str, Any]:
    """Optimizer, learning rate (log scale), batch size, epochs, seed, pace."""
    for key in ("tr_opt", "tr_lr", "tr_batch", "tr_epochs", "tr_seed", "tr_slow"):
        keep(key, DEFAULTS[key])
    c1, c2, c3 = st.columns(3)
    opt = c1.selectbox(t("trainer.optimizer"), list(OPTIMIZERS),
                       OPTIMIZERS.index(DEFAULTS["tr_opt"]), key="tr_opt",
                       format_func=labeller("trainer.opt_"), on_change=_on_opt,
                       bind="query-params", help=t("trainer.optimizer_help"))
    lr = c2.select_slider(t("trainer.lr"), LR_OPTIONS, DEFAULTS["tr_lr"], key="tr_lr",
                          format_func=style.fmt, bind="query-params", help=t("trainer.lr_help"))
    batch = c3.select_slider(t("trainer.batch"), BATCHES, DEFAULTS["tr_batch"], key="tr_batch",
                             bind="query-params", help=t("trainer.batch_help"))
    c4, c5, c6 = st.columns(3)
    epochs = c4.slider(t("trainer.epochs"), 1, MAX_EPOCHS, DEFAULTS["tr_epochs"], key="tr_epochs",
                       bind="query-params", help=t("trainer.epochs_help", max=MAX_EPOCHS))
    seed = c5.number_input(t("trainer.seed"), 0, 9999, step=1, key="tr_seed",
                           bind="query-params", help=t("trainer.seed_help"))
    slow = c6.toggle(t("trainer.slow"), key="tr_slow", bind="query-params",
                     help=t("trainer.slow_help"))
    settings = {"optimizer": opt, "lr": float(lr), "batch_size": int(batch),
                "epochs": int(epochs), "seed": int(seed), "slow": bool(slow)}
    for key, value in zip(("tr_opt", "tr_lr", "tr_batch", "tr_epochs", "tr_seed", "tr_slow"),
                          settings.values(), strict=True):
        save(key, value)
    return settings


def too_big(spec: dict[str, Any], settings: dict[str, Any]) -> bool:
    """Warn and return True when one training step would need more memory than a shared
    classroom server should give one student (see ``models.MAX_COLUMNS_BYTES``)."""
    need = models.columns_bytes(spec, settings["batch_size"])
    if need <= models.MAX_COLUMNS_BYTES:
        return False
    st.warning(t("trainer.too_big", mb=style.fmt(need / 2**20),
                 limit=style.fmt(models.MAX_COLUMNS_BYTES / 2**20)), icon="⚠️")
    return True
