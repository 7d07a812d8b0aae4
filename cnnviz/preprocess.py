"""Data preprocessing the preprocessing page shows: centering, normalisation, PCA, whitening.

Data are ``X (N, D)``: N points with D features (2 for scatter plots, 3 for RGB pixels, s*s for
image patches). Covariances use the population form ``Xc.T @ Xc / N`` (no N-1), so a single
point has covariance 0 instead of NaN, and whitened data have covariance exactly ``I``.

Degenerate inputs never give NaN or inf: a constant feature normalises to 0 and is flagged;
all-equal points (or one point) have zero covariance, PCA then returns the identity as axes
and ``degenerate=True``; whitening leaves directions without variance at 0 instead of dividing
by 0. Results are float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Normalized",
    "PCAResult",
    "center",
    "covariance",
    "covariance_ellipse",
    "extract_patches",
    "image_pixels",
    "make_gaussian_cloud",
    "normalize",
    "pca",
    "principal_axes",
    "whiten",
]

# eigenvalues below this fraction of the largest count as "no variance" (rounding noise)
_REL_TOL = 1e-10


def _as_data(X: np.ndarray) -> np.ndarray:
    a = np.asarray(X, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"expected data of shape (N, D) with N, D >= 1, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("data contain NaN or infinity")
    return a


def center(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subtract the mean of every feature.

    Parameters
    ----------
    X : np.ndarray
        ``(N, D)`` data.

    Returns
    -------
    Xc : np.ndarray
        ``(N, D)``, every column has mean 0.
    mean : np.ndarray
        ``(D,)`` the subtracted mean.
    """
    a = _as_data(X)
    mean = a.mean(axis=0)
    return a - mean, mean


@dataclass
class Normalized:
    """Result of :func:`normalize`.

    Attributes
    ----------
    x : np.ndarray
        ``(N, D)`` normalised data, ``x = (X - offset) / scale``.
    offset, scale : np.ndarray
        ``(D,)`` per feature (``scale`` is 1 where the feature is constant).
    constant : np.ndarray
        ``(D,)`` bool, True where the feature has zero range/variance (its column is 0).
    """

    x: np.ndarray
    offset: np.ndarray
    scale: np.ndarray
    constant: np.ndarray

    @property
    def degenerate(self) -> bool:
        """True if any feature was constant."""
        return bool(self.constant.any())


def normalize(X: np.ndarray, method: str = "minmax") -> Normalized:
    """Rescale every feature.

    Parameters
    ----------
    X : np.ndarray
        ``(N, D)`` data.
    method : {"minmax", "std"}
        ``"minmax"``: map each feature's ``[min, max]`` to ``[-1, 1]``.
        ``"std"``: subtract the mean and divide by the (population) standard deviation, so
        every feature has mean 0 and variance 1.

    Returns
    -------
    Normalized
        Constant features come out as 0 (not NaN) and are flagged in ``constant``.
    """
    a = _as_data(X)
    if method == "minmax":
        lo, hi = a.min(axis=0), a.max(axis=0)
        offset, spread = (lo + hi) / 2, (hi - lo) / 2
    elif method == "std":
        offset, spread = a.mean(axis=0), a.std(axis=0)
    else:
        raise ValueError(f"method must be 'minmax' or 'std', got {method!r}")
    constant = spread <= 1e-12 * np.maximum(1.0, np.abs(offset))
    scale = np.where(constant, 1.0, spread)
    x = np.where(constant, 0.0, (a - offset) / scale)
    if method == "minmax":
        x = np.clip(x, -1.0, 1.0)  # exact bounds despite rounding
    return Normalized(x, offset, scale, constant)


def covariance(X: np.ndarray) -> np.ndarray:
    """Population covariance ``Xc.T @ Xc / N`` of ``(N, D)`` data; ``(D, D)``, symmetric."""
    xc, _ = center(X)
    cov = xc.T @ xc / xc.shape[0]
    return (cov + cov.T) / 2


def _no_variance(vals: np.ndarray, a: np.ndarray) -> bool:
    """True if the largest eigenvalue is only rounding noise of centring ``a``."""
    scale = max(1.0, float(np.abs(a).max()))
    return bool(vals[0] <= (1e-12 * scale) ** 2)


