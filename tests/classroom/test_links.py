"""Link encodings (cnnviz.classroom.links): grids round-trip, anything tampered is refused with a
code, never an exception of another kind."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cnnviz.classroom import links

cells = st.floats(-1000, 1000, allow_nan=False, width=32)


@given(arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(1, 10)), elements=cells))
def test_grid_round_trip(a):
    back = links.decode_grid(links.encode_grid(a))
    np.testing.assert_allclose(back, a, rtol=1e-6, atol=1e-9)


@given(arrays(np.float64, st.tuples(st.sampled_from([1, 3]), st.integers(1, 5),
                                   st.integers(1, 5)), elements=cells))
def test_stack_round_trip(a):
    text = links.encode_stack(a)
    assert text.count("|") == a.shape[0] - 1
    np.testing.assert_allclose(links.decode_stack(text, max_rows=5, max_cols=5), a, rtol=1e-6,
                               atol=1e-9)


def test_compact_form():
    assert links.encode_grid([[1, 0, 1], [0, 1, 0], [1, 0, 1]]) == "1,0,1;0,1,0;1,0,1"
    assert links.encode_grid([[0.25, -2.0]]) == "0.25,-2"
    assert links.format_number(1 / 3) == "0.3333333"


@pytest.mark.parametrize("text, code", [
    ("", "grid_text"), (None, "grid_text"), ("1,2;3", "grid_text"), ("1,x;3,4", "grid_text"),
    ("1,,2", "grid_text"), ("1" + ",1" * 3000, "grid_text"),
    ("nan,1;1,1", "grid_value"), ("inf,1;1,1", "grid_value"), ("1e9,1;1,1", "grid_value"),
    ("1,2,3", "grid_size"), (";".join(["1"] * 11), "grid_size"),
])
def test_tampered_grids_are_refused(text, code):
    with pytest.raises(links.CodecError) as err:
        links.decode_grid(text, min_size=2, max_rows=10, max_cols=10)
    assert err.value.code == code


def test_square_and_channels():
    with pytest.raises(links.CodecError):
        links.decode_grid("1,2;3,4;5,6", square=True)
    with pytest.raises(links.CodecError):
        links.decode_stack("1,2;3,4|1,2;3,4")  # two channels: neither gray nor colour
    with pytest.raises(links.CodecError):
        links.decode_stack("1,2;3,4|1;2|1,2;3,4")  # channels of different shapes
    assert links.decode_stack("1,2;3,4").shape == (1, 2, 2)


def test_parse_keys_refuses_anything_but_plain_keys():
    good, bad = links.parse_keys("conv_stride, conv_padding,,conv_stride")
    assert good == ["conv_stride", "conv_padding"] and bad == []
    good, bad = links.parse_keys("a}{display:none;x,Stride,conv-x,ok_1")
    assert good == ["ok_1"]
    assert bad == ["a}{display:none;x", "Stride", "conv-x"]
    assert links.parse_keys(["a_b", "c"]) == (["a_b", "c"], [])


@pytest.mark.parametrize("url, shown, same", [
    ("2", "2", True), ("2.0", "2", True), ("0.10", "0.1", True), ("TRUE", "true", True),
    (["-6", "6"], ["-6.0", "6.0"], True), (["a", "b"], ["b", "a"], False),
    ("ReLU", "Sigmoid", False), ("9", "1", False), (["1"], ["1", "2"], False),
    ("nan", "nan", True), ("x", "1", False),
])
def test_same_value(url, shown, same):
    assert links.same_value(url, shown) is same


def test_build_url_repeats_list_values():
    url = links.build_url("http://h:1/p", {"a": ["1", "2"], "lang": "zh", "k": "1,0;0,1"})
    assert url == "http://h:1/p?a=1&a=2&lang=zh&k=1%2C0%3B0%2C1"
    assert links.build_url("http://h:1/", {}) == "http://h:1/"
