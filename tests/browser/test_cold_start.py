"""A classroom starts cold: the very first request of a fresh server may be any lesson URL."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    SHOTS,
    assert_clean,
    assert_quiet_log,
    settle,
    shot,
    start_server,
    stop_server,
)


@pytest.mark.parametrize("path", ["activation"])
def test_first_request_to_a_lesson_gets_the_whole_app(browser, path):
    proc, url = start_server(f"server-cold-{path}.log")
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        page = ctx.new_page()
        page.goto(f"{url}/{path}?lang=zh")
        settle(page)
        page.wait_for_selector("h1", timeout=60_000)
        settle(page)
        assert_clean(page)
        sidebar = page.locator("[data-testid=stSidebar]")
        # the first pass (run without the frame) reruns through app.py: wait for the frame
        sidebar.locator(".st-key-img_choice button[data-variant]").first.wait_for(timeout=30_000)
        settle(page)
        # the frame from app.py: language switch and picture picker, translated navigation
        assert sidebar.get_by_text("Language · 语言").count() == 1
        pills = sidebar.locator(".st-key-img_choice button[data-variant]")
        assert pills.count() == 7  # five samples, my own picture, draw the input
        assert "activation.py" not in sidebar.inner_text()
        assert page.url.rstrip("/").split("?")[0].endswith(path)
        shot(page, f"cold-start-{path}")
        ctx.close()
    finally:
        stop_server(proc)
    assert_quiet_log(SHOTS / f"server-cold-{path}.log")
