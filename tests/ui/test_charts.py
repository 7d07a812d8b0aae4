"""ui/charts.py: figures cached per input for the whole class, keyed by every byte of an array."""

from __future__ import annotations

import numpy as np
import pytest
import streamlit as st

from cnnviz.viz import figures
from ui import charts


def test_digest_sees_one_changed_pixel_of_a_large_picture():
    a = np.random.default_rng(0).random((1024, 1024, 3)).astype(np.float32)
    b = a.copy()
    b[700, 3, 1] += 0.25
    assert charts.array_digest(a) != charts.array_digest(b)
    assert charts.array_digest(a) == charts.array_digest(a.copy())
    assert charts.array_digest(a) != charts.array_digest(a.astype(np.float64))
    assert charts.array_digest(a[:, :, 0]) != charts.array_digest(a[:, :, 0].T)  # shape counts
    assert charts.array_digest(np.array(["x", "y"], object)) != charts.array_digest(
        np.array(["x", "z"], object))


def test_a_cached_result_is_never_handed_to_a_different_large_picture():
    # Streamlit alone samples 100 000 elements of such an array for its cache key (pixel (0, 0)
    # is not among them with its default seed): these two pictures would share one entry, and
    # one student would see the other's result.
    calls = []

    @st.cache_data(max_entries=4, show_spinner=False, hash_funcs=charts.HASH_FUNCS)
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
    fig = charts.figure(figures.map_figure, v, title="t", hover_label="值")
    assert fig.to_dict() == figures.map_figure(v, title="t", hover_label="值").to_dict()
    again = charts.figure(figures.map_figure, v, title="t", hover_label="值")
    assert again.to_dict() == fig.to_dict() and again.to_dict() is not fig.to_dict()  # a copy
    other = charts.figure(figures.map_figure, v, title="t", hover_label="value")
    assert other.to_dict()["data"][1]["hovertemplate"] != fig.to_dict()["data"][1]["hovertemplate"]


def test_figure_refuses_a_builder_it_could_not_look_up_again():
    def local(v):
        return figures.map_figure(v)

    with pytest.raises(ValueError):
        charts.figure(local, np.zeros((2, 2)))
    with pytest.raises(ValueError):
        charts.figure(np.zeros, 3)
