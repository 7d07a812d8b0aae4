"""ui/cache.py, the one cache: results and figures per input for the class (keyed by every byte
of an array), and a bounded per-session store for what is personal."""

from __future__ import annotations

import copy
import json
from functools import partial

import numpy as np
import plotly
import pytest
import streamlit as st

from cnnviz.viz import figures
from ui import cache


def test_digest_sees_one_changed_pixel_of_a_large_picture():
    a = np.random.default_rng(0).random((1024, 1024, 3)).astype(np.float32)
    b = a.copy()
    b[700, 3, 1] += 0.25
    assert cache.array_digest(a) != cache.array_digest(b)
    assert cache.array_digest(a) == cache.array_digest(a.copy())
    assert cache.array_digest(a) != cache.array_digest(a.astype(np.float64))
    assert cache.array_digest(a[:, :, 0]) != cache.array_digest(a[:, :, 0].T)  # shape counts
    assert cache.array_digest(np.array(["x", "y"], object)) != cache.array_digest(
        np.array(["x", "z"], object))


def test_a_cached_result_is_never_handed_to_a_different_large_picture():
    # Streamlit alone samples 100 000 elements of such an array for its cache key (pixel (0, 0)
    # is not among them with its default seed): these two pictures would share one entry, and
    # one student would see the other's result.
    calls = []

    @st.cache_data(max_entries=4, show_spinner=False, hash_funcs=cache.HASH_FUNCS)
    def brightest(img: np.ndarray) -> float:
        calls.append(1)
        return float(img.max())

    a = np.zeros((1024, 1024), np.float32)
    b = a.copy()
    b[0, 0] = 1.0
    assert brightest(a) == 0.0
    assert brightest(b) == 1.0
    assert brightest(a) == 0.0 and len(calls) == 2  # the third call was a hit


def test_figure_is_the_builders_figure_and_cached():
    v = np.arange(300 * 200, dtype=np.float32).reshape(300, 200)
    fig = cache.figure(figures.map_figure, v, title="t", hover_label="值")
    assert fig.to_dict() == figures.map_figure(v, title="t", hover_label="值").to_dict()
    again = cache.figure(figures.map_figure, v, title="t", hover_label="值")
    assert again.to_dict() is fig.to_dict()  # a hit: the same (read-only) dict, no copy
    other = cache.figure(figures.map_figure, v, title="t", hover_label="value")
    assert other.to_dict()["data"][1]["hovertemplate"] != fig.to_dict()["data"][1]["hovertemplate"]


def test_figure_refuses_a_builder_it_could_not_look_up_again():
    def local(v):
        return figures.map_figure(v)

    with pytest.raises(ValueError):
        cache.figure(local, np.zeros((2, 2)))
    with pytest.raises(ValueError):
        cache.figure(np.zeros, 3)


def test_shared_computes_once_per_distinct_input_and_hands_out_copies():
    from cnnviz.lessons import overview

    scene = cache.shared(overview.sharing_scene, "cross", 3, seed=11)
    again = cache.shared(overview.sharing_scene, "cross", 3, seed=11)
    assert np.array_equal(again.fmap, scene.fmap) and again.positions == scene.positions
    assert again is not scene  # a copy: nothing one user changes reaches another
    again.fmap[:] = -1
    assert cache.shared(overview.sharing_scene, "cross", 3, seed=11).fmap.max() > 0
    assert cache.shared(overview.sharing_scene, "cross", 3, seed=12).positions != scene.positions


def test_shared_tells_two_large_pictures_apart_by_one_pixel():
    from cnnviz.lessons import overview

    a = np.zeros((1024, 1024), np.float32)
    b = a.copy()
    b[0, 0] = 1.0  # Streamlit's own sampling hasher does not look at this pixel
    assert cache._holds_picture(((a,), {}))
    assert cache.shared(overview.pipeline, a)["input"].max() == 0.0
    assert cache.shared(overview.pipeline, b)["input"].max() == 1.0
    assert cache.shared(overview.pipeline, a)["input"].max() == 0.0


def test_shared_refuses_a_function_it_could_not_look_up_again():
    with pytest.raises(ValueError):
        cache.shared(lambda v: v, 3)
    with pytest.raises(ValueError):
        cache.shared(np.zeros, 3)


def test_figure_takes_a_builder_that_returns_a_dict():
    from cnnviz.lessons import pooling as pool_math
    from cnnviz.viz import pooling as pool_figs

    seq = pool_math.step_sequence(pool_math.ARTICLE_4X4, 2, 2, 0)
    labels = {k: k for k in ("title", "input", "output", "play", "pause", "value", "padding")}
    labels["step"] = "{i} {j}"
    fig = cache.figure(pool_figs.step_spec, seq, "max", labels)
    expected = pool_figs.step_spec(seq, "max", labels)
    as_json = partial(json.dumps, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)
    assert as_json(fig.to_dict()) == as_json(expected)


