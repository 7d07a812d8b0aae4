"""The two toy 4-class data sets the trainer page uses.

- ``"shapes"``: synthetic 16x16 images of four basic Chinese brush strokes, drawn at random
  positions, lengths, slants and thicknesses, anti-aliased, with Gaussian noise. Classes:
  horizontal 横, vertical 竖, turn 横折 (horizontal then down), left-falling 撇 (a diagonal
  from top right to bottom left). A turn contains a horizontal and a vertical piece, so the net
  must learn how parts are arranged, and since positions vary, weight sharing and pooling help.
- ``"digits"``: real handwriting, the UCI optical-recognition digits 0-3 (8x8, CC BY 4.0,
  Alpaydin & Kaynak), shipped in ``assets/digits_0-3.npz``.

Both come as ``x (N, 1, H, W)`` float32 in ``[0, 1]`` (bright strokes on a dark background)
and ``y (N,)`` int64, deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cnnviz.images import to_gray

__all__ = ["DATASETS", "Dataset", "classes", "load", "make_shapes", "preprocess_for"]

DATASETS = ("shapes", "digits")
SHAPES_SIZE = 16
_DIGITS_FILE = Path(__file__).resolve().parent.parent / "assets" / "digits_0-3.npz"
_CLASSES = {
    "shapes": (("horizontal", "vertical", "turn", "left-falling"), ("横", "竖", "横折", "撇")),
    "digits": (("0", "1", "2", "3"), ("0", "1", "2", "3")),
}


def classes(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """English and Chinese class names of data set ``name``, in the order of the labels."""
    return _CLASSES[name]


@dataclass
class Dataset:
    """A train/test split of a 4-class image data set.

    Attributes
    ----------
    x_train, x_test : np.ndarray
        ``(N, 1, H, W)`` float32 in ``[0, 1]``.
    y_train, y_test : np.ndarray
        ``(N,)`` int64 class indices ``0..3``.
    classes, classes_zh : tuple of str
        English and Simplified Chinese class names.
    name : str
        ``"shapes"`` or ``"digits"``.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    classes_zh: tuple[str, ...]
    name: str

    def class_names(self, lang: str = "en") -> tuple[str, ...]:
        """Class names in ``lang`` (``"zh"``, ``"zh-CN"``, ... give Chinese, else English)."""
        return self.classes_zh if lang.lower().startswith("zh") else self.classes

    @property
    def image_size(self) -> tuple[int, int]:
        """``(H, W)`` of one image."""
        return self.x_train.shape[2], self.x_train.shape[3]

    @property
    def n_classes(self) -> int:
        """Number of classes (4)."""
        return len(self.classes)


def load(
    name: str, seed: int = 0, n_train: int | None = None, n_test: int | None = None
) -> Dataset:
    """Load a data set by name.

    Parameters
    ----------
    name : {"shapes", "digits"}
    seed : int
        Same seed, same arrays. ``"shapes"`` draws new images; ``"digits"`` re-splits.
    n_train, n_test : int, optional
        ``"shapes"``: how many to draw (default 2000 and 500). ``"digits"``: at most this many
        (default all: a stratified 80/20 split of 720 images, 576 / 144).

    Returns
    -------
    Dataset
    """
    if name == "shapes":
        ss = np.random.SeedSequence(seed)
        train_ss, test_ss = ss.spawn(2)
        x_tr, y_tr = make_shapes(2000 if n_train is None else n_train, train_ss)
        x_te, y_te = make_shapes(500 if n_test is None else n_test, test_ss)
    elif name == "digits":
        x_tr, y_tr, x_te, y_te = _digits(seed, n_train, n_test)
    else:
        raise ValueError(f"unknown data set {name!r}; choose one of {DATASETS}")
    en, zh = _CLASSES[name]
    return Dataset(x_tr, y_tr, x_te, y_te, en, zh, name)


