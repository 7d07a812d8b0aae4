"""The toy data sets: shapes, ranges, determinism, balance, and upload preprocessing."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import datasets
from cnnviz.datasets import load, make_shapes, preprocess_for


@pytest.fixture(scope="module", params=["shapes", "digits"])
def ds(request: pytest.FixtureRequest) -> datasets.Dataset:
    return load(request.param, seed=0)


def test_shapes_dtypes_ranges(ds: datasets.Dataset) -> None:
    side = 16 if ds.name == "shapes" else 8
    for x, y in ((ds.x_train, ds.y_train), (ds.x_test, ds.y_test)):
        assert x.ndim == 4 and x.shape[1:] == (1, side, side)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert len(x) == len(y)
        assert x.min() >= 0.0 and x.max() <= 1.0 and np.isfinite(x).all()
        assert set(np.unique(y)) == {0, 1, 2, 3}
    assert ds.image_size == (side, side) and ds.n_classes == 4
    assert len(ds.classes) == len(ds.classes_zh) == 4
    assert ds.class_names("zh-CN") == ds.classes_zh and ds.class_names("en") == ds.classes


def test_default_sizes() -> None:
    s = load("shapes")
    assert (len(s.x_train), len(s.x_test)) == (2000, 500)
    d = load("digits")
    assert (len(d.x_train), len(d.x_test)) == (576, 144)  # 720 images, 80/20


def test_balance(ds: datasets.Dataset) -> None:
    for y in (ds.y_train, ds.y_test):
        counts = np.bincount(y, minlength=4)
        assert counts.min() > 0
        assert counts.max() - counts.min() <= max(2, 0.05 * len(y))


@pytest.mark.parametrize("name", ["shapes", "digits"])
def test_deterministic_per_seed(name: str) -> None:
    a, b, c = load(name, seed=3), load(name, seed=3), load(name, seed=4)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_digits_split_is_a_partition_of_the_file() -> None:
    d = load("digits", seed=1)
    with np.load(datasets._DIGITS_FILE) as f:
        raw = np.column_stack([f["images"].reshape(-1, 64), f["labels"]]).astype(np.int64)
    ours = np.column_stack(
        [np.concatenate([d.x_train, d.x_test]).reshape(-1, 64) * 16,
         np.concatenate([d.y_train, d.y_test])]
    )  # fmt: skip
    ours = np.round(ours).astype(np.int64)

    # every image of the file exactly once (compare as sorted multisets of rows)
    def rows_sorted(a: np.ndarray) -> np.ndarray:
        return a[np.lexsort(a.T[::-1])]

    np.testing.assert_array_equal(rows_sorted(ours), rows_sorted(raw))
    assert len(ours) == len(raw) == 720
    # pixel values are the UCI counts 0..16 divided by 16
    np.testing.assert_allclose(d.x_train * 16, np.round(d.x_train * 16), atol=1e-5)


def test_subset_sizes() -> None:
    s = load("shapes", seed=0, n_train=100, n_test=40)
    assert (len(s.x_train), len(s.x_test)) == (100, 40)
    d = load("digits", seed=0, n_train=50, n_test=20)
    assert (len(d.x_train), len(d.x_test)) == (50, 20)


def test_train_and_test_differ() -> None:
    s = load("shapes", seed=0, n_train=200, n_test=200)
    assert not np.array_equal(s.x_train, s.x_test)


def test_shapes_fast() -> None:
    t0 = time.perf_counter()
    load("shapes", seed=123)
    assert time.perf_counter() - t0 < 0.5


def test_shape_classes_have_expected_geometry() -> None:
    """Horizontal strokes spread along x, vertical along y; the others along both."""
    x, y = make_shapes(400, seed=5)
    img = x[:, 0] > 0.5
    spread_x = np.array([np.ptp(np.nonzero(m)[1]) if m.any() else 0 for m in img])
    spread_y = np.array([np.ptp(np.nonzero(m)[0]) if m.any() else 0 for m in img])
    assert np.mean(spread_x[y == 0] > 2 * spread_y[y == 0] + 1) > 0.9
    assert np.mean(spread_y[y == 1] > 2 * spread_x[y == 1] + 1) > 0.9
    for k in (2, 3):
        assert np.mean((spread_x[y == k] >= 3) & (spread_y[y == k] >= 3)) > 0.9


def test_positions_vary() -> None:
    """Strokes are not always in the same place: position is a nuisance the net must ignore."""
    x, y = make_shapes(400, seed=6)
    rows = [np.argmax(x[i, 0].sum(axis=1)) for i in np.flatnonzero(y == 0)]
    assert np.ptp(rows) >= 8


def test_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="shapes"):
        load("mnist")
    with pytest.raises(ValueError):
        preprocess_for("mnist", np.zeros((8, 8)))


# --------------------------------------------------------------------------- preprocess_for


def test_preprocess_dark_ink_on_paper_is_inverted() -> None:
    paper = np.ones((100, 60, 3), np.float32)
    paper[45:55, 5:55] = 0.0  # a dark horizontal stroke
    out = preprocess_for("shapes", paper)
    assert out.shape == (1, 1, 16, 16) and out.dtype == np.float32
    row_means = out[0, 0].mean(axis=1)
    assert np.argmax(row_means) in (7, 8)  # bright where the ink was
    assert out[0, 0, 0].max() < 0.05  # and the paper went dark
    assert out.min() >= 0 and out.max() <= 1


def test_preprocess_bright_on_dark_kept() -> None:
    img = np.zeros((16, 16), np.float32)
    img[:, 8] = 1.0
    out = preprocess_for("shapes", img)
    np.testing.assert_allclose(out[0, 0], img, atol=1e-6)


def test_preprocess_digits_crops_to_ink() -> None:
    img = np.ones((200, 200), np.float32)
    img[80:120, 95:105] = 0.0  # a small "1" in the middle of a big page
    out = preprocess_for("digits", img)
    assert out.shape == (1, 1, 8, 8)
    assert out[0, 0, :, 3:5].mean() > 0.5  # the stroke now fills the height
    assert out[0, 0, :, 0].max() < 0.1


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(1, 80),
    w=st.integers(1, 80),
    color=st.booleans(),
    name=st.sampled_from(["shapes", "digits"]),
    const=st.booleans(),
)
def test_preprocess_any_image_finite(h: int, w: int, color: bool, name: str, const: bool) -> None:
    rng = np.random.default_rng(h * 100 + w)
    shape = (h, w, 3) if color else (h, w)
    img = np.full(shape, 0.7, np.float32) if const else rng.random(shape).astype(np.float32)
    out = preprocess_for(name, img)
    side = 16 if name == "shapes" else 8
    assert out.shape == (1, 1, side, side)
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
