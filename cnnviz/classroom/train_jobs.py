"""Live training in the background, bounded for a classroom server.

A :class:`TrainJob` owns a worker thread that runs the engine's training loop
(:func:`cnnviz.train.fit`, a generator) for one or more nets ("members": one for a normal run,
several racing step by step for the ReLU-vs-sigmoid comparison). **The thread never calls
Streamlit.** It writes metrics into lists under a lock; the page's fragment copies them a few
times a second (:meth:`TrainJob.snapshot`) and redraws.

Bounds, because one server serves a whole class:

- :data:`SLOTS` - the only object shared by all sessions: at most ``CNNVIZ_MAX_TRAINERS``
  jobs train at once (default: the number of cores, at most 4); the others wait, and the
  student sees "waiting for a free trainer". A paused job gives its slot back.
- each job: at most :data:`MAX_EPOCHS` epochs and ``CNNVIZ_MAX_TRAIN_SECONDS`` seconds of
  training (default 180); curves are thinned to at most :data:`MAX_POINTS` points; after each
  round of steps it sleeps as long again (``CNNVIZ_TRAIN_YIELD``), so training never holds
  the interpreter that serves everyone's pages more than half the time.
- a job stops when its session ends: the browser tab is gone for :data:`SESSION_GRACE`
  seconds, or (where the server cannot tell) no fragment tick has read the job for
  ``CNNVIZ_TRAIN_HEARTBEAT`` seconds.

Everything per user (the job, the run history) lives in ``st.session_state``; switching pages
loses nothing because the job is not tied to the page's script run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from cnnviz import nn, train

log = logging.getLogger("cnnviz")

__all__ = [
    "MAX_EPOCHS",
    "SLOTS",
    "Member",
    "Slots",
    "TrainJob",
]


def _env_number(name: str, default: float, lo: float, hi: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        value = default
    return min(max(value, lo), hi) if math.isfinite(value) else default


MAX_TRAINERS = int(_env_number("CNNVIZ_MAX_TRAINERS", min(4, os.cpu_count() or 2), 1, 64))
MAX_SECONDS = _env_number("CNNVIZ_MAX_TRAIN_SECONDS", 180.0, 1.0, 3600.0)
HEARTBEAT_TIMEOUT = _env_number("CNNVIZ_TRAIN_HEARTBEAT", 30.0, 2.0, 3600.0)
#: After each round of steps a job sleeps this many times as long as the round took: with 1,
#: a job uses at most half of one core and leaves the interpreter lock to the class's pages
#: (measured with 4 students training and 40 on the activation page: p95 435 -> 143 ms); a run
#: takes twice as long. 0 trains flat out.
YIELD = _env_number("CNNVIZ_TRAIN_YIELD", 1.0, 0.0, 10.0)
SESSION_GRACE = 10.0
MAX_PAUSE_SECONDS = 600.0
MAX_EPOCHS = 50
MAX_POINTS = 300
#: "Slow motion": at least this long per optimizer step, so a class can watch the curves grow.
SLOW_STEP_SECONDS = 0.04
#: Test accuracy is measured this many times per epoch (on the whole test set).
EVALS_PER_EPOCH = 2
THRESHOLD = 0.95

#: A usual learning rate per optimizer (the page sets it when the optimizer changes).
USUAL_LR = {"sgd": 0.2, "momentum": 0.05, "adam": 5e-3}

#: Final reasons a job ends with.
ENDINGS = ("done", "stopped", "diverged", "timeout", "abandoned", "error")


class Slots:
    """A bound on concurrent training shared by every session (a ``BoundedSemaphore``) that
    also knows how many jobs are busy and waiting, for the "waiting" message."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self._sem = threading.BoundedSemaphore(self.n)
        self._lock = threading.Lock()
        self._busy = 0
        self._waiting: set[int] = set()

    def acquire(self, who: int, timeout: float = 0.1) -> bool:
        """Try for ``timeout`` seconds; ``who`` is counted as waiting until it gets a slot."""
        with self._lock:
            self._waiting.add(who)
        got = self._sem.acquire(timeout=timeout)
        with self._lock:
            if got:
                self._busy += 1
                self._waiting.discard(who)
        return got

    def leave_queue(self, who: int) -> None:
        with self._lock:
            self._waiting.discard(who)

    def release(self) -> None:
        with self._lock:
            self._busy -= 1
        self._sem.release()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"busy": self._busy, "waiting": len(self._waiting), "total": self.n}


SLOTS = Slots(MAX_TRAINERS)

_OPTIMIZERS = {"sgd": ("sgd", 0.0), "momentum": ("sgd", 0.9), "adam": ("adam", 0.0)}


