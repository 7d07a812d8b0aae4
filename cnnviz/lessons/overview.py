"""Small numeric helpers behind the overview lesson: parameter counts and weight-sharing scenes.

Pages show these numbers; they never recompute them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
