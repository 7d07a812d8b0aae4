"""ui/share.py in AppTest: links restore settings, tampered links fall back with one notice,
grids travel in our encoding, presets apply from a click, hidden controls are plain CSS."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.classroom import links
from cnnviz.lessons import pooling as pool_math
from tests.helpers import APP, errors_of
from ui import share


def open_link(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page)
    return at.run()


def toasts(at) -> list[str]:
    return [t.value for t in at.toast]


def test_link_restores_bound_widgets_without_a_notice():
    at = open_link("pages/activation.py", {"act_alpha": "0.2", "act_chain_n": "33",
                                            "act_deriv": "false", "lang": "en"})
    assert errors_of(at) == [] and toasts(at) == []
    assert at.slider(key="act_alpha").value == pytest.approx(0.2)
    assert at.slider(key="act_chain_n").value == 33
    assert at.toggle(key="act_deriv").value is False


@pytest.mark.parametrize("lang, words", [("en", "could not be used"), ("zh", "无法使用")])
def test_tampered_link_falls_back_with_one_translated_notice(lang, words):
    at = open_link("pages/activation.py", {
        "act_alpha": "7", "act_sat": "<script>", "act_chain_n": "12", "nonsense": "1",
        "only": "act_alpha,}{x", "lang": lang})
    assert errors_of(at) == []
    notes = toasts(at)
    assert len(notes) == 1 and words in notes[0]
    for key in ("act_alpha", "act_sat", "nonsense", "}{x"):
        assert key in notes[0]
    assert "act_chain_n" not in notes[0]
    assert at.slider(key="act_alpha").value == pytest.approx(0.1)  # the default
    assert at.slider(key="act_chain_n").value == 12  # the valid one is kept
    assert "nonsense" not in at.query_params
    at.run()  # the notice is said once per session
    assert toasts(at) == []


def test_default_values_and_streamlit_params_in_a_link_are_not_reported():
    at = open_link("pages/activation.py", {"act_alpha": "0.10", "act_deriv": "TRUE",
                                            "embed": "true", "lang": "en"})
    assert toasts(at) == []


def test_pooling_grid_travels_in_the_link():
    grid = pool_math.ARTICLE_4X4.copy()
    grid[0, 0] = 9
    at = open_link("pages/pooling.py", {"pool_grid": links.encode_grid(grid), "lang": "en"})
    assert errors_of(at) == [] and toasts(at) == []
    assert at.query_params["pool_grid"] == links.encode_grid(grid)  # kept while it differs
    editor = at.session_state["_share_bases"]["pool_grid"]["article"]
    np.testing.assert_array_equal(editor, grid)


def test_tampered_grid_is_reported_and_dropped():
    at = open_link("pages/pooling.py", {"pool_grid": "1,2;3,oops", "lang": "en"})
    assert errors_of(at) == []
    assert len(toasts(at)) == 1 and "pool_grid" in toasts(at)[0]
    assert "pool_grid" not in at.query_params


def test_convolution_kernel_from_a_link():
    at = open_link("pages/convolution.py", {"conv_kernel": "0,1;1,0", "conv_stride": "2",
                                             "lang": "en"})
    assert errors_of(at) == [] and toasts(at) == []
    slide = at.session_state["conv_slide"]
    np.testing.assert_array_equal(slide["kernel_ok"], [[0, 1], [1, 0]])
    assert at.session_state["conv_ksize"] == 2 and at.session_state["conv_stride"] == 2


def test_preset_click_sets_values_and_hides_the_rest():
    at = open_link("pages/pooling.py", {"lang": "en"})
    at.button(key="share_preset_turn_keeps_3").click().run()
    assert errors_of(at) == []
    assert (at.session_state["pool_example"], at.session_state["pool_window"],
            at.session_state["pool_stride"]) == ("turn", 3, 1)
    assert at.query_params["only"] == "pool_window,pool_stride"
    assert at.query_params["pool_window"] == "3"  # a click writes the values into the link
    # (the sidebar's "show all controls" is clicked in tests/browser/test_share.py: AppTest
    # runs a switched-to page without app.py's sidebar after its first run)


def test_unknown_preset_is_reported():
    at = open_link("pages/pooling.py", {"preset": "nope", "lang": "en"})
    assert "preset=nope" in toasts(at)[0]
    assert "preset" not in at.query_params


def test_hiding_css_names_only_plain_keys():
    css = share.hiding_css(["conv_stride", "conv_kernel"], ["pool_shift"])
    assert ":not(.st-key-conv_stride)" in css
    assert ":not([class*='st-key-conv_kernel_'])" in css  # a grid: its editor key has a suffix
    assert "[data-testid=stMain] .st-key-pool_shift" in css
    assert share.hiding_css([], []) == ""


def test_network_link_replaces_only_loopback_hosts(monkeypatch):
    monkeypatch.setattr(share, "_network_ip", lambda: "10.1.2.3")
    assert share.network_link("http://localhost:8501/pooling?a=1") == \
        "http://10.1.2.3:8501/pooling?a=1"
    assert share.network_link("http://127.0.0.1:8501/") == "http://10.1.2.3:8501/"
    assert share.network_link("http://school.example:8501/") is None
    monkeypatch.setattr(share, "_network_ip", lambda: None)
    assert share.network_link("http://localhost:8501/") is None


def test_qr_png_is_a_png_that_grows_with_the_link():
    short, long = share.qr_png("http://a/"), share.qr_png("http://a/?" + "x=1&" * 60)
    assert short[:8] == b"\x89PNG\r\n\x1a\n" and long[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image

    assert Image.open(BytesIO(long)).size[0] > Image.open(BytesIO(short)).size[0]
