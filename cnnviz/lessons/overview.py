"""The overview lesson's maths: one picture through CONV -> RELU -> POOL, parameter counts, and
weight-sharing scenes with their peaks.

Pages show these numbers; they never recompute them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import functional as F


@dataclass(frozen=True)
class ParamCount:
    """Weights + biases of one layer, and the terms of the formula that gives them."""

    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def fc_params(height: int, width: int, channels: int, units: int, bias: bool = True) -> ParamCount:
    """Parameters of a fully connected layer from an (height, width, channels) input to ``units``.

    Every unit sees every input value: ``weights = H*W*C*units``, ``biases = units``.
    E.g. 32x32x3 -> 100 units: 3072*100 + 100 = 307,300.
    """
    _check_positive(height=height, width=width, channels=channels, units=units)
    return ParamCount(height * width * channels * units, units if bias else 0)


def conv_params(channels: int, kernels: int, kernel_size: int, bias: bool = True) -> ParamCount:
    """Parameters of a convolutional layer with ``kernels`` filters of ``F x F x C``.

    Local connection + weight sharing: the count does not depend on the image size.
    ``weights = F*F*C*K``, ``biases = K``. E.g. 6 kernels of 5x5x3: 6*(75+1) = 456.
    """
    _check_positive(channels=channels, kernels=kernels, kernel_size=kernel_size)
    return ParamCount(kernel_size * kernel_size * channels * kernels, kernels if bias else 0)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1 (got {value}).")


#: The kernel the overview uses to show one convolution stage: an outline (Laplacian) detector.
OUTLINE = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32)


def pipeline(gray: np.ndarray) -> dict[str, np.ndarray]:
    """A gray picture ``(H, W)`` through one conv (outline kernel, padding 1), ReLU and 2x2 max
    pooling: ``input``, ``conv``, ``relu`` (all ``(H, W)``) and ``pool`` ``(H // 2, W // 2)``."""
    conv = F.conv2d_image(gray, OUTLINE, padding=1)[0]
    relu, _ = F.activation_forward(conv, "relu")
    pooled, _ = F.pool2d_forward(relu[None, None], 2, mode="max")
    return {"input": gray, "conv": conv, "relu": relu, "pool": pooled[0, 0]}


#: A 3x3 横折 stroke (horizontal then down), the article's running example of a feature.
TURN_PATTERN = np.array([[1, 1, 1], [0, 0, 1], [0, 0, 1]], dtype=np.float32)


def pattern_scene(
    size: int, pattern: np.ndarray, n_copies: int, seed: int = 0, noise: float = 0.0
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """An empty ``size x size`` image with ``n_copies`` of ``pattern`` at random places.

    Returns
    -------
    image : (size, size) float32
    positions : top-left (row, col) of each copy; copies never overlap.
    """
    rng = np.random.default_rng(seed)
    ph, pw = pattern.shape
    if size < max(ph, pw):
        raise ValueError("The scene must be at least as large as the pattern.")
    img = np.zeros((size, size), dtype=np.float32)
    taken = np.zeros_like(img, dtype=bool)
    positions: list[tuple[int, int]] = []
    for _ in range(200 * max(n_copies, 1)):
        if len(positions) >= n_copies:
            break
        r = int(rng.integers(0, size - ph + 1))
        c = int(rng.integers(0, size - pw + 1))
        # keep a one-pixel gap so copies stay separate features
        r0, c0 = max(r - 1, 0), max(c - 1, 0)
        if taken[r0 : r + ph + 1, c0 : c + pw + 1].any():
            continue
        img[r : r + ph, c : c + pw] = pattern
        taken[r : r + ph, c : c + pw] = True
        positions.append((r, c))
    if noise > 0:
        img = img + rng.normal(0.0, noise, img.shape).astype(np.float32)
    return img, positions


#: The patterns the weight-sharing demo can scatter (the article's stroke and two simple ones).
PATTERNS: dict[str, np.ndarray] = {
    "turn": TURN_PATTERN,
    "cross": np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=np.float32),
    "diagonal": np.eye(3, dtype=np.float32),
}


@dataclass(frozen=True)
class SharingScene:
    """A scene of scattered copies of one pattern and its feature map under that same pattern."""

    scene: np.ndarray  # (size, size)
    positions: list[tuple[int, int]]  # top-left of each copy
    fmap: np.ndarray  # (size, size): padding 1 keeps each peak on the centre of its copy
    peak: float  # the response of a clean copy: sum(pattern) * max(pattern)
    hits: int  # map cells within 90% of the peak


def sharing_scene(
    pattern: str, copies: int, seed: int = 0, noise: float = 0.0, size: int = 24
) -> SharingScene:
    """Scatter ``copies`` of ``PATTERNS[pattern]`` and slide the same pattern over the scene: one
    shared kernel finds every copy, wherever it is."""
    kernel = PATTERNS[pattern]
    scene, positions = pattern_scene(size, kernel, copies, seed=int(seed), noise=noise)
    fmap = F.conv2d_image(scene, kernel, padding=1)[0]
    peak = float(kernel.sum() * kernel.max())
    return SharingScene(scene, positions, fmap, peak, int(np.sum(fmap >= 0.9 * peak)))
