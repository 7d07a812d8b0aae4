"""Issue 16's fixes seen in Chromium: what the box shows is what the page computes with."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import assert_clean, open_page, settle, shot

FORMULA = "[data-testid=stMarkdownContainer] .katex-html"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_stride_above_the_maximum_is_clamped_in_the_box_too(page, lang) -> None:
    open_page(page, "convolution", lang)
    box = page.locator(".st-key-conv_stride input")
    box.scroll_into_view_if_needed()
    for typed, used in ((2, 2), (5, 4), (0, 0)):
        box.fill(str(typed))
        box.press("Enter")
        settle(page)
        page.wait_for_timeout(500)
        settle(page)
        assert box.input_value() == str(used), (typed, box.input_value())
        if used:
            formula = page.locator(FORMULA).first.inner_text()
            assert re.search(rf"\n{used}\s*\n", formula) or f"{used}\n" in formula, formula
        if typed == 5:
            text = page.locator("[data-testid=stAlert]").all_inner_texts()
            assert any("4" in t for t in text), text
            shot(page, f"audit_stride_clamped_{lang}")
    assert_clean(page)
