"""The guided lesson's data and answers: one small, checkable task per layer of the article
(input -> convolution -> activation -> pooling -> fully connected -> training). No UI code.

Every answer is computed with the engine from the student's own settings, so a check can never
disagree with what the page shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cnnviz import datasets, train
from cnnviz import functional as F
from cnnviz.lessons import conv as conv_math
from cnnviz.lessons import pooling as pool_math

__all__ = [
    "ACTIVATIONS",
    "FC_CLASSES",
    "MAP",
    "PIXELS",
    "STEPS",
    "check_number",
    "conv_step",
    "fc_step",
    "input_step",
    "pool_step",
    "race",
    "relu_zeros",
]

#: The lesson's steps, in the article's order.
STEPS = ("input", "conv", "activation", "pooling", "fc", "training")

# ---- 1. input -------------------------------------------------------------------------------
#: A 3x3 gray patch whose mean is exactly 100 (so centring is easy to check by hand).
PIXELS = np.array([[20, 60, 100], [140, 180, 100], [60, 100, 140]], dtype=np.float64)
PREP_MODES = ("original", "centred", "normalized")


def input_step(mode: str, pixels: np.ndarray = PIXELS) -> dict[str, Any]:
    """The patch after ``mode``: as is, minus its mean, or minus its mean and divided by the
    largest distance from it (values in [-1, 1]). Returns values, mean and spread."""
    x = np.asarray(pixels, dtype=np.float64)
    mean = float(x.mean())
    centred = x - mean
    scale = float(np.abs(centred).max()) or 1.0
    values = {"original": x, "centred": centred, "normalized": centred / scale}[mode]
    return {"values": values, "mean": mean, "scale": scale,
            "centred_corner": float(centred[0, 0])}


# ---- 2. convolution -------------------------------------------------------------------------

def conv_step(stride: int, padding: int) -> dict[str, Any]:
    """The article's 5x5 picture and 3x3 kernel at ``stride`` / ``padding``: the padded input,
    the feature map (None when the kernel does not fit) and its size."""
    image, kernel = conv_math.ARTICLE_IMAGE, conv_math.ARTICLE_KERNEL
    padded = conv_math.pad(image, padding)
    try:
        h = F.output_size(image.shape[0], kernel.shape[0], stride, padding)
        w = F.output_size(image.shape[1], kernel.shape[1], stride, padding)
    except ValueError:
        return {"padded": padded, "map": None, "size": None, "kernel": kernel}
    fmap = F.conv2d_image(image, kernel, stride=stride, padding=padding)[0]
    return {"padded": padded, "map": fmap, "size": (h, w), "kernel": kernel}


# ---- 3. activation --------------------------------------------------------------------------
#: A 4x4 feature map with positive and negative responses (no exact zeros).
MAP = np.array([[-2.0, 1.5, 0.5, -1.0], [3.0, -0.5, 2.0, -3.0],
                [-1.5, 2.5, -2.5, 1.0], [0.5, -1.0, 4.0, -0.5]])
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")


def activate(name: str, values: np.ndarray = MAP) -> np.ndarray:
    """``values`` through the engine's activation ``name``."""
    return F.activation_forward(np.asarray(values, dtype=np.float64), name)[0]


def relu_zeros(values: np.ndarray = MAP) -> int:
    """How many cells ReLU turns into 0 (those that were negative or zero)."""
    return int(np.count_nonzero(activate("relu", values) == 0))


# ---- 4. pooling -----------------------------------------------------------------------------

def pool_step(mode: str) -> dict[str, Any]:
    """The article's 横折 feature map (3x3) pooled by one 3x3 window in ``mode``."""
    ex = pool_math.turn_example()
    kept = ex["max"] if mode == "max" else ex["avg"]
    return {"fmap": ex["fmap"], "stroke": ex["stroke"], "kernel": ex["kernel"], "kept": kept,
            "peak": float(ex["fmap"].max())}


# ---- 5. fully connected ---------------------------------------------------------------------
FC_CLASSES = 4


def fc_step(maps: int, side: int = 2, classes: int = FC_CLASSES) -> dict[str, Any]:
    """``maps`` pooled maps of ``side`` x ``side`` flattened into one vector, connected to
    ``classes`` outputs: the vector, the number of weights and of biases."""
    if maps < 1 or side < 1 or classes < 1:
        raise ValueError("maps, side and classes must be >= 1")
    rng = np.random.default_rng(3)
    stack = np.round(rng.uniform(0, 4, size=(maps, side, side)), 1)
    n = stack.size
    return {"stack": stack, "vector": stack.reshape(-1), "features": n,
            "weights": n * classes, "biases": classes}


# ---- 6. training ----------------------------------------------------------------------------

def race(epochs: int = 3, n_train: int = 600, seed: int = 0,
         activations: tuple[str, ...] = ("relu", "sigmoid")) -> dict[str, dict[str, list]]:
    """Train the reference net on the "shapes" data once per activation, from the same seed,
    for ``epochs`` epochs on the first ``n_train`` pictures; the loss and test accuracy after
    each epoch: ``{activation: {"loss": [...], "acc": [...]}}``."""
    ds = datasets.load("shapes", seed=seed)
    small = type("Subset", (), {"x_train": ds.x_train[:n_train], "y_train": ds.y_train[:n_train],
                                "x_test": ds.x_test, "y_test": ds.y_test})
    out: dict[str, dict[str, list]] = {}
    for act in activations:
        model = train.make_model("shapes", act, seed=seed)
        curves: dict[str, list] = {"loss": [], "acc": []}
        for rec in train.fit(model, small, epochs=epochs, seed=seed, optimizer="sgd", lr=0.05):
            if rec.kind == "epoch":
                curves["loss"].append(float(rec.loss))
                curves["acc"].append(float(rec.test_acc))
        out[act] = curves
    return out


def winner(results: dict[str, dict[str, list]]) -> str:
    """The activation with the lowest loss after the last epoch."""
    return min(results, key=lambda a: results[a]["loss"][-1])


# ---- checking answers -----------------------------------------------------------------------

def check_number(answer: Any, expected: float, tol: float = 0.01) -> bool:
    """Is ``answer`` (a number typed by the student) equal to ``expected``?"""
    try:
        x = float(answer)
    except (TypeError, ValueError):
        return False
    return math.isfinite(x) and abs(x - expected) <= tol * max(1.0, abs(expected))