def test_session_keeps_the_last_few_results_of_this_user():
    calls = []

    def build(tag):
        calls.append(tag)
        return tag * 10

    assert cache.session("t_slot", "a", lambda: build(1), size=2) == 10
    assert cache.session("t_slot", "a", lambda: build(9), size=2) == 10  # kept: not rebuilt
    assert cache.session("t_slot", "b", lambda: build(2), size=2) == 20
    assert cache.session("t_slot", "a", lambda: build(9), size=2) == 10  # "a" is now newest
    assert cache.session("t_slot", "c", lambda: build(3), size=2) == 30  # drops "b"
    assert cache.session("t_slot", "b", lambda: build(4), size=2) == 40
    assert calls == [1, 2, 3, 4]
    assert len(st.session_state[cache.SESSION_KEY]["t_slot"]) == 2  # bounded
    assert cache.session("other", "a", lambda: build(5)) == 50  # slots are separate


def test_key_of_reads_every_element_of_nested_arguments():
    from cnnviz.lessons.conv import Stop

    rng = np.random.default_rng(3)
    big = rng.random((600, 600, 3), dtype=np.float32)
    args = ([["1", "2"], {"a": 1.5, "b": None}], {"pic": big, "t": ("x", 2)})
    assert cache.key_of(*args) == cache.key_of(*copy.deepcopy(args))
    changed = big.copy()
    changed[599, 599, 2] += 1e-3  # one number of a picture Streamlit's hasher would sample
    variants = [
        ([["1", "3"], {"a": 1.5, "b": None}], {"pic": big, "t": ("x", 2)}),
        ([["1", "2"], {"a": 1.5, "b": 0}], {"pic": big, "t": ("x", 2)}),
        ([["1", "2"], {"a": 1.5, "b": None}], {"pic": changed, "t": ("x", 2)}),
        ([["1", "2"], {"a": 1.5, "b": None}], {"pic": big, "t": ("x", 2.0)}),
        ([["12"], {"a": 1.5, "b": None}], {"pic": big, "t": ("x", 2)}),
        ([["1", "2"], {"a": 1.5, "b": None}], {"pic": big.reshape(300, 1200, 3), "t": ("x", 2)}),
    ]
    keys = {cache.key_of(*v) for v in variants} | {cache.key_of(*args)}
    assert len(keys) == len(variants) + 1
    z = np.zeros(2)
    a = Stop(0, 1, z, z, np.arange(4.0).reshape(1, 2, 2), z, z, 0.5)
    b = copy.deepcopy(a)
    assert cache.key_of(a) == cache.key_of(b)
    b.window[0, 1, 1] = 9.0
    assert cache.key_of(a) != cache.key_of(b)
    assert cache.key_of(True) != cache.key_of(1) != cache.key_of(1.0)


def test_a_frozen_picture_is_read_once_and_a_writable_one_every_time(monkeypatch):
    reads = []
    real = cache._digest
    monkeypatch.setattr(cache, "_digest", lambda a: reads.append(a.shape) or real(a))
    pic = np.random.default_rng(5).random((64, 64, 3), dtype=np.float32)
    d0 = cache.array_digest(pic)
    pic[0, 0, 0] += 1  # writable: read again, and the change is seen
    assert cache.array_digest(pic) != d0 and len(reads) == 2
    frozen = cache.freeze({"p": pic.copy()})["p"]
    with pytest.raises(ValueError):
        frozen[0, 0, 0] = 0
    assert cache.array_digest(frozen) == cache.array_digest(frozen) == cache.array_digest(pic)
    assert len(reads) == 4  # the frozen one once, the writable one once more
    view = pic[1:]  # a view never counts as frozen: its base could change under it
    view.flags.writeable = False
    cache.array_digest(view)
    cache.array_digest(view)
    assert len(reads) == 6


def test_figure_cache_is_bounded_least_recently_used_first_out(monkeypatch):
    small = cache._Figures(3)
    monkeypatch.setattr(cache, "_FIGURES", small)

    def draw(n):
        return cache.figure(figures.grid_figure, np.full((2, 2), float(n))).to_dict()

    specs = {n: draw(n) for n in range(3)}
    assert draw(0) is specs[0]  # a hit, and 0 is now the most recently used
    draw(3)  # evicts 1, the least recently used
    assert len(small.store) == 3
    assert draw(2) is specs[2] and draw(0) is specs[0]
    rebuilt = draw(1)
    assert rebuilt is not specs[1]  # built again, to the same figure
    as_json = partial(json.dumps, cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)
    assert as_json(rebuilt) == as_json(specs[1])


def test_drawing_every_page_leaves_the_shared_figures_as_they_were(monkeypatch):
    """The figure dicts are shared without a copy: drawing every page (AppTest; English, and
    Chinese in the projector view, which draws changed copies) must leave each as it was
    built."""
    from tests.helpers import as_json, open_page, registered_pages

    built = {}

    def spec(module, name, args, kwargs):
        out = real(module, name, args, kwargs)
        built[id(out)] = as_json(out)
        return out

    real = cache._spec
    monkeypatch.setattr(cache, "_spec", spec)
    cache._FIGURES.clear()
    for view in ({"lang": "en"}, {"lang": "zh", "state": {"view_projector": True}}):
        for page, _ in registered_pages():
            open_page(page, **view)
    shared = list(cache._FIGURES.store.values())
    assert len(shared) >= 20
    assert [as_json(v) for v in shared] == [built[id(v)] for v in shared]
