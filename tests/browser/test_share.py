"""Classroom links in Chromium: change settings on each page, copy the link from the share box,
open it in a fresh browser context (a new session) and find the same page; a tampered link gives
one notice and no exception; a preset with hidden controls shows only the controls it names;
bound widgets keep working on pages reached through the sidebar."""

from __future__ import annotations

import hashlib
import re

import pytest

from cnnviz import i18n
from tests.browser.conftest import (
    assert_clean,
    click_option,
    link_from_share_box,
    open_page,
    press,
    settle,
    shot,
    type_number,
)

# Every keyed element of the main area: what its inputs, sliders, chosen buttons, chips and
# charts show (charts hashed in Python). Two pages with equal states look the same.
STATE_JS = """() => {
  const out = {};
  const sel = '[data-testid=stMain] [data-testid=stElementContainer][class*="st-key-"]';
  for (const el of document.querySelectorAll(sel)) {
    const key = [...el.classList].find(c => c.startsWith('st-key-')).slice(7);
    const vals = [];
    el.querySelectorAll('input').forEach(i => vals.push(
      (i.type === 'checkbox' || i.type === 'radio') ? String(i.checked) : i.value));
    el.querySelectorAll('button[aria-pressed=true], button[aria-checked=true], [data-tag]')
      .forEach(b => vals.push(b.innerText));  // chosen pills / segments, multiselect chips
    const plot = el.querySelector('.js-plotly-plot');
    if (plot && plot.data) {
      vals.push(JSON.stringify(plot.data.map(d => [d.z, d.y, d.x, d.source, d.text])));
    } else if (el.querySelector('[data-testid=stPlotlyChart]')) {
      vals.push('pending');  // a chart not drawn yet
    }
    out[key] = vals;
  }
  return out;
}"""
CONTROLS = ("stSlider", "stNumberInput", "stSelectbox", "stMultiSelect", "stRadio",
            "stCheckbox", "stButtonGroup", "stTextInput", "stDataFrame")


def _state_now(page) -> dict[str, list[str]]:
    state = page.evaluate(STATE_JS)
    return {k: [hashlib.sha1(v.encode()).hexdigest()[:12] if len(v) > 80 else v for v in vals]
            for k, vals in state.items()}


def page_state(page, timeout_ms: int = 20_000) -> dict[str, list[str]]:
    """The state once it stops changing (charts and widgets draw after the script ends)."""
    settle(page)
    last, waited = _state_now(page), 0
    while waited < timeout_ms:
        page.wait_for_timeout(700)
        waited += 700
        now = _state_now(page)
        if now == last and not any("pending" in v for v in now.values()):
            return now
        last = now
    return last



def open_in_fresh_context(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    fresh = ctx.new_page()
    fresh.set_default_timeout(30_000)
    fresh.goto(url)
    settle(fresh)
    fresh.wait_for_selector("h1")
    settle(fresh)
    return ctx, fresh




def choose(page, key: str, option: str) -> None:
    opener = page.locator(f".st-key-{key} button[aria-haspopup=listbox]").first
    opener.scroll_into_view_if_needed()
    opener.click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)



def toasts(page) -> list[str]:
    return [t.inner_text() for t in page.locator("[data-testid=stToast]").all()]


# what a student does on each page before copying the link
def change_home(page):
    type_number(page, "home_w", 64)
    press(page, "home_copies", "ArrowRight", 2)
    choose(page, "home_pattern", "Cross")


def change_preprocessing(page):
    click_option(page, "prep_norm", "to variance 1 (standardize)")
    press(page, "prep_mean_x", "ArrowRight", 2)
    press(page, "prep_eps", "Home")


def change_convolution(page):
    type_number(page, "conv_stride", 2)
    type_number(page, "conv_padding", 1)
    type_number(page, "conv_img_bias_0", 0.5)


def change_activation(page):
    press(page, "act_alpha", "ArrowRight", 3)
    click_option(page, "act_fns", "tanh")  # one curve fewer
    choose(page, "act_map_fn", "sigmoid")


