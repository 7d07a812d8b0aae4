"""What the preprocessing page computes, on top of :mod:`cnnviz.preprocess`.

Four pieces, each a pure function of plain arrays (the page caches them):

- :func:`story`: one data set ``X (N, D)`` through original -> centred -> normalized ->
  PCA-rotated -> PCA-whitened, with the covariance of every stage and how many directions
  still carry variance (for the messages on degenerate data);
- :func:`image_stages` / :func:`channel_histograms`: a picture before and after mean
  subtraction and per-channel normalization, with the value ranges;
- :func:`zca_picture` / :func:`zca_digits`: ZCA whitening of 8x8 patches, the eigenvalue
  spectrum with the gain ``1/sqrt(lambda + eps)`` of every direction, and (for a picture) the
  whole picture passed through the ZCA filter of one pixel, which is exactly what whitening does
  to that pixel of every patch;
- :func:`descent`: gradient descent on a linear least-squares loss fit to the points, whose
  Hessian is the data's second moment: elongated contours for raw data, round once whitened.

Every number here comes from :mod:`cnnviz.preprocess`; results are float64 and never NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from cnnviz import preprocess

__all__ = [
    "STAGES",
    "STORY_EPS",
    "DescentPath",
    "ImageStages",
    "Story",
    "ZCAResult",
    "axes_segments",
    "channel_histograms",
    "cloud_story",
    "descent",
    "display_signed",
    "image_stages",
    "image_views",
    "loss_grid",
    "pixel_story",
    "story",
    "zca",
    "zca_digits",
    "zca_picture",
]

STAGES = ("original", "centered", "normalized", "pca", "whitened")
#: Whitening in the 2-D story: small enough that the whitened covariance reads as I to two
#: decimals even for a thin cloud, large enough to stay finite.
STORY_EPS = 1e-8
#: Eigenvalues below this fraction of the largest carry no variance (as in preprocess.whiten).
REL_TOL = 1e-10


def _live(vals: np.ndarray, degenerate: bool) -> np.ndarray:
    """Which eigen-directions carry variance (the same rule whitening uses)."""
    if degenerate or vals.size == 0 or vals[0] <= 0:
        return np.zeros(vals.shape, dtype=bool)
    return vals > REL_TOL * vals[0]


@dataclass
class Story:
    """One data set through the preprocessing steps.

    Attributes
    ----------
    points : dict[str, np.ndarray]
        Stage name (see :data:`STAGES`) -> ``(N, D)`` data.
    covs : dict[str, np.ndarray]
        Stage name -> ``(D, D)`` population covariance.
    means : dict[str, np.ndarray]
        Stage name -> ``(D,)`` mean.
    components : np.ndarray
        ``(D, D)`` principal axes (rows) of the normalized data.
    explained_ratio : np.ndarray
        ``(D,)`` share of the variance along each axis (all 0 without variance).
    rank : int
        Number of directions with variance: 0 = all points equal, < D = they lie on a line
        (or plane), so whitening leaves the missing directions at 0.
    constant : np.ndarray
        ``(D,)`` bool, features with no spread at all (normalization leaves them at 0).
    """

    points: dict[str, np.ndarray]
    covs: dict[str, np.ndarray]
    means: dict[str, np.ndarray]
    components: np.ndarray
    explained_ratio: np.ndarray
    rank: int
    constant: np.ndarray

    @property
    def dims(self) -> int:
        """D, the number of features."""
        return self.components.shape[0]

    @property
    def degenerate(self) -> bool:
        """True when all points are equal (no direction has variance)."""
        return self.rank == 0


def story(X: np.ndarray, method: str = "minmax", eps: float = STORY_EPS) -> Story:
    """Run ``X (N, D)`` through centring, normalization, PCA and PCA whitening.

    The steps chain as the page shows them: normalization acts on the centred data, PCA and
    whitening on the normalized data.

    Parameters
    ----------
    X : np.ndarray
        ``(N, D)`` data, N >= 1.
    method : {"minmax", "std"}
        Normalization: each feature to ``[-1, 1]``, or to variance 1.
    eps : float
        Added to the eigenvalues before whitening.
    """
    original = np.asarray(X, dtype=np.float64)
    centered, _ = preprocess.center(original)
    nrm = preprocess.normalize(centered, method)
    pc = preprocess.pca(nrm.x)
    whitened, _ = preprocess.whiten(nrm.x, "pca", eps)
    points = {
        "original": original, "centered": centered, "normalized": nrm.x,
        "pca": pc.rotated, "whitened": whitened,
    }
    rank = int(_live(pc.explained_variance, pc.degenerate).sum())
    return Story(
        points=points,
        covs={k: preprocess.covariance(v) for k, v in points.items()},
        means={k: v.mean(axis=0) for k, v in points.items()},
        components=pc.components,
        explained_ratio=pc.explained_ratio,
        rank=rank,
        constant=nrm.constant,
    )


def axes_segments(X: np.ndarray, n_std: float = 2.0) -> np.ndarray:
    """Principal axes of the points ``X (N, D)`` as segments ``(D, 2, D)``: [axis, end, coord].

    Axis k runs from ``mean - n_std*sigma_k*u_k`` to ``mean + n_std*sigma_k*u_k`` (any D; for
    D = 2 the same as :func:`cnnviz.preprocess.principal_axes` of the covariance).
    """
    pc = preprocess.pca(X)
    half = n_std * np.sqrt(pc.explained_variance)[:, None] * pc.components
    return np.stack([pc.mean - half, pc.mean + half], axis=1)


def cloud_story(n: int, mean: tuple, spreads: tuple, shape: str, corr: float, angle: float,
                seed: int, method: str) -> Story:
    """The story of a Gaussian cloud of ``n`` points: ``shape`` ``"corr"`` draws it with
    correlation ``corr``, otherwise with ``spreads`` rotated by ``angle`` degrees."""
    X = preprocess.make_gaussian_cloud(n, mean, spreads, angle_deg=angle, seed=seed,
                                       correlation=corr if shape == "corr" else None)
    return story(X, method)


def pixel_story(img: np.ndarray, n: int, seed: int, cols: tuple, method: str
                ) -> tuple[np.ndarray, Story, Story]:
    """``n`` pixels of a picture ``(H, W, 3)`` as RGB points, the story of the two channels
    ``cols``, and the story of all three."""
    rgb = preprocess.image_pixels(img, n, seed)
    return rgb, story(rgb[:, list(cols)], method), story(rgb, method)


# --------------------------------------------------------------------------------------------
# The picture


@dataclass
class ImageStages:
    """A picture before and after mean subtraction and per-channel normalization.

    Attributes
    ----------
    original, centered, normalized : np.ndarray
        ``(H, W, C)`` float64 (a gray picture has C = 1).
    mean : np.ndarray
        ``(C,)`` the subtracted per-channel mean.
    ranges : dict[str, tuple[float, float]]
        Stage -> (min, max) over all channels.
    constant : np.ndarray
        ``(C,)`` bool, channels with a single value everywhere.
    """

    original: np.ndarray
    centered: np.ndarray
    normalized: np.ndarray
    mean: np.ndarray
    ranges: dict[str, tuple[float, float]]
    constant: np.ndarray

    def stage(self, name: str) -> np.ndarray:
        """The ``(H, W, C)`` array of stage ``name`` ("original", "centered", "normalized")."""
        return {"original": self.original, "centered": self.centered,
                "normalized": self.normalized}[name]


def image_stages(img: np.ndarray, method: str = "minmax") -> ImageStages:
    """Subtract each channel's mean, then normalize each channel (``method`` as in
    :func:`cnnviz.preprocess.normalize`). Every pixel is a data point, every channel a feature.
    """
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[0] * a.shape[1] < 1:
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {np.shape(img)}")
    h, w, c = a.shape
    flat = a.reshape(-1, c)
    centered, mean = preprocess.center(flat)
    nrm = preprocess.normalize(centered, method)
    stages = {"original": a, "centered": centered.reshape(h, w, c),
              "normalized": nrm.x.reshape(h, w, c)}
    ranges = {k: (float(v.min()), float(v.max())) for k, v in stages.items()}
    return ImageStages(stages["original"], stages["centered"], stages["normalized"], mean,
                       ranges, nrm.constant)


def display_signed(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """Map signed values to ``[0, 1]`` for display with 0 at mid-gray (0.5).

    ``limit`` (default: the largest absolute value) maps to 0 and 1; an all-zero array stays
    mid-gray instead of dividing by zero.
    """
    v = np.asarray(values, dtype=np.float64)
    lim = float(np.max(np.abs(v))) if limit is None and v.size else float(limit or 0.0)
    if not np.isfinite(lim) or lim <= 0:
        return np.full(v.shape, 0.5)
    return np.clip(0.5 + v / (2 * lim), 0.0, 1.0)


def channel_histograms(img: np.ndarray, bins: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of every channel over one common range.

    Returns
    -------
    centers : np.ndarray
        ``(bins,)`` bin centres.
    counts : np.ndarray
        ``(C, bins)`` share of the pixels in each bin (each row sums to 1).
    """
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        a = a[..., None]
    lo, hi = float(a.min()), float(a.max())
    if hi - lo < 1e-9:  # one value: a single bar in a unit-wide window around it
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    flat = a.reshape(-1, a.shape[-1])
    # one bincount per channel: bin index per value, vectorised over all pixels
    idx = np.clip(((flat - lo) / (hi - lo) * bins).astype(np.int64), 0, bins - 1)
    counts = np.stack([np.bincount(idx[:, k], minlength=bins) for k in range(flat.shape[1])])
    return (edges[:-1] + edges[1:]) / 2, counts / max(1, flat.shape[0])