def _eig_desc(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (clipped at 0, descending) and eigenvectors as rows, signs fixed."""
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals, comps = np.clip(vals[order], 0.0, None), vecs[:, order].T
    # deterministic signs: the largest entry of each axis is positive
    big = np.argmax(np.abs(comps), axis=1)
    comps *= np.sign(comps[np.arange(len(comps)), big])[:, None]
    return vals, comps


@dataclass
class PCAResult:
    """Result of :func:`pca`.

    Attributes
    ----------
    components : np.ndarray
        ``(D, D)``, row ``k`` is the k-th principal axis (unit length), by decreasing variance.
    explained_variance : np.ndarray
        ``(D,)`` variance along each axis (eigenvalues of the covariance).
    explained_ratio : np.ndarray
        ``(D,)`` share of the total variance; all 0 if there is no variance.
    mean : np.ndarray
        ``(D,)``.
    rotated : np.ndarray
        ``(N, D)`` centred data in the axes' coordinates, ``(X - mean) @ components.T``.
    degenerate : bool
        True when the data have no variance (one point, or all points equal): the axes are
        then the identity.
    """

    components: np.ndarray
    explained_variance: np.ndarray
    explained_ratio: np.ndarray
    mean: np.ndarray
    rotated: np.ndarray
    degenerate: bool


def pca(X: np.ndarray) -> PCAResult:
    """Principal component analysis by eigendecomposition of the covariance.

    Parameters
    ----------
    X : np.ndarray of shape (N, D)

    Returns
    -------
    PCAResult
        The covariance of ``rotated`` is ``diag(explained_variance)``.
    """
    xc, mean = center(X)
    cov = xc.T @ xc / xc.shape[0]
    vals, comps = _eig_desc((cov + cov.T) / 2)
    degenerate = _no_variance(vals, np.asarray(X))
    if degenerate:
        comps, vals = np.eye(len(vals)), np.zeros_like(vals)
    ratio = np.zeros_like(vals) if degenerate else vals / vals.sum()
    return PCAResult(comps, vals, ratio, mean, xc @ comps.T, degenerate)


def whiten(X: np.ndarray, method: str = "pca", eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Decorrelate and scale to unit variance.

    With the covariance ``U diag(l) U.T`` (``U`` = principal axes as columns):
    PCA whitening ``W = diag(1/sqrt(l + eps)) U.T`` rotates onto the axes;
    ZCA whitening ``W = U diag(1/sqrt(l + eps)) U.T`` rotates back, so the result stays as
    close as possible to the input (for images: it still looks like the image, edges enhanced).

    Parameters
    ----------
    X : np.ndarray
        ``(N, D)`` data.
    method : {"pca", "zca"}
    eps : float
        Added to every eigenvalue (>= 0): avoids amplifying noise in low-variance directions.

    Returns
    -------
    Xw : np.ndarray
        ``(N, D)``, ``(X - mean) @ W.T``; covariance ``diag(l / (l + eps))`` (about ``I``).
    W : np.ndarray
        ``(D, D)`` whitening matrix (symmetric for ZCA). Directions with no variance (below
        1e-10 of the largest) get scale 0: they stay 0 instead of becoming inf/NaN.
    """
    if method not in ("pca", "zca"):
        raise ValueError(f"method must be 'pca' or 'zca', got {method!r}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    xc, _ = center(X)
    cov = xc.T @ xc / xc.shape[0]
    vals, comps = _eig_desc((cov + cov.T) / 2)
    live = vals > _REL_TOL * vals[0]
    if _no_variance(vals, np.asarray(X)):
        live[:] = False
    scale = np.where(live, 1.0 / np.sqrt(np.where(live, vals, 1.0) + eps), 0.0)
    W = scale[:, None] * comps
    if method == "zca":
        W = comps.T @ W
        W = (W + W.T) / 2
    return xc @ W.T, W


def extract_patches(img2d: np.ndarray, size: int = 8, n: int = 1000, seed: int = 0) -> np.ndarray:
    """Cut ``n`` random square patches out of a gray image.

    Parameters
    ----------
    img2d : np.ndarray
        ``(H, W)`` image (an ``(H, W, 3)`` one is averaged to gray).
    size : int
        Patch side; reduced to ``min(H, W)`` for a smaller image.
    n : int
        Number of patches (positions drawn with replacement).
    seed : int

    Returns
    -------
    np.ndarray
        ``(n, s, s)`` float64 with ``s = min(size, H, W)``.
    """
    a = np.asarray(img2d, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(axis=2)
    if a.ndim != 2 or min(a.shape) < 1:
        raise ValueError(f"expected an (H, W) image, got shape {np.shape(img2d)}")
    if size < 1 or n < 1:
        raise ValueError(f"size and n must be >= 1, got size={size}, n={n}")
    s = min(size, *a.shape)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, a.shape[0] - s + 1, n)
    cols = rng.integers(0, a.shape[1] - s + 1, n)
    win = np.lib.stride_tricks.sliding_window_view(a, (s, s))
    return np.array(win[rows, cols])


def _cov2(cov: np.ndarray) -> np.ndarray:
    c = np.asarray(cov, dtype=np.float64)
    if c.shape != (2, 2) or not np.isfinite(c).all():
        raise ValueError(f"expected a finite (2, 2) covariance, got shape {c.shape}")
    return (c + c.T) / 2


def covariance_ellipse(
    cov: np.ndarray, n_std: float = 2.0, n_points: int = 100, center: tuple = (0.0, 0.0)
) -> tuple[np.ndarray, np.ndarray]:
    """Outline of the ``n_std``-sigma ellipse of a 2-D Gaussian.

    Parameters
    ----------
    cov : np.ndarray
        ``(2, 2)`` covariance.
    n_std : float
        Radius in standard deviations.
    n_points : int
        Points on the outline (the first is repeated at the end to close it).
    center : (float, float)

    Returns
    -------
    xs, ys : np.ndarray
        ``(n_points + 1,)`` each. A zero covariance gives a point, a rank-1 one a segment.
    """
    vals, comps = _eig_desc(_cov2(cov))
    t = np.linspace(0.0, 2 * np.pi, n_points + 1)
    circle = np.stack([np.cos(t), np.sin(t)])  # (2, n_points + 1)
    pts = comps.T @ (n_std * np.sqrt(vals)[:, None] * circle)
    return pts[0] + center[0], pts[1] + center[1]


def principal_axes(cov: np.ndarray, center: tuple = (0.0, 0.0), n_std: float = 2.0) -> np.ndarray:
    """End points of the principal axes, for drawing them as segments.

    Returns
    -------
    np.ndarray
        ``(2, 2, 2)``: ``[axis, end, xy]``; axis 0 has the larger variance; each runs from
        ``center - n_std*sigma*u`` to ``center + n_std*sigma*u``.
    """
    vals, comps = _eig_desc(_cov2(cov))
    half = n_std * np.sqrt(vals)[:, None] * comps  # (axis, xy)
    c = np.asarray(center, dtype=np.float64)
    return np.stack([c - half, c + half], axis=1)


def make_gaussian_cloud(
    n: int,
    mean: tuple[float, float] = (0.0, 0.0),
    spreads: tuple[float, float] = (1.0, 1.0),
    angle_deg: float = 0.0,
    correlation: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Sample a 2-D Gaussian point cloud.

    Parameters
    ----------
    n : int
    mean : (float, float)
    spreads : (float, float)
        Standard deviations: along the rotated axes, or of x and y if ``correlation`` is given.
    angle_deg : float
        Rotation of the first axis from the x axis, counter-clockwise (ignored with
        ``correlation``).
    correlation : float, optional
        If given, in ``[-1, 1]``: correlation of x and y instead of a rotation.
    seed : int

    Returns
    -------
    np.ndarray
        ``(n, 2)`` float64.
    """
    rng = np.random.default_rng(seed)
    sx, sy = (abs(float(v)) for v in spreads)
    if correlation is None:
        th = np.deg2rad(angle_deg)
        A = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]]) @ np.diag([sx, sy])
    else:
        rho = float(np.clip(correlation, -1.0, 1.0))
        cov = np.array([[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]])
        vals, comps = _eig_desc(cov)  # works when rho = +-1 (singular), unlike Cholesky
        A = comps.T * np.sqrt(vals)
    return rng.standard_normal((n, 2)) @ A.T + np.asarray(mean, dtype=np.float64)


def image_pixels(img: np.ndarray, n_max: int = 2000, seed: int = 0) -> np.ndarray:
    """A random sample of an image's pixels as data points.

    Parameters
    ----------
    img : np.ndarray
        ``(H, W, 3)`` colour or ``(H, W)`` gray.
    n_max : int
        At most this many pixels (sampled without replacement); all if the image is smaller.
    seed : int

    Returns
    -------
    np.ndarray
        ``(n, 3)`` for colour, ``(n, 1)`` for gray, float64.
    """
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[0] * a.shape[1] < 1:
        raise ValueError(f"expected an (H, W, 3) or (H, W) image, got shape {np.shape(img)}")
    flat = a.reshape(-1, a.shape[2])
    if len(flat) <= n_max:
        return flat.copy()
    idx = np.random.default_rng(seed).choice(len(flat), size=n_max, replace=False)
    return flat[np.sort(idx)]
