"""The live part of the trainer page: the job in session state, the run history, and the
fragment that redraws the curves while the worker thread trains.

Session keys: ``_tr_job`` (the current or last :class:`cnnviz.classroom.train_jobs.TrainJob`),
``_tr_runs`` (the run history, newest last, at most :data:`MAX_RUNS`), ``_tr_run_n`` (run counter),
``_tr_ticking`` (id of the job the fragment is polling), ``_tr_overlay_next`` (runs to select in
the overlay after a comparison).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st

from cnnviz import i18n, models
from cnnviz.classroom.train_jobs import ENDINGS, USUAL_LR, Member, TrainJob
from cnnviz.lessons import trainer as lessons
from cnnviz.viz import style
from cnnviz.viz import trainer as trainer_figs
from ui import cache, display
from ui.lang import current, t

JOB, RUNS, COUNTER, TICKING = "_tr_job", "_tr_runs", "_tr_run_n", "_tr_ticking"
OVERLAY_NEXT = "_tr_overlay_next"
MAX_RUNS = 20
TICK_SECONDS = 0.5


# -- session state -------------------------------------------------------------------------------
def session_probe() -> Callable[[], bool] | None:
    """A thread-safe "is this browser session still connected?" check, or None when the
    server cannot tell (AppTest, bare mode); then the job relies on the heartbeat."""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is None or not Runtime.exists():
            return None
        runtime, sid = Runtime.instance(), ctx.session_id
        return lambda: runtime.is_active_session(sid)
    except Exception:  # noqa: BLE001 - an internal API moved: fall back to the heartbeat
        return None


def current_job() -> TrainJob | None:
    return st.session_state.get(JOB)


def runs() -> list[dict[str, Any]]:
    return st.session_state.setdefault(RUNS, [])


#: This user's built figures (and the arrays behind them), so a rerun caused by another widget
#: does not rebuild what did not change: ``remember(key, build)``, ``key`` holding everything the
#: result depends on (run number, language, choices); runs never change once kept.
remember = functools.partial(cache.session, "trainer", size=48)


def collect() -> bool:
    """Move a finished job's nets into the run history (once). True when something moved."""
    job = current_job()
    if job is None or not job.finished or job.collected:
        return False
    job.collected = True
    history = runs()
    new_ids = []
    for m in job.members:
        if not m.started:
            continue
        n = st.session_state[COUNTER] = st.session_state.get(COUNTER, 0) + 1
        status = m.status if job.reason in ("done", "diverged", "stopped") else job.reason
        history.append({
            "n": n, "group": job.id if job.kind == "compare" else None, "kind": job.kind,
            "spec": m.spec, "train": m.settings, "status": status,
            "final": {"loss": m.loss, "train_acc": m.train_acc, "test_acc": m.test_acc,
                      "time95": m.time95, "epoch95": m.epoch95, "seconds": m.seconds,
                      "epoch": m.epoch, "steps": m.step},
            "curves": m.curves,
            "state": m.model.state_dict() if m.status != "diverged" else None,
        })  # fmt: skip
        m.model = None  # the history keeps the weights; the job keeps only its curves
        new_ids.append(n)
    del history[:-MAX_RUNS]
    if new_ids:
        st.session_state[OVERLAY_NEXT] = new_ids if job.kind == "compare" else None
    return True


def _new_job(members: list[Member], kind: str, settings: dict[str, Any], paused: bool) -> None:
    old = current_job()
    if old is not None and not old.finished:  # a double click must not leave a job behind
        old.stop()
        old.thread.join(1.0)
    collect()
    job = TrainJob(members, kind=kind, alive=session_probe(), slow=settings.get("slow", False),
                   paused=paused)
    st.session_state[JOB] = job.start()


def start_single(spec: dict[str, Any], settings: dict[str, Any], paused: bool = False) -> None:
    ds = models.dataset(spec["dataset"])
    model = models.build(spec, settings["seed"])
    _new_job([Member(spec["activation"], spec, settings, model, ds)], "single", settings, paused)


