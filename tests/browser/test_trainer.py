"""The trainer page in Chromium: live curves that grow while the student changes other widgets,
Stop, the ReLU-vs-sigmoid race, the inspection views, the uploaded picture, the weights
download, and the divergence message, in English and Chinese."""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

from cnnviz import i18n
from cnnviz.viz import style
from tests.browser.conftest import assert_clean, choose_source, open_page, settle, upload

SHOTS_PREFIX = "trainer"


def tr(key: str, lang: str = "en", **kw) -> str:
    return i18n.t(f"trainer.{key}", lang, **kw)


def section(page, name: str):
    return page.locator(f".st-key-tr_sec_{name}")


def section_shot(page, name: str, file: str) -> None:
    from tests.browser.conftest import SHOTS

    loc = section(page, name)
    loc.scroll_into_view_if_needed()
    # Streamlit scrolls inside its own container: make the window tall enough for the section
    size = page.viewport_size
    height = int(loc.bounding_box()["height"]) + 200
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    page.wait_for_timeout(600)  # let Plotly redraw at the new size
    loc.scroll_into_view_if_needed()
    loc.screenshot(path=str(SHOTS / f"{SHOTS_PREFIX}-{file}.png"))
    page.set_viewport_size(size)


def slider_input(page, label: str):
    return (page.locator("[data-testid=stSlider]").filter(has_text=label)
            .locator("input[type=range]").first)


def press_slider(page, label: str, key: str, times: int = 1) -> None:
    thumb = slider_input(page, label)
    thumb.focus()
    for _ in range(times):
        thumb.press(key)
    settle(page)


def chart_data(page, title: str) -> list[dict] | None:
    """Traces (colour and y values) of the Plotly chart whose title contains ``title`` (titles
    may be set on two lines: the "<br>" is ignored).

    Read from Plotly's decoded ``_fullData`` (the page sends arrays base64-encoded). While a
    fragment redraws, Streamlit briefly keeps the previous copy of a chart: take the fullest.
    """
    found = page.evaluate(
        """(title) => {
            const out = [];
            for (const e of document.querySelectorAll('.js-plotly-plot')) {
                const t = e.layout && e.layout.title && e.layout.title.text;
                if (t && t.replaceAll('<br>', '').includes(title) && e._fullData) {
                    out.push(e._fullData.map(d => ({color: d.line ? d.line.color : null,
                                                    y: d.y ? Array.from(d.y) : []})));
                }
            }
            return out;
        }""",
        title,
    )
    if not found:
        return None
    return max(found, key=lambda traces: sum(len(t["y"]) for t in traces))


def loss_points(page) -> int:
    data = chart_data(page, tr("chart_loss"))
    return len(data[0]["y"]) if data else 0