def image_views(img: np.ndarray, method: str) -> tuple[ImageStages, dict]:
    """The picture's stages and the channel histograms of the first three."""
    stages = image_stages(img, method)
    names = ("original", "centered", "normalized")
    return stages, {k: channel_histograms(stages.stage(k)) for k in names}


# --------------------------------------------------------------------------------------------
# ZCA on patches


@dataclass
class ZCAResult:
    """ZCA whitening of square patches.

    Attributes
    ----------
    patches, whitened : np.ndarray
        ``(n, s, s)`` raw patches and their ZCA-whitened versions.
    filter : np.ndarray
        ``(s, s)`` the row of the ZCA matrix for the pixel at ``(s//2, s//2)``: the kernel that
        produces that whitened pixel from a (centred) patch.
    W : np.ndarray
        ``(s*s, s*s)`` the ZCA matrix; ``mean_patch`` ``(s, s)`` the subtracted mean.
    eigenvalues, gain : np.ndarray
        ``(s*s,)`` variance along each principal direction (descending) and how much whitening
        multiplies it: ``1/sqrt(lambda + eps)``, 0 for directions without variance.
    eps : float
    picture : np.ndarray or None
        For a picture: the whole picture through ``filter`` (valid positions only, shape
        ``(H-s+1, W-s+1)``): value ``[r, c]`` is the whitened centre pixel of the patch whose
        top-left corner is ``(r, c)``. None for the digits.
    """

    patches: np.ndarray
    whitened: np.ndarray
    filter: np.ndarray
    W: np.ndarray
    mean_patch: np.ndarray
    eigenvalues: np.ndarray
    gain: np.ndarray
    eps: float
    picture: np.ndarray | None = None

    @property
    def no_variance(self) -> bool:
        """True when all patches are equal (a single-colour picture)."""
        return not bool(np.any(self.gain > 0))


