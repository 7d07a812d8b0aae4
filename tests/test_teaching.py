import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnviz.lessons import overview


def test_article_parameter_counts():
    # The worked example: 32x32x3 fully connected to 100 units vs 6 kernels of 5x5x3.
    assert overview.fc_params(32, 32, 3, 100).total == 307_300
    assert overview.conv_params(3, 6, 5).total == 456
    assert overview.conv_params(3, 6, 5, bias=False).total == 450


@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 4), st.integers(1, 50))
def test_conv_count_does_not_depend_on_image_size(h, w, c, k):
    fc = overview.fc_params(h, w, c, k)
    conv = overview.conv_params(c, k, 3)
    assert fc.weights == h * w * c * k and fc.biases == k
    assert conv.total == k * (9 * c + 1)


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_counts_reject_nonsense(bad):
    with pytest.raises(ValueError):
        overview.fc_params(bad, 3, 3, 3)
    with pytest.raises(ValueError):
        overview.conv_params(3, bad, 3)


def test_pattern_scene_places_separate_copies():
    img, pos = overview.pattern_scene(32, overview.TURN_PATTERN, 4, seed=1)
    assert len(pos) == 4
    assert img.sum() == pytest.approx(4 * overview.TURN_PATTERN.sum())
    for r, c in pos:
        np.testing.assert_array_equal(img[r : r + 3, c : c + 3], overview.TURN_PATTERN)
