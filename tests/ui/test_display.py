"""ui/display.py in AppTest: ``?view=projector`` turns the projector view on (toggle, CSS) and
stays in the link without a "could not be used" notice; the toggle writes and removes it; the
layout helpers make the containers the stylesheet targets."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import APP, errors_of
from ui import display


def open_link(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page)
    return at.run()


def styles(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_projector_link_turns_the_view_on_without_a_notice(lang):
    at = open_link("pages/pooling.py", {"view": "projector", "lang": lang})
    assert errors_of(at) == []
    assert [t.value for t in at.toast] == []  # "view" is not an unusable setting
    assert at.toggle(key="view_projector").value is True
    assert "zoom: 1.25" in styles(at)
    assert at.query_params["view"] in ("projector", ["projector"])


def test_toggle_writes_and_removes_the_link_parameter():
    at = open_link("pages/activation.py", {"lang": "en"})
    assert at.toggle(key="view_projector").value is False
    assert "zoom:" not in styles(at)
    assert "modebar-container" in styles(at)  # the base stylesheet is always there
    at.toggle(key="view_projector").set_value(True).run()
    assert at.query_params["view"] in ("projector", ["projector"]) and "zoom: 1.25" in styles(at)
    at.toggle(key="view_projector").set_value(False).run()
    assert "view" not in at.query_params and "zoom:" not in styles(at)


def test_other_view_values_are_ignored():
    at = open_link("pages/activation.py", {"view": "bogus", "lang": "en"})
    assert errors_of(at) == [] and at.toggle(key="view_projector").value is False


def test_by_width_only_accepts_the_stylesheet_steps():
    with pytest.raises(ValueError):
        display.by_width("x", 123)
    for px in display.WIDTH_STEPS:
        assert f"st-key-wide{px}_" in display._BASE_CSS
        assert f"st-key-narrow{px}_" in display._BASE_CSS


def test_a_preset_can_open_the_projector_view():
    at = open_link("pages/convolution.py", {"preset": "article_5x5", "lang": "en"})
    assert errors_of(at) == [] and at.toggle(key="view_projector").value is True
    assert "zoom: 1.25" in styles(at)
    at.run()
    assert at.query_params["view"] in ("projector", ["projector"])
