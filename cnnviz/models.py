"""The trainer's networks: a plain spec dict -> an ``nn.Sequential``, its shape table, checks,
the equivalent PyTorch code, and saving the weights.

A *spec* is plain JSON-able data, so it can live in a URL or a run history::

    {"dataset": "shapes",                     # or "digits"
     "blocks": [{"filters": 8, "kernel": 3, "padding": 1, "pool": True},
                {"filters": 16, "kernel": 3, "padding": 1, "pool": True}],
     "activation": "relu",                    # relu, sigmoid, tanh, leaky_relu
     "pool": "max"}                           # or "avg"; every pooling is 2x2, stride 2

Each block is ``Conv2d -> activation -> (2x2 pooling)``; then ``Flatten -> Linear(., 4)``, the
article's closing picture INPUT -> CONV -> RELU -> POOL -> ... -> FC.

No Streamlit and no plotly here.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import math
from typing import Any

import numpy as np

from cnnviz import datasets, nn
from cnnviz import functional as F
from cnnviz.functional import ShapeError

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_SPEC",
    "ArchitectureError",
    "build",
    "check",
    "dataset",
    "drop_caches",
    "input_shape",
    "layer_table",
    "load_npz",
    "normalize_spec",
    "pytorch_code",
    "same_init_models",
    "save_npz",
    "trace",
]

ACTIVATIONS: tuple[str, ...] = ("relu", "sigmoid", "tanh", "leaky_relu")
POOLS: tuple[str, ...] = ("max", "avg")
FILTERS: tuple[int, ...] = (2, 4, 8, 16, 32)
KERNELS: tuple[int, ...] = (1, 3, 5, 7)
MAX_PADDING = 3
MAX_BLOCKS = 3
N_CLASSES = 4
POOL_SIZE = 2
LEAKY_SLOPE = 0.01
#: Initial weights per activation when a single net is trained ("auto"): He (Kaiming) normal
#: keeps ReLU-like activations' variance steady, Xavier (Glorot) normal suits sigmoid / tanh.
AUTO_INIT = {"relu": "he", "leaky_relu": "he", "sigmoid": "xavier", "tanh": "xavier"}
#: The one scheme every member of an activation comparison shares: drawn once, then copied.
COMPARE_INIT = "he"

DEFAULT_SPEC: dict[str, Any] = {
    "dataset": "shapes",
    "blocks": [
        {"filters": 8, "kernel": 3, "padding": 1, "pool": True},
        {"filters": 16, "kernel": 3, "padding": 1, "pool": True},
    ],
    "activation": "relu",
    "pool": "max",
}

_ACT_LAYERS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE),
}
_TORCH_ACT = {
    "relu": "nn.ReLU()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "leaky_relu": f"nn.LeakyReLU({LEAKY_SLOPE})",
}


class ArchitectureError(ShapeError):
    """A spec whose feature map would shrink below 1x1, or a setting out of range.

    ``code`` is ``"arch_shrinks"`` (``params``: ``block`` (1-based), ``layer`` ("conv" or
    ``"pool"``), ``size`` (the input side of that layer), ``kernel``, ``padding``) or
    ``"arch_setting"`` (``params``: ``name``, ``value``).
    """


def normalize_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A clean copy of ``spec`` with plain ints/strs/bools, or :class:`ArchitectureError`.

    Missing keys take the defaults; values outside the allowed choices are refused (a spec may
    come from a URL).
    """

    def bad(name: str, value: Any) -> ArchitectureError:
        return ArchitectureError(f"Unsupported {name}: {value!r}.", "arch_setting",
                                 name=name, value=value)

    out = copy.deepcopy(DEFAULT_SPEC)
    for key in ("dataset", "activation", "pool"):
        if key in spec:
            out[key] = spec[key]
    if out["dataset"] not in datasets.DATASETS:
        raise bad("dataset", out["dataset"])
    if out["activation"] not in ACTIVATIONS:
        raise bad("activation", out["activation"])
    if out["pool"] not in POOLS:
        raise bad("pool", out["pool"])
    blocks = spec.get("blocks", out["blocks"])
    if not isinstance(blocks, (list, tuple)) or not 1 <= len(blocks) <= MAX_BLOCKS:
        raise bad("blocks", blocks)
    clean = []
    for block in blocks:
        try:
            b = {
                "filters": int(block["filters"]),
                "kernel": int(block["kernel"]),
                "padding": int(block.get("padding", 0)),
                "pool": bool(block.get("pool", True)),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise bad("block", block) from exc
        if b["filters"] not in FILTERS:
            raise bad("filters", b["filters"])
        if b["kernel"] not in KERNELS:
            raise bad("kernel", b["kernel"])
        if not 0 <= b["padding"] <= MAX_PADDING:
            raise bad("padding", b["padding"])
        clean.append(b)
    out["blocks"] = clean
    return out


def input_shape(dataset_name: str) -> tuple[int, int, int]:
    """``(C, H, W)`` of one input: ``(1, 16, 16)`` for shapes, ``(1, 8, 8)`` for digits."""
    side = datasets.SHAPES_SIZE if dataset_name == "shapes" else 8
    return (1, side, side)


def check(spec: dict[str, Any]) -> None:
    """Raise :class:`ArchitectureError` naming the first layer whose output would be < 1x1.

    Walks the blocks with the output-size formula ``floor((n + 2p - k) / s) + 1`` (no weights
    are made), so the page can explain the problem before Start.
    """
    spec = normalize_spec(spec)
    size = input_shape(spec["dataset"])[1]
    for i, block in enumerate(spec["blocks"], start=1):
        k, p = block["kernel"], block["padding"]
        try:
            size = F.output_size(size, k, 1, p)
        except ShapeError as exc:
            raise ArchitectureError(
                f"Block {i}: a {k}x{k} convolution with padding {p} does not fit a {size}x{size} "
                "input; the feature map would shrink below 1x1.",
                "arch_shrinks", block=i, layer="conv", size=size, kernel=k, padding=p,
            ) from exc
        if block["pool"]:
            if size < POOL_SIZE:
                raise ArchitectureError(
                    f"Block {i}: 2x2 pooling does not fit a {size}x{size} feature map.",
                    "arch_shrinks", block=i, layer="pool", size=size, kernel=POOL_SIZE, padding=0,
                )
            size = F.output_size(size, POOL_SIZE, POOL_SIZE, 0)


def build(
    spec: dict[str, Any],
    seed: int = 0,
    *,
    init: str = "auto",
    dtype: Any = np.float32,
) -> nn.Sequential:
    """The network described by ``spec``, initial weights drawn from ``seed``.

    Parameters
    ----------
    spec : dict
        See the module docstring.
    seed : int
        One ``np.random.default_rng(seed)`` feeds every layer in order, so the same seed and
        spec give the same weights.
    init : {"auto", "he", "xavier"}
        ``"auto"``: He for ReLU / Leaky ReLU, Xavier for sigmoid / tanh (:data:`AUTO_INIT`).

    Raises
    ------
    ArchitectureError
        When :func:`check` fails.
    """
    spec = normalize_spec(spec)
    check(spec)
    scheme = AUTO_INIT[spec["activation"]] if init == "auto" else init
    rng = np.random.default_rng(seed)
    channels = input_shape(spec["dataset"])[0]
    layers: list[nn.Module] = []
    for block in spec["blocks"]:
        layers.append(nn.Conv2d(channels, block["filters"], block["kernel"],
                                padding=block["padding"], seed=rng, dtype=dtype, init=scheme))
        layers.append(_ACT_LAYERS[spec["activation"]]())
        if block["pool"]:
            pool = nn.MaxPool2d if spec["pool"] == "max" else nn.AvgPool2d
            layers.append(pool(POOL_SIZE))
        channels = block["filters"]
    layers.append(nn.Flatten())
    features = nn.Sequential(*layers).output_shape((1, *input_shape(spec["dataset"])))[1]
    layers.append(nn.Linear(features, N_CLASSES, seed=rng, dtype=dtype, init=scheme))
    return nn.Sequential(*layers)


def same_init_models(
    spec: dict[str, Any], activations: list[str], seed: int = 0, *, init: str = COMPARE_INIT
) -> dict[str, nn.Sequential]:
    """One net per activation, all starting from *exactly the same* weights.

    The weights are drawn once (``init`` scheme, ``seed``) and copied into every net, so the
    activation is the only difference between them.
    """
    ref = build({**spec, "activation": activations[0]}, seed, init=init)
    state = ref.state_dict()
    out = {}
    for act in activations:
        model = build({**spec, "activation": act}, seed, init=init)
        model.load_state_dict(state)
        out[act] = model
    return out


def layer_table(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per layer: ``name``, ``kind``, ``shape`` (no batch axis), ``params``.

    The first row is the input. Shapes come from ``nn.Sequential.output_shapes``.

    Raises
    ------
    ArchitectureError
        When the spec is impossible (see :func:`check`).
    """
    spec = normalize_spec(spec)
    model = _table_model(json.dumps(spec, sort_keys=True))
    shape = input_shape(spec["dataset"])
    rows = [{"name": "input", "kind": "input", "shape": shape, "params": 0}]
    for layer, (name, out, n) in zip(model.layers, model.output_shapes(shape), strict=True):
        rows.append({"name": name, "kind": type(layer).__name__, "shape": tuple(out),
                     "params": int(n)})
    return rows


@functools.lru_cache(maxsize=64)
def _table_model(spec_json: str) -> nn.Sequential:
    # Only shapes and counts are read from it, so one model per spec can be shared.
    return build(json.loads(spec_json), 0)


@functools.lru_cache(maxsize=4)
def dataset(name: str) -> datasets.Dataset:
    """The data set ``name`` at its fixed seed 0, loaded once per process and read-only.

    Every session trains on the same arrays, so sharing one read-only copy saves memory; the
    training seed changes only the initial weights and the order of the batches.
    """
    ds = datasets.load(name, seed=0)
    for arr in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        arr.flags.writeable = False
    return ds


def trace(model: nn.Sequential, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Every layer's output for ``x`` ``(N, C, H, W)``: ``[(name, array), ...]`` in order."""
    with np.errstate(over="ignore", invalid="ignore"):
        model.forward(np.asarray(x, dtype=np.float32), keep=True)
    outs = list(zip(model.names(), model.activations, strict=True))
    model.activations = []
    return outs


def drop_caches(model: nn.Sequential) -> None:
    """Forget what the last forward kept for a backward pass (im2col columns, pooling
    indices...): an inspected net should not hold megabytes per student between reruns."""
    model.activations = []
    for layer in model.layers:
        if hasattr(layer, "_cache"):
            layer._cache = None


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (uniform where a row is not finite)."""
    z = np.asarray(logits, dtype=np.float64)
    bad = ~np.isfinite(z).all(axis=-1, keepdims=True)
    z = np.where(bad, 0.0, z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def save_npz(model: nn.Sequential, spec: dict[str, Any], meta: dict[str, Any] | None = None
             ) -> bytes:
    """The weights as ``.npz`` bytes, keyed like PyTorch's ``state_dict`` (``"0.weight"``...).

    Two extra string entries start with ``_``: ``_spec`` (the architecture as JSON) and
    ``_meta`` (training settings and results as JSON), so a file explains itself.
    """
    buf = io.BytesIO()
    arrays = dict(model.state_dict())
    arrays["_spec"] = np.array(json.dumps(normalize_spec(spec), sort_keys=True))
    arrays["_meta"] = np.array(json.dumps(meta or {}, sort_keys=True, default=str))
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def load_npz(data: bytes) -> tuple[dict[str, Any], nn.Sequential, dict[str, Any]]:
    """Inverse of :func:`save_npz`: ``(spec, model with the saved weights, meta)``."""
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        spec = json.loads(str(f["_spec"]))
        meta = json.loads(str(f["_meta"])) if "_meta" in f.files else {}
        state = {k: f[k] for k in f.files if not k.startswith("_")}
    model = build(spec, 0)
    model.load_state_dict(state)
    return spec, model, meta


def _shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)


def pytorch_code(spec: dict[str, Any], train: dict[str, Any] | None = None) -> str:
    """The same network (and, given ``train``, its optimizer) as runnable PyTorch code.

    Layer indices match :func:`build`, so ``model.load_state_dict`` accepts the weights saved by
    :func:`save_npz` unchanged.
    """
    spec = normalize_spec(spec)
    rows = layer_table(spec)[1:]
    c, h, w = input_shape(spec["dataset"])
    lines = [
        '"""A CNN exported from cnnviz (the trainer page), as PyTorch code.',
        "",
        f"Data set: {spec['dataset']} - gray {h}x{w} images, bright strokes on black, values in",
        "[0, 1], input shape (N, 1, H, W); 4 classes.",
        '"""',
        "",
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "",
        "model = nn.Sequential(",
    ]
    channels = c
    blocks = iter(spec["blocks"])
    block = None
    for i, row in enumerate(rows):
        kind = row["kind"]
        if kind == "Conv2d":
            block = next(blocks)
            code = (f"nn.Conv2d({channels}, {block['filters']}, kernel_size={block['kernel']}, "
                    f"padding={block['padding']})")
            channels = block["filters"]
        elif kind in ("ReLU", "Sigmoid", "Tanh", "LeakyReLU"):
            code = _TORCH_ACT[spec["activation"]]
        elif kind == "MaxPool2d":
            code = f"nn.MaxPool2d({POOL_SIZE})"
        elif kind == "AvgPool2d":
            code = f"nn.AvgPool2d({POOL_SIZE})"
        elif kind == "Flatten":
            code = "nn.Flatten()"
        else:
            code = f"nn.Linear({rows[i - 1]['shape'][0]}, {N_CLASSES})"
        note = f"# {i}: -> {_shape_text(row['shape'])}"
        if row["params"]:
            note += f", {row['params']:,} parameters"
        lines.append(f"    {code + ',':<50}{note}")
    total = sum(r["params"] for r in rows)
    lines += [
        ")",
        f"# {total:,} parameters in total",
        "",
        "# Load the weights trained in cnnviz (the .npz from the download button):",
        'saved = np.load("cnnviz_weights.npz")',
        "model.load_state_dict(",
        "    {k: torch.from_numpy(saved[k]) for k in saved.files if not k.startswith('_')}",
        ")",
        "model.eval()",
        "",
        f"x = torch.zeros(1, {c}, {h}, {w})  # one picture, prepared like the training data",
        "probs = torch.softmax(model(x), dim=1)  # 4 class probabilities",
    ]
    if train:
        lines += ["", "# Train it the same way:", _torch_optimizer(train),
                  "loss_fn = nn.CrossEntropyLoss()",
                  f"# {train.get('epochs', 1)} epochs of mini-batches of "
                  f"{train.get('batch_size', 32)}, shuffled each epoch:",
                  "# optimizer.zero_grad(); loss_fn(model(xb), yb).backward(); optimizer.step()"]
    return "\n".join(lines) + "\n"


def _torch_optimizer(train: dict[str, Any]) -> str:
    lr = float(train.get("lr", 0.05))
    opt = train.get("optimizer", "momentum")
    if opt == "adam":
        return f"optimizer = torch.optim.Adam(model.parameters(), lr={lr:g})"
    momentum = 0.9 if opt == "momentum" else 0.0
    extra = f", momentum={momentum:g}" if momentum else ""
    return f"optimizer = torch.optim.SGD(model.parameters(), lr={lr:g}{extra})"


#: Largest im2col matrix (one conv layer, one batch, float32) a training step may build.
#: The engine keeps it for the backward pass and builds a gradient of the same size, so a
#: step holds about three times this; a shared classroom server runs several jobs at once.
MAX_COLUMNS_BYTES = 32 * 2**20


def columns_bytes(spec: dict[str, Any], batch_size: int) -> int:
    """Bytes of the largest im2col matrix ``(C*k*k, N*H'*(W'+k-1))`` a training step builds.

    Parameters
    ----------
    spec : dict
    batch_size : int
        ``N``.

    Raises
    ------
    ArchitectureError
        When the spec is impossible.
    """
    rows = layer_table(spec)
    spec = normalize_spec(spec)
    blocks = iter(spec["blocks"])
    largest, channels = 0, rows[0]["shape"][0]
    for row in rows[1:]:
        if row["kind"] == "Conv2d":
            block = next(blocks)
            _, h, w = row["shape"]
            # stride 1: the engine's columns span the padded width (W' + k - 1) so that one
            # reshape makes every tap a contiguous slice
            wide = w + block["kernel"] - 1
            largest = max(largest, channels * block["kernel"] ** 2 * int(batch_size) * h * wide)
            channels = row["shape"][0]
    return 4 * largest


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimizer steps in one epoch (the last batch may be smaller)."""
    return math.ceil(n_train / batch_size)