def start_compare(spec: dict[str, Any], settings: dict[str, Any], acts: list[str],
                  paused: bool = False) -> None:
    """Each activation from the same seed and the very same initial weights (copied)."""
    ds = models.dataset(spec["dataset"])
    nets = models.same_init_models(spec, acts, settings["seed"])
    members = [Member(a, {**spec, "activation": a}, settings, nets[a], ds) for a in acts]
    _new_job(members, "compare", settings, paused)


# -- labels and curves ---------------------------------------------------------------------------
def run_label(run: dict[str, Any], lang: str | None = None) -> str:
    """"#3 ReLU · SGD + momentum 0.9 0.05 · seed 0" in ``lang`` (default: this run's)."""
    lang = lang or current()
    tr = run["train"]
    text = i18n.t("trainer.run_label", lang, n=run["n"],
                  act=i18n.t(f"trainer.act_{run['spec']['activation']}", lang),
                  opt=i18n.t(f"trainer.opt_{tr['optimizer']}", lang), lr=style.fmt(tr["lr"]),
                  seed=tr["seed"])
    return text + (i18n.t("trainer.run_label_cmp", lang) if run["group"] else "")


def colors_for(acts: list[str]) -> list[str]:
    """Activation colours when every line has its own activation, else distinct run colours."""
    if len(set(acts)) == len(acts):
        return [style.ACTIVATION_COLORS[a] for a in acts]
    return [style.SERIES[i % len(style.SERIES)] for i in range(len(acts))]


def curve_figures(items: list[dict[str, Any]], names: list[str], key: str,
                  done_key: tuple | None = None) -> None:
    """Loss, accuracy (train dotted, test solid) and gradient norms of ``items`` (members'
    snapshots or history runs, each with ``activation`` and ``curves``), side by side.

    ``done_key``: a cache key when the curves can no longer change (finished runs)."""

    def build() -> tuple:
        colors = colors_for([it["activation"] for it in items])
        loss, acc, grads = [], [], []
        for it, name, color in zip(items, names, colors, strict=True):
            c = it["curves"]
            loss.append({"name": name, "x": c["x"], "y": c["loss"], "color": color})
            acc.append({"name": f"{name} · {t('trainer.test')}", "x": c["test_x"],
                        "y": c["test_acc"], "color": color, "dash": trainer_figs.DASH["test"],
                        "markers": True})
            acc.append({"name": f"{name} · {t('trainer.train')}", "x": c["x"],
                        "y": c["train_acc"], "color": color, "dash": trainer_figs.DASH["train"],
                        "width": 1.6})
            grads.append({"name": name, "x": c["grad_x"], "grad": c["grad"], "color": color})
        epoch = t("trainer.axis_epoch")
        return (
            trainer_figs.lines_figure(loss, title=t("trainer.chart_loss"), x_title=epoch,
                                      y_title=t("trainer.axis_loss")),
            trainer_figs.lines_figure(acc, title=t("trainer.chart_acc"), x_title=epoch,
                                      y_title=t("trainer.axis_acc"), y_range=(0, 1.02)),
            trainer_figs.grad_figure(grads, title=t("trainer.chart_grad"), x_title=epoch,
                                     y_title=t("trainer.axis_grad")),
        )

    loss, acc, grad = remember((*done_key, current()), build) if done_key else build()
    c1, c2 = st.columns(2)
    display.chart(c1, loss, key=f"{key}_loss")
    display.chart(c2, acc, key=f"{key}_acc")
    display.chart(st, grad, key=f"{key}_grad")
    grad_notes(items, names)


