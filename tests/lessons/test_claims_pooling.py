"""Pooling's "how much did the maps change" measure is bounded and explained (issue 16, item 4:
"feature maps changed 117 %" on an axis to 120 % is a percentage a class cannot read)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnviz import images
from cnnviz.lessons import pooling as L

values = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6)),
                elements=st.floats(-50, 50, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(values, st.data())
def test_relative_change_is_a_share_between_0_and_1(a: np.ndarray, data) -> None:
    b = data.draw(arrays(np.float64, a.shape, elements=st.floats(-50, 50, allow_nan=False)))
    c = L.relative_change(a, b)
    assert 0.0 <= c <= 1.0
    assert (c == 0.0) == bool(np.array_equal(a, b))
    assert c == pytest.approx(L.relative_change(b, a))


def test_relative_change_reads_as_described() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert L.relative_change(a, a) == 0
    assert L.relative_change(a, 2 * a) == pytest.approx(1 / 3)
    assert L.relative_change(np.zeros(3), np.zeros(3)) == 0
    # nothing in common (a stroke moved off every place it was): 100 %
    assert L.relative_change(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == 1.0


@pytest.mark.parametrize("direction", L.DIRECTIONS)
@pytest.mark.parametrize("name", [s["name"] for s in images.list_samples()])
def test_every_sample_picture_stays_within_100_percent(name: str, direction: str) -> None:
    gray = images.to_gray(images.resize_to_working(images.load_sample(name).array, 128))
    tol = L.tolerance(gray, list(L.KERNELS), 2, 2, direction)
    for key in ("feature", "max", "avg"):
        assert np.all((tol[key] >= 0) & (tol[key] <= 1)), (key, tol[key])
