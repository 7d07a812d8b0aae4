"""The one way numbers are written for people: on charts, in captions, in worked sums.

One rule for decimals (at most ``digits`` significant digits, no trailing zeros, scientific
notation only for very large or very small magnitudes) and one minus sign, the typographic
"−" (U+2212, as Plotly draws its axes), so every page prints the same value the same way.
Inside LaTeX use :func:`fmt_ascii`: there "-" already is the minus sign.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MINUS", "fmt", "fmt_factor", "fmt_ascii"]

MINUS = "\u2212"


def fmt_ascii(x: float, digits: int = 3) -> str:
    """:func:`fmt` with an ASCII "-" (LaTeX; ``st.metric`` deltas, which read their sign)."""
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 1e-4:
        return f"{x:.{digits}g}"
    s = np.format_float_positional(x, precision=digits, unique=False, fractional=False, trim="-")
    return s.rstrip(".")


def fmt(x: float, digits: int = 3) -> str:
    """At most ``digits`` significant digits, plain notation for everyday magnitudes, "−" for
    every minus (exponents too): "4", "0.25", "−1.33", "1.23e+06", "1e−05", "−inf"."""
    return fmt_ascii(x, digits).replace("-", MINUS)


def fmt_factor(x: float) -> str:
    """A number as a factor: negative ones in parentheses, "1×(−1)"."""
    s = fmt(x)
    return f"({s})" if s.startswith(MINUS) else s