def grad_notes(items: list[dict[str, Any]], names: list[str]) -> None:
    """The sentences under the gradient chart, computed from the numbers it draws: why a line
    is missing (0 or not a finite number cannot be drawn on a log axis), and how sigmoid's
    first-layer gradient compared with ReLU's in this race."""
    for it, name in zip(items, names, strict=True):
        c = it["curves"]
        gaps = lessons.gradient_gaps(c["grad_x"], c["grad"])
        for kind in ("zero", "overflow"):
            layers = [g for g in gaps if g["kind"] == kind]
            if layers:
                st.caption(t(f"trainer.grad_gap_{kind}", run=name,
                             layers=", ".join(g["layer"] for g in layers),
                             since=style.fmt(min(g["since"] for g in layers))))
    by_act = {it["activation"]: it["curves"] for it in items}
    if "sigmoid" in by_act and "relu" in by_act and len(by_act) == len(items):
        sg, re = by_act["sigmoid"], by_act["relu"]
        claim = lessons.gradient_claim(sg["grad_x"], sg["grad"].get("conv1", []),
                                       re["grad_x"], re["grad"].get("conv1", []))
        if claim is not None:
            code, params = claim
            st.markdown(t(f"trainer.grad_claim_{code}",
                          **{k: style.fmt(v) for k, v in params.items()}))


# -- the live panel ------------------------------------------------------------------------------
def _status(snap: dict[str, Any]) -> None:
    state, members = snap["state"], snap["members"]
    lead = members[0]
    if state == "queued":
        s = snap["slots"]
        st.info(t("trainer.queued", busy=s["busy"], total=s["total"], waiting=s["waiting"]),
                icon=":material/hourglass_top:")
    elif state in ("running", "paused"):
        key = "trainer.live_paused" if state == "paused" else "trainer.live_running"
        st.caption(t(key, epoch=style.fmt(lead["epoch"]), epochs=lead["epochs"],
                     step=lead["step"], steps=lead["total_steps"],
                     seconds=style.fmt(snap["train_seconds"])))
    elif state == "diverged":
        st.error(t("trainer.diverged", step=lead["step"]), icon="⚠️")
    elif state in ("timeout", "abandoned", "error"):
        st.warning(t(f"trainer.end_{state}"), icon="⚠️")
    elif state == "stopped":
        st.info(t("trainer.end_stopped", epoch=style.fmt(lead["epoch"])))
    elif state == "done" and snap["kind"] == "single":
        acc = "–" if lead["test_acc"] is None else f"{100 * lead['test_acc']:.1f}%"
        st.success(t("trainer.end_done", acc=acc, epochs=lead["epochs"],
                     seconds=style.fmt(lead["seconds"])), icon=":material/check_circle:")
    elif state == "done":
        st.success(t("trainer.end_done_cmp"), icon=":material/check_circle:")
    if (snap["kind"] == "single" and state in ("running", "done") and lead["epoch"] >= 2
            and lead["train_acc"] is not None and lead["train_acc"] < 0.4):
        st.warning(t(f"trainer.stalled_{_stall_reason(lead)}", epoch=style.fmt(lead["epoch"])),
                   icon="⚠️")
    for m in members:
        if m["status"] == "diverged" and snap["kind"] == "compare":
            st.warning(t("trainer.member_diverged", act=t(f"trainer.act_{m['activation']}")),
                       icon="⚠️")


def _stall_reason(m: dict[str, Any]) -> str:
    """Why a run may not learn: a learning rate far above the usual one, or sigmoid."""
    if m["lr"] >= 10 * USUAL_LR[m["optimizer"]]:
        return "lr"
    return "sigmoid" if m["activation"] == "sigmoid" else "other"


