"""The guided lesson in Chromium, start to end in English and Chinese: every step's control is
used the way its question asks, the check says right, Next leads on, a wrong answer gets a hint,
and the summary counts six right answers."""

from __future__ import annotations

import re

import pytest

from cnnviz import i18n
from cnnviz.lessons import guided
from tests.browser.conftest import assert_clean, click_option, open_page, settle, shot, type_number


def tr(key: str, lang: str, **kw) -> str:
    return i18n.t(f"lesson.{key}", lang, **kw)


def click(page, selector: str) -> None:
    el = page.locator(selector).first
    el.scroll_into_view_if_needed()
    el.click()
    settle(page)




def check(page, step: str) -> str:
    """Press Check; return the verdict's text."""
    click(page, f".st-key-lesson_check_{step} button")
    alert = page.locator("[data-testid=stMain] [data-testid=stAlert]").last
    alert.wait_for()
    return alert.inner_text()


def use_step(page, step: str, lang: str) -> None:
    if step == "input":
        click_option(page, "lesson_input_mode", tr("input_mode_centred", lang))
        type_number(page, "lesson_answer_input", -80)
    elif step == "conv":
        type_number(page, "lesson_conv_stride", 2)
    elif step == "activation":
        opener = page.locator(".st-key-lesson_act_fn button[aria-haspopup=listbox]").first
        opener.click()
        page.get_by_role("option", name=tr("act_fn_relu", lang), exact=True).click()
        settle(page)
        type_number(page, "lesson_answer_activation", guided.relu_zeros())
    elif step == "pooling":
        click_option(page, "lesson_pool_mode", tr("pool_mode_max", lang))
    elif step == "fc":
        thumb = page.locator(".st-key-lesson_fc_maps input[type=range]")
        thumb.focus()
        thumb.press("ArrowRight")  # 2 -> 3 maps
        settle(page)
        type_number(page, "lesson_answer_fc", 3 * 4 * 4)
    elif step == "training":
        click(page, ".st-key-lesson_train button")
        page.locator(".st-key-lesson_train_chart .js-plotly-plot").wait_for()
        click_option(page, "lesson_train_answer", tr(f"act_fn_{guided.winner(guided.race())}",
                                                     lang))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_walk_the_lesson_from_start_to_end(page, lang):
    open_page(page, "lesson", lang)
    assert_clean(page)
    title = page.locator("h1").first.inner_text()
    assert bool(re.search(r"[\u4e00-\u9fff]", title)) == (lang == "zh")
    # a wrong answer first: a hint, no progress
    type_number(page, "lesson_answer_input", 20)
    verdict = check(page, "input")
    assert tr("wrong", lang) in verdict and "100" in verdict
    for i, step in enumerate(guided.STEPS):
        heading = page.locator("[data-testid=stMain] h2").first.inner_text()
        assert heading.startswith(tr({"input": "input_title", "conv": "conv_title",
                                      "activation": "act_title", "pooling": "pool_title",
                                      "fc": "fc_title", "training": "train_title"}[step],
                                     lang)[:6])
        use_step(page, step, lang)
        verdict = check(page, step)
        assert tr("right", lang) in verdict, (step, verdict)
        assert_clean(page)
        progress = page.locator("[data-testid=stProgress]").first.inner_text()
        assert tr("progress", lang, done=i + 1, total=6) in progress
        shot(page, f"lesson-{lang}-{i + 1}-{step}")
        if i < len(guided.STEPS) - 1:
            click(page, ".st-key-lesson_next button")
    summary = page.locator(".st-key-lesson_summary")
    summary.wait_for()
    assert tr("done_title", lang) in summary.inner_text()
    assert tr("done_text", lang, done=6, total=6) in summary.inner_text()
    # going back keeps the answers
    click(page, ".st-key-lesson_back button")
    alert = page.locator("[data-testid=stMain] [data-testid=stAlert]").last
    assert tr("right", lang) in alert.inner_text()
    shot(page, f"lesson-{lang}-done")
