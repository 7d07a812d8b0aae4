"""The background training job, without Streamlit: bounds, controls, curves, determinism."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from cnnviz import models
from cnnviz.classroom import train_jobs
from tests.helpers import TRAIN_DEFAULTS as DEFAULT
from tests.helpers import finished, job_of, member, wait


def finite_curves(m: dict) -> bool:
    c = m["curves"]
    values = c["loss"] + c["train_acc"] + c["test_acc"] + sum(c["grad"].values(), [])
    return all(math.isfinite(v) for v in values)


def test_defaults_reach_95_percent_and_record_when():
    snap = finished(job_of(member()).start())
    m = snap["members"][0]
    assert snap["state"] == "done" and m["status"] == "done"
    assert m["test_acc"] >= 0.95
    assert m["time95"] is not None and 0 < m["time95"] <= m["seconds"]
    assert m["epoch95"] <= 3  # "in a few seconds": within the first epochs
    c = m["curves"]
    assert 0 < len(c["x"]) <= train_jobs.MAX_POINTS and len(c["x"]) == len(c["loss"])
    assert len(c["test_x"]) == train_jobs.EVALS_PER_EPOCH * DEFAULT["epochs"]
    assert set(c["grad"]) == {"conv1", "conv2", "fc1"}
    assert c["loss"][-1] < c["loss"][0] and finite_curves(m)


def test_same_seed_identical_curves_other_seed_different():
    a, b, c = (job_of(member(epochs=2, seed=s)).start() for s in (1, 1, 2))
    ca, cb, cc = (finished(j)["members"][0]["curves"] for j in (a, b, c))
    assert ca == cb
    assert ca["loss"] != cc["loss"]


def test_stop_takes_effect_within_half_a_second():
    job = job_of(member(epochs=50), slow=True).start()
    assert wait(lambda: job.snapshot()["members"][0]["step"] >= 3)
    t0 = time.monotonic()
    job.stop()
    assert wait(lambda: job.finished, 0.5), "stop took longer than 0.5 s"
    assert time.monotonic() - t0 < 0.5
    snap = job.snapshot()
    assert snap["state"] == "stopped" and snap["members"][0]["status"] == "stopped"
    assert snap["members"][0]["test_acc"] is not None  # measured once more when stopping


def test_pause_holds_steps_and_gives_the_slot_back_then_resume_continues():
    slots = train_jobs.Slots(1)
    job = job_of(member(epochs=50), slots=slots, slow=True).start()
    assert wait(lambda: job.snapshot()["members"][0]["step"] >= 2)
    job.pause()
    assert wait(lambda: job.state == "paused")
    held = job.snapshot()["members"][0]["step"]
    time.sleep(0.3)
    assert job.snapshot()["members"][0]["step"] == held
    assert slots.snapshot()["busy"] == 0
    job.resume()
    assert wait(lambda: job.snapshot()["members"][0]["step"] > held)
    job.stop()
    finished(job)
    assert slots.snapshot() == {"busy": 0, "waiting": 0, "total": 1}


def test_one_step_at_a_time():
    job = job_of(member(epochs=5), paused=True).start()
    time.sleep(0.2)
    assert job.snapshot()["members"][0]["step"] == 0
    for n in (1, 2, 3):
        job.step_once()
        assert wait(lambda n=n: job.snapshot()["members"][0]["step"] == n)
        assert wait(lambda: job.state == "paused")
    time.sleep(0.2)
    assert job.snapshot()["members"][0]["step"] == 3
    job.stop()
    assert finished(job)["members"][0]["status"] == "stopped"


def test_slots_bound_concurrent_jobs_and_count_the_queue():
    slots = train_jobs.Slots(1)
    first = job_of(member(epochs=50), slots=slots, slow=True).start()
    assert wait(lambda: first.state == "running")
    second = job_of(member(epochs=1), slots=slots).start()
    assert wait(lambda: slots.snapshot()["waiting"] == 1)
    time.sleep(0.3)
    snap = second.snapshot()
    assert snap["state"] == "queued" and snap["members"][0]["step"] == 0
    assert snap["slots"] == {"busy": 1, "waiting": 1, "total": 1}
    first.stop()
    assert finished(second)["state"] == "done"
    assert slots.snapshot() == {"busy": 0, "waiting": 0, "total": 1}


def test_stop_while_queued_never_trains():
    slots = train_jobs.Slots(1)
    assert slots.acquire(who=-1)
    job = job_of(member(), slots=slots).start()
    assert wait(lambda: slots.snapshot()["waiting"] == 1)
    job.stop()
    snap = finished(job, 2)
    assert snap["members"][0]["status"] == "stopped" and snap["members"][0]["step"] == 0
    assert slots.snapshot()["waiting"] == 0
    slots.release()


@pytest.mark.parametrize("settings", [{"optimizer": "adam", "lr": 5.0},
                                      {"optimizer": "momentum", "lr": 10.0, "epochs": 10}])
def test_huge_learning_rate_diverges_without_nan(settings):
    snap = finished(job_of(member(**settings)).start())
    m = snap["members"][0]
    assert snap["state"] == "diverged" and m["status"] == "diverged"
    assert m["loss"] is None and finite_curves(m)


def test_job_ends_when_nobody_watches_or_the_session_is_gone():
    job = job_of(member(epochs=50), slow=True, heartbeat_timeout=0.5).start()
    assert wait(lambda: job.state == "running")
    for _ in range(5):  # the page keeps looking: it keeps training
        time.sleep(0.2)
        job.touch()
    assert not job.finished
    assert finished(job, 5, watched=False)["state"] == "abandoned"

    alive = threading.Event()
    alive.set()
    job = job_of(member(epochs=50), slow=True, alive=alive.is_set, session_grace=0.3).start()
    time.sleep(0.8)
    assert job.state == "running"  # no heartbeat needed while the session is connected
    alive.clear()
    assert finished(job, 5)["state"] == "abandoned"  # even while the heartbeat goes on


def test_time_limit():
    snap = finished(job_of(member(epochs=50), slow=True, max_seconds=0.5).start(), 10)
    assert snap["state"] == "timeout" and 0.5 <= snap["train_seconds"] < 2.0


def test_a_crash_ends_the_job_and_frees_the_slot(monkeypatch):
    slots = train_jobs.Slots(1)
    m = member()
    monkeypatch.setattr(m, "advance", lambda: 1 / 0)
    snap = finished(job_of(m, slots=slots).start(), 5)
    assert snap["state"] == "error" and snap["members"][0]["status"] == "stopped"
    assert slots.snapshot()["busy"] == 0


def test_race_relu_vs_sigmoid_same_start_sigmoid_clearly_slower():
    spec = models.normalize_spec(models.DEFAULT_SPEC)
    nets = models.same_init_models(spec, ["relu", "sigmoid"], seed=0)
    ds = models.dataset("shapes")
    settings = {**DEFAULT, "epochs": 3}
    members = [train_jobs.Member(a, {**spec, "activation": a}, settings, nets[a], ds) for a in nets]
    snap = finished(job_of(*members, kind="compare").start())
    relu, sig = snap["members"]
    assert relu["epoch95"] is not None and relu["epoch95"] <= 2
    assert sig["epoch95"] is None and sig["test_acc"] < 0.7
    # vanishing gradients in the first epoch: with sigmoid the gradient shrinks on its way
    # back (fc1 -> conv1), and its first layer gets a far smaller gradient than ReLU's
    def first_epoch(m, layer):
        x = np.asarray(m["curves"]["grad_x"])
        return float(np.median(np.asarray(m["curves"]["grad"][layer])[x <= 1]))

    assert first_epoch(sig, "conv1") < first_epoch(relu, "conv1") / 5
    assert first_epoch(sig, "conv1") < first_epoch(sig, "fc1") / 10


def test_env_bounds_are_clamped(monkeypatch):
    monkeypatch.setenv("X_TEST", "abc")
    assert train_jobs._env_number("X_TEST", 3, 1, 5) == 3
    monkeypatch.setenv("X_TEST", "100")
    assert train_jobs._env_number("X_TEST", 3, 1, 5) == 5
    monkeypatch.setenv("X_TEST", "nan")
    assert train_jobs._env_number("X_TEST", 3, 1, 5) == 3


@pytest.mark.parametrize("epochs", [train_jobs.MAX_EPOCHS + 10])
def test_epochs_are_bounded(epochs):
    assert member(epochs=epochs).epochs == train_jobs.MAX_EPOCHS


def test_train_accuracy_curve_is_per_window_not_running_per_epoch():
    snap = finished(job_of(member(epochs=1, batch_size=128)).start())
    m = snap["members"][0]
    acc = np.asarray(m["curves"]["train_acc"])
    assert len(acc) == 16  # 16 batches, one point each (16 points per epoch at most)
    weights = np.full(16, 128.0)
    weights[-1] = 2000 - 15 * 128  # the last batch is smaller
    # the batch accuracies add back up to the epoch's accuracy reported by fit
    assert np.sum(acc * weights) / weights.sum() == pytest.approx(m["train_acc"], abs=1e-9)
    correct = acc[:-1] * 128  # whole numbers of right answers per batch
    np.testing.assert_allclose(correct, np.round(correct), atol=1e-9)
    # with 63 batches an epoch, a point averages 3 of them
    snap = finished(job_of(member(epochs=1)).start())
    assert len(snap["members"][0]["curves"]["x"]) == 21
