"""AppTest of the trainer page: start/stop, the activation race, impossible nets, divergence,
page switches, the inspection views, both languages. Tiny epochs keep it quick.

``run_every`` does not fire by itself in AppTest: the tests sleep, then ``at.run()``.
"""

from __future__ import annotations

import base64
import json
import re
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.viz import style
from tests.helpers import errors_of, open_page

PAGE = "pages/trainer.py"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _no_frame_rerun(monkeypatch):
    # ui.nav.ensure_frame() sees Streamlit's old pages/ mode at the start of *every* AppTest run
    # (AppTest resets PagesManager.uses_pages_directory) and reruns once; that aborted first
    # pass swallows a button's click. A real server leaves that mode on its first request.
    monkeypatch.setattr("ui.nav.running_without_frame", lambda: False)


def open_trainer(lang: str = "en", state: dict | None = None) -> AppTest:
    return open_page(PAGE, lang, state, timeout=120)


def tr(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"trainer.{key}", lang, **kw)


def job(at):
    # AppTest's session state has no .get()
    return at.session_state["_tr_job"] if "_tr_job" in at.session_state else None  # noqa: SIM401


def until_finished(at, timeout: float = 90.0) -> None:
    """Let the worker train, rerunning the page like the fragment's ticks would."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.3)
        at.run()
        assert errors_of(at) == []
        if job(at) is not None and job(at).finished:
            at.run()  # the tick after the end: history, inspection
            return
    raise AssertionError(f"training did not finish: {job(at).state}")


def decode(value) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=np.float64)


def charts(at) -> dict[str, dict]:
    out = {}
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        # a long title is set on two lines (viz.figures.two_lines only inserts "<br>")
        out[spec["layout"].get("title", {}).get("text", "").replace("<br>", "")] = spec
    return out


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_opens_with_data_network_table_and_controls(lang):
    at = open_trainer(lang)
    assert bool(CJK.search(at.title[0].value)) == (lang == "zh")
    table = at.table[0].value
    assert list(table.iloc[:, 0]) == ["input", "conv1", "relu1", "maxpool1", "conv2", "relu2",
                                      "maxpool2", "flatten1", "fc1"]
    assert list(table.iloc[:, 2])[-3:] == ["16 × 4 × 4", "256", "4"]
    assert tr("table_note", lang, total="2,276", features="256") in texts(at)
    assert tr("preview_title", lang) in charts(at)
    assert not at.button(key="tr_start_single").disabled
    assert at.button(key="tr_stop_single").disabled
    assert tr("empty_single", lang) in texts(at)


def test_table_follows_the_edits():
    at = open_trainer(state={"tr_blocks": 3, "tr_b2_filters": 4, "tr_pool": "avg"})
    table = at.table[0].value
    assert "avgpool3" in list(table.iloc[:, 0])
    assert list(table.iloc[:, 2])[-3:] == ["4 × 2 × 2", "16", "4"]
    at.radio(key="tr_data").set_value("digits").run()
    table = at.table[0].value
    assert table.iloc[0, 2] == "1 × 8 × 8" and table.iloc[-2, 2] == "4"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_impossible_network_is_explained_and_start_is_off(lang):
    state = {"tr_blocks": 2, "tr_b0_kernel": 7, "tr_b0_padding": 0, "tr_b1_kernel": 7,
             "tr_b1_padding": 0}
    at = open_trainer(lang, state)
    warning = tr("arch_conv", lang, block=2, size=5, kernel=7, padding=0)
    assert warning in [w.value for w in at.warning]
    assert at.button(key="tr_start_single").disabled
    assert at.button(key="tr_start_compare").disabled
    assert len(at.table) == 0  # no table for a net that cannot exist
    assert errors_of(at) == []
    at.select_slider(key="tr_b1_padding").set_value(3).run()  # 5 + 6 - 7 + 1 = 5: fits
    assert not at.button(key="tr_start_single").disabled and not at.warning


def test_start_stream_stop_and_keep_the_run():
    at = open_trainer(state={"tr_epochs": 50, "tr_slow": True})
    at.button(key="tr_start_single").click().run()
    assert job(at) is not None and not job(at).finished
    lengths = []
    for _ in range(3):
        time.sleep(0.6)
        at.run()
        loss = charts(at)[tr("chart_loss")]["data"][0]
        lengths.append(len(decode(loss["y"])))
    assert lengths[0] < lengths[1] < lengths[2], lengths  # the curve grows between ticks
    assert at.button(key="tr_start_single").disabled
    assert not at.button(key="tr_stop_single").disabled
    assert "Training: epoch" in texts(at)
    t0 = time.monotonic()
    at.button(key="tr_stop_single").click().run()
    assert job(at).thread.join(0.5) is None and job(at).finished
    assert time.monotonic() - t0 < 2.0
    at.run()
    history = at.dataframe[0].value
    assert len(history) == 1 and history.iloc[0][tr("col_status")] == tr("status_stopped")
    assert not at.button(key="tr_start_single").disabled
    assert errors_of(at) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tiny_run_then_look_inside_and_use_it(lang):
    at = open_trainer(lang, {"tr_epochs": 1})
    at.button(key="tr_start_single").click().run()
    until_finished(at)
    assert any(tr("end_done", lang, acc="", epochs=1, seconds="")[:6] in s.value
               for s in at.success)
    figs = charts(at)
    for key in ("chart_loss", "chart_acc", "chart_grad", "cm_title"):
        assert tr(key, lang) in figs, key
    assert tr("kernels_title", lang, n=8, k=3) in figs
    kernels = decode(figs[tr("kernels_title", lang, n=8, k=3)]["data"][0]["z"])
    weights = at.session_state["_tr_runs"][0]["state"]["0.weight"]
    assert np.nanmax(np.abs(kernels)) == pytest.approx(np.abs(weights).max(), rel=1e-6)
    cm = decode(figs[tr("cm_title", lang)]["data"][0]["z"])
    assert cm.sum() == 500  # every test picture counted once
    labels = [b.label for b in at.get("download_button")]
    assert labels == [tr("dl_weights", lang), tr("dl_code", lang)]
    assert tr("use_sees", lang, s=16) in figs
    # one test picture through the layers: conv1's 8 maps, then the FC outputs and softmax
    assert tr("maps_title", lang, name="conv1", c=8, h=16, w=16) in figs
    at.button_group(key="tr_layer").set_value("maxpool2").run()
    assert tr("maps_title", lang, name="maxpool2", c=16, h=4, w=4) in charts(at)
    at.number_input(key="tr_example").set_value(7).run()
    at.button_group(key="tr_layer").set_value("fc").run()
    figs = charts(at)
    probs = decode(figs[tr("softmax_title", lang)]["data"][-1]["y"])
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)
    logits = decode(figs[tr("logits_title", lang)]["data"][0]["y"])
    assert np.argmax(logits) == np.argmax(probs)
    at.button_group(key="tr_layer").set_value("flatten").run()
    flat = decode(charts(at)[tr("flat_title", lang, d=256, c=16, h=4, w=4)]["data"][0]["y"])
    assert flat.size == 256 and flat.min() >= 0  # after ReLU and max pooling
    assert errors_of(at) == []


def test_race_relu_vs_sigmoid_overlays_with_activation_colours():
    at = open_trainer(state={"tr_epochs": 1})
    at.button(key="tr_start_compare").click().run()
    assert job(at).kind == "compare" and at.button(key="tr_start_single").disabled
    until_finished(at)
    runs = at.session_state["_tr_runs"]
    assert [r["spec"]["activation"] for r in runs] == ["relu", "sigmoid"]
    assert runs[0]["group"] == runs[1]["group"] is not None
    assert at.multiselect(key="tr_overlay").value == [1, 2]
    acc = [s for title, s in charts(at).items() if title == tr("chart_acc")]
    assert acc, "accuracy overlay missing"
    colors = {t["line"]["color"] for t in acc[-1]["data"]}
    assert colors == {style.ACTIVATION_COLORS["relu"], style.ACTIVATION_COLORS["sigmoid"]}
    finals = [r["final"]["test_acc"] for r in runs]
    assert finals[0] > finals[1]  # one epoch: ReLU is far ahead of sigmoid
    assert errors_of(at) == []


def test_huge_learning_rate_stops_with_a_message_and_no_nan():
    at = open_trainer(state={"tr_opt": "adam", "tr_lr": 5.0, "tr_epochs": 2})
    at.button(key="tr_start_single").click().run()
    until_finished(at)
    assert job(at).state == "diverged"
    assert tr("diverged", step=0)[:20] in "\n".join(e.value for e in at.error)
    for spec in charts(at).values():
        for trace in spec["data"]:
            if "y" in trace:
                assert np.all(np.isfinite(decode(trace["y"])))
    assert at.session_state["_tr_runs"][0]["status"] == "diverged"


def test_one_step_then_resume_pause_and_stop():
    at = open_trainer(state={"tr_epochs": 5})
    at.button(key="tr_step_single").click().run()
    time.sleep(0.5)
    at.run()
    assert job(at).state == "paused" and job(at).snapshot()["members"][0]["step"] == 1
    at.button(key="tr_step_single").click().run()
    time.sleep(0.5)
    at.run()
    assert job(at).snapshot()["members"][0]["step"] == 2
    assert at.button(key="tr_pause_single").label == tr("resume")
    at.button(key="tr_pause_single").click().run()  # resume
    time.sleep(0.3)
    at.run()
    assert job(at).snapshot()["members"][0]["step"] > 2
    at.button(key="tr_stop_single").click().run()
    job(at).thread.join(2)
    assert job(at).finished


def test_switching_pages_mid_training_loses_nothing():
    at = open_trainer(state={"tr_epochs": 50, "tr_slow": True})
    at.select_slider(key="tr_lr").set_value(0.02).run()
    at.button(key="tr_start_single").click().run()
    time.sleep(0.5)
    at.switch_page("pages/home.py").run()
    step = job(at).snapshot()["members"][0]["step"]
    time.sleep(1.0)
    at.switch_page(PAGE).run()
    assert errors_of(at) == []
    assert not job(at).finished and job(at).snapshot()["members"][0]["step"] > step
    assert at.select_slider(key="tr_lr").value == 0.02  # the setting survived the trip
    assert at.slider(key="tr_epochs").value == 50
    at.button(key="tr_stop_single").click().run()
    job(at).thread.join(2)
    at.run()
    assert len(at.session_state["_tr_runs"]) == 1


def test_changing_optimizer_sets_a_usual_learning_rate():
    at = open_trainer()
    at.selectbox(key="tr_opt").set_value("adam").run()
    assert at.select_slider(key="tr_lr").value == pytest.approx(5e-3)
    at.selectbox(key="tr_opt").set_value("sgd").run()
    assert at.select_slider(key="tr_lr").value == pytest.approx(0.2)


@pytest.mark.parametrize(("state", "reason"), [
    ({"tr_act": "sigmoid"}, "sigmoid"),
    ({"tr_lr": 2.0}, "lr"),
])  # fmt: skip
def test_a_run_that_does_not_learn_gets_a_hint(state, reason):
    at = open_trainer("zh", {"tr_epochs": 3, **state})
    at.button(key="tr_start_single").click().run()
    until_finished(at)
    assert job(at).state == "done" and job(at).snapshot()["members"][0]["train_acc"] < 0.4
    hint = tr(f"stalled_{reason}", "zh", epoch=3)
    assert hint in [w.value for w in at.warning]


def test_waiting_for_a_free_trainer_is_shown_then_training_starts():
    from cnnviz.classroom import train_jobs

    slots = train_jobs.SLOTS
    held = 0
    while slots.acquire(who=-1, timeout=0.01):  # the whole class is training already
        held += 1
    slots.leave_queue(-1)
    try:
        at = open_trainer(state={"tr_epochs": 1})
        at.button(key="tr_start_single").click().run()
        time.sleep(0.5)
        at.run()
        assert job(at).state == "queued"
        waiting = tr("queued", busy=held, total=slots.n, waiting=1)
        assert waiting in [i.value for i in at.info]
        assert not at.get("plotly_chart") or tr("chart_loss") not in charts(at)
    finally:
        for _ in range(held):
            slots.release()
    until_finished(at)
    assert job(at).state == "done" and slots.snapshot()["busy"] == 0


def test_digits_net_sees_8x8_and_history_can_be_cleared():
    at = open_trainer("zh", {"tr_data": "digits", "tr_epochs": 2})
    assert at.table[0].value.iloc[0, 2] == "1 × 8 × 8"
    at.button(key="tr_start_single").click().run()
    until_finished(at)
    figs = charts(at)
    assert tr("use_sees", "zh", s=8) in figs
    x = decode(figs[tr("use_sees", "zh", s=8)]["data"][0]["z"])
    assert x.size == 64 and x.min() >= 0 and x.max() <= 1
    assert at.session_state["_tr_runs"][0]["spec"]["dataset"] == "digits"
    at.button(key="tr_clear").click().run()
    assert at.session_state["_tr_runs"] == [] and errors_of(at) == []
    assert tr("history_empty", "zh") in [i.value for i in at.info]


def test_network_too_big_for_the_shared_server_is_refused_before_start():
    state = {"tr_blocks": 3, "tr_batch": 128}
    for b in range(3):
        state |= {f"tr_b{b}_filters": 32, f"tr_b{b}_kernel": 7, f"tr_b{b}_padding": 3,
                  f"tr_b{b}_pool": False}
    at = open_trainer("en", state)
    assert len(at.table) == 1  # the shape table is fine: the net exists
    warning = [w.value for w in at.warning if "too big" in w.value]
    assert warning and "270 MB" in warning[0]
    assert at.button(key="tr_start_single").disabled
    assert at.button(key="tr_start_compare").disabled
    at.select_slider(key="tr_batch").set_value(8).run()  # 17 MB: allowed
    assert not at.button(key="tr_start_single").disabled
    assert not [w for w in at.warning if "too big" in w.value]
