"""Compact, validated text forms of page settings for shareable links (no UI code here).

Streamlit keeps most widget values in the URL by itself (``bind="query-params"``); what it
cannot bind - the numbers typed into a grid or a kernel - travels in our own form:

>>> encode_grid([[1, 0, 1], [0, 1, 0]])
'1,0,1;0,1,0'
>>> decode_grid("1,0,1;0,1,0").tolist()
[[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]

Rows are separated by ``;``, cells by ``,``; a stack of equally shaped grids (one per colour
channel) by ``|``. Everything read from a URL is checked: a bad value raises :class:`CodecError`
with a ``code`` the UI translates, never a traceback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import numpy as np

__all__ = [
    "CodecError",
    "KEY_RE",
    "build_url",
    "decode_grid",
    "decode_stack",
    "encode_grid",
    "encode_stack",
    "format_number",
    "parse_keys",
    "same_value",
]

#: Widget keys a link may name in ``?only=`` / ``?hide=``: lower-case words and digits. Anything
#: else is refused, so a tampered link cannot inject CSS through the hiding option.
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
#: Most characters one grid may take in a URL, and most keys one ``only``/``hide`` list names.
MAX_TEXT = 2000
MAX_KEYS = 40


class CodecError(ValueError):
    """A value from a link that cannot be used; ``code`` names the reason (``errors.<code>``)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def format_number(x: float) -> str:
    """Shortest text that reads back as the same float32-precision number (``2``, ``0.25``)."""
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format(x, ".7g")


def encode_grid(values: Any) -> str:
    """``(H, W)`` numbers -> ``"a,b;c,d"``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise CodecError("grid_shape")
    return ";".join(",".join(format_number(v) for v in row) for row in arr)


def decode_grid(text: Any, *, max_rows: int = 10, max_cols: int = 10, min_size: int = 1,
                limit: float = 1000.0, square: bool = False) -> np.ndarray:
    """``"a,b;c,d"`` -> float64 ``(H, W)``; checks shape, numbers and size.

    Raises
    ------
    CodecError
        ``grid_text`` (not numbers / ragged rows / too long), ``grid_size`` (too few or too many
        rows or columns, or not square when ``square``), ``grid_value`` (NaN, infinite or beyond
        ``limit``).
    """
    if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
        raise CodecError("grid_text")
    rows = []
    for line in text.split(";"):
        try:
            rows.append([float(cell) for cell in line.split(",")])
        except ValueError:
            raise CodecError("grid_text") from None
    if len({len(r) for r in rows}) != 1:
        raise CodecError("grid_text")
    arr = np.array(rows, dtype=np.float64)
    h, w = arr.shape
    if not (min_size <= h <= max_rows and min_size <= w <= max_cols) or (square and h != w):
        raise CodecError("grid_size", rows=h, cols=w)
    if not np.all(np.isfinite(arr)) or np.abs(arr).max() > limit:
        raise CodecError("grid_value", limit=format_number(limit))
    return arr


def encode_stack(values: Any) -> str:
    """``(C, H, W)`` -> the channels' grids joined by ``|``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 3:
        raise CodecError("grid_shape")
    return "|".join(encode_grid(c) for c in arr)


def decode_stack(text: Any, *, channels: Iterable[int] = (1, 3), **grid_kw: Any) -> np.ndarray:
    """``"g1|g2|g3"`` -> ``(C, H, W)`` with every channel the same shape and C in ``channels``."""
    if not isinstance(text, str) or not text:
        raise CodecError("grid_text")
    grids = [decode_grid(part, **grid_kw) for part in text.split("|")]
    if len(grids) not in tuple(channels) or len({g.shape for g in grids}) != 1:
        raise CodecError("grid_text")
    return np.stack(grids)


def parse_keys(text: Any) -> tuple[list[str], list[str]]:
    """``"conv_stride,conv_padding"`` -> (valid keys, rejected parts). Empty parts are skipped."""
    if isinstance(text, (list, tuple)):
        text = ",".join(str(t) for t in text)
    if not isinstance(text, str):
        return [], [repr(text)]
    good, bad = [], []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        (good if KEY_RE.match(part) and len(good) < MAX_KEYS else bad).append(part)
    return list(dict.fromkeys(good)), bad


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def same_value(url: Sequence[str] | str, shown: Sequence[str] | str) -> bool:
    """Does a value read from a link (``url``) say the same as the value now in the URL form
    of the widget (``shown``)? Numbers compare as numbers (``2`` == ``2.0``), booleans
    case-insensitively, lists element by element."""
    a = [url] if isinstance(url, str) else list(url)
    b = [shown] if isinstance(shown, str) else list(shown)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y or x.strip().lower() == y.strip().lower():
            continue
        nx, ny = _number(x), _number(y)
        if nx is None or ny is None or not math.isclose(nx, ny, rel_tol=1e-6, abs_tol=1e-12):
            return False
    return True


def build_url(base: str, params: Mapping[str, str | Sequence[str]]) -> str:
    """``base`` (no query) + ``?`` + the parameters, repeated keys for lists."""
    flat = [(k, v) for k, vs in params.items()
            for v in ([vs] if isinstance(vs, str) else list(vs))]
    query = urlencode(flat)
    return f"{base}?{query}" if query else base