def wait_for(page, cond, timeout: float = 60.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        page.wait_for_timeout(200)
    return False


def stroke_png() -> bytes:
    """A thick dark horizontal stroke on white paper, like a photo of a brush stroke."""
    img = np.full((200, 240), 245, np.uint8)
    img[92:112, 40:200] = 20
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def test_curves_grow_while_the_student_edits_then_stop(page):
    open_page(page, "trainer", "en")
    press_slider(page, tr("epochs"), "End")  # 50 epochs
    page.get_by_text(tr("slow"), exact=True).click()  # slow motion: watchable, and long
    settle(page)
    page.get_by_role("button", name=tr("start_single")).click()
    assert wait_for(page, lambda: loss_points(page) >= 3), "no live curve"
    before = loss_points(page)
    # change another widget while training: block 1 gets 16 filters (a full rerun)
    press_slider(page, tr("filters"), "ArrowRight")
    assert wait_for(page, lambda: page.get_by_text("16 × 16 × 16").count() > 0, 10)
    assert wait_for(page, lambda: loss_points(page) > before + 2, 15), "curve stopped growing"
    grown = loss_points(page)
    page.wait_for_timeout(1200)
    assert loss_points(page) > grown  # still streaming, several points a second
    assert page.get_by_text(re.compile(r"Training: epoch")).count() == 1
    section_shot(page, "train", "live-en")
    stop = section(page, "train").get_by_role("button", name=tr("stop"), exact=True)
    t0 = time.monotonic()
    stop.click()
    page.get_by_text(re.compile(r"Stopped at epoch")).wait_for(timeout=10_000)
    stopped_after = time.monotonic() - t0
    assert stopped_after < 3.0, stopped_after  # 0.5 s tick + reruns + the browser round trip
    frozen = loss_points(page)
    page.wait_for_timeout(1200)
    assert loss_points(page) == frozen  # nothing trains any more
    section(page, "compare").scroll_into_view_if_needed()
    assert page.get_by_text(re.compile(r"#1 ReLU")).count() >= 1  # kept in the history
    assert_clean(page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_race_inspect_classify_upload_and_download(page, lang, tmp_path):
    open_page(page, "trainer", lang)
    page.get_by_role("button", name=tr("start_compare", lang)).click()
    page.get_by_text(tr("end_done_cmp", lang)).wait_for(timeout=120_000)
    settle(page)
    acc = chart_data(page, tr("chart_acc", lang))
    colors = {t["color"] for t in acc}
    assert colors == {style.ACTIVATION_COLORS["relu"], style.ACTIVATION_COLORS["sigmoid"]}
    section_shot(page, "compare", f"race-{lang}")

    # look inside: the race's winner is chosen; kernels, a layer's maps, FC + softmax
    inspect = section(page, "inspect")
    inspect.scroll_into_view_if_needed()
    assert chart_data(page, tr("cm_title", lang)) is not None
    assert chart_data(page, tr("maps_title", lang, name="conv1", c=8, h=16, w=16))
    inspect.get_by_role("radio", name="relu1", exact=True).click()
    settle(page)
    assert chart_data(page, tr("maps_title", lang, name="relu1", c=8, h=16, w=16))
    section_shot(page, "inspect", f"inspect-{lang}")
    inspect.get_by_role("radio", name=tr("tab_fc", lang), exact=True).click()
    settle(page)
    softmax = chart_data(page, tr("softmax_title", lang))
    assert softmax is not None and abs(sum(softmax[0]["y"]) - 1) < 1e-6
    section_shot(page, "inspect", f"inspect-fc-{lang}")

    # classify the uploaded picture, prepared like the training data
    label = "My own picture" if lang == "en" else "我自己的图片"
    choose_source(page, label)
    upload(page, "stroke.png", stroke_png(), "image/png")
    use = section(page, "use")
    use.scroll_into_view_if_needed()
    horizontal = "horizontal" if lang == "en" else "横"
    verdict = tr("use_verdict", lang, guess=horizontal, p="X").replace("**", "").split("X")[0]
    assert verdict in use.inner_text(), use.inner_text()  # "…answer: horizontal (97%)"
    assert chart_data(page, tr("use_sees", lang, s=16)) is not None
    section_shot(page, "use", f"use-{lang}")

    # download the weights: a real .npz with PyTorch's keys
    with page.expect_download() as info:
        use.get_by_role("button", name=tr("dl_weights", lang)).click()
    path = tmp_path / "w.npz"
    info.value.save_as(path)
    with np.load(path) as f:
        assert {"0.weight", "0.bias", "3.weight", "7.weight", "_spec"} <= set(f.files)
        assert f["0.weight"].shape == (8, 1, 3, 3)
    assert_clean(page)


def test_huge_learning_rate_shows_the_divergence_message(page):
    open_page(page, "trainer", "en")
    press_slider(page, tr("lr"), "End")  # 10
    page.get_by_role("button", name=tr("start_single")).click()
    alert = page.get_by_text(re.compile(r"Training diverged at step"))
    alert.wait_for(timeout=60_000)
    for trace in chart_data(page, tr("chart_loss")) or []:
        assert all(np.isfinite(trace["y"]))
    section_shot(page, "train", "diverged-en")
    assert_clean(page)


def steps_done(page) -> int:
    m = page.get_by_text(re.compile(r"step (\d+) of \d+")).first.inner_text()
    return int(re.search(r"step (\d+) of", m).group(1))


def test_switching_pages_mid_training_loses_nothing(page):
    open_page(page, "trainer", "en")
    press_slider(page, tr("epochs"), "End")
    press_slider(page, tr("lr"), "ArrowLeft")  # 0.02: a setting that must survive the trip
    page.get_by_text(tr("slow"), exact=True).click()
    settle(page)
    page.get_by_role("button", name=tr("start_single")).click()
    assert wait_for(page, lambda: loss_points(page) >= 2)
    before = steps_done(page)
    sidebar = page.locator("[data-testid=stSidebar]")
    sidebar.get_by_text(i18n.t("nav.pooling", "en")).click()
    settle(page)
    page.wait_for_timeout(2000)  # another lesson for a while; the job keeps training
    sidebar.get_by_text(i18n.t("nav.trainer", "en")).click()
    settle(page)
    assert wait_for(page, lambda: steps_done(page) > before + 5, 15)
    assert slider_input(page, tr("lr")).get_attribute("aria-valuetext") == "0.02"
    assert slider_input(page, tr("epochs")).get_attribute("value") == "50"
    page.get_by_role("button", name=tr("stop"), exact=True).first.click()
    page.get_by_text(re.compile(r"Stopped at epoch")).wait_for(timeout=10_000)
    assert_clean(page)
