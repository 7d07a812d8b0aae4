"""The preprocessing page in Chromium: the correlation slider moves every panel, the whitened
covariance reads as the identity, "my picture" shows the RGB cloud, epsilon changes the
whitening, in both languages, with no exception."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SHOTS, assert_clean, open_page, press, settle, shot

STAGES = ("original", "centered", "normalized", "pca", "whitened")
STORY = ".st-key-wide560_prep_story"  # the story figure and each stage's numbers below it
IDENTITY_3 = (r"\begin{pmatrix} 1.00 & 0.00 & 0.00 \\ 0.00 & 1.00 & 0.00 \\ "
              r"0.00 & 0.00 & 1.00 \end{pmatrix}")
TEXT = {
    "en": {"image": "The pixels of my picture", "eps": "With ε = 1e\u221206",
           "whitened": "5 · Whitened"},
    "zh": {"image": "我的图片的像素", "eps": "ε = 1e\u221206 时", "whitened": "5 · 白化"},
}

# Per chart key and trace index: the trace's type, point count and a checksum of its
# coordinates (the story figure has a trace per stage).
TRACE_JS = """([key, i]) => {
  const gd = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!gd || !gd._fullData || gd._fullData.length <= i) return null;
  const t = gd._fullData[i];
  const sum = (a) => a ? Array.from(a).reduce((s, v) => s + v * 1.0, 0) : 0;
  const src = t.source ? t.source.length + ':' + t.source.slice(-80) : null;  // go.Image PNG
  return {type: t.type, n: t.x ? t.x.length : 0, sx: sum(t.x), sy: sum(t.y), src: src};
}"""
#: Each stage's numbers as drawn under its panel of the story figure (lines of an annotation).
NOTES_JS = """() => Array.from(document.querySelectorAll('.st-key-prep_story text.annotation-text'))
  .map(t => t.querySelectorAll('tspan.line').length
    ? Array.from(t.querySelectorAll('tspan.line')).map(l => l.textContent).join('\\n')
    : t.textContent)
  .map(s => s.replace(/\\u00a0/g, ' ')).filter(s => s.startsWith('Σ'))"""
IDENTITY_NOTE = "Σ = ⎛ 1.00  0.00 ⎞\n    ⎝ 0.00  1.00 ⎠"
TEX_JS = """() => Array.from(document.querySelectorAll('annotation[encoding="application/x-tex"]'))
  .map(a => a.textContent)"""


def trace(page, key: str, i: int = 0) -> dict:
    page.wait_for_function(f"() => !!document.querySelector('.st-key-{key} .js-plotly-plot')")
    return page.evaluate(TRACE_JS, [key, i])


def changed_trace(page, key: str, old: dict, fields: tuple[str, ...], i: int = 0) -> dict:
    """The chart's trace ``i`` once ``fields`` differ from ``old`` (Plotly redraws a moment
    after Streamlit settles; a loaded machine takes longer); the last read if they never do."""
    now = trace(page, key, i)
    for _ in range(100):
        if now and any(now[f] != old[f] for f in fields):
            break
        page.wait_for_timeout(150)
        now = trace(page, key, i)
    return now


def covariances(page) -> list[str]:
    """The covariance matrices typeset by KaTeX (next to the 3-D view)."""
    return page.evaluate(TEX_JS)


def story_numbers(page) -> list[str]:
    """Each stage's covariance and mean as drawn under its panel, lines joined by newlines."""
    return page.evaluate(NOTES_JS)


def row_of(page, key: str):
    """The row of columns that holds the chart ``key`` (for a screenshot of the whole row)."""
    return page.locator(f".st-key-{key}").locator(
        "xpath=ancestor::div[@data-testid='stHorizontalBlock'][1]")


def snap(locator, name: str) -> None:
    locator.scroll_into_view_if_needed()
    locator.page.wait_for_timeout(600)  # WebGL canvases draw a frame after the DOM settles
    locator.screenshot(path=str(SHOTS / f"{name}.png"))



