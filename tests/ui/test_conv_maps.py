"""The convolution page keeps each feature map's sums without the bias and adds the bias on top
(ui/conv/maps.py), so moving the bias slider does not convolve the picture again: the numbers
must be exactly those of ``F.conv2d_image`` with the bias."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import functional as F
from ui.conv.maps import with_bias


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), c=st.sampled_from([1, 3]), n=st.integers(1, 5),
       h=st.integers(5, 24), w=st.integers(5, 24), stride=st.integers(1, 3),
       padding=st.integers(0, 2), flip=st.booleans(),
       bias=st.one_of(st.just(0.0), st.floats(-10, 10, allow_nan=False)))
def test_bias_added_to_the_bias_free_map_equals_the_map_with_bias(seed, c, n, h, w, stride,
                                                                  padding, flip, bias):
    rng = np.random.default_rng(seed)
    x = rng.random((c, h, w)).astype(np.float32)
    k = rng.normal(size=(1, c, n, n)).astype(np.float32)
    raw = F.conv2d_image(x, k, None, stride, padding, flip=flip)[0]
    got = with_bias(raw, bias)
    want = F.conv2d_image(x, k, bias, stride, padding, flip=flip)[0]
    assert got.dtype == want.dtype and np.array_equal(got, want)
    assert got is not raw  # the kept bias-free map is never handed out to be changed
