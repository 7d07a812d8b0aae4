"""What the trainer page may say about its gradient chart, computed from the very numbers the
chart draws (pure; the page turns a claim code and its parameters into a sentence).

- :func:`gradient_claim`: how one activation's first-layer gradient compared with another's over
  a race (the "why sigmoid learns slowly" sentence).
- :func:`gradient_gaps`: which layers have points the logarithmic chart cannot draw (exactly 0,
  or not a finite number), and from when, so a line that vanishes is explained.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["drawable", "gradient_claim", "gradient_gaps"]


def drawable(values: Sequence[float]) -> np.ndarray:
    """Which points a logarithmic axis can draw: finite and > 0 (the chart drops the rest)."""
    v = np.asarray(values, dtype=np.float64)
    return np.isfinite(v) & (v > 0)


def gradient_claim(x_a: Sequence[float], a: Sequence[float], x_b: Sequence[float],
                   b: Sequence[float]) -> tuple[str, dict[str, Any]] | None:
    """Compare curve ``a`` (e.g. sigmoid's conv1 gradient) with ``b`` (ReLU's) where both were
    measured at the same x and both can be drawn.

    Returns ``None`` with fewer than two such points, else a code and its parameters:

    - ``"below"`` / ``"above"``: ``a`` under / over ``b`` at every common point; ``ratio`` is the
      median of ``b / a`` (or ``a / b``), at least 1.
    - ``"below_then_above"``: under ``b`` at the start, over it from ``since`` (the first x where
      it is above) to the end, crossing once.
    - ``"above_then_below"``: the reverse.
    - ``"mixed"``: the lines cross more than once; ``share`` is the % of points where a < b.
    """
    xa, ya = np.asarray(x_a, dtype=np.float64), np.asarray(a, dtype=np.float64)
    xb, yb = np.asarray(x_b, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = min(len(xa), len(ya)), min(len(xb), len(yb))
    xa, ya, xb, yb = xa[:na], ya[:na], xb[:nb], yb[:nb]
    common, ia, ib = np.intersect1d(xa, xb, return_indices=True)
    ya, yb = ya[ia], yb[ib]
    ok = drawable(ya) & drawable(yb) & (ya != yb)
    common, ya, yb = common[ok], ya[ok], yb[ok]
    if common.size < 2:
        return None
    below = ya < yb
    if below.all():
        return "below", {"ratio": float(np.median(yb / ya))}
    if not below.any():
        return "above", {"ratio": float(np.median(ya / yb))}
    changes = int(np.count_nonzero(below[1:] != below[:-1]))
    if changes == 1:
        code = "below_then_above" if below[0] else "above_then_below"
        return code, {"since": float(common[int(np.argmax(below != below[0]))])}
    return "mixed", {"share": float(100 * below.mean())}


def gradient_gaps(x: Sequence[float], grad: Mapping[str, Sequence[float]]
                  ) -> list[dict[str, Any]]:
    """Layers whose gradient line has points the logarithmic chart cannot draw.

    Returns one dict per such layer, in chart order: ``layer``, ``kind`` (``"overflow"`` when
    a value is not a finite number, else ``"zero"``: exactly 0, as when every ReLU of the layer
    is silent), ``since`` (x of the first such point), ``all`` (no point at all is drawn).

    A layer with fewer values than ``x`` lost its last ones: the training job keeps only finite
    norms, so those count as not finite.
    """
    xs = np.asarray(x, dtype=np.float64)
    out = []
    for layer, values in grad.items():
        v = np.asarray(values, dtype=np.float64)[: xs.size]
        v = np.concatenate([v, np.full(xs.size - v.size, np.nan)])
        bad = ~drawable(v)
        if not bad.any():
            continue
        kind = "overflow" if (~np.isfinite(v[bad])).any() else "zero"
        out.append({"layer": layer, "kind": kind, "since": float(xs[bad][0]),
                    "all": bool(bad.all())})
    return out
