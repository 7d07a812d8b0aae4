"""A training job leaves the interpreter to the class's pages: after each round of steps it
sleeps as long as the round took (``yield_share``), and those pauses do not count against its
training-time bound."""

from __future__ import annotations

import threading

from cnnviz.classroom import train_jobs
from tests.helpers import finished, job_of, member, wait


def record_sleeps(monkeypatch) -> list[float]:
    """The job thread's sleeps (the test thread's polling sleeps are left alone)."""
    sleeps: list[float] = []
    real = train_jobs.time.sleep

    def sleep(seconds: float) -> None:
        if threading.current_thread().name.startswith("cnnviz-train-"):
            sleeps.append(seconds)
        real(seconds)

    monkeypatch.setattr(train_jobs.time, "sleep", sleep)
    return sleeps


def test_a_job_sleeps_after_every_round_as_long_as_it_took(monkeypatch):
    sleeps = record_sleeps(monkeypatch)
    snap = finished(job_of(member(epochs=1), yield_share=1.0).start())
    steps = snap["members"][0]["step"]
    assert snap["state"] == "done" and steps > 10
    assert len(sleeps) >= steps - 1 and all(s > 0 for s in sleeps)
    # each pause matches its round, so together they equal the training time (not counted in it)
    assert 0.5 * snap["train_seconds"] < sum(sleeps) < 2.0 * snap["train_seconds"] + 0.1


def test_yield_zero_trains_flat_out(monkeypatch):
    sleeps = record_sleeps(monkeypatch)
    snap = finished(job_of(member(epochs=1), yield_share=0.0).start())
    assert snap["state"] == "done" and sleeps == []


def test_slow_motion_keeps_its_own_pace(monkeypatch):
    sleeps = record_sleeps(monkeypatch)
    job = job_of(member(epochs=1), yield_share=1.0, slow=True).start()
    assert wait(lambda: job.snapshot()["members"][0]["step"] >= 3, watch=[job])
    job.stop()
    finished(job)
    assert len(sleeps) >= 3
    assert all(s <= train_jobs.SLOW_STEP_SECONDS for s in sleeps)  # its own pace, no extra yield