def _segment_distance(px, py, ax, ay, bx, by):
    """Distance from pixel centres ``(P,)`` to segments ``(N, 1)``, broadcast to ``(N, P)``."""
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-9)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def make_shapes(
    n: int, seed: int | np.random.SeedSequence = 0, size: int = SHAPES_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` stroke images, balanced over the 4 classes, in random order.

    Each stroke is one or two line segments rendered with anti-aliasing by the distance of
    every pixel centre to the segments (vectorised over all images at once).

    Parameters
    ----------
    n : int
        Number of images.
    seed : int or np.random.SeedSequence
    size : int
        Side in pixels (16; the stroke geometry assumes about that).

    Returns
    -------
    x : np.ndarray
        ``(n, 1, size, size)`` float32 in ``[0, 1]``.
    y : np.ndarray
        ``(n,)`` int64: 0 horizontal, 1 vertical, 2 turn, 3 left-falling.
    """
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % 4).astype(np.int64)

    def col(lo, hi):  # one draw per image, shaped (n, 1) to broadcast over pixels
        return rng.uniform(lo, hi, (n, 1))

    s = size - 1  # pixel centres run 0 .. s
    m = 1.0  # margin so strokes never touch the border

    # horizontal: slight slope like a real brush stroke
    length = col(0.35 * s, 0.85 * s)
    h_x0, h_y0 = col(0, 1) * (s - 2 * m - length) + m, col(m + 1, s - m - 1)
    h = (h_x0, h_y0, h_x0 + length, h_y0 + col(-1, 1))
    # vertical: the same, transposed
    length = col(0.35 * s, 0.85 * s)
    v_y0, v_x0 = col(0, 1) * (s - 2 * m - length) + m, col(m + 1, s - m - 1)
    v = (v_x0, v_y0, v_x0 + col(-1, 1), v_y0 + length)
    # turn: horizontal, then down from its right end (slightly leaning left, as written)
    a, b = col(0.35 * s, 0.7 * s), col(0.35 * s, 0.7 * s)
    t_x0 = col(0, 1) * (s - 2 * m - a) + m
    t_y0 = col(0, 1) * (s - 2 * m - b) + m
    t1 = (t_x0, t_y0, t_x0 + a, t_y0)
    t2 = (t_x0 + a, t_y0, t_x0 + a - col(0, 1.5), t_y0 + b)
    # left-falling: from top right down to bottom left, 30-65 degrees below horizontal
    length, ang = col(0.5 * s, 0.9 * s), np.deg2rad(col(30, 65))
    w, hh = length * np.cos(ang), length * np.sin(ang)
    d_x0 = s - m - col(0, 1) * (s - 2 * m - w)
    d_y0 = col(0, 1) * (s - 2 * m - hh) + m
    d = (d_x0, d_y0, d_x0 - w, d_y0 + hh)

    first = [
        np.select([y[:, None] == k for k in range(4)], [c[i] for c in (h, v, t1, d)])
        for i in range(4)
    ]
    second = [np.where(y[:, None] == 2, t2[i], first[i]) for i in range(4)]
    py, px = np.divmod(np.arange(size * size, dtype=np.float64), size)
    dist = np.minimum(_segment_distance(px, py, *first), _segment_distance(px, py, *second))
    thickness = col(1.0, 2.0)
    intensity = col(0.7, 1.0)
    img = intensity * np.clip(thickness / 2 + 0.5 - dist, 0.0, 1.0)
    img += col(0.0, 0.1) + rng.normal(0.0, 1.0, img.shape) * col(0.03, 0.12)
    x = np.clip(img, 0.0, 1.0).astype(np.float32).reshape(n, 1, size, size)
    return x, y


def _digits(seed: int, n_train: int | None, n_test: int | None):
    """Stratified, seeded 80/20 split of the UCI digits 0-3."""
    with np.load(_DIGITS_FILE) as f:
        x = f["images"].astype(np.float32)[:, None] / np.float32(16.0)
        y = f["labels"].astype(np.int64)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for k in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == k))
        cut = round(0.2 * len(idx))
        test.append(idx[:cut])
        train.append(idx[cut:])
    tr, te = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
    tr, te = tr[:n_train], te[:n_test]
    return x[tr], y[tr], x[te], y[te]


def _resize_square(a: np.ndarray, size: int, fill: float) -> np.ndarray:
    """Pad ``(H, W)`` to a square with ``fill`` (keeping the aspect), then resize to size x size."""
    h, w = a.shape
    side = max(h, w)
    sq = np.full((side, side), fill, dtype=np.float32)
    top, left = (side - h) // 2, (side - w) // 2
    sq[top : top + h, left : left + w] = a
    # BOX averages the pixels each output pixel covers, like the UCI 4x4 "on" counts
    method = Image.BOX if side > size else Image.BILINEAR
    out = np.asarray(Image.fromarray(sq, "F").resize((size, size), method), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def _stretch(a: np.ndarray) -> np.ndarray:
    lo, hi = float(a.min()), float(a.max())
    return np.zeros_like(a) if hi - lo < 1e-6 else (a - lo) / (hi - lo)


def preprocess_for(dataset_name: str, image: np.ndarray) -> np.ndarray:
    """Turn an uploaded picture into one input of a net trained on ``dataset_name``.

    Rules: convert to gray (BT.601 luma); if the mean is above 0.5 the picture is taken to be
    dark ink on light paper and is inverted, since both data sets have bright strokes on dark;
    contrast is stretched to ``[0, 1]``. For ``"digits"`` the ink's bounding box (pixels above
    0.3) is cropped with a small margin, as UCI size-normalised each digit. The result is padded
    to a square (aspect kept) and resized: 16x16 for shapes, 8x8 for digits (box averaging).

    Parameters
    ----------
    dataset_name : {"shapes", "digits"}
    image : np.ndarray
        ``(H, W)`` or ``(H, W, 3)`` float in ``[0, 1]``.

    Returns
    -------
    np.ndarray
        ``(1, 1, S, S)`` float32 in ``[0, 1]``.
    """
    if dataset_name not in DATASETS:
        raise ValueError(f"unknown data set {dataset_name!r}; choose one of {DATASETS}")
    a = np.nan_to_num(to_gray(np.asarray(image, dtype=np.float32)))
    if a.ndim != 2 or min(a.shape) < 1:
        raise ValueError(f"expected a (H, W) or (H, W, 3) image, got shape {np.shape(image)}")
    if a.mean() > 0.5:
        a = 1.0 - a
    a = _stretch(a)
    if dataset_name == "digits":
        rows, cols = np.nonzero(a > 0.3)
        if rows.size:
            pad = max(1, round(0.1 * max(np.ptp(rows), np.ptp(cols))))
            a = a[
                max(rows.min() - pad, 0) : rows.max() + pad + 1,
                max(cols.min() - pad, 0) : cols.max() + pad + 1,
            ]
    size = SHAPES_SIZE if dataset_name == "shapes" else 8
    return _resize_square(a, size, fill=0.0)[None, None]
