"""The activation lesson's claims, checked against the engine's own numbers: the summary
table's "zero-centred" and derivative-range columns, and the curve chart (item 2 and 6 of
issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz.lessons import activation as A

X = np.linspace(-12.0, 12.0, 24001)


def _f_df(name: str, alpha: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    return A.forward_and_derivative(X, name, alpha)


@pytest.mark.parametrize("name", A.NAMES)
def test_zero_centred_column_agrees_with_the_curve(name: str) -> None:
    """"no (outputs ≥ 0)" only for a function that never goes below 0; "yes" only for an odd
    function (f(−x) = −f(x)); GELU dips to −0.17 and was listed as "no"."""
    f, _ = _f_df(name)
    zc = A.zero_centred(name)
    assert zc == A.PROPERTIES[name]["zero_centred"]
    odd = np.allclose(f[::-1], -f, atol=1e-6)
    if zc == "no":
        assert f.min() >= 0.0
    elif zc == "yes":
        assert odd
    else:
        assert f.min() < 0.0 and not odd


@pytest.mark.parametrize("name", [n for n in A.NAMES if n not in ("relu", "leaky_relu")])
def test_derivative_range_brackets_agree_with_the_curve(name: str) -> None:
    """A closed bracket means the bound is reached (sigmoid's 1/4 at x = 0 is), an open one
    that it is only approached."""
    _, df = _f_df(name)
    text = A.PROPERTIES[name]["d_range"]
    lo, hi = A.PROPERTIES[name]["df_bounds"]
    reached_hi = bool(np.isclose(df.max(), hi, rtol=0, atol=2e-3 if "≈" in text else 1e-12))
    reached_lo = bool(np.isclose(df.min(), lo, rtol=0, atol=2e-3 if "≈" in text else 1e-12))
    assert text.rstrip().endswith("]") == reached_hi, text
    assert text.lstrip("≈ ").startswith("[") == reached_lo, text


def test_sigmoid_derivative_reaches_one_quarter() -> None:
    assert A.PROPERTIES["sigmoid"]["d_range"] == "(0, 1/4]"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(A.NAMES), min_size=2, max_size=7, unique=True),
       st.floats(0.0, 0.5))
def test_no_curve_hides_another(names: list[str], alpha: float) -> None:
    """Where two chosen curves coincide (Leaky ReLU over ReLU for x > 0, ELU over ReLU...),
    the later one is drawn so that the earlier stays visible: a different dash or width."""
    from cnnviz.viz import activation as V

    curves = A.curves(names, -6.0, 6.0, alpha)
    fig = V.curves_figure(curves, names={n: n for n in names},
                          labels={k: k for k in ("title", "x", "f", "df", "f_panel", "df_panel",
                                                 "zone", "tangent", "peak")})
    top = {tr.name: tr for tr in fig.data if tr.name in names}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            fa, fb = curves[a].f, curves[b].f
            same = np.abs(fa - fb) <= 1e-3 * max(1.0, float(np.ptp(fa)))
            if same.mean() < 0.05:
                continue
            la, lb = top[a].line, top[b].line
            assert (la.dash or "solid", la.width) != (lb.dash or "solid", lb.width), (a, b)