def _zca(patches: np.ndarray, eps: float) -> ZCAResult:
    n, s, _ = patches.shape
    flat = patches.reshape(n, s * s)
    xw, W = preprocess.whiten(flat, "zca", eps)
    pc = preprocess.pca(flat)
    vals = pc.explained_variance
    live = _live(vals, pc.degenerate)
    gain = np.where(live, 1.0 / np.sqrt(np.where(live, vals, 1.0) + eps), 0.0)
    centre = (s // 2) * s + s // 2
    return ZCAResult(patches, xw.reshape(n, s, s), W[centre].reshape(s, s), W,
                     flat.mean(axis=0).reshape(s, s), vals, gain, float(eps))


def zca_picture(
    gray: np.ndarray, eps: float = 1e-2, size: int = 8, n: int = 2000, seed: int = 0
) -> ZCAResult:
    """ZCA-whiten ``n`` random ``size`` x ``size`` patches of a gray picture, and pass the whole
    picture through the centre pixel's ZCA filter.

    Parameters
    ----------
    gray : np.ndarray
        ``(H, W)`` picture (``(H, W, 3)`` is averaged to gray).
    eps : float
        Added to every eigenvalue: a tiny eps divides noise directions by almost 0.
    """
    a = np.asarray(gray, dtype=np.float64)
    if a.ndim == 3:
        a = a.mean(axis=2)
    patches = preprocess.extract_patches(a, size, n, seed)
    res = _zca(patches, eps)
    # whitened centre pixel of the patch at (r, c) = filter . (patch - mean_patch); the filter is
    # applied at every position at once as a correlation (fftconvolve with the flipped kernel)
    f = res.filter
    res.picture = fftconvolve(a, f[::-1, ::-1], mode="valid") - float(np.sum(f * res.mean_patch))
    return res


def zca_digits(eps: float = 1e-2) -> ZCAResult:
    """ZCA-whiten all 720 8x8 UCI digits (0-3) of :mod:`cnnviz.datasets` as patches."""
    from cnnviz import datasets

    ds = datasets.load("digits", seed=0)
    x = np.concatenate([ds.x_train, ds.x_test])[:, 0].astype(np.float64)
    return _zca(x, eps)


def zca(source: str, gray: np.ndarray | None, eps: float) -> ZCAResult:
    """ZCA of the 8x8 digits (``source == "digits"``) or of patches of the ``gray`` picture."""
    return zca_digits(eps) if source == "digits" else zca_picture(gray, eps)


# --------------------------------------------------------------------------------------------
# Why centring and scaling help gradient descent


@dataclass
class DescentPath:
    """Gradient descent on ``L(w) = mean((x.w - x.w*)^2) / 2`` for the points ``x``.

    ``L(w) = (w - w*)^T H (w - w*) / 2`` with ``H = X^T X / N`` (the uncentred second moment):
    its eigenvalues are the curvatures; their ratio (the condition number) decides how slowly
    gradient descent with the best constant step ``2 / (l_max + l_min)`` converges.

    Attributes
    ----------
    H : np.ndarray
        ``(2, 2)`` Hessian; ``eigenvalues`` ``(2,)`` descending.
    w_star, path : np.ndarray
        ``(2,)`` minimum; ``(steps + 1, 2)`` the iterates from ``w = 0``.
    lr : float
        The step size used (0 when there is no slope at all).
    condition : float
        ``l_max / l_min`` (inf when a direction has no slope).
    steps_to_tol : int or None
        Steps until the loss is below ``tol`` times its start (None if not within ``max_steps``).
    """

    H: np.ndarray
    eigenvalues: np.ndarray
    w_star: np.ndarray
    path: np.ndarray
    lr: float
    condition: float
    steps_to_tol: int | None


def descent(
    X: np.ndarray, w_star: tuple[float, float] = (1.0, -0.5), steps: int = 25,
    tol: float = 0.01, max_steps: int = 10_000,
) -> DescentPath:
    """Gradient descent from ``w = 0`` towards ``w_star`` on the points ``X (N, 2)``."""
    a = np.asarray(X, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or len(a) < 1 or not np.isfinite(a).all():
        raise ValueError(f"expected finite (N, 2) points, got shape {a.shape}")
    H = a.T @ a / len(a)
    H = (H + H.T) / 2
    vals, vecs = np.linalg.eigh(H)
    vals, vecs = np.clip(vals[::-1], 0.0, None), vecs[:, ::-1]
    scale = max(vals[0], 1e-300)
    flat = vals <= REL_TOL * scale
    lr = 2.0 / (vals[0] + vals[1]) if vals[0] > 1e-300 else 0.0
    ws = np.asarray(w_star, dtype=np.float64)
    w, path = np.zeros(2), [np.zeros(2)]
    for _ in range(steps):  # 25 steps of a 2x2 product: negligible
        w = w - lr * H @ (w - ws)
        path.append(w)
    # the loss after k steps in closed form: sum_i l_i (1 - lr l_i)^(2k) c_i^2 / 2; it never
    # grows (|1 - lr l_i| <= 1), so the first k below tol is found by bisection
    c = vecs.T @ (0 - ws)

    def loss(k: int) -> float:
        return float(0.5 * np.sum(vals * c**2 * (1 - lr * vals) ** (2 * k)))

    target = tol * loss(0) + 1e-300
    steps_to_tol: int | None = None
    if loss(max_steps) <= target:
        lo, hi = 0, max_steps
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if loss(mid) <= target else (mid + 1, hi)
        steps_to_tol = lo
    cond = float("inf") if flat[1] or vals[0] <= 1e-300 else float(vals[0] / vals[1])
    return DescentPath(H, vals, ws, np.array(path), lr, cond, steps_to_tol)


def loss_grid(
    H: np.ndarray, w_star: np.ndarray, half: float, n: int = 61
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The loss ``(w - w*)^T H (w - w*) / 2`` on an ``n`` x ``n`` grid around ``w_star``.

    Returns ``xs (n,)``, ``ys (n,)``, ``Z (n, n)`` with ``Z[i, j]`` at ``(xs[j], ys[i])``.
    """
    half = float(half) if np.isfinite(half) and half > 0 else 1.0
    xs = np.linspace(w_star[0] - half, w_star[0] + half, n)
    ys = np.linspace(w_star[1] - half, w_star[1] + half, n)
    dx, dy = np.meshgrid(xs - w_star[0], ys - w_star[1])
    d = np.stack([dx, dy], axis=-1)
    return xs, ys, 0.5 * np.einsum("...i,ij,...j->...", d, np.asarray(H, dtype=np.float64), d)
