"""One image, a few kernels: the interactive pages' fast paths and the "explain" helpers.

The batched training path (im2col + one GEMM) is in :mod:`cnnviz.functional`; here one large
image meets a small kernel set, computed by NumPy shift-and-add, an FFT product or
``scipy.signal.correlate2d`` (same numbers, chosen by speed), and ``*_explain`` lists everything
that goes into one output value for the sliding-window views. :mod:`cnnviz.functional`
re-exports every public name here, so ``F.conv2d_image`` keeps working.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.fft
import scipy.signal

from cnnviz.functional import (
    CONV_IMAGE_METHODS,
    Pair,
    ShapeError,
    _as_float,
    _check_ndim,
    _out_hw,
    _pad_last2,
    _pair,
    _pool_geometry,
    _tap,
    conv2d_forward,
)

__all__ = ["conv2d_explain", "conv2d_image", "convolve_image", "pool2d_explain"]



def _image_and_kernels(image, kernels, bias):
    img = _as_float(image)
    if img.ndim == 2:
        img = img[None]
    _check_ndim(img, 3, "The image", "(C, H, W) or (H, W)")
    c = img.shape[0]
    ker = np.asarray(kernels, dtype=img.dtype)
    if ker.ndim == 2:  # one 2-D kernel: the same weights on every channel, summed
        ker = np.broadcast_to(ker, (1, c) + ker.shape)
    elif ker.ndim == 3:  # one kernel with its channels
        ker = ker[None]
    _check_ndim(ker, 4, "The kernels", "(K, C, kh, kw), (C, kh, kw) or (kh, kw)")
    if ker.shape[1] != c:
        raise ShapeError(
            f"The kernels expect {ker.shape[1]} input channels but the image has {c}.",
            "channels",
            expected=ker.shape[1],
            got=c,
        )
    k = ker.shape[0]
    if bias is None:
        b = np.zeros(k, dtype=img.dtype)
    else:
        b = np.broadcast_to(np.asarray(bias, dtype=img.dtype).reshape(-1), (k,))
    return img, ker, b


def _pad_image(img: np.ndarray, ph: int, pw: int) -> np.ndarray:
    if ph == 0 and pw == 0:
        return img
    return np.pad(img, ((0, 0), (ph, ph), (pw, pw)))


def _dilate_kernels(ker: np.ndarray, dh: int, dw: int) -> np.ndarray:
    # Insert (d - 1) zeros between taps so FFT / correlate2d can treat dilation as a plain kernel.
    if dh == 1 and dw == 1:
        return ker
    k, c, kh, kw = ker.shape
    out = np.zeros((k, c, dh * (kh - 1) + 1, dw * (kw - 1) + 1), dtype=ker.dtype)
    out[:, :, ::dh, ::dw] = ker
    return out


_BAND = 65536  # output elements per band in shift-and-add: ~256 KB in float32, cache-resident


def _conv_image_shift(xp, ker, ho, wo, stride, dilation):
    # Shift-and-add: one multiply-add per tap over the whole (strided) output grid.
    (sh, sw), (dh, dw) = stride, dilation
    k, c, kh, kw = ker.shape
    out = np.zeros((k, ho, wo), dtype=xp.dtype)
    if k == 1:
        # Sparse teaching kernels (edge detectors, the article's X) skip their zero taps.
        taps = [(ci, u, v, ker[0, ci, u, v]) for ci in range(c) for u in range(kh)
                for v in range(kw) if ker[0, ci, u, v] != 0]  # fmt: skip
        band = max(1, _BAND // wo)
        tmp = np.empty((band, wo), dtype=xp.dtype)
        # Bands of output rows: the running sum and the product stay in cache across taps,
        # which makes this ~3x faster than full-image passes on a 1024 x 1024 image.
        for r0 in range(0, ho, band):
            n = min(band, ho - r0)
            acc, t, src = out[0, r0 : r0 + n], tmp[:n], xp[:, r0 * sh :]
            for ci, u, v, wt in taps:
                np.multiply(_tap(src[ci], u * dh, v * dw, n, wo, sh, sw), wt, out=t)
                acc += t
        return out
    # Several kernels: per tap a (K, C) @ (C, H'W') product mixes channels in one BLAS call.
    flat = out.reshape(k, ho * wo)
    for u in range(kh):
        for v in range(kw):
            patch = _tap(xp, u * dh, v * dw, ho, wo, sh, sw).reshape(c, ho * wo)
            flat += ker[:, :, u, v] @ patch
    return out


def _conv_image_fft(xp, ker, ho, wo, stride, dilation):
    # Correlation = convolution with the flipped kernel; sum channels in frequency space
    # so each kernel costs one inverse FFT however many channels there are.
    (sh, sw) = stride
    kd = _dilate_kernels(ker, *dilation)
    k, c, kh, kw = kd.shape
    hp, wp = xp.shape[1:]
    fh, fw = scipy.fft.next_fast_len(hp, True), scipy.fft.next_fast_len(wp, True)
    fx = scipy.fft.rfft2(xp, s=(fh, fw))
    # The kernel has only kh non-zero rows: transform those rows first, then the columns
    # (same result as rfft2 with zero padding, ~3x cheaper).
    fk = scipy.fft.fft(scipy.fft.rfft(kd[:, :, ::-1, ::-1], n=fw, axis=-1), n=fh, axis=-2)
    out = np.empty((k, ho, wo), dtype=xp.dtype)
    for ki in range(k):
        full = scipy.fft.irfft2(np.einsum("chw,chw->hw", fk[ki], fx), s=(fh, fw))
        # 'valid' part starts where the flipped kernel fully overlaps: offset (kh-1, kw-1).
        out[ki] = full[
            kh - 1 : kh - 1 + sh * (ho - 1) + 1 : sh, kw - 1 : kw - 1 + sw * (wo - 1) + 1 : sw
        ]
    return out


def _conv_image_direct(xp, ker, ho, wo, stride, dilation):
    # scipy.signal.correlate2d per (kernel, channel), summed; stride by slicing the result.
    (sh, sw) = stride
    kd = _dilate_kernels(ker, *dilation)
    k, c = kd.shape[:2]
    out = np.zeros((k, ho, wo), dtype=xp.dtype)
    for ki in range(k):
        for ci in range(c):
            full = scipy.signal.correlate2d(xp[ci], kd[ki, ci], mode="valid")
            out[ki] += full[: sh * (ho - 1) + 1 : sh, : sw * (wo - 1) + 1 : sw]
    return out


def _pick_method(ho: int, wo: int, ker: np.ndarray, dilation: tuple[int, int]) -> str:
    # Cost model fitted to benchmarks/bench_engine.py-style timings (float32, one thread):
    # shift-and-add ~0.2 ns per output pixel per multiply-add, so ~0.2 * K * C * taps; the FFT
    # route ~4 ns per pixel per transform, C + K*C + K transforms. They cross near 8x8 taps
    # for one channel and 7x7 for three. Small outputs: shift-and-add, whose cost is tiny anyway.
    k, c = ker.shape[:2]
    taps = ker.shape[2] * ker.shape[3]
    if ho * wo >= 64 * 64 and k * c * taps > 20 * (c + k * c + k):
        return "fft"
    return "shift"


def conv2d_image(
    image: np.ndarray,
    kernels: np.ndarray,
    bias: float | np.ndarray | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
    dilation: Pair = 1,
    *,
    flip: bool = False,
    method: str = "auto",
) -> np.ndarray:
    """Cross-correlate ONE image with a small kernel set (the interactive pages' path).

    Gives the same numbers as :func:`conv2d_forward` on a batch of one, computed the fastest way
    for a single large image.

    Parameters
    ----------
    image : ndarray, shape (C, H, W) or (H, W)
        One image; a 2-D image has one channel.
    kernels : ndarray, shape (K, C, kh, kw), (C, kh, kw) or (kh, kw)
        K kernels; a 3-D array is one kernel with C channels; a 2-D kernel is applied with the
        same weights to every channel and the channels are summed.
    bias : float, ndarray of shape (K,), or None
        Added to each output map.
    stride, padding, dilation : int or (int, int)
        As in :func:`conv2d_forward`.
    flip : bool
        True computes a true convolution (kernel rotated by 180 degrees), as in signal
        processing; False (default) is cross-correlation, as in CNNs.
    method : {"auto", "shift", "fft", "direct", "gemm"}
        ``"shift"``: NumPy shift-and-add over the kh*kw taps (fast for small kernels);
        ``"fft"``: FFT product (fast for large kernels); ``"direct"``:
        ``scipy.signal.correlate2d``; ``"gemm"``: :func:`conv2d_forward` (its im2col matrix
        holds ``C*kh*kw*H'*W'`` numbers: not for large images); ``"auto"`` picks shift or fft
        by a cost model fitted to measured speed.

    Returns
    -------
    ndarray, shape (K, H', W')
        ``H' = floor((H + 2*ph - dh*(kh-1) - 1) / sh) + 1``, likewise ``W'``.

    Raises
    ------
    ShapeError
        When the geometry does not fit or the channel counts differ.
    """
    img, ker, b = _image_and_kernels(image, kernels, bias)
    if flip:
        ker = ker[:, :, ::-1, ::-1]
    stride, padding, dilation = (
        _pair(stride, "stride"),
        _pair(padding, "padding"),
        _pair(dilation, "dilation"),
    )
    ho, wo = _out_hw(
        img.shape[1], img.shape[2], ker.shape[2], ker.shape[3], stride, padding, dilation
    )
    if method == "auto":
        method = _pick_method(ho, wo, ker, dilation)
    if method == "gemm":
        out, _ = conv2d_forward(img[None], np.ascontiguousarray(ker), b, stride, padding, dilation)
        return np.ascontiguousarray(out[0])
    paths = {"shift": _conv_image_shift, "fft": _conv_image_fft, "direct": _conv_image_direct}
    if method not in paths:
        raise ValueError(
            f"Unknown method {method!r}; choose one of {', '.join(CONV_IMAGE_METHODS)}."
        )
    xp = _pad_image(img, *padding)
    out = paths[method](xp, ker, ho, wo, stride, dilation)
    if np.any(b):
        out += b[:, None, None]
    return out


def convolve_image(
    image: np.ndarray, kernels: np.ndarray, bias: float | np.ndarray | None = None,
    stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, *, method: str = "auto",
) -> np.ndarray:
    """True convolution (kernel flipped): :func:`conv2d_image` with ``flip=True``.

    For a 1-channel image, stride 1 and no padding this equals
    ``scipy.signal.convolve2d(image, kernel, mode="valid")``.
    """
    return conv2d_image(image, kernels, bias, stride, padding, dilation, flip=True, method=method)


def conv2d_explain(
    image: np.ndarray, kernel: np.ndarray, bias: float | None, i: int, j: int,
    stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1, *, flip: bool = False,
) -> dict[str, Any]:
    """Everything that goes into one output value ``out[i, j]``, for the sliding-window view.

    Parameters
    ----------
    image : ndarray, shape (C, H, W) or (H, W)
    kernel : ndarray, shape (C, kh, kw) or (kh, kw)
        One kernel; a 2-D kernel is used for every channel (as in :func:`conv2d_image`).
    bias : float or None
    i, j : int
        Output position, ``0 <= i < H'``, ``0 <= j < W'``.
    stride, padding, dilation : int or (int, int)
    flip : bool
        True explains a true convolution (the kernel returned is the flipped one applied).

    Returns
    -------
    dict
        ``window`` (C, kh, kw) input values under the taps (padding zeros included);
        ``rows`` (kh,) / ``cols`` (kw,) tap positions in padded coordinates;
        ``rows_unpadded`` / ``cols_unpadded`` the same in image coordinates (outside
        ``[0, H)`` / ``[0, W)`` means padding); ``in_padding`` (kh, kw) bool;
        ``kernel`` (C, kh, kw); ``products`` (C, kh, kw); ``channel_sums`` (C,);
        ``bias`` float; ``value`` float = ``channel_sums.sum() + bias``, equal to
        ``conv2d_image(...)[0, i, j]``; ``out_shape`` (H', W').
    """
    img, ker, b = _image_and_kernels(image, kernel, bias)
    if ker.shape[0] != 1:
        raise ValueError("conv2d_explain takes one kernel: shape (C, kh, kw) or (kh, kw).")
    ker = ker[0]
    if flip:
        ker = ker[:, ::-1, ::-1]
    stride, padding, dilation = (
        _pair(stride, "stride"),
        _pair(padding, "padding"),
        _pair(dilation, "dilation"),
    )
    c, h, w = img.shape
    kh, kw = ker.shape[1:]
    ho, wo = _out_hw(h, w, kh, kw, stride, padding, dilation)
    if not (0 <= i < ho and 0 <= j < wo):
        raise IndexError(f"Output position ({i}, {j}) is outside the {ho} x {wo} output.")
    rows = i * stride[0] + np.arange(kh) * dilation[0]
    cols = j * stride[1] + np.arange(kw) * dilation[1]
    xp = _pad_image(img, *padding)
    window = xp[:, rows[:, None], cols[None, :]]
    products = window * ker
    channel_sums = products.sum(axis=(1, 2))
    ru, cu = rows - padding[0], cols - padding[1]
    in_pad = ((ru < 0) | (ru >= h))[:, None] | ((cu < 0) | (cu >= w))[None, :]
    return {
        "window": window,
        "rows": rows,
        "cols": cols,
        "rows_unpadded": ru,
        "cols_unpadded": cu,
        "in_padding": in_pad,
        "kernel": np.array(ker),
        "products": products,
        "channel_sums": channel_sums,
        "bias": float(b[0]),
        "value": float(channel_sums.sum() + b[0]),
        "out_shape": (ho, wo),
    }


def pool2d_explain(
    x2d: np.ndarray,
    kernel_size: Pair,
    i: int,
    j: int,
    stride: Pair | None = None,
    padding: Pair = 0,
    mode: str = "max",
) -> dict[str, Any]:
    """Everything that goes into one pooled value ``out[i, j]`` of a 2-D map.

    Parameters
    ----------
    x2d : ndarray, shape (H, W)
    kernel_size, stride, padding, mode
        As in :func:`pool2d_forward`.
    i, j : int
        Output position.

    Returns
    -------
    dict
        ``window`` (kh, kw) values (padding shows as ``-inf`` for max, ``0`` for avg);
        ``rows`` (kh,) / ``cols`` (kw,) in padded coordinates; ``rows_unpadded`` /
        ``cols_unpadded`` in map coordinates; ``in_padding`` (kh, kw) bool;
        ``value`` float (equal to ``pool2d_forward``); for max: ``argmax`` ``(r, c)`` within the
        window (first maximum) and ``argmax_unpadded`` in map coordinates; for avg: ``sum``,
        ``count`` (``kh*kw``, padding included) and ``terms`` (the window values).
    """
    x = _as_float(x2d)
    _check_ndim(x, 2, "The map", "(H, W)")
    (kh, kw), (sh, sw), (ph, pw), (ho, wo) = _pool_geometry(x.shape, kernel_size, stride, padding)
    if not (0 <= i < ho and 0 <= j < wo):
        raise IndexError(f"Output position ({i}, {j}) is outside the {ho} x {wo} output.")
    xp = _pad_last2(x, ph, pw, -np.inf if mode == "max" else 0.0)
    rows, cols = i * sh + np.arange(kh), j * sw + np.arange(kw)
    window = xp[rows[:, None], cols[None, :]]
    ru, cu = rows - ph, cols - pw
    info: dict[str, Any] = {
        "window": window,
        "rows": rows,
        "cols": cols,
        "rows_unpadded": ru,
        "cols_unpadded": cu,
        "in_padding": ((ru < 0) | (ru >= x.shape[0]))[:, None]
        | ((cu < 0) | (cu >= x.shape[1]))[None, :],
        "out_shape": (ho, wo),
    }
    if mode == "max":
        r, c = divmod(int(np.argmax(window)), kw)  # np.argmax returns the first maximum
        info.update(
            value=float(window[r, c]), argmax=(r, c), argmax_unpadded=(int(ru[r]), int(cu[c]))
        )
    elif mode == "avg":
        total = float(window.sum())
        info.update(value=total / (kh * kw), sum=total, count=kh * kw, terms=window.ravel())
    else:
        raise ValueError(f"Unknown pooling mode {mode!r}; choose 'max' or 'avg'.")
    return info
