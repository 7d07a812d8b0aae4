"""Centering, normalisation, PCA and whitening: the algebra, and no NaN on degenerate data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnviz import preprocess


def cloud(n: int = 500, d: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) + 2 * np.eye(d)
    return rng.normal(size=(n, d)) @ mix.T + rng.normal(size=d) * 5


def finite(*arrays: np.ndarray) -> bool:
    return all(np.isfinite(np.asarray(a)).all() for a in arrays)


def test_center() -> None:
    X = cloud()
    xc, mean = preprocess.center(X)
    np.testing.assert_allclose(xc.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(xc + mean, X)


def test_normalize_minmax_and_std() -> None:
    X = cloud()
    mm = preprocess.normalize(X, "minmax")
    np.testing.assert_allclose(mm.x.min(axis=0), -1)
    np.testing.assert_allclose(mm.x.max(axis=0), 1)
    np.testing.assert_allclose(mm.x * mm.scale + mm.offset, X)
    sd = preprocess.normalize(X, "std")
    np.testing.assert_allclose(sd.x.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(sd.x.var(axis=0), 1)
    assert not mm.degenerate and not sd.degenerate
    with pytest.raises(ValueError):
        preprocess.normalize(X, "l2")


@pytest.mark.parametrize("method", ["minmax", "std"])
def test_normalize_constant_feature(method: str) -> None:
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    r = preprocess.normalize(X, method)
    assert finite(r.x) and r.degenerate
    np.testing.assert_array_equal(r.constant, [False, True])
    np.testing.assert_array_equal(r.x[:, 1], 0.0)


def test_covariance_matches_numpy() -> None:
    X = cloud()
    np.testing.assert_allclose(preprocess.covariance(X), np.cov(X.T, ddof=0), atol=1e-10)


def test_pca() -> None:
    X = cloud()
    r = preprocess.pca(X)
    assert r.components.shape == (3, 3) and not r.degenerate
    np.testing.assert_allclose(r.components @ r.components.T, np.eye(3), atol=1e-12)
    assert np.all(np.diff(r.explained_variance) <= 0)
    np.testing.assert_allclose(r.explained_ratio.sum(), 1)
    cov_rot = r.rotated.T @ r.rotated / len(X)
    np.testing.assert_allclose(cov_rot, np.diag(r.explained_variance), atol=1e-9)
    np.testing.assert_allclose(r.rotated @ r.components + r.mean, X, atol=1e-10)


def test_pca_axis_of_elongated_cloud() -> None:
    X = preprocess.make_gaussian_cloud(5000, spreads=(3, 0.5), angle_deg=30, seed=1)
    axis = preprocess.pca(X).components[0]
    expected = np.array([np.cos(np.pi / 6), np.sin(np.pi / 6)])
    assert abs(axis @ expected) > 0.999


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_covariance_is_identity(method: str) -> None:
    X = cloud(d=4)
    xw, W = preprocess.whiten(X, method, eps=1e-12)
    np.testing.assert_allclose(xw.T @ xw / len(X), np.eye(4), atol=1e-6)
    np.testing.assert_allclose(xw.mean(axis=0), 0, atol=1e-10)
    assert W.shape == (4, 4)


def test_zca_symmetric_and_close_to_input() -> None:
    X = cloud(d=4)
    xw_z, Wz = preprocess.whiten(X, "zca", eps=1e-12)
    np.testing.assert_allclose(Wz, Wz.T, atol=1e-12)
    xw_p, _ = preprocess.whiten(X, "pca", eps=1e-12)
    # ZCA is the whitening that moves points least (after rescaling): closer than PCA's
    xc = preprocess.center(X)[0] / preprocess.center(X)[0].std()
    assert np.linalg.norm(xw_z - xc) < np.linalg.norm(xw_p - xc)


def test_whiten_eps_shrinks_weak_directions() -> None:
    X = preprocess.make_gaussian_cloud(2000, spreads=(1, 0.01), seed=2)
    xw, _ = preprocess.whiten(X, "pca", eps=1e-2)
    var = xw.var(axis=0)
    assert var[0] > 0.98 and var[1] < 0.05


def test_whiten_rejects_bad_args() -> None:
    with pytest.raises(ValueError):
        preprocess.whiten(cloud(), "svd")
    with pytest.raises(ValueError):
        preprocess.whiten(cloud(), eps=-1)


DEGENERATE = {
    "all-equal": np.full((10, 2), 3.7),
    "one-point": np.array([[1.0, 2.0]]),
    "two-points": np.array([[0.0, 0.0], [1.0, 1.0]]),
    "collinear": np.column_stack([np.arange(6.0), 2 * np.arange(6.0)]),
    "single-colour": preprocess.image_pixels(np.full((20, 20, 3), [0.2, 0.5, 0.9])),
}


@pytest.mark.parametrize("X", DEGENERATE.values(), ids=DEGENERATE.keys())
def test_degenerate_inputs_stay_finite(X: np.ndarray) -> None:
    xc, mean = preprocess.center(X)
    assert finite(xc, mean)
    for m in ("minmax", "std"):
        assert finite(preprocess.normalize(X, m).x)
    cov = preprocess.covariance(X)
    r = preprocess.pca(X)
    assert finite(cov, r.components, r.explained_variance, r.explained_ratio, r.rotated)
    for m in ("pca", "zca"):
        for eps in (0.0, 1e-12, 1e-5):
            xw, W = preprocess.whiten(X, m, eps=eps)
            assert finite(xw, W)
    if X.shape[1] == 2:
        assert finite(*preprocess.covariance_ellipse(cov), preprocess.principal_axes(cov))


def test_degenerate_flags() -> None:
    r = preprocess.pca(DEGENERATE["all-equal"])
    assert r.degenerate
    np.testing.assert_array_equal(r.components, np.eye(2))
    np.testing.assert_array_equal(r.explained_ratio, 0)
    xw, W = preprocess.whiten(DEGENERATE["single-colour"], "zca")
    np.testing.assert_array_equal(xw, 0)
    # two points: one real axis, whitened to unit variance; the empty direction stays 0
    xw, _ = preprocess.whiten(DEGENERATE["two-points"], "pca", eps=0.0)
    np.testing.assert_allclose(np.abs(xw[:, 0]), 1.0)
    np.testing.assert_allclose(xw[:, 1], 0.0, atol=1e-9)


def test_bad_data_raises() -> None:
    for bad in (np.zeros((0, 2)), np.zeros(5), np.array([[np.nan, 1.0]])):
        with pytest.raises(ValueError):
            preprocess.center(bad)


def test_ellipse_and_axes() -> None:
    cov = np.array([[4.0, 0.0], [0.0, 1.0]])
    xs, ys = preprocess.covariance_ellipse(cov, n_std=2, n_points=64, center=(1, -1))
    assert xs.shape == ys.shape == (65,)
    np.testing.assert_allclose(((xs - 1) / 4) ** 2 + ((ys + 1) / 2) ** 2, 1.0)
    axes = preprocess.principal_axes(cov, center=(1, -1), n_std=2)
    assert axes.shape == (2, 2, 2)
    np.testing.assert_allclose(np.linalg.norm(axes[0, 1] - axes[0, 0]), 8.0)
    np.testing.assert_allclose(np.linalg.norm(axes[1, 1] - axes[1, 0]), 4.0)
    with pytest.raises(ValueError):
        preprocess.covariance_ellipse(np.eye(3))


def test_gaussian_cloud() -> None:
    X = preprocess.make_gaussian_cloud(20000, mean=(2, -1), spreads=(2, 0.5), angle_deg=90, seed=0)
    assert X.shape == (20000, 2)
    np.testing.assert_allclose(X.mean(axis=0), [2, -1], atol=0.05)
    np.testing.assert_allclose(X.std(axis=0), [0.5, 2], rtol=0.03)  # rotated by 90 degrees
    C = preprocess.make_gaussian_cloud(20000, spreads=(1, 2), correlation=0.8, seed=0)
    np.testing.assert_allclose(np.corrcoef(C.T)[0, 1], 0.8, atol=0.02)
    np.testing.assert_allclose(C.std(axis=0), [1, 2], rtol=0.03)
    assert finite(preprocess.make_gaussian_cloud(10, correlation=1.0))
    np.testing.assert_array_equal(
        preprocess.make_gaussian_cloud(5, seed=3), preprocess.make_gaussian_cloud(5, seed=3)
    )


def test_patches() -> None:
    """(ZCA on these patches: cnnviz.lessons.preprocessing, tests/lessons/test_preprocessing.)"""
    rng = np.random.default_rng(0)
    img = rng.random((40, 50))
    p = preprocess.extract_patches(img, size=8, n=300, seed=1)
    assert p.shape == (300, 8, 8)
    assert preprocess.extract_patches(img[:5, :5], size=8, n=3).shape == (3, 5, 5)
    np.testing.assert_array_equal(p, preprocess.extract_patches(img, size=8, n=300, seed=1))


def test_image_pixels() -> None:
    img = np.random.default_rng(0).random((30, 40, 3))
    px = preprocess.image_pixels(img, n_max=100, seed=0)
    assert px.shape == (100, 3)
    assert len(np.unique(px, axis=0)) == 100  # sampled without replacement
    assert preprocess.image_pixels(img[:5, :5], n_max=100).shape == (25, 3)
    assert preprocess.image_pixels(img[..., 0], n_max=10).shape == (10, 1)


@settings(max_examples=60, deadline=None)
@given(
    X=arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 5)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    ),
    method=st.sampled_from(["pca", "zca"]),
)
def test_random_data_never_nan(X: np.ndarray, method: str) -> None:
    r = preprocess.pca(X)
    assert finite(r.components, r.explained_variance, r.explained_ratio, r.rotated)
    np.testing.assert_allclose(r.components @ r.components.T, np.eye(X.shape[1]), atol=1e-8)
    xw, W = preprocess.whiten(X, method)
    assert finite(xw, W)
    # whitening never blows a direction up beyond unit variance
    assert np.all(np.diag(xw.T @ xw / len(X)) <= 1 + 1e-6)
    for m in ("minmax", "std"):
        n = preprocess.normalize(X, m)
        assert finite(n.x)
    assert np.abs(preprocess.normalize(X, "minmax").x).max() <= 1.0
