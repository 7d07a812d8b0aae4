"""Global pooling (one window over the whole map) takes a direct reduction path: hold it to the
naive loops, and check the pooling-padding error has its own code."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import _naive
from cnnviz import functional as F


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9),
       st.sampled_from(["max", "avg"]), st.integers(0, 10_000))
def test_global_pool_matches_naive(n, c, h, w, mode, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    out, cache = F.pool2d_forward(x, (h, w), mode=mode)
    ref, _ = _naive.pool2d_forward_naive(x, (h, w), None, 0, mode)
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    dout = np.random.default_rng(seed + 1).standard_normal(out.shape)
    np.testing.assert_allclose(F.pool2d_backward(dout, cache),
                               _naive.pool2d_backward_naive(dout, x, (h, w), None, 0, mode),
                               rtol=1e-12)
    if mode == "max":
        rows, cols = F.pool2d_argmax(cache)
        picked = x[np.arange(n)[:, None], np.arange(c)[None, :], rows[..., 0, 0], cols[..., 0, 0]]
        np.testing.assert_array_equal(picked, out[..., 0, 0])


def test_pool_padding_beyond_half_window_has_its_own_code():
    with pytest.raises(F.ShapeError) as info:
        F.pool2d_forward(np.zeros((1, 1, 6, 6)), 2, padding=2)
    assert info.value.code == "pool_padding"
    assert info.value.params["padding"] == 2
