"""Sections that rerun on their own (st.fragment, to keep a class's reruns light) still follow
the settings they share with the rest of the page, in Chromium."""

from __future__ import annotations

import re

from tests.browser.conftest import assert_clean, open_page, press, settle


def after_map_range(page) -> tuple[float, float]:
    """The "values from lo to hi" caption under the map after the activation."""
    chart = page.locator(".st-key-act_after_map")
    chart.scroll_into_view_if_needed()
    text = chart.locator("xpath=following::*[@data-testid='stCaptionContainer'][1]").inner_text()
    lo, hi = re.search(r"values from (\S+) to (\S+)", text).groups()
    return float(lo.replace("−", "-")), float(hi.replace("−", "-"))


def test_activation_map_follows_alpha_from_the_curves_and_its_own_bias(page):
    # Leaky ReLU on the map: its negative side is alpha times the map before it
    open_page(page, "activation", "en")
    opener = page.locator(".st-key-act_map_fn button[aria-haspopup=listbox]")
    opener.scroll_into_view_if_needed()
    opener.click()
    page.get_by_role("option", name="Leaky ReLU", exact=True).click()  # inside the map section
    settle(page)
    page.locator(".st-key-act_after_map .js-plotly-plot").wait_for()
    lo_01, hi = after_map_range(page)
    assert lo_01 < 0
    press(page, "act_alpha", "ArrowRight", 5)  # 0.10 -> 0.15, in the curves section
    lo_015, hi_015 = after_map_range(page)
    assert abs(lo_015 / lo_01 - 1.5) < 0.02, (lo_01, lo_015)  # the map section followed
    assert hi_015 == hi
    press(page, "act_bias", "ArrowLeft", 4)  # bias -0.2, inside the map section
    lo_b, hi_b = after_map_range(page)
    assert abs(hi_b - (hi - 0.2)) < 0.01, (hi, hi_b)  # the positive side moved by the bias
    assert abs((lo_b - lo_015) + 0.15 * 0.2) < 0.002, (lo_015, lo_b)  # slope 0.15 kept
    assert page.locator(".st-key-act_alpha input[type=range]").input_value() == "0.15"
    assert_clean(page)


def test_activation_fragments_render_in_both_languages(page):
    for lang in ("en", "zh"):
        open_page(page, "activation", lang)
        press(page, "act_bias", "ArrowRight", 2)
        press(page, "act_layers", "ArrowRight", 1)
        assert page.locator(".st-key-act_after_map .js-plotly-plot").count() == 1
        assert page.locator(".st-key-act_norms_chart .js-plotly-plot").count() == 1
        assert_clean(page)
