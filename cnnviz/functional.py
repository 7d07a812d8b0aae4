"""Pure forward/backward pairs for a small CNN, in NumPy/SciPy.

Every op comes as a pair: ``out, cache = op_forward(...)`` and ``grads = op_backward(dout, cache)``
(CS231n style). Backward returns gradients in the order of the forward's inputs.

Conventions
-----------
* Layout is **NCHW**: ``x (N, C, H, W)``; conv weights ``(K, C, kh, kw)`` and linear weights
  ``(out_features, in_features)`` exactly as PyTorch stores them.
* Every op keeps the floating dtype of its input ``x`` (float32 for speed, float64 for gradient
  checks); integer inputs are promoted to float64; parameters are cast to the input's dtype.
* ``stride``, ``padding`` and ``dilation`` are an int or an ``(h, w)`` pair.
* Output size along one axis (the formula the convolution page teaches)::

      out = floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1

  which for ``dilation == 1`` is the familiar ``(W - F + 2P) / S + 1``.
* Geometry that does not fit raises :class:`ShapeError` (a ``ValueError``) carrying a
  machine-readable ``code`` and ``params`` so the UI can show a translated message.

Arrays returned by the conv and pooling ops may be non-contiguous views (the batched conv
computes in channel-major memory order and hands back an NCHW *view*, which saves a transpose
copy per layer); treat them as ordinary NCHW arrays.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special

__all__ = [
    "ACTIVATIONS",
    "CONV_IMAGE_METHODS",
    "ShapeError",
    "activation_backward",
    "activation_forward",
    "activation_grad",
    "conv2d_backward",
    "conv2d_explain",  # noqa: F822 - from cnnviz.image_ops, see __getattr__
    "conv2d_forward",
    "conv2d_image",  # noqa: F822 - from cnnviz.image_ops, see __getattr__
    "convolve_image",  # noqa: F822 - from cnnviz.image_ops, see __getattr__
    "linear_backward",
    "linear_forward",
    "output_size",
    "output_size_info",
    "pool2d_argmax",
    "pool2d_backward",
    "pool2d_explain",  # noqa: F822 - from cnnviz.image_ops, see __getattr__
    "pool2d_forward",
    "pool2d_output_shape",
    "softmax",
    "softmax_cross_entropy",
]

Pair = int | tuple[int, int]

ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "sigmoid", "tanh", "elu", "softplus", "gelu")
CONV_IMAGE_METHODS: tuple[str, ...] = ("auto", "shift", "fft", "direct", "gemm")


# --------------------------------------------------------------------------------------------
# Shapes and errors
# --------------------------------------------------------------------------------------------


class ShapeError(ValueError):
    """A shape or geometry setting that cannot work, with a machine-readable reason.

    Attributes
    ----------
    code : str
        One of ``"stride"``, ``"padding"``, ``"kernel"``, ``"dilation"``, ``"size"``,
        ``"too_big"`` (the kernel is larger than the padded input), and, beyond those,
        ``"channels"`` (kernel and input channel counts differ) and ``"features"``
        (a Linear layer's ``in_features`` differs from its input).
    params : dict
        The numbers involved, for formatting a translated message. Geometry errors carry
        ``size``, ``kernel_size`` (also as ``kernel``), ``stride``, ``padding``, ``dilation``,
        ``effective`` (dilated kernel extent ``d(k-1)+1``) and ``padded`` (``size + 2p``);
        ``"channels"`` / ``"features"`` errors carry ``expected`` and ``got``.
    """

    def __init__(self, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


# Setting name -> (ShapeError code, params key) for settings that are not whole numbers.
_SETTING_CODES = {
    "input size": ("size", "size"),
    "kernel size": ("kernel", "kernel_size"),
    "stride": ("stride", "stride"),
    "padding": ("padding", "padding"),
    "dilation": ("dilation", "dilation"),
}


def _int(value: Any, name: str) -> int:
    # Accept NumPy integers and integral floats from widgets; reject 1.5, NaN, True.
    try:
        ok = not isinstance(value, bool) and float(value).is_integer()
    except (TypeError, ValueError):
        ok = False
    if not ok:
        code, key = _SETTING_CODES.get(name, ("size", "size"))
        raise ShapeError(
            f"The {name} must be a whole number (got {value!r}).", code, **{key: value}
        )
    return int(value)


def _pair(value: Pair, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise TypeError(f"The {name} must be one number or a (height, width) pair.")
        return _int(value[0], name), _int(value[1], name)
    v = _int(value, name)
    return v, v


def output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Number of positions a kernel takes along one axis.

    ``out = floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``

    Parameters
    ----------
    size : int
        Input length along the axis (``H`` or ``W``), at least 1.
    kernel_size : int
        Kernel length ``F``, at least 1.
    stride : int
        Step ``S`` between positions, at least 1.
    padding : int
        Zeros ``P`` added on *each* side, at least 0.
    dilation : int
        Spacing between kernel taps, at least 1; the kernel then spans
        ``dilation * (kernel_size - 1) + 1`` pixels.

    Returns
    -------
    int
        The output length, at least 1.

    Raises
    ------
    ShapeError
        With ``code`` ``"size"``, ``"kernel"``, ``"stride"``, ``"padding"``, ``"dilation"``
        for a setting out of range, or ``"too_big"`` when the (dilated) kernel is larger than
        the padded input.
    """
    size, k = _int(size, "input size"), _int(kernel_size, "kernel size")
    s, p, d = _int(stride, "stride"), _int(padding, "padding"), _int(dilation, "dilation")
    span = d * (k - 1) + 1
    params = {
        "size": size,
        "kernel_size": k,
        "kernel": k,
        "stride": s,
        "padding": p,
        "dilation": d,
        "effective": span,  # the dilated kernel's extent d(k-1)+1
        "padded": size + 2 * p,
    }
    if size < 1:
        raise ShapeError(f"The input must be at least 1 pixel wide (got {size}).", "size", **params)
    if k < 1:
        raise ShapeError(f"The kernel size must be at least 1 (got {k}).", "kernel", **params)
    if s < 1:
        raise ShapeError(f"The stride must be at least 1 (got {s}).", "stride", **params)
    if p < 0:
        raise ShapeError(f"The padding cannot be negative (got {p}).", "padding", **params)
    if d < 1:
        raise ShapeError(f"The dilation must be at least 1 (got {d}).", "dilation", **params)
    if span > size + 2 * p:
        raise ShapeError(
            f"The kernel spans {span} pixels but the padded input is only {size + 2 * p} "
            f"pixels ({size} + 2 x {p} padding), so it fits nowhere. Use a smaller kernel "
            "or dilation, or more padding.",
            "too_big",
            **params,
        )
    return (size + 2 * p - span) // s + 1


def output_size_info(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> dict[str, Any]:
    """Output size plus whether the stride divides evenly (``(W - F + 2P) / S`` an integer).

    Parameters
    ----------
    size, kernel_size, stride, padding, dilation : int
        As in :func:`output_size`.

    Returns
    -------
    dict
        ``value`` (the output size), ``exact`` (True when ``numerator % stride == 0``, i.e. the
        last window ends exactly at the padded border), ``numerator`` (``size + 2P - span``),
        ``stride``, ``remainder`` (``numerator % stride``: trailing padded pixels no window
        reaches), ``span`` (dilated kernel extent ``d(F-1)+1``), ``padded_size`` (``size + 2P``).

    Raises
    ------
    ShapeError
        As :func:`output_size`.
    """
    value = output_size(size, kernel_size, stride, padding, dilation)
    span = int(dilation) * (int(kernel_size) - 1) + 1
    numerator = int(size) + 2 * int(padding) - span
    return {
        "value": value,
        "exact": numerator % int(stride) == 0,
        "numerator": numerator,
        "stride": int(stride),
        "remainder": numerator % int(stride),
        "span": span,
        "padded_size": int(size) + 2 * int(padding),
    }


def _out_hw(h, w, kh, kw, stride, padding, dilation):
    # One place that validates both axes so every op raises the same ShapeError.
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    return output_size(h, kh, sh, ph, dh), output_size(w, kw, sw, pw, dw)


def _as_float(x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.float32 or x.dtype == np.float64:
        return x
    return x.astype(np.float64)


def _check_ndim(arr: np.ndarray, ndim: int, name: str, layout: str) -> None:
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {arr.shape}.")


def _tap(a: np.ndarray, r0: int, c0: int, n_r: int, n_c: int, sr: int, sc: int) -> np.ndarray:
    # The n_r x n_c grid of pixels one kernel tap visits: a strided view, no copy.
    return a[..., r0 : r0 + sr * (n_r - 1) + 1 : sr, c0 : c0 + sc * (n_c - 1) + 1 : sc]


def _channels_first(x: np.ndarray) -> tuple[np.ndarray, bool]:
    # Our conv returns NCHW views of channel-major memory; working on the C-contiguous
    # (C, N, H, W) view keeps every later copy sequential in memory.
    if x.ndim == 4 and x.strides[1] > x.strides[0] > 0:
        return x.transpose(1, 0, 2, 3), True
    return x, False


# --------------------------------------------------------------------------------------------
# Batched convolution (training path): im2col + one GEMM
# --------------------------------------------------------------------------------------------


def _pad_cn(x: np.ndarray, ph: int, pw: int) -> np.ndarray:
    """Zero-pad ``x (N, C, H, W)`` into a C-contiguous ``(C, N, H + 2ph, W + 2pw)`` array."""
    n, c, h, w = x.shape
    xt = x.transpose(1, 0, 2, 3)
    if ph == 0 and pw == 0:
        return np.ascontiguousarray(xt)
    xp = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    xp[:, :, ph : ph + h, pw : pw + w] = xt
    return xp


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Batched 2-D cross-correlation (what deep-learning libraries call convolution).

    ``out[n, k, i, j] = b[k] + sum_{c, u, v} w[k, c, u, v] * xpad[n, c, i*sh + u*dh, j*sw + v*dw]``

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input batch.
    w : ndarray, shape (K, C, kh, kw)
        K kernels, PyTorch layout.
    b : ndarray, shape (K,), or None
        One bias per kernel.
    stride, padding, dilation : int or (int, int)
        Step between windows, zeros added on each side, spacing between taps.

    Returns
    -------
    out : ndarray, shape (N, K, H', W')
        ``H' = floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1``, likewise ``W'``.
    cache : dict
        What :func:`conv2d_backward` needs (the im2col matrix ``cols (C*kh*kw, N*H'*W')``,
        the weights and the geometry).

    Raises
    ------
    ShapeError
        When the geometry does not fit (see :func:`output_size`) or channel counts differ
        (``code == "channels"``).

    Notes
    -----
    im2col: the k*k taps are copied into channel-major columns ``(C*kh*kw, N*H'*W')`` and one
    BLAS GEMM with ``w.reshape(K, -1)`` does all the multiply-adds. The result is returned as an
    NCHW view of ``(K, N, H', W')`` memory, which the next layer reads without a transpose copy.
    """
    x = _as_float(x)
    w = np.asarray(w, dtype=x.dtype)
    _check_ndim(x, 4, "The input", "(N, C, H, W)")
    _check_ndim(w, 4, "The weights", "(K, C, kh, kw)")
    n, c, h, wd = x.shape
    k, cw, kh, kw = w.shape
    if cw != c:
        raise ShapeError(
            f"The kernels expect {cw} input channels but the input has {c}.",
            "channels",
            expected=cw,
            got=c,
        )
    stride, padding, dilation = (
        _pair(stride, "stride"),
        _pair(padding, "padding"),
        _pair(dilation, "dilation"),
    )
    ho, wo = _out_hw(h, wd, kh, kw, stride, padding, dilation)
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation

    wide = sh == 1 and sw == 1
    if wide:
        # Stride 1: tap (u, v) reads ONE contiguous run of the flattened padded rows, so the
        # copies move long runs instead of W'-long pieces; each output row carries Wp - W'
        # junk columns that are cropped off (and get zero gradient in backward).
        hp, wp = h + 2 * ph, wd + 2 * pw
        xp = np.zeros((c, n, hp + 1, wp), dtype=x.dtype)  # +1 row: the last run may overrun
        xp[:, :, ph : ph + h, pw : pw + wd] = x.transpose(1, 0, 2, 3)
        flat = xp.reshape(c, n, (hp + 1) * wp)
        run = ho * wp
        cols = np.empty((c, kh, kw, n, run), dtype=x.dtype)
        for u in range(kh):
            for v in range(kw):
                off = u * dh * wp + v * dw
                cols[:, u, v] = flat[:, :, off : off + run]
        row = wp
    else:
        xp = _pad_cn(x, ph, pw)
        cols = np.empty((c, kh, kw, n, ho, wo), dtype=x.dtype)
        for u in range(kh):  # loop over taps only; each copy moves a whole (C, N, H', W') block
            for v in range(kw):
                cols[:, u, v] = _tap(xp, u * dh, v * dw, ho, wo, sh, sw)
        row = wo
    cols = cols.reshape(c * kh * kw, n * ho * row)
    out = w.reshape(k, -1) @ cols  # the one GEMM: (K, C*kh*kw) @ (C*kh*kw, N*H'*row)
    if b is not None:
        b = np.asarray(b, dtype=x.dtype).reshape(k)
        out += b[:, None]
    out = out.reshape(k, n, ho, row)[..., :wo].transpose(1, 0, 2, 3)
    cache = {
        "x_shape": x.shape,
        "w": w,
        "has_bias": b is not None,
        "cols": cols,
        "wide": wide,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
    }
    return out, cache


def conv2d_backward(
    dout: np.ndarray, cache: dict[str, Any], need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`conv2d_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, K, H', W')
        Upstream gradient.
    cache : dict
        From :func:`conv2d_forward`.
    need_dx : bool
        False skips the input gradient (the first layer of a network never needs it) and
        returns ``dx = None``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
        ``col2im`` of ``w2.T @ dout2``: each tap's columns are added back where they were read.
    dw : ndarray, shape (K, C, kh, kw)
        ``dout2 @ cols.T``.
    db : ndarray, shape (K,), or None
        ``dout`` summed over N, H', W'; None when the forward had no bias.
    """
    w, cols = cache["w"], cache["cols"]
    n, c, h, wd = cache["x_shape"]
    k, _, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw_) = cache["stride"], cache["padding"], cache["dilation"]
    dout = np.asarray(dout, dtype=w.dtype)
    ho, wo = dout.shape[2], dout.shape[3]
    dt = dout.transpose(1, 0, 2, 3)
    if cache["wide"]:
        row = wd + 2 * pw
        dpad = np.zeros((k, n, ho, row), dtype=w.dtype)  # junk columns get zero gradient
        dpad[..., :wo] = dt
        d2 = dpad.reshape(k, -1)
    else:
        # Same channel-major layout as the forward GEMM; free when dout came from our ops.
        d2 = np.ascontiguousarray(dt).reshape(k, -1)
    dw = (d2 @ cols.T).reshape(w.shape)
    db = d2.sum(axis=1) if cache["has_bias"] else None
    if not need_dx:
        return None, dw, db
    dcols = w.reshape(k, -1).T @ d2
    hp = h + 2 * ph
    if cache["wide"]:
        run = ho * row
        dcols = dcols.reshape(c, kh, kw, n, run)
        dflat = np.zeros((c, n, (hp + 1) * row), dtype=w.dtype)
        for u in range(kh):  # col2im: overlapping windows add up, so accumulate tap by tap
            for v in range(kw):
                off = u * dh * row + v * dw_
                dflat[:, :, off : off + run] += dcols[:, u, v]
        dxp = dflat.reshape(c, n, hp + 1, row)
    else:
        dcols = dcols.reshape(c, kh, kw, n, ho, wo)
        dxp = np.zeros((c, n, hp, wd + 2 * pw), dtype=w.dtype)
        for u in range(kh):
            for v in range(kw):
                _tap(dxp, u * dh, v * dw_, ho, wo, sh, sw)[...] += dcols[:, u, v]
    # Crop with explicit ends: dxp[p:-p] would be empty when p == 0.
    dx = dxp[:, :, ph : ph + h, pw : pw + wd].transpose(1, 0, 2, 3)
    return dx, dw, db


# --------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------


def _pool_geometry(shape, kernel_size, stride, padding):
    kh, kw = _pair(kernel_size, "kernel size")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    ho, wo = _out_hw(shape[-2], shape[-1], kh, kw, (sh, sw), (ph, pw), (1, 1))
    if 2 * ph > kh or 2 * pw > kw:
        # As in PyTorch: more padding would let a window see nothing but padding.
        raise ShapeError(
            f"Pooling padding must be at most half the window (got padding ({ph}, {pw}) "
            f"for a {kh} x {kw} window).",
            "pool_padding",
            size=shape[-1],
            kernel_size=max(kh, kw),
            kernel=max(kh, kw),
            stride=sh,
            padding=max(ph, pw),
            dilation=1,
            effective=max(kh, kw),
            padded=shape[-1] + 2 * pw,
        )
    return (kh, kw), (sh, sw), (ph, pw), (ho, wo)


def pool2d_output_shape(
    shape: tuple[int, ...], kernel_size: Pair, stride: Pair | None = None, padding: Pair = 0
) -> tuple[int, int]:
    """``(H', W')`` of pooling a map of ``shape`` ``(..., H, W)``, without any data.

    Raises the same :class:`ShapeError` as :func:`pool2d_forward` for a setting that cannot
    work (codes ``size``, ``kernel``, ``stride``, ``padding``, ``too_big``, ``pool_padding``),
    so a lesson can check a setting before it draws anything.
    """
    return _pool_geometry(tuple(shape), kernel_size, stride, padding)[3]


def _pad_last2(x: np.ndarray, ph: int, pw: int, value: float) -> np.ndarray:
    if ph == 0 and pw == 0:
        return x
    pad = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, pad, constant_values=value)


def pool2d_forward(
    x: np.ndarray,
    kernel_size: Pair,
    stride: Pair | None = None,
    padding: Pair = 0,
    mode: str = "max",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Max or average pooling over the last two axes, each channel on its own.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W) (any leading axes work: (C, H, W), (H, W) ...)
    kernel_size : int or (int, int)
        Window ``(kh, kw)``.
    stride : int, (int, int) or None
        Defaults to ``kernel_size`` (non-overlapping windows), as in PyTorch.
    padding : int or (int, int)
        At most half the window. Max pooling pads with ``-inf`` (padding never wins); average
        pooling pads with zeros that *count* in the average (the window sum is divided by
        ``kh*kw`` everywhere), like PyTorch's default ``count_include_pad=True``.
    mode : {"max", "avg"}

    Returns
    -------
    out : ndarray, shape (N, C, H', W')
        ``H' = floor((H + 2*ph - kh) / sh) + 1``, likewise ``W'``.
    cache : dict
        For :func:`pool2d_backward`. Documented keys: ``"mode"``, ``"kernel_size"``,
        ``"stride"``, ``"padding"``, ``"x_shape"`` and, for max pooling, ``"argmax"``: an int
        array shaped like ``out`` holding the winning tap's index within its window,
        ``r * kw + c`` (row-major; ties go to the first maximum, as in PyTorch).
        :func:`pool2d_argmax` turns it into input coordinates.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"Unknown pooling mode {mode!r}; choose 'max' or 'avg'.")
    x = _as_float(x)
    if x.ndim < 2:
        raise ValueError(f"Pooling needs at least 2 dimensions (H, W), got shape {x.shape}.")
    (kh, kw), (sh, sw), (ph, pw), (ho, wo) = _pool_geometry(x.shape, kernel_size, stride, padding)
    xv, swapped = _channels_first(x)
    xp = _pad_last2(xv, ph, pw, -np.inf if mode == "max" else 0.0)
    cache: dict[str, Any] = {
        "mode": mode,
        "kernel_size": (kh, kw),
        "stride": (sh, sw),
        "padding": (ph, pw),
        "x_shape": x.shape,
        "dtype": x.dtype,
    }
    if (kh, kw) == tuple(x.shape[-2:]) and ph == pw == 0:
        # Global pooling (one window covers the map): reduce directly, not tap by tap.
        flat = x.reshape(*x.shape[:-2], kh * kw)
        if mode == "avg":
            out = flat.mean(axis=-1, dtype=x.dtype)
        else:
            idx = flat.argmax(axis=-1)  # first maximum, as PyTorch
            out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
            cache["argmax"] = idx.astype(np.int32)[..., None, None]
        return out[..., None, None], cache
    if mode == "avg":
        out = _tap(xp, 0, 0, ho, wo, sh, sw).copy()
        for t in range(1, kh * kw):
            out += _tap(xp, (t // kw), (t % kw), ho, wo, sh, sw)
        out *= 1.0 / (kh * kw)
    else:
        taps = [_tap(xp, t // kw, t % kw, ho, wo, sh, sw) for t in range(kh * kw)]
        out = taps[0].copy()
        for tap in taps[1:]:
            np.maximum(out, tap, out=out)
        # argmax = number of taps before the first one equal to the max (ties -> first, as
        # PyTorch); counting with boolean ops is several times faster than masked copies.
        missed = taps[0] != out
        argmax = missed.astype(np.int8 if kh * kw <= 127 else np.int32)
        for tap in taps[1:-1]:
            missed &= tap != out
            argmax += missed
        cache["argmax"] = argmax.transpose(1, 0, 2, 3) if swapped else argmax
    if swapped:
        out = out.transpose(1, 0, 2, 3)
    return out, cache


def pool2d_argmax(cache: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Input coordinates of each max-pooling winner, for highlighting the chosen element.

    Parameters
    ----------
    cache : dict
        From ``pool2d_forward(..., mode="max")``.

    Returns
    -------
    rows, cols : ndarray of int, shaped like the pooled output
        Position in the *unpadded* input (never in the padding, since padding is ``-inf``).
    """
    if cache["mode"] != "max":
        raise ValueError("Only max pooling chooses an element; average pooling uses them all.")
    t = cache["argmax"].astype(np.intp)
    (_, kw), (sh, sw), (ph, pw) = cache["kernel_size"], cache["stride"], cache["padding"]
    ho, wo = t.shape[-2:]
    rows = np.arange(ho)[:, None] * sh + t // kw - ph
    cols = np.arange(wo)[None, :] * sw + t % kw - pw
    return rows, cols


def pool2d_backward(dout: np.ndarray, cache: dict[str, Any]) -> np.ndarray:
    """Gradient of :func:`pool2d_forward`.

    Max pooling routes each upstream gradient to the winning element of its window (the
    ``argmax``); average pooling spreads it evenly, ``dout / (kh*kw)``, over the window.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H', W')
    cache : dict

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    (kh, kw), (sh, sw), (ph, pw) = cache["kernel_size"], cache["stride"], cache["padding"]
    shape = cache["x_shape"]
    dout = np.asarray(dout, dtype=cache["dtype"])
    dv, swapped = _channels_first(dout)
    pshape = list(shape[:-2]) + [shape[-2] + 2 * ph, shape[-1] + 2 * pw]
    if swapped:
        pshape[0], pshape[1] = pshape[1], pshape[0]
    ho, wo = dout.shape[-2:]
    overlap = sh < kh or sw < kw
    # Windows that tile the input exactly write every pixel once: no need to zero-fill first.
    tiled = (sh, sw) == (kh, kw) and (ho * kh, wo * kw) == tuple(pshape[-2:])
    dxp = np.empty(pshape, dtype=dout.dtype) if tiled else np.zeros(pshape, dtype=dout.dtype)
    if cache["mode"] == "avg":
        g = dv * (1.0 / (kh * kw))
        for t in range(kh * kw):
            view = _tap(dxp, t // kw, t % kw, ho, wo, sh, sw)
            if overlap:  # overlapping windows add up their shares
                view += g
            else:
                view[...] = g
    else:
        argmax = cache["argmax"]
        if swapped:
            argmax = argmax.transpose(1, 0, 2, 3)
        for t in range(kh * kw):
            view = _tap(dxp, t // kw, t % kw, ho, wo, sh, sw)
            if overlap:  # overlapping windows may send two gradients to one pixel
                view += dv * (argmax == t)
            else:  # each pixel is in at most one window: write, don't accumulate
                np.multiply(dv, argmax == t, out=view)
    dx = dxp[..., ph : ph + shape[-2], pw : pw + shape[-1]]
    return dx.transpose(1, 0, 2, 3) if swapped else dx


# --------------------------------------------------------------------------------------------
# Fully connected
# --------------------------------------------------------------------------------------------


def linear_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Fully connected layer ``out = x @ w.T + b``.

    Parameters
    ----------
    x : ndarray, shape (N, in_features)
    w : ndarray, shape (out_features, in_features)
    b : ndarray, shape (out_features,), or None

    Returns
    -------
    out : ndarray, shape (N, out_features)
    cache : dict
    """
    x = _as_float(x)
    w = np.asarray(w, dtype=x.dtype)
    _check_ndim(x, 2, "The input", "(N, in_features)")
    if x.shape[1] != w.shape[1]:
        raise ShapeError(
            f"The layer expects {w.shape[1]} input features but got {x.shape[1]}.",
            "features",
            expected=w.shape[1],
            got=x.shape[1],
        )
    out = x @ w.T
    if b is not None:
        out += np.asarray(b, dtype=x.dtype)
    return out, {"x": x, "w": w, "has_bias": b is not None}


def linear_backward(
    dout: np.ndarray, cache: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradients of :func:`linear_forward`.

    Returns
    -------
    dx : ndarray, shape (N, in_features)
        ``dout @ w``
    dw : ndarray, shape (out_features, in_features)
        ``dout.T @ x``
    db : ndarray, shape (out_features,), or None
        ``dout.sum(0)``
    """
    x, w = cache["x"], cache["w"]
    dout = np.asarray(dout, dtype=w.dtype)
    return dout @ w, dout.T @ x, dout.sum(axis=0) if cache["has_bias"] else None


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _check_activation(name: str) -> None:
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}. Choose one of: {', '.join(ACTIVATIONS)}.")


def activation_forward(
    x: np.ndarray, name: str, negative_slope: float = 0.01
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply an activation function elementwise.

    ``relu``: max(0, x). ``leaky_relu``: x if x > 0 else slope * x. ``sigmoid``: 1 / (1 + e^-x)
    (stable for any x, via ``scipy.special.expit``). ``tanh``. ``elu``: x if x > 0 else
    e^x - 1 (alpha = 1). ``softplus``: log(1 + e^x) (stable, via ``logaddexp``).
    ``gelu``: x * Phi(x) = x/2 * (1 + erf(x / sqrt 2)), the exact form (PyTorch's default).

    Parameters
    ----------
    x : ndarray, any shape
    name : str
        One of :data:`ACTIVATIONS`.
    negative_slope : float
        Slope for ``x <= 0`` in ``leaky_relu``.

    Returns
    -------
    out : ndarray, same shape and dtype as x
    cache : dict

    Raises
    ------
    ValueError
        For an unknown name.
    """
    _check_activation(name)
    x = _as_float(x)
    if name == "relu":
        out = np.maximum(x, 0)
    elif name == "leaky_relu":
        out = np.where(x > 0, x, x * x.dtype.type(negative_slope))
    elif name == "sigmoid":
        out = scipy.special.expit(x)
    elif name == "tanh":
        out = np.tanh(x)
    elif name == "elu":
        out = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))  # min() avoids overflow in expm1
    elif name == "softplus":
        out = np.logaddexp(x.dtype.type(0), x)
    else:  # gelu
        out = 0.5 * x * (1.0 + scipy.special.erf(x * _SQRT_HALF))
    return out, {"name": name, "x": x, "out": out, "negative_slope": negative_slope}


def activation_backward(dout: np.ndarray, cache: dict[str, Any]) -> np.ndarray:
    """Gradient of :func:`activation_forward`: ``dx = dout * f'(x)``.

    At ``x == 0`` ReLU's derivative is taken as 0 and Leaky ReLU's as the slope (as PyTorch).
    """
    x, out, name = cache["x"], cache["out"], cache["name"]
    dout = np.asarray(dout, dtype=x.dtype)
    if name == "relu":
        return dout * (x > 0)
    if name == "sigmoid":
        return dout * (out * (1 - out))
    if name == "tanh":
        return dout * (1 - out * out)
    return dout * _derivative(x, name, cache["negative_slope"])


def _derivative(x: np.ndarray, name: str, negative_slope: float) -> np.ndarray:
    one = x.dtype.type(1)
    if name == "relu":
        return (x > 0).astype(x.dtype)
    if name == "leaky_relu":
        return np.where(x > 0, one, x.dtype.type(negative_slope))
    if name == "sigmoid":
        s = scipy.special.expit(x)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(x) ** 2
    if name == "elu":
        return np.where(x > 0, one, np.exp(np.minimum(x, 0)))
    if name == "softplus":
        return scipy.special.expit(x)
    # gelu: Phi(x) + x * phi(x)
    return 0.5 * (1.0 + scipy.special.erf(x * _SQRT_HALF)) + x * (
        _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    )


def activation_grad(x: np.ndarray, name: str, negative_slope: float = 0.01) -> np.ndarray:
    """The derivative ``f'(x)`` elementwise, for plotting curves (e.g. sigmoid' peaks at 0.25).

    ``x`` (any shape), ``name`` and ``negative_slope`` as in :func:`activation_forward`; returns
    an array of the same shape and dtype as ``x``.
    """
    _check_activation(name)
    return _derivative(_as_float(x), name, negative_slope)


# --------------------------------------------------------------------------------------------
# Loss
# --------------------------------------------------------------------------------------------


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax ``exp(z - max z) / sum exp(z - max z)`` along ``axis``.

    Parameters
    ----------
    logits : ndarray, e.g. shape (N, K)

    Returns
    -------
    ndarray, same shape, rows summing to 1
    """
    z = _as_float(logits)
    e = np.exp(z - z.max(axis=axis, keepdims=True))  # shift: the largest exponent is 0
    return e / e.sum(axis=axis, keepdims=True)


def softmax_cross_entropy(logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy over the batch and its gradient.

    ``loss = -1/N sum_n log softmax(logits[n])[y[n]]``, computed with log-sum-exp so that
    logits of +-1000 stay finite.

    Parameters
    ----------
    logits : ndarray, shape (N, K)
    y : ndarray of int, shape (N,)
        Class labels in ``[0, K)``.

    Returns
    -------
    loss : float
    dlogits : ndarray, shape (N, K)
        ``(softmax(logits) - onehot(y)) / N``.
    """
    z = _as_float(logits)
    _check_ndim(z, 2, "The logits", "(N, classes)")
    y = np.asarray(y)
    n, k = z.shape
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"The labels must be {n} integers, got shape {y.shape}, dtype {y.dtype}.")
    if n and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"Labels must lie in [0, {k}), got values from {y.min()} to {y.max()}.")
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = float(-logp[rows, y].mean())
    d = np.exp(logp)
    d[rows, y] -= 1
    d /= n
    return loss, d


# The single-image paths live in cnnviz.image_ops (which builds on this module); they stay
# reachable as F.conv2d_image etc. Resolved on first use, because image_ops imports functional.
_IMAGE_OPS = frozenset({"conv2d_image", "convolve_image", "conv2d_explain", "pool2d_explain"})


def __getattr__(name: str) -> Any:
    if name in _IMAGE_OPS:
        from cnnviz import image_ops

        return getattr(image_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