@pytest.mark.parametrize("lang", ["en", "zh"])
def test_story_slider_picture_and_epsilon(page, lang):
    text = TEXT[lang]
    open_page(page, "preprocessing", lang)
    assert_clean(page)
    # the stage's title above its panel, its numbers below it
    title = page.locator(".st-key-prep_story .annotation-text", has_text=text["whitened"])
    assert title.count() == 1
    before = {name: trace(page, "prep_story", i) for i, name in enumerate(STAGES)}
    assert all(t["type"] == "scattergl" and t["n"] == 500 for t in before.values())
    assert page.locator("[class*=st-key-prep_plot_]").count() == 0  # one figure, not five
    covs = story_numbers(page)
    assert len(covs) == 5 and covs[4].startswith(IDENTITY_NOTE), covs
    assert covs[1].endswith("(0, 0)") and covariances(page) == []  # no KaTeX: one figure
    snap(page.locator(STORY), f"prep-story-{lang}")

    # 1. move the correlation slider: every panel redraws, whitening still reads I
    press(page, "prep_corr", "ArrowLeft", 6)
    assert_clean(page)
    value = page.locator(".st-key-prep_corr input[type=range]").input_value()
    assert float(value) == pytest.approx(0.5)
    after = {name: changed_trace(page, "prep_story", before[name], ("sx", "sy"), i)
             for i, name in enumerate(STAGES)}
    for name in STAGES:
        assert (after[name]["sx"], after[name]["sy"]) != (before[name]["sx"], before[name]["sy"])
    covs_after = story_numbers(page)
    assert covs_after[0] != covs[0] and covs_after[4].startswith(IDENTITY_NOTE)
    snap(page.locator(STORY), f"prep-story-corr05-{lang}")

    # 2. epsilon: the gain read-out and the whitened picture change
    readout = page.locator("[data-testid=stCaptionContainer]", has_text=re.compile("ε = 0.01"))
    assert readout.count() >= 1
    picture_before = trace(page, "prep_zca_picture")
    press(page, "prep_eps", "Home")
    assert_clean(page)
    assert page.get_by_text(text["eps"]).count() == 1
    picture_after = changed_trace(page, "prep_zca_picture", picture_before, ("src",))
    assert picture_before["src"] and picture_after["src"] != picture_before["src"]
    snap(page.locator(".st-key-prep_patches"), f"prep-patches-eps1e-6-{lang}")
    snap(row_of(page, "prep_filter"), f"prep-zca-eps1e-6-{lang}")

    # 3. switch to the pixels of my picture: the RGB cloud in 2-D and 3-D
    page.locator(".st-key-prep_source button", has_text=text["image"]).click()
    settle(page)
    assert_clean(page)
    assert page.locator(".st-key-prep_corr").count() == 0
    cloud = trace(page, "prep_rgb3d")
    assert cloud["type"] == "scatter3d" and cloud["n"] == 2000
    assert trace(page, "prep_story")["n"] == 2000
    assert story_numbers(page)[4].startswith(IDENTITY_NOTE)
    assert len(covariances(page)) == 1  # the 3-D view's
    snap(page.locator(STORY), f"prep-story-pixels-{lang}")
    snap(row_of(page, "prep_rgb3d"), f"prep-rgb3d-{lang}")
    page.locator(".st-key-prep_stage3d button").last.click()  # 5 · whitened
    settle(page)
    assert_clean(page)
    assert covariances(page)[0].endswith(IDENTITY_3)
    snap(row_of(page, "prep_rgb3d"), f"prep-rgb3d-whitened-{lang}")
    shot(page, f"prep-page-{lang}")


def test_degenerate_cloud_in_the_browser(page):
    open_page(page, "preprocessing", "en")
    press(page, "prep_spread_1", "Home")
    press(page, "prep_spread_2", "Home")
    assert_clean(page)
    alert = page.locator("[data-testid=stAlert]", has_text="All points are at the same place")
    assert alert.count() == 1
    for i in range(len(STAGES)):
        assert trace(page, "prep_story", i)["n"] == 500
    ranges = page.evaluate("""() => { const gd = document.querySelector(
        '.st-key-prep_story .js-plotly-plot'); return ['', 2, 3, 4, 5].map(
        k => gd._fullLayout['xaxis' + k].range); }""")
    assert all(r[0] < r[1] and all(abs(v) < 1e6 for v in r) for r in ranges), ranges
    snap(page.locator(STORY), "prep-story-all-equal-en")
