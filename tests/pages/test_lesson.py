"""The guided lesson in AppTest: every step renders in both languages, right and wrong answers
get their verdicts, Back/Next move through the steps, progress counts the right answers."""

from __future__ import annotations

import pytest

from cnnviz.lessons import guided
from tests.helpers import errors_of, run_page

PAGE = "pages/lesson.py"


def answer_right(at, step: str):
    """Use the step's control the way the question asks, then press Check."""
    if step == "input":
        at.button_group(key="lesson_input_mode").set_value("centred").run()
        at.number_input(key="lesson_answer_input").set_value(-80).run()
    elif step == "conv":
        at.number_input(key="lesson_conv_stride").set_value(2).run()
    elif step == "activation":
        at.selectbox(key="lesson_act_fn").set_value("relu").run()
        at.number_input(key="lesson_answer_activation").set_value(guided.relu_zeros()).run()
    elif step == "pooling":
        at.radio(key="lesson_pool_mode").set_value("max").run()
    elif step == "fc":
        at.slider(key="lesson_fc_maps").set_value(3).run()
        at.number_input(key="lesson_answer_fc").set_value(48).run()
    elif step == "training":
        at.button(key="lesson_train").click().run()
        at.radio(key="lesson_train_answer").set_value(guided.winner(guided.race())).run()
    at.button(key=f"lesson_check_{step}").click().run()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_walk_every_step_right(lang):
    at = run_page(PAGE, lang)
    assert errors_of(at) == []
    for i, step in enumerate(guided.STEPS):
        assert at.session_state["lesson_step"] == step
        answer_right(at, step)
        assert errors_of(at) == []
        assert len(at.success) == 1, (step, [w.value for w in at.warning])
        assert at.session_state["lesson_done"] >= set(guided.STEPS[: i + 1])
        if i < len(guided.STEPS) - 1:
            at.button(key="lesson_next").click().run()
    assert at.get("progress")[0].proto.value == 100
    summary = at.main.children  # the summary box appears after the last right answer
    assert any("6" in m.value for m in at.markdown if "6" in m.value), summary


def test_wrong_answers_get_a_hint_not_a_pass():
    at = run_page(PAGE, "en")
    at.number_input(key="lesson_answer_input").set_value(20).run()
    at.button(key="lesson_check_input").click().run()
    assert len(at.success) == 0 and len(at.warning) == 1
    assert "mean" in at.warning[0].value
    # a stride that gives 1x1, then padding: different hints
    at.button(key="lesson_next").click().run()
    at.number_input(key="lesson_conv_stride").set_value(3).run()
    at.button(key="lesson_check_conv").click().run()
    assert "1×1" in at.warning[0].value
    at.number_input(key="lesson_conv_padding").set_value(1).run()
    at.button(key="lesson_check_conv").click().run()
    assert "padding back to 0" in at.warning[0].value
    assert "lesson_done" not in at.session_state or not at.session_state["lesson_done"]
    assert at.get("progress")[0].proto.value == 0


def test_verdict_disappears_when_the_answer_changes():
    at = run_page(PAGE, "en")
    at.number_input(key="lesson_answer_input").set_value(-80).run()
    at.button(key="lesson_check_input").click().run()
    assert len(at.success) == 1
    at.number_input(key="lesson_answer_input").set_value(-81).run()
    assert len(at.success) == 0 and len(at.warning) == 0


def test_back_keeps_progress():
    at = run_page(PAGE, "en")
    answer_right(at, "input")
    at.button(key="lesson_next").click().run()
    at.button(key="lesson_back").click().run()
    assert at.session_state["lesson_step"] == "input"
    assert len(at.success) == 1  # the checked answer is still there
    assert at.get("progress")[0].proto.value == int(100 / 6)