def _metrics(snap: dict[str, Any]) -> None:
    cols = st.columns(len(snap["members"]) if snap["kind"] == "compare" else 4)
    if snap["kind"] == "compare":
        for col, m in zip(cols, snap["members"], strict=True):
            acc = "–" if m["test_acc"] is None else f"{100 * m['test_acc']:.1f}%"
            t95 = "–" if m["time95"] is None else style.fmt(m["epoch95"])
            col.metric(t(f"trainer.act_{m['activation']}"), acc,
                       help=t("trainer.metric_race_help"))
            col.caption(t("trainer.race_caption", epoch=t95))
        return
    m = snap["members"][0]
    pct = "–" if m["train_acc"] is None else f"{100 * m['train_acc']:.1f}%"
    cols[0].metric(t("trainer.m_loss"), "–" if m["loss"] is None else style.fmt(m["loss"]),
                   help=t("trainer.m_loss_help"))
    cols[1].metric(t("trainer.m_train"), pct, help=t("trainer.m_train_help"))
    cols[2].metric(t("trainer.m_test"),
                   "–" if m["test_acc"] is None else f"{100 * m['test_acc']:.1f}%",
                   help=t("trainer.m_test_help"))
    cols[3].metric(t("trainer.m_time95"),
                   "–" if m["time95"] is None else f"{style.fmt(m['time95'])} s",
                   help=t("trainer.m_time95_help"))


def _buttons(where: str, job: TrainJob | None, blocked: bool, start) -> None:
    mine = job is not None and not job.finished and job.kind == where
    other = job is not None and not job.finished and job.kind != where
    c = st.columns(4)
    if c[0].button(t(f"trainer.start_{where}"), type="primary", key=f"tr_start_{where}",
                   disabled=mine or other or blocked, help=t(f"trainer.start_{where}_help"),
                   icon=":material/play_arrow:"):
        start(paused=False)
        st.rerun()
    paused = mine and job.paused
    if c[1].button(t("trainer.resume" if paused else "trainer.pause"), key=f"tr_pause_{where}",
                   disabled=not mine, help=t("trainer.pause_help"),
                   icon=":material/play_circle:" if paused else ":material/pause:"):
        job.resume() if paused else job.pause()
    if c[2].button(t("trainer.stop"), key=f"tr_stop_{where}", disabled=not mine,
                   help=t("trainer.stop_help"), icon=":material/stop:"):
        job.stop()
    can_step = (mine and paused) or (not mine and not other and not blocked)
    if c[3].button(t("trainer.one_step"), key=f"tr_step_{where}", disabled=not can_step,
                   help=t("trainer.one_step_help"), icon=":material/skip_next:"):
        if not mine:
            start(paused=True)
            current_job().step_once()
            st.rerun()
        job.step_once()
    if other:
        st.caption(t("trainer.busy_elsewhere"))


def live_section(where: str, start, blocked: bool) -> None:
    """Buttons, progress and live curves for jobs of kind ``where`` ("single"/"compare").

    ``start(paused)`` creates the job; ``blocked`` disables Start (impossible net).
    """
    job = current_job()
    polling = job is not None and not job.finished and job.kind == where
    if polling:
        st.session_state[TICKING] = job.id
    elif job is not None and job.finished and st.session_state.get(TICKING) == job.id:
        st.session_state[TICKING] = None  # a full run already shows the end: no extra rerun

    @st.fragment(run_every=TICK_SECONDS if polling else None)
    def panel() -> None:
        job = current_job()
        if job is not None:
            job.touch()
        if job is not None and job.finished and st.session_state.get(TICKING) == job.id:
            st.session_state[TICKING] = None
            collect()
            st.rerun()  # the whole page: history, inspection, and run_every off
        _buttons(where, job, blocked, start)
        if job is None or job.kind != where:
            st.info(t(f"trainer.empty_{where}"))
            return
        snap = job.snapshot()
        _status(snap)
        if snap["state"] == "queued" and not any(m["step"] for m in snap["members"]):
            return  # nothing to draw yet: keep a waiting student's ticks light
        progress = sum(m["progress"] for m in snap["members"]) / len(snap["members"])
        st.progress(min(1.0, progress))
        _metrics(snap)
        names = [t(f"trainer.act_{m['activation']}") for m in snap["members"]]
        curve_figures(snap["members"], names, key=f"tr_live_{where}",
                      done_key=("live", snap["id"]) if snap["state"] in ENDINGS else None)

    panel()
