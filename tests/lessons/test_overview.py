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


def test_pipeline_keeps_the_size_until_pooling_halves_it():
    gray = np.random.default_rng(0).random((10, 13)).astype(np.float32)
    maps = overview.pipeline(gray)
    assert maps["conv"].shape == maps["relu"].shape == (10, 13)
    assert maps["pool"].shape == (5, 6)
    assert (maps["relu"] >= 0).all()
    np.testing.assert_allclose(maps["relu"], np.maximum(maps["conv"], 0))
    # one conv value by hand: the outline kernel at an interior pixel
    r, c = 4, 6
    expected = 9 * gray[r, c] - gray[r - 1 : r + 2, c - 1 : c + 2].sum()
    assert maps["conv"][r, c] == pytest.approx(expected, rel=1e-5)
    assert maps["pool"][2, 3] == maps["relu"][4:6, 6:8].max()


@pytest.mark.parametrize("pattern", sorted(overview.PATTERNS))
def test_one_shared_kernel_finds_every_clean_copy(pattern):
    demo = overview.sharing_scene(pattern, 4, seed=2)
    kernel = overview.PATTERNS[pattern]
    assert len(demo.positions) == 4
    for r, c in demo.positions:  # the centre of each copy reaches the peak
        assert demo.fmap[r + 1, c + 1] == pytest.approx(demo.peak)
    assert demo.peak == pytest.approx(kernel.sum() * kernel.max())
    assert demo.hits >= 4
    assert demo.hits == int(np.sum(demo.fmap >= 0.9 * demo.peak))
