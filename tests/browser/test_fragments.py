"""Sections that rerun on their own (st.fragment, to keep a class's reruns light) still follow
the settings they share with the rest of the page, in Chromium."""

from __future__ import annotations

import re

from tests.browser.conftest import assert_clean, open_page, press, settle, type_number


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


def map_title_range(page) -> tuple[float, float]:
    """The "(from lo to hi)" of the first feature map's title."""
    title = page.locator(".st-key-conv_fmap_0 .gtitle").first
    title.wait_for()
    lo, hi = re.search(r"from (\S+) to ([^)\s]+)", title.text_content()).groups()
    return float(lo.replace("−", "-")), float(hi.replace("−", "-"))


def explained_value(page) -> tuple[float, float]:
    """(bias, value) of the sentence under the explanation of the picked pixel."""
    text = page.locator("[data-testid=stMarkdownContainer]",
                        has_text="the value in the feature map").first.inner_text()
    bias, value = re.search(r"plus bias (\S+): (\S+),", text).groups()
    return float(bias.replace("−", "-")), float(value.replace("−", "-"))


def test_convolution_picture_follows_its_kernels_and_its_bias(page):
    """The picture's maps are a fragment inside the kernels' fragment: a bias change reruns the
    maps alone, a kernel edit reruns both; either way the maps, the explanation and the other
    control keep in step."""
    from tests.browser.test_conv import edit_cell, map_data

    open_page(page, "convolution", "en")
    lo, hi = map_title_range(page)
    bias0, value0 = explained_value(page)
    assert bias0 == 0
    type_number(page, "conv_img_bias_0", 1)
    lo1, hi1 = map_title_range(page)
    assert abs(lo1 - (lo + 1)) < 0.02 and abs(hi1 - (hi + 1)) < 0.02, ((lo, hi), (lo1, hi1))
    bias1, value1 = explained_value(page)
    assert bias1 == 1 and abs(value1 - (value0 + 1)) < 0.006, (value0, value1)  # 3 digits
    before = map_data(page)
    edit_cell(page, "conv_img_k0_c0_v", 1, 1, 3, "5")  # the red slice's centre: 0 -> 5
    assert map_data(page) != before, "a kernel edit redraws the maps below"
    bias2, value2 = explained_value(page)
    assert bias2 == 1, "the bias is kept"
    assert value2 != value1
    assert page.locator(".st-key-conv_img_bias_0 input").input_value() == "1.00"
    assert_clean(page)
