"""Slow, obviously-correct loop references for the fast paths in :mod:`cnnviz.functional`.

Each function is written straight from the definition, one output element at a time, so that
tests can hold the vectorised code to it. Never use these for real work: they are O(everything)
Python loops.
"""

from __future__ import annotations

import numpy as np


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d_forward_naive(x, w, b=None, stride=1, padding=0, dilation=1):
    """``out[n,k,i,j] = b[k] + sum_{c,u,v} w[k,c,u,v] * x[n,c,i*s+u*d-p, j*s+v*d-p]`` (0 outside).

    x (N, C, H, W), w (K, C, kh, kw), b (K,) or None -> out (N, K, H', W').
    """
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    ho, wo = _out(h, kh, sh, ph, dh), _out(wd, kw, sw, pw, dw)
    out = np.zeros((n, k, ho, wo), dtype=x.dtype)
    for ni in range(n):
        for ki in range(k):
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if b is None else b[ki]
                    for ci in range(c):
                        for u in range(kh):
                            for v in range(kw):
                                r, q = i * sh + u * dh - ph, j * sw + v * dw - pw
                                if 0 <= r < h and 0 <= q < wd:
                                    total += w[ki, ci, u, v] * x[ni, ci, r, q]
                    out[ni, ki, i, j] = total
    return out


def conv2d_backward_naive(dout, x, w, b=None, stride=1, padding=0, dilation=1):
    """Gradients of :func:`conv2d_forward_naive` by the chain rule, term by term.

    Every product ``w[k,c,u,v] * x[n,c,r,q]`` that fed ``out[n,k,i,j]`` sends
    ``dout[n,k,i,j] * x[...]`` to ``dw`` and ``dout[n,k,i,j] * w[...]`` to ``dx``.
    Returns dx (N, C, H, W), dw (K, C, kh, kw), db (K,) or None.
    """
    (sh, sw), (ph, pw), (dh, dw_) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    ho, wo = dout.shape[2:]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for ni, ki, i, j in np.ndindex(n, k, ho, wo):  # every output value ...
        g = dout[ni, ki, i, j]
        for ci, u, v in np.ndindex(c, kh, kw):  # ... and every product that fed it
            r, q = i * sh + u * dh - ph, j * sw + v * dw_ - pw
            if 0 <= r < h and 0 <= q < wd:
                dw[ki, ci, u, v] += g * x[ni, ci, r, q]
                dx[ni, ci, r, q] += g * w[ki, ci, u, v]
    db = None if b is None else dout.sum(axis=(0, 2, 3))
    return dx, dw, db


def pool2d_forward_naive(x, kernel_size, stride=None, padding=0, mode="max"):
    """Max (padding = -inf) or average (padding zeros counted, divide by kh*kw) pooling.

    x (N, C, H, W) -> out (N, C, H', W'), plus argmax (N, C, H', W', 2) as window (r, c) of
    the first maximum (max mode only; zeros for avg).
    """
    kh, kw = _pair(kernel_size)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    n, c, h, w = x.shape
    ho, wo = _out(h, kh, sh, ph, 1), _out(w, kw, sw, pw, 1)
    out = np.zeros((n, c, ho, wo), dtype=x.dtype)
    arg = np.zeros((n, c, ho, wo, 2), dtype=int)
    for ni in range(n):
        for ci in range(c):
            for i in range(ho):
                for j in range(wo):
                    best, where, total = -np.inf, (0, 0), 0.0
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - ph, j * sw + v - pw
                            inside = 0 <= r < h and 0 <= q < w
                            val = x[ni, ci, r, q] if inside else None
                            if inside:
                                total += val
                                if val > best:
                                    best, where = val, (u, v)
                    out[ni, ci, i, j] = best if mode == "max" else total / (kh * kw)
                    arg[ni, ci, i, j] = where
    return out, arg


def pool2d_backward_naive(dout, x, kernel_size, stride=None, padding=0, mode="max"):
    """Gradient of :func:`pool2d_forward_naive`: to the first maximum, or 1/(kh*kw) each."""
    kh, kw = _pair(kernel_size)
    sh, sw = (kh, kw) if stride is None else _pair(stride)
    ph, pw = _pair(padding)
    _, arg = pool2d_forward_naive(x, kernel_size, stride, padding, mode)
    n, c, h, w = x.shape
    ho, wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for ni in range(n):
        for ci in range(c):
            for i in range(ho):
                for j in range(wo):
                    g = dout[ni, ci, i, j]
                    for u in range(kh):
                        for v in range(kw):
                            r, q = i * sh + u - ph, j * sw + v - pw
                            if not (0 <= r < h and 0 <= q < w):
                                continue
                            if mode == "avg":
                                dx[ni, ci, r, q] += g / (kh * kw)
                            elif (u, v) == tuple(arg[ni, ci, i, j]):
                                dx[ni, ci, r, q] += g
    return dx
