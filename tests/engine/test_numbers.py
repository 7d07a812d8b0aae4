"""The one number formatter (cnnviz.numbers): one rule for decimals, one minus sign everywhere."""

import numpy as np
import pytest

from cnnviz import numbers
from cnnviz.viz import style


def test_three_significant_digits_and_a_true_minus():
    assert numbers.fmt(1 / 9) == "0.111"
    assert numbers.fmt(-2.0) == "−2"
    assert numbers.fmt(4.0) == "4"
    assert numbers.fmt(-4 / 3) == "−1.33"
    assert numbers.fmt(0.25) == "0.25"
    assert numbers.fmt(-0.0) == "0"
    assert numbers.fmt_factor(-0.25) == "(−0.25)"
    assert numbers.fmt_factor(3.0) == "3"


def test_extreme_magnitudes_use_scientific_notation_with_the_same_minus():
    assert numbers.fmt(1.234e7) == "1.23e+07"
    assert numbers.fmt(-1e-5) == "−1e−05"
    assert numbers.fmt(float("-inf")) == "−inf"
    assert numbers.fmt(float("nan")) == "nan"


def test_ascii_variant_differs_only_in_the_minus_sign():
    for v in (-1.5, 2.0, -3e-7, 1e9, 0.0, -123.456):
        assert numbers.fmt_ascii(v) == numbers.fmt(v).replace("−", "-")
    assert "−" not in numbers.fmt_ascii(-2.5)


def test_figures_and_lessons_print_a_negative_number_the_same_way():
    """Before, viz.style.fmt wrote "-1.5" and the convolution lesson "−1.5" for the same value."""
    assert style.fmt is numbers.fmt
    from cnnviz.lessons import conv

    lines = conv.arithmetic(np.array([[1.0]]), np.array([[-1.5]]))
    assert lines[-1].endswith(f"= {style.fmt(-1.5)}")


@pytest.mark.parametrize("value", [0.123456, -98765.4321, 3.0, -0.000123])
def test_round_trips_to_three_significant_digits(value):
    text = numbers.fmt(value).replace("−", "-")
    assert float(text) == pytest.approx(float(f"{value:.3g}"))
