"""ui/lazy.py in AppTest: a new session's page runs only its first view; a part's content runs
only while its switch is on; a link or a preset with a setting of a part turns it on."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import APP, errors_of, lazy_parts, run_page

#: (page file, a part's switch, a widget key inside that part, a chart key inside it)
PARTS = [
    ("pages/convolution.py", "conv_rgb_open", "conv_rgb_seed", "conv_rgb_chart"),
    ("pages/preprocessing.py", "prep_zca_open", "prep_eps", "prep_patches"),
    ("pages/activation.py", "act_map_open", "act_bias", "act_after_map"),
    ("pages/pooling.py", "pool_fm_open", "pool_shift", "pool_slices"),
    ("pages/home.py", "home_share_open", "home_copies", "home_scene"),
    ("pages/home.py", "home_calc_open", "home_c", "home_counts"),
]
LINK_VALUE = {"conv_rgb_seed": "5", "act_bias": "0.2", "pool_shift": "2", "home_copies": "4",
              "home_c": "5"}


def chart_keys(at) -> set[str]:
    return {c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")}


def test_every_part_is_found_by_the_helpers():
    assert {s for _p, s, _w, _c in PARTS} <= set(lazy_parts())


@pytest.mark.parametrize("page, switch, widget, chart", PARTS)
def test_a_new_session_sees_the_first_view_only(page, switch, widget, chart):
    at = run_page(page, "en", opened=False)
    assert errors_of(at) == []
    assert at.toggle(key=switch).value is False
    assert chart not in chart_keys(at)
    assert widget not in at.session_state, "the part's controls did not run"
    at.toggle(key=switch).set_value(True).run()
    assert errors_of(at) == []
    assert chart in chart_keys(at) and widget in at.session_state


# (preprocessing's settings in a link are labels or formatted numbers: the other pages suffice)
@pytest.mark.parametrize("page, switch, widget, chart",
                         [p for p in PARTS if "preprocessing" not in p[0]])
def test_a_link_with_a_setting_of_a_part_turns_it_on(page, switch, widget, chart):
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({widget: LINK_VALUE[widget], "lang": "en"})
    at.switch_page(page)
    at.run()
    assert errors_of(at) == []
    assert at.toggle(key=switch).value is True
    assert chart in chart_keys(at)
    assert [t.value for t in at.toast] == [], "the setting was used"
    others = [s for p, s, _w, _c in PARTS if p == page and s != switch]
    assert all(at.toggle(key=s).value is False for s in others), "only the part it belongs to"


@pytest.mark.parametrize(("key", "opened", "closed"), [("home_copies", "home_share_open",
                                                          "home_calc_open"),
                                                         ("home_c", "home_calc_open",
                                                          "home_share_open")])
def test_a_calculator_key_is_matched_exactly(key, opened, closed):
    """``home_c`` (channels) is a prefix of ``home_copies`` (the sharing part): a link with the
    copies opens the sharing part only, a link with the channels the calculator only."""
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update({key: "4", "lang": "en"})
    at.run()
    assert errors_of(at) == []
    assert at.toggle(key=opened).value is True
    assert at.toggle(key=closed).value is False
    assert ("home_counts" in chart_keys(at)) is (opened == "home_calc_open")
    assert at.session_state[key] == 4  # the link's value reached its widget


def test_a_preset_of_the_calculator_opens_it():
    at = run_page(None, "en", opened=False)
    assert at.toggle(key="home_calc_open").value is False
    at.button(key="share_preset_photo_fc").click().run()
    assert errors_of(at) == []
    assert at.toggle(key="home_calc_open").value is True
    assert at.number_input(key="home_w").value == 224
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fully connected layer"] == f"{224 * 224 * 3 * 1000 + 1000:,}"


def test_a_preset_click_turns_on_the_part_it_sets():
    at = run_page("pages/pooling.py", "en", opened=False)
    assert at.toggle(key="pool_fm_open").value is False
    at.button(key="share_preset_shift_tolerance").click().run()
    assert errors_of(at) == []
    assert at.toggle(key="pool_fm_open").value is True
    assert at.slider(key="pool_shift").value == 2


def test_the_flip_comparison_is_a_part_of_the_picture_part():
    """Inside the picture part, the flip comparison runs only when opened: a bias change in a
    class of 40 no longer convolves the small picture twice and sends its three maps."""
    at = run_page("pages/convolution.py", "en", opened=False)
    at.toggle(key="conv_img_open").set_value(True).run()
    assert errors_of(at) == []
    assert {"conv_img_input", "conv_fmap_0", "conv_explain"} <= chart_keys(at)
    assert at.toggle(key="conv_flip_open").value is False
    assert not {"conv_flip_pair", "conv_flip_maps"} & chart_keys(at)
    at.toggle(key="conv_flip_open").set_value(True).run()
    assert errors_of(at) == []
    assert {"conv_flip_pair", "conv_flip_maps"} <= chart_keys(at)
    # a link to the flip comparison opens the picture part that holds it
    link = AppTest.from_file(str(APP), default_timeout=120)
    link.query_params.update({"conv_flip_open": "true", "lang": "en"})
    link.switch_page("pages/convolution.py")
    link.run()
    assert errors_of(link) == []
    assert {"conv_img_input", "conv_flip_maps"} <= chart_keys(link)
