"""Teacher presets (cnnviz/classroom/presets.py): well formed, and every preset - opened as a
link - sets widgets that exist on its page to values those widgets accept, with no notice and
no error."""

from __future__ import annotations

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.classroom import links, presets
from tests.helpers import APP, errors_of

PAGE_FILES = {"home": "pages/home.py", "preprocessing": "pages/preprocessing.py",
              "convolution": "pages/convolution.py", "activation": "pages/activation.py",
              "pooling": "pages/pooling.py", "trainer": "pages/trainer.py"}
CASES = [(page, p["id"]) for page in presets.PRESETS for p in presets.PRESETS[page]]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_page_has_presets_with_unique_ids_and_both_titles():
    assert set(presets.PRESETS) == set(PAGE_FILES)
    for page, page_presets in presets.PRESETS.items():
        ids = [p["id"] for p in page_presets]
        assert page_presets and len(ids) == len(set(ids)), page
        for p in page_presets:
            assert links.KEY_RE.match(p["id"]), p["id"]
            title = presets.title_key(page, p["id"])
            assert i18n.t(title, "en").strip() and i18n.t(title, "en") != title, title
            assert CJK.search(i18n.t(title, "zh")), title
            assert p["params"], p["id"]
            assert set(p) <= {"id", "params", "only"}, p["id"]
            for key in [*p["params"], *p.get("only", [])]:
                assert links.KEY_RE.match(key) and key not in presets.SPECIAL_PARAMS, key


def test_lookup():
    assert presets.page_id("") == "home" and presets.page_id(None) == "home"
    assert presets.page_id("pooling") == "pooling"
    assert presets.find("pooling", "turn_keeps_3")["params"]["pool_window"] == 3
    assert presets.find("pooling", "nope") is None and presets.for_page("lesson") == []


def widget_keys(node) -> set[str]:
    """Keys of every widget rendered in an AppTest tree."""
    keys = set()
    key = getattr(node, "key", None)
    if isinstance(key, str):
        keys.add(key)
    for child in getattr(node, "children", {}).values():
        keys |= widget_keys(child)
    return keys


def open_link(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(PAGE_FILES[page])
    return at.run()


def same(a, b) -> bool:
    a = list(a) if isinstance(a, tuple) else a
    b = list(b) if isinstance(b, tuple) else b
    if isinstance(a, float) or isinstance(b, float):
        return bool(np.isclose(a, b))
    return a == b


@pytest.mark.parametrize("page, preset_id", CASES)
def test_preset_link_sets_existing_widgets_to_accepted_values(page, preset_id):
    preset = presets.find(page, preset_id)
    at = open_link(page, {"preset": preset_id, "lang": "en"})
    assert errors_of(at) == []
    assert [t.value for t in at.toast] == []  # nothing in the preset was refused
    keys = widget_keys(at._tree)
    grids = presets.GRID_PARAMS.get(page, ())
    for key, value in preset["params"].items():
        if key in grids:
            continue
        assert key in keys, f"{preset_id}: no widget {key} on {page}"
        assert same(at.session_state[key], value), (key, at.session_state[key], value)
    for key in preset.get("only", []):
        assert key in keys or any(k.startswith(key + "_") for k in keys), (preset_id, key)
    if "conv_grid" in preset["params"]:
        slide = at.session_state["conv_slide"]
        np.testing.assert_array_equal(slide["grid_ok"],
                                      links.decode_grid(preset["params"]["conv_grid"]))
        np.testing.assert_array_equal(slide["kernel_ok"],
                                      links.decode_grid(preset["params"]["conv_kernel"]))
    assert at.query_params.get("only", "").split(",") == (preset.get("only") or [""])
    # (the next run writes the values into the link and drops ?preset=: a browser test checks
    # it, since AppTest runs a switched-to page without app.py after its first run)