def change_pooling(page):
    choose(page, "pool_example", "横折特征图（3×3）")  # the pooling link is tested in Chinese
    click_option(page, "pool_fm_mode", "平均池化")
    press(page, "pool_shift", "ArrowRight", 2)


def change_trainer(page):
    press(page, "tr_epochs", "ArrowLeft", 4)
    choose(page, "tr_act", "Sigmoid")
    click_option(page, "tr_pool", "Average")


def change_lesson(page):
    page.locator(".st-key-lesson_next button").first.click()
    settle(page)
    type_number(page, "lesson_conv_stride", 2)


CHANGES = {"": change_home, "preprocessing": change_preprocessing,
           "convolution": change_convolution, "activation": change_activation,
           "pooling": change_pooling, "trainer": change_trainer, "lesson": change_lesson}


@pytest.mark.parametrize("path", list(CHANGES))
def test_link_restores_the_page_in_a_fresh_session(page, browser, path):
    lang = "zh" if path in ("pooling", "lesson") else "en"  # a link also keeps the language
    open_page(page, path, lang)
    before = page_state(page)
    CHANGES[path](page)
    assert_clean(page)
    after = page_state(page)
    assert after != before, "the changes should show"
    url = link_from_share_box(page)
    assert f"lang={lang}" in url and url.split("?")[0].rstrip("/").endswith(path)
    ctx, fresh = open_in_fresh_context(browser, url)
    try:
        assert_clean(fresh)
        assert toasts(fresh) == []
        restored = page_state(fresh)
        assert restored == after, {k: (after.get(k), restored.get(k)) for k in after
                                   if after.get(k) != restored.get(k)}
        title = fresh.locator("h1").first.inner_text()
        assert bool(re.search(r"[\u4e00-\u9fff]", title)) == (lang == "zh")
        shot(fresh, f"link-restored-{path or 'home'}-{lang}")
    finally:
        ctx.close()


@pytest.mark.parametrize("lang, words", [("en", "could not be used"), ("zh", "无法使用")])
def test_tampered_link_gives_a_notice_and_defaults(page, lang, words):
    page.goto(f"{page.base_url}/pooling?pool_window=99&pool_fm_mode=zzz&pool_shift=2"
              f"&pool_grid=1,2;x&only=%7Bdisplay:none%7D&lang={lang}")
    settle(page)
    page.wait_for_selector("[data-testid=stToast]")
    assert_clean(page)
    note = toasts(page)[0]
    assert words in note
    for key in ("pool_window", "pool_fm_mode", "pool_grid", "{display:none}"):
        assert key in note
    assert page.locator(".st-key-pool_window input").input_value() == "2"  # the default
    assert page.locator(".st-key-pool_shift input[type=range]").input_value() == "2"
    assert "pool_window" not in page.url and "pool_grid" not in page.url
    shot(page, f"link-tampered-{lang}")


def visible_controls(page) -> set[str]:
    """Keys of the main area's settings widgets that are visible (once that stops changing)."""
    last = _visible_now(page)
    for _ in range(20):
        page.wait_for_timeout(500)
        now = _visible_now(page)
        if now == last:
            return now
        last = now
    return last


def _visible_now(page) -> set[str]:
    found = set()
    for testid in CONTROLS:
        for el in page.locator(f"[data-testid=stMain] [data-testid=stElementContainer]"
                               f":has([data-testid={testid}])").all():
            if el.is_visible():
                cls = el.get_attribute("class") or ""
                key = next((c[7:] for c in cls.split() if c.startswith("st-key-")), "?")
                found.add(key)
    return found


