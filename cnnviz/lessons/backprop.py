"""The maths behind "How a CNN learns": one training step of a tiny CNN, backwards layer by layer.

The network: a 6x6 stroke -> conv (1-2 kernels 3x3, stride 1, no padding) -> ReLU (or sigmoid)
-> 2x2 pooling (max or average) -> flatten -> fully connected to 4 classes -> softmax
cross-entropy. Shapes for K kernels: ``x (1, 1, 6, 6) -> z (1, K, 4, 4) -> a (1, K, 4, 4) ->
pooled (1, K, 2, 2) -> flat (1, 4K) -> logits (1, 4)``.

Every number this module returns is taken from the engine: the layers of :mod:`cnnviz.nn` run
their own forward and backward (:mod:`cnnviz.functional` underneath), and :class:`Trace` keeps
what each backward returned plus the caches the page shows (the max-pooling winners, the
activation's local derivative). Only the sliding-window view of the conv weight gradient is
rebuilt here, window by window, and it is checked against the engine's ``dW``. Pure NumPy, no UI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnviz import datasets, nn, optim
from cnnviz import functional as F

SIDE = 6          # input side in pixels
KSIZE = 3         # kernel side
POOL = 2          # pooling window and stride
CLASSES = 4
EXAMPLES = ("horizontal", "vertical", "turn", "left_falling")  # the "shapes" classes, in order
POOLS = ("max", "avg")
ACTIVATIONS = ("relu", "sigmoid")
MAX_KERNELS = 2
MAX_SEED = 999
#: The learning rate the page opens with: the loss falls step by step, not all at once.
DEFAULT_LR = 0.1
#: Above this a step is refused: the weights would jump so far that the numbers stop teaching.
MAX_LR = 10.0
#: The centred difference's step: allowed range and the page's default.
EPS_RANGE = (1e-8, 0.1)
DEFAULT_EPS = 1e-4
#: The largest steady sigmoid derivative, sigma'(0) = 1/4.
SIGMOID_MAX_SLOPE = 0.25


class LessonError(ValueError):
    """A setting the lesson cannot use; ``code`` names it for a translated sentence."""

    def __init__(self, message: str, code: str, **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Setup:
    """Everything that decides the network and its example (plain values: links, caches)."""

    example: int = 2      # index into EXAMPLES (2: the turn 横折)
    seed: int = 5         # the stroke's drawing and the initial weights (5: both kernels
                          # partly alive, so ReLU both passes and blocks)
    kernels: int = 2      # 1 or 2 conv kernels
    pool: str = "max"     # "max" or "avg"
    act: str = "relu"     # "relu" or "sigmoid"

    def __post_init__(self) -> None:
        if self.example not in range(len(EXAMPLES)):
            raise LessonError(f"No example {self.example!r}.", "example", value=self.example)
        if self.kernels not in range(1, MAX_KERNELS + 1):
            raise LessonError(f"Use 1 or 2 kernels, not {self.kernels!r}.", "kernels",
                              value=self.kernels)
        if self.pool not in POOLS or self.act not in ACTIVATIONS:
            raise LessonError("Unknown pooling or activation.", "layer")
        if self.seed not in range(MAX_SEED + 1):
            raise LessonError(f"The seed must be 0..{MAX_SEED}.", "seed", value=self.seed)


@dataclass
class Trace:
    """One forward and backward pass, every array as the engine returned it (batch axis dropped).

    Forward: ``x (6, 6)``, ``label``, ``kernel (K, 3, 3)``, ``conv_bias (K,)``, ``fc_w (4, F)``,
    ``fc_b (4,)``, ``z (K, 4, 4)`` conv output, ``a (K, 4, 4)`` activation output, ``pooled
    (K, 2, 2)``, ``flat (F,)``, ``logits (4,)``, ``probs (4,)`` softmax, ``loss``.
    Backward: ``d_logits (4,)`` = p - y from the loss; ``fc_dw (4, F)``, ``fc_db (4,)``,
    ``d_flat (F,)`` from the FC backward; ``d_pooled (K, 2, 2)`` from the flatten backward;
    ``d_a (K, 4, 4)`` from the pooling backward; ``local (K, 4, 4)`` the activation's own
    derivative (the engine's backward of ones: ReLU's 0/1 mask, sigmoid's s(1 - s));
    ``d_z (K, 4, 4)`` from the activation backward; ``conv_dw (K, 3, 3)``, ``conv_db (K,)``,
    ``d_x (6, 6)`` from the conv backward. ``winners (K, 4, 4)`` bool: the max-pooling argmax
    positions from the pooling cache (all False for average pooling).
    """

    x: np.ndarray
    label: int
    act: str
    pool: str
    kernel: np.ndarray
    conv_bias: np.ndarray
    fc_w: np.ndarray
    fc_b: np.ndarray
    z: np.ndarray
    a: np.ndarray
    pooled: np.ndarray
    flat: np.ndarray
    logits: np.ndarray
    probs: np.ndarray
    loss: float
    d_logits: np.ndarray
    fc_dw: np.ndarray
    fc_db: np.ndarray
    d_flat: np.ndarray
    d_pooled: np.ndarray
    d_a: np.ndarray
    winners: np.ndarray
    local: np.ndarray
    d_z: np.ndarray
    conv_dw: np.ndarray
    conv_db: np.ndarray
    d_x: np.ndarray

    @property
    def onehot(self) -> np.ndarray:
        """y: 1 for the right class, 0 elsewhere."""
        return np.eye(CLASSES)[self.label]


@dataclass
class Stop:
    """One stop of the dW slide: kernel ``k``, output cell ``(i, j)``, the input ``window (3,
    3)``, the upstream value ``dy``, ``term = window * dy`` and ``running`` (3, 3), the sum so
    far."""

    k: int
    i: int
    j: int
    window: np.ndarray
    dy: float
    term: np.ndarray
    running: np.ndarray


@dataclass
class Update:
    """One SGD step: ``w <- w - lr * dW`` for every parameter.

    ``status``: ``"down"`` (the loss fell), ``"up"`` (it rose: the step overshot) or
    ``"diverged"`` (a weight or the loss is no longer a finite number; the page then shows no
    numbers of ``after``).
    """

    lr: float
    before: Trace
    after: Trace | None
    kernel_before: np.ndarray
    kernel_after: np.ndarray
    loss_before: float
    loss_after: float
    status: str


# ---- the example and the network ------------------------------------------------------------

def example_input(example: int, seed: int) -> tuple[np.ndarray, int]:
    """A 6x6 stroke of class ``example`` from the "shapes" drawing code (2 decimals, so the
    sums can be followed by hand) and its label."""
    x, y = datasets.make_shapes(CLASSES, seed, size=SIDE)
    i = int(np.flatnonzero(y == example)[0])
    return np.round(x[i, 0].astype(np.float64), 2), int(example)


def build(setup: Setup) -> nn.Sequential:
    """The tiny network in float64 (gradient checks need it), weights from ``setup.seed``."""
    rng = np.random.default_rng(setup.seed)
    k = setup.kernels
    side = (SIDE - KSIZE + 1) // POOL
    act = nn.ReLU() if setup.act == "relu" else nn.Sigmoid()
    pool = nn.MaxPool2d(POOL) if setup.pool == "max" else nn.AvgPool2d(POOL)
    return nn.Sequential(
        nn.Conv2d(1, k, KSIZE, seed=rng, dtype=np.float64), act, pool, nn.Flatten(),
        nn.Linear(k * side * side, CLASSES, seed=rng, dtype=np.float64))


def trace(model: nn.Sequential, x: np.ndarray, label: int) -> Trace:
    """One forward and one backward through the model's own layers; every gradient kept."""
    conv, act, pool, flatten, fc = model.layers
    z = conv.forward(np.asarray(x, dtype=np.float64)[None, None])
    a = act.forward(z)
    pooled = pool.forward(a)
    flat = flatten.forward(pooled)
    logits = fc.forward(flat)
    loss, d_logits = F.softmax_cross_entropy(logits, np.array([label]))
    d_flat = fc.backward(d_logits)
    d_pooled = flatten.backward(d_flat)
    d_a = pool.backward(d_pooled)
    d_z = act.backward(d_a)
    d_x = conv.backward(d_z)
    local = act.backward(np.ones_like(z))  # f'(z): the engine's backward of a gradient of ones
    winners = np.zeros(a.shape[1:], dtype=bool)
    if pool.cache["mode"] == "max":
        rows, cols = F.pool2d_argmax(pool.cache)
        for k in range(a.shape[1]):
            winners[k, rows[0, k], cols[0, k]] = True
    return Trace(
        x=np.array(x, dtype=np.float64), label=int(label), act=act.name, pool=pool.mode,
        kernel=conv.params["weight"][:, 0].copy(), conv_bias=conv.params["bias"].copy(),
        fc_w=fc.params["weight"].copy(), fc_b=fc.params["bias"].copy(),
        z=z[0].copy(), a=a[0].copy(), pooled=pooled[0].copy(), flat=flat[0].copy(),
        logits=logits[0].copy(), probs=F.softmax(logits)[0], loss=float(loss),
        d_logits=d_logits[0].copy(), fc_dw=fc.grads["weight"].copy(),
        fc_db=fc.grads["bias"].copy(), d_flat=d_flat[0].copy(), d_pooled=d_pooled[0].copy(),
        d_a=d_a[0].copy(), winners=winners, local=local[0].copy(), d_z=d_z[0].copy(),
        conv_dw=conv.grads["weight"][:, 0].copy(), conv_db=conv.grads["bias"].copy(),
        d_x=d_x[0, 0].copy())


def loss_of(model: nn.Sequential, x: np.ndarray, label: int) -> float:
    """The loss of one forward pass (no backward)."""
    logits = model.forward(np.asarray(x, dtype=np.float64)[None, None])
    return F.softmax_cross_entropy(logits, np.array([label]))[0]


# ---- the learning rate and the update -------------------------------------------------------

def check_lr(lr: object) -> str | None:
    """Why ``lr`` cannot be used, as a code (``lr_nan``, ``lr_zero``, ``lr_negative``,
    ``lr_huge``), or None when it is fine."""
    try:
        v = float(lr)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "lr_nan"
    if not math.isfinite(v):
        return "lr_nan"
    if v == 0:
        return "lr_zero"
    if v < 0:
        return "lr_negative"
    if v > MAX_LR:
        return "lr_huge"
    return None


def _finite(model: nn.Sequential) -> bool:
    return all(np.all(np.isfinite(p)) for _, p in model.named_parameters())


def sgd_step(model: nn.Sequential, x: np.ndarray, label: int, lr: float) -> Update:
    """Backprop once, then one plain SGD step (``optim.SGD``) on ``model`` in place."""
    code = check_lr(lr)
    if code:
        raise LessonError(f"Unusable learning rate {lr!r}.", code, lr=lr, max=MAX_LR)
    before = trace(model, x, label)
    with np.errstate(all="ignore"):  # a too-big step may overflow; reported as "diverged"
        optim.SGD(model, lr=float(lr)).step()
        ok = _finite(model)
        after = trace(model, x, label) if ok else None
    kernel_after = model.layers[0].params["weight"][:, 0].copy()
    if after is None or not math.isfinite(after.loss):
        return Update(float(lr), before, None, before.kernel, kernel_after, before.loss,
                      math.nan, "diverged")
    status = "down" if after.loss < before.loss else "up"
    return Update(float(lr), before, after, before.kernel, after.kernel, before.loss,
                  after.loss, status)


def replay(setup: Setup, history: tuple[float, ...] = ()) -> nn.Sequential:
    """The network after the SGD steps in ``history`` (one learning rate per step taken)."""
    model = build(setup)
    x, label = example_input(setup.example, setup.seed)
    for lr in history:
        sgd_step(model, x, label, lr)
    return model


def step(setup: Setup, history: tuple[float, ...] = (), lr: float = DEFAULT_LR) -> Update:
    """Where the lesson stands after ``history`` and what one more step at ``lr`` does."""
    model = replay(setup, history)
    x, label = example_input(setup.example, setup.seed)
    return sgd_step(model, x, label, lr)


def current(setup: Setup, history: tuple[float, ...] = ()) -> Trace:
    """The forward and backward pass after the steps in ``history``."""
    x, label = example_input(setup.example, setup.seed)
    return trace(replay(setup, history), x, label)


def losses(setup: Setup, history: tuple[float, ...] = ()) -> list[float]:
    """The loss before any step and after each step of ``history``."""
    model = build(setup)
    x, label = example_input(setup.example, setup.seed)
    out = [loss_of(model, x, label)]
    for lr in history:
        out.append(sgd_step(model, x, label, lr).loss_after)
    return out


# ---- conv dW as a sliding window ------------------------------------------------------------

def dw_slide(tr: Trace, k: int) -> list[Stop]:
    """Kernel ``k``'s weight gradient built window by window: at each output cell (row-major)
    the input window times that cell's upstream gradient ``d_z``, added to a running sum.

    Raises AssertionError if the last running sum differs from the engine's ``conv_dw[k]`` by
    more than rounding (the GEMM adds in another order).
    """
    ho, wo = tr.d_z.shape[1:]
    running = np.zeros((KSIZE, KSIZE))
    stops = []
    for i in range(ho):
        for j in range(wo):
            window = tr.x[i : i + KSIZE, j : j + KSIZE]
            dy = float(tr.d_z[k, i, j])
            term = window * dy
            running = running + term
            stops.append(Stop(k, i, j, window.copy(), dy, term, running.copy()))
    scale = max(1.0, float(np.abs(tr.conv_dw[k]).max()))
    assert np.max(np.abs(running - tr.conv_dw[k])) <= 1e-12 * scale, "slide != engine dW"
    return stops


def slide(setup: Setup, history: tuple[float, ...], k: int) -> tuple[np.ndarray, np.ndarray,
                                                                       list[Stop]]:
    """What the dW animation of kernel ``k`` shows after ``history``: the input, that kernel's
    upstream gradient dY and the stops of :func:`dw_slide`."""
    tr = current(setup, history)
    return tr.x, tr.d_z[k], dw_slide(tr, k)


def flipped(kernel: np.ndarray) -> np.ndarray:
    """The kernel turned by 180 degrees (what the full convolution for dX slides)."""
    return np.ascontiguousarray(np.asarray(kernel)[..., ::-1, ::-1])


# ---- ReLU beside sigmoid --------------------------------------------------------------------

def compare_activations(setup: Setup, history: tuple[float, ...] = ()) -> dict[str, Trace]:
    """The same weights (after ``history``) with ReLU and with sigmoid: one trace each."""
    state = replay(setup, history).state_dict()
    x, label = example_input(setup.example, setup.seed)
    out = {}
    for act in ACTIVATIONS:
        model = build(Setup(setup.example, setup.seed, setup.kernels, setup.pool, act))
        model.load_state_dict(state)
        out[act] = trace(model, x, label)
    return out


def shrink(tr: Trace) -> dict[str, float]:
    """How much the activation layer scales the gradient passing back through it: mean |dL/da|
    arriving, mean |dL/dz| leaving, their ratio (sigmoid: at most 1/4), the largest local
    derivative, and mean |dW| of the kernels."""
    inflow = float(np.abs(tr.d_a).mean())
    outflow = float(np.abs(tr.d_z).mean())
    return {"in": inflow, "out": outflow, "ratio": outflow / inflow if inflow else 0.0,
            "max_local": float(tr.local.max()), "dw": float(np.abs(tr.conv_dw).mean())}


# ---- gradient check -------------------------------------------------------------------------

def check_eps(eps: object) -> str | None:
    """``"eps_range"`` when ``eps`` is not a number in :data:`EPS_RANGE`, else None."""
    try:
        v = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "eps_range"
    return None if math.isfinite(v) and EPS_RANGE[0] <= v <= EPS_RANGE[1] else "eps_range"


def grad_check(setup: Setup, history: tuple[float, ...], k: int, r: int, c: int,
               eps: float = DEFAULT_EPS) -> dict[str, float]:
    """Nudge kernel ``k``'s weight ``(r, c)`` by +-eps and compare the centred difference
    ``(L(w + eps) - L(w - eps)) / (2 eps)`` with the backprop value ``conv_dw[k, r, c]``.

    Returns ``w``, ``eps``, ``loss_plus``, ``loss_minus``, ``numeric``, ``backprop`` and
    ``rel_error = |numeric - backprop| / max(|numeric| + |backprop|, 1e-12)``.
    """
    if check_eps(eps):
        raise LessonError(f"Unusable epsilon {eps!r}.", "eps_range", lo=EPS_RANGE[0],
                          hi=EPS_RANGE[1])
    if not (0 <= k < setup.kernels and 0 <= r < KSIZE and 0 <= c < KSIZE):
        raise LessonError("No such kernel weight.", "weight", k=k, r=r, c=c)
    model = replay(setup, history)
    x, label = example_input(setup.example, setup.seed)
    backprop = float(trace(model, x, label).conv_dw[k, r, c])
    w = model.layers[0].params["weight"]
    w0 = float(w[k, 0, r, c])
    w[k, 0, r, c] = w0 + eps
    plus = loss_of(model, x, label)
    w[k, 0, r, c] = w0 - eps
    minus = loss_of(model, x, label)
    w[k, 0, r, c] = w0
    numeric = (plus - minus) / (2 * eps)
    rel = abs(numeric - backprop) / max(abs(numeric) + abs(backprop), 1e-12)
    return {"w": w0, "eps": float(eps), "loss_plus": plus, "loss_minus": minus,
            "numeric": numeric, "backprop": backprop, "rel_error": rel}


def weight_options(kernels: int) -> list[str]:
    """Names of every kernel weight, ``"k-r-c"`` (1-based kernel, 0-based row and column)."""
    return [f"{k + 1}-{r}-{c}" for k in range(kernels) for r in range(KSIZE)
            for c in range(KSIZE)]


def parse_weight(name: str) -> tuple[int, int, int]:
    """``"k-r-c"`` -> ``(k - 1, r, c)``; LessonError ``weight`` for anything else."""
    try:
        k, r, c = (int(p) for p in str(name).split("-"))
    except ValueError:
        raise LessonError(f"No weight {name!r}.", "weight") from None
    return k - 1, r, c