class Member:
    """One net being trained: its generator, its curves and its final figures.

    ``settings``: ``optimizer`` ("sgd", "momentum", "adam"), ``lr``, ``batch_size``,
    ``epochs``, ``seed``. Curves (lists of floats, at most :data:`MAX_POINTS` each) use the
    epoch (fractional) as x: ``x``/``loss``/``train_acc``, ``test_x``/``test_acc``, and
    ``grad_x``/``grad`` (``{"conv1": [...], ..., "fc1": [...]}``).
    """

    def __init__(self, label: str, spec: dict[str, Any], settings: dict[str, Any],
                 model: nn.Sequential, dataset: Any) -> None:
        self.label, self.spec, self.settings = label, spec, dict(settings)
        self.activation = spec["activation"]
        self.model: nn.Sequential | None = model
        n_train = len(dataset.y_train)
        batch = int(settings["batch_size"])
        self._n_train, self._batch = n_train, batch
        self.epochs = min(int(settings["epochs"]), MAX_EPOCHS)
        self.per_epoch = math.ceil(n_train / batch)
        self.total_steps = self.per_epoch * self.epochs
        # About 16 points per epoch at first (a point averages its steps); when a curve is
        # full, pairs of points are averaged and a point covers twice as many steps, so
        # curves stay short and smooth.
        self.stride = max(1, self.per_epoch // 16)
        # test accuracy mid-epoch (measured here) and at each epoch's end (measured by fit)
        self.mid_epoch = self.per_epoch // 2 if self.per_epoch >= 4 else None
        kind, momentum = _OPTIMIZERS[settings["optimizer"]]
        self._stop = threading.Event()
        self._gen = train.fit(
            model, dataset, epochs=self.epochs, batch_size=batch, optimizer=kind,
            lr=float(settings["lr"]), momentum=momentum, seed=int(settings["seed"]),
            stop_event=self._stop, report_every=1,
        )  # fmt: skip
        self._x_test, self._y_test = dataset.x_test, dataset.y_test
        self.started = False
        self.status = "waiting"  # waiting, running, done, stopped, diverged
        self.step, self.epoch, self.progress, self.seconds = 0, 0.0, 0.0, 0.0
        self.time95: float | None = None
        self.epoch95: float | None = None
        self.loss: float | None = None
        self.train_acc: float | None = None
        self.test_acc: float | None = None
        self.curves: dict[str, Any] = {"x": [], "loss": [], "train_acc": [], "test_x": [],
                                       "test_acc": [], "grad_x": [], "grad": {}}
        self._win_loss, self._win_n = 0.0, 0
        self._win_grad: dict[str, float] = {}
        # training accuracy over the same window as the loss (fit reports a running accuracy
        # since the epoch began, which jumps at every epoch boundary)
        self._win_correct, self._win_seen = 0, 0
        self._epoch_correct, self._epoch_seen = 0, 0
        self._measured = False

    @property
    def active(self) -> bool:
        return self.status in ("waiting", "running")

    def advance(self) -> tuple[train.Progress | None, float]:
        """One optimizer step (or the final record): ``(record or None, seconds)``.

        Called by the job's thread only, without the job's lock (the maths runs outside it);
        :meth:`consume` then does the short bookkeeping under the lock.
        """
        self.started = True
        t0 = time.perf_counter()
        try:
            rec = next(self._gen)
        except StopIteration:
            rec = None
        if rec is not None and rec.kind == "step" and rec.step % self.per_epoch == self.mid_epoch:
            rec.test_acc = train.evaluate(self.model, self._x_test, self._y_test)[0]
            self._measured = True
        dt = time.perf_counter() - t0
        if rec is None or rec.kind in ("done", "stopped", "diverged"):
            self.close()
        return rec, dt

    def close(self) -> None:
        """Finish the generator on *this* thread: ``fit`` may be suspended inside
        ``np.errstate`` (a context variable), which cannot be exited from another thread."""
        with contextlib.suppress(Exception):
            self._gen.close()

    def consume(self, rec: train.Progress | None, dt: float) -> None:
        """Fold one record into the curves (call with the job's lock held)."""
        self.seconds += dt
        if rec is None:
            self.status = "done" if self.status == "running" else self.status
            return
        self.status = "running"
        if rec.kind == "diverged":
            self.status = "diverged"
            self.loss = None
            return
        if rec.kind in ("done", "stopped"):
            self.status = rec.kind
            if rec.kind == "stopped" and rec.test_acc is not None:
                self.test_acc = rec.test_acc
            return
        self.step, self.epoch, self.progress = rec.step, rec.epoch, rec.progress
        if rec.loss is not None:
            self._win_loss += rec.loss
            self._win_n += 1
        for name, value in rec.grad_norms.items():
            self._win_grad[name] = self._win_grad.get(name, 0.0) + value
        self.train_acc = rec.train_acc
        if rec.train_acc is not None:
            in_epoch = rec.step - (rec.step - 1) // self.per_epoch * self.per_epoch
            seen = min(in_epoch * self._batch, self._n_train)
            correct = round(rec.train_acc * seen)
            if in_epoch == 1:
                self._epoch_correct, self._epoch_seen = 0, 0
            self._win_correct += correct - self._epoch_correct
            self._win_seen += seen - self._epoch_seen
            self._epoch_correct, self._epoch_seen = correct, seen
        measured, self._measured = rec.kind == "epoch" or self._measured, False
        if measured and rec.test_acc is not None:
            self.test_acc = rec.test_acc
            self.curves["test_x"].append(rec.epoch)
            self.curves["test_acc"].append(rec.test_acc)
            if self.time95 is None and rec.test_acc >= THRESHOLD:
                self.time95, self.epoch95 = self.seconds, rec.epoch
        if rec.kind == "epoch" or rec.step % self.stride == 0:
            self._push(rec)

    def _push(self, rec: train.Progress) -> None:
        c = self.curves
        if len(c["x"]) >= MAX_POINTS:
            self._decimate()
        if self._win_n:
            self.loss = self._win_loss / self._win_n
            c["x"].append(rec.epoch)
            c["loss"].append(self.loss)
            c["train_acc"].append(self._win_correct / self._win_seen if self._win_seen
                                  else math.nan)
        if self._win_grad and self._win_n:
            c["grad_x"].append(rec.epoch)
            for name, total in self._win_grad.items():
                c["grad"].setdefault(name, []).append(total / self._win_n)
        self._win_loss, self._win_n, self._win_grad = 0.0, 0, {}
        self._win_correct, self._win_seen = 0, 0

    def _decimate(self) -> None:
        """Halve the curves: average each pair of points (x: the later one)."""
        c = self.curves

        def pairs(values: list[float]) -> list[float]:
            n = len(values) // 2 * 2
            return [(a + b) / 2 for a, b in zip(values[:n:2], values[1:n:2], strict=True)]

        n = len(c["x"]) // 2 * 2
        c["x"] = c["x"][1:n:2]
        c["loss"], c["train_acc"] = pairs(c["loss"]), pairs(c["train_acc"])
        n = len(c["grad_x"]) // 2 * 2
        c["grad_x"] = c["grad_x"][1:n:2]
        c["grad"] = {k: pairs(v) for k, v in c["grad"].items()}
        self.stride *= 2

    def stop(self) -> None:
        self._stop.set()

    def snapshot(self) -> dict[str, Any]:
        """Plain copies of everything the page draws (call with the job's lock held)."""
        c = self.curves
        return {
            "label": self.label, "activation": self.activation, "status": self.status,
            "step": self.step, "epoch": self.epoch, "epochs": self.epochs,
            "optimizer": self.settings["optimizer"], "lr": float(self.settings["lr"]),
            "progress": self.progress, "total_steps": self.total_steps,
            "loss": self.loss, "train_acc": self.train_acc, "test_acc": self.test_acc,
            "seconds": self.seconds, "time95": self.time95, "epoch95": self.epoch95,
            "curves": {"x": list(c["x"]), "loss": list(c["loss"]),
                       "train_acc": list(c["train_acc"]), "test_x": list(c["test_x"]),
                       "test_acc": list(c["test_acc"]), "grad_x": list(c["grad_x"]),
                       "grad": {k: list(v) for k, v in c["grad"].items()}},
        }  # fmt: skip


class TrainJob:
    """Train one or more :class:`Member` nets on a worker thread, step by step in turn.

    States: ``"queued"`` (waiting for a slot), ``"running"``, ``"paused"``, then one of
    :data:`ENDINGS` (``reason``).

    Parameters
    ----------
    members : list of Member
    kind : {"single", "compare"}
    alive : callable, optional
        Returns False once the user's session is gone (see :func:`ui.trainer.live.session_probe`).
    slots : Slots
    max_seconds : float
        Training time bound (time spent queued or paused does not count).
    heartbeat_timeout, session_grace : float
        Stop after this long without :meth:`touch` (when ``alive`` is None), or this long
        after ``alive()`` turned False.
    slow : bool
        Slow motion: at least :data:`SLOW_STEP_SECONDS` per round of steps.
    paused : bool
        Start paused (for "one step" before any training).
    yield_share : float
        Sleep this many times each round's duration after it (see :data:`YIELD`).
    """

    _ids = iter(range(1, 1 << 62))

    def __init__(self, members: list[Member], *, kind: str = "single",
                 alive: Callable[[], bool] | None = None, slots: Slots = SLOTS,
                 max_seconds: float = MAX_SECONDS, heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
                 session_grace: float = SESSION_GRACE, slow: bool = False,
                 paused: bool = False, yield_share: float = YIELD) -> None:
        self.id = next(TrainJob._ids)
        self.members, self.kind, self.slow = members, kind, slow
        self.yield_share = yield_share
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self._alive, self._slots = alive, slots
        self.max_seconds, self.heartbeat_timeout = max_seconds, heartbeat_timeout
        self.session_grace = session_grace
        self.state = "queued"
        self.reason: str | None = None
        self._paused, self._budget = paused, 0
        self._beat = time.monotonic()
        self.train_seconds = 0.0
        self.collected = False
        self.thread = threading.Thread(target=self._run, name=f"cnnviz-train-{self.id}",
                                       daemon=True)

    # -- controls (called from the page) ------------------------------------------------------
    def start(self) -> TrainJob:
        self.thread.start()
        return self

    def stop(self, reason: str = "stopped") -> None:
        with self.lock:
            if self.reason is None:
                self.reason = reason
        self.stop_event.set()
        for m in self.members:
            m.stop()

    def pause(self) -> None:
        with self.lock:
            self._paused, self._budget = True, 0

    def resume(self) -> None:
        with self.lock:
            self._paused, self._budget = False, 0

    def step_once(self, n: int = 1) -> None:
        """Do ``n`` steps (each member), then pause again."""
        with self.lock:
            self._paused, self._budget = True, self._budget + n

    def touch(self) -> None:
        """The page has looked at the job (the fragment's heartbeat)."""
        self._beat = time.monotonic()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def finished(self) -> bool:
        return self.state in ENDINGS

    # -- reading (called from the page) -------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Copies of the state and every member's curves, taken under the lock."""
        with self.lock:
            return {"id": self.id, "kind": self.kind, "state": self.state,
                    "reason": self.reason, "paused": self._paused,
                    "slots": self._slots.snapshot(), "train_seconds": self.train_seconds,
                    "members": [m.snapshot() for m in self.members]}

    # -- the worker thread --------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        with self.lock:
            self.state = state

    def _watchdog(self, now: float, gone_since: float | None) -> float | None:
        """Stop the job when its session is gone or it ran too long; returns gone_since."""
        if self._alive is not None:
            try:
                alive = bool(self._alive())
            except Exception:  # noqa: BLE001
                alive = True
            if alive:
                gone_since = None
            elif gone_since is None:
                gone_since = now
            elif now - gone_since > self.session_grace:
                self.stop("abandoned")
        elif now - self._beat > self.heartbeat_timeout:
            self.stop("abandoned")
        if self.train_seconds > self.max_seconds:
            self.stop("timeout")
        return gone_since

    def _run(self) -> None:
        held = False
        gone_since: float | None = None
        paused_since: float | None = None
        try:
            while True:
                now = time.monotonic()
                gone_since = self._watchdog(now, gone_since)
                if self.stop_event.is_set():
                    self._finish_members()
                    break
                with self.lock:
                    waiting = self._paused and self._budget == 0
                if waiting:
                    if held:
                        self._slots.release()
                        held = False
                    paused_since = paused_since or now
                    if now - paused_since > MAX_PAUSE_SECONDS:
                        self.stop("timeout")
                    self._set_state("paused")
                    time.sleep(0.05)
                    continue
                paused_since = None
                if not held:
                    self._set_state("queued")
                    held = self._slots.acquire(self.id, timeout=0.1)
                    if not held:
                        continue
                self._set_state("running")
                t0 = time.perf_counter()
                active = [m for m in self.members if m.active]
                for m in active:
                    rec, dt = m.advance()
                    with self.lock:
                        m.consume(rec, dt)
                with self.lock:
                    if self._budget:
                        self._budget -= 1
                if not any(m.active for m in self.members):
                    break
                if self.slow:
                    time.sleep(max(0.0, SLOW_STEP_SECONDS - (time.perf_counter() - t0)))
                self.train_seconds += time.perf_counter() - t0
                if self.yield_share and not self.slow:
                    time.sleep((time.perf_counter() - t0) * self.yield_share)  # see YIELD
        except Exception:  # noqa: BLE001 - a crash must end the job, never the server
            log.exception("training job failed")
            with self.lock:
                self.reason = "error"
                for m in self.members:
                    if m.active:
                        m.status = "stopped"
        finally:
            for m in self.members:
                m.close()
            self._slots.leave_queue(self.id)
            if held:
                self._slots.release()
            with self.lock:
                if self.reason is None:
                    diverged = any(m.status == "diverged" for m in self.members)
                    self.reason = "diverged" if diverged and self.kind == "single" else "done"
                self.state = self.reason

    def _finish_members(self) -> None:
        """After Stop: each started member evaluates once more and reports "stopped"."""
        for m in self.members:
            if not m.active:
                continue
            if not m.started:
                with self.lock:
                    m.status = "stopped"
                continue
            rec, dt = m.advance()
            with self.lock:
                m.consume(rec, dt)
                if m.active:
                    m.status = "stopped"