@pytest.mark.parametrize("path, preset, only, in_link", [
    ("activation", "sigmoid_saturates", {"act_sat", "act_xrange", "act_eps"}, "act_xrange=-10"),
    ("pooling", "turn_keeps_3", {"pool_window", "pool_stride"}, "pool_window=3"),
    ("convolution", "stride2", {"conv_stride"}, "conv_stride=2"),
])
def test_preset_with_hidden_controls_shows_only_its_controls(page, path, preset, only, in_link):
    page.goto(f"{page.base_url}/{path}?preset={preset}&lang=en")
    settle(page)
    page.wait_for_selector("h1")
    settle(page)
    assert_clean(page)
    for key in only:
        page.locator(f".st-key-{key}").first.wait_for(state="visible")
    assert visible_controls(page) == only
    assert toasts(page) == []
    shot(page, f"preset-{path}-{preset}")
    # the sidebar keeps its own controls, says some are hidden, and brings them back
    assert page.locator(".st-key-lang_toggle").is_visible()
    assert page.get_by_text("Some controls are hidden for this lesson.").is_visible()
    page.locator(".st-key-share_show_all button").first.click()
    settle(page)
    assert len(visible_controls(page)) > len(only) + 2
    assert "only=" not in page.url
    # that next run also put the preset's values into the link in place of ?preset=
    assert in_link in page.url and "preset=" not in page.url


def test_preset_button_applies_and_its_values_reach_the_link(page):
    open_page(page, "pooling", "en")
    page.locator(".st-key-share_preset_turn_keeps_3 button").first.click()
    settle(page)
    assert_clean(page)
    page.locator(".st-key-pool_example").first.wait_for(state="hidden")
    assert visible_controls(page) == {"pool_window", "pool_stride"}
    assert page.locator(".st-key-pool_window input").input_value() == "3"
    url = link_from_share_box(page)
    assert "pool_window=3" in url and "only=pool_window%2Cpool_stride" in url
    shot(page, "preset-button-pooling")


def test_bound_widgets_work_after_sidebar_navigation(page):
    open_page(page, "", "en")
    nav = page.locator("[data-testid=stSidebarNav] a")
    nav.filter(has_text="Pooling").first.click()
    settle(page)
    type_number(page, "pool_window", 3)
    assert "pool_window=3" in page.url
    nav.filter(has_text="Activation").first.click()
    settle(page)
    press(page, "act_alpha", "ArrowRight", 2)
    assert "act_alpha=0.12" in page.url
    nav.filter(has_text="Pooling").first.click()
    settle(page)
    assert page.locator(".st-key-pool_window input").input_value() == "3"
    assert "pool_window=3" in page.url and "act_alpha" not in page.url
    type_number(page, "pool_stride", 1)
    assert "pool_stride=1" in page.url
    assert_clean(page)


def test_share_box_has_link_qr_and_network_note(page):
    open_page(page, "activation", "zh")
    page.locator(".st-key-share_open button").first.click()
    settle(page)
    body = page.locator("[data-testid=stPopoverBody]")
    img = body.locator("[data-testid=stImage] img").first
    img.wait_for()
    assert img.evaluate("i => i.naturalWidth") >= 150
    text = body.inner_text()
    assert "localhost" in text and "/activation?" in text and "lang=zh" in text
    assert body.locator("a", has_text="Sigmoid 会饱和").count() == 1  # preset links
    body.screenshot(path=str(shot(page, "share-box-zh").with_name("share-box-zh-popover.png")))


def test_link_after_a_language_switch(page, browser):
    """Option labels travel in the link in its language: after switching, they follow."""
    open_page(page, "pooling", "en")
    choose(page, "pool_example", i18n.t("pooling.example_turn", "en"))
    click_option(page, "pool_fm_mode", "Average pooling")
    remove = page.locator(".st-key-pool_fm_kernels button[aria-label^=Remove]").first
    remove.scroll_into_view_if_needed()
    remove.click()
    settle(page)
    page.locator(".st-key-lang_toggle button").filter(has_text="中文").first.click()
    settle(page)
    after = page_state(page)
    url = link_from_share_box(page)
    assert "lang=zh" in url and "Average" not in url
    ctx, fresh = open_in_fresh_context(browser, url)
    try:
        assert toasts(fresh) == [] and page_state(fresh) == after
        assert fresh.locator(".st-key-pool_fm_kernels [data-tag]").count() == 4
    finally:
        ctx.close()
