"""The preprocessing story's sentence about the whitened covariance is computed from the very
matrix the page prints under the last panel (issue 16, item 3: with spread σ₂ = 0 the text said
"identity" under diag(1, 0))."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import preprocess as P
from cnnviz.lessons import preprocessing as L
from cnnviz.viz.preprocessing import fmt_matrix
from tests.pages.test_preprocessing import matrices, run, texts
from ui.preprocessing.controls import N_POINTS

tenths = st.integers(0, 30).map(lambda k: k / 10)  # the spread sliders: 0.0 .. 3.0, step 0.1
reachable = st.fixed_dictionaries({
    "n": st.sampled_from(N_POINTS),
    "mean": st.tuples(st.integers(-10, 10).map(lambda k: k / 2), st.integers(-10, 10).map(
        lambda k: k / 2)),
    "spreads": st.tuples(tenths, tenths),
    "shape": st.sampled_from(["corr", "angle"]),
    "corr": st.integers(-20, 20).map(lambda k: k / 20),
    "angle": st.integers(-18, 18).map(lambda k: 5 * k),
    "seed": st.integers(0, 9999),
    "method": st.sampled_from(["minmax", "std"]),
})


def _story(s: dict) -> L.Story:
    X = P.make_gaussian_cloud(s["n"], s["mean"], s["spreads"], angle_deg=s["angle"],
                              seed=s["seed"],
                              correlation=s["corr"] if s["shape"] == "corr" else None)
    return L.story(X, s["method"])


@settings(max_examples=150, deadline=None)
@given(reachable)
def test_whitened_claim_matches_the_printed_matrix(s: dict) -> None:
    story = _story(s)
    code, params = L.whitened_claim(story)
    exponent, shown = fmt_matrix(story.covs["whitened"])
    if code == "identity":
        assert (exponent, shown) == (0, [["1.00", "0.00"], ["0.00", "1.00"]])
    elif code == "partial":
        ones = params["kept"]
        assert 0 < ones < story.dims
        diag = [shown[i][i] for i in range(story.dims)]
        assert sorted(diag, reverse=True) == ["1.00"] * ones + ["0.00"] * (story.dims - ones)
        assert params["diag"] == "diag(" + ", ".join(d[0] for d in diag) + ")"
        assert shown[0][1] == shown[1][0] == "0.00"
    else:
        assert code == "none" and story.degenerate


def test_page_never_calls_diag_1_0_the_identity() -> None:
    at = run(prep_spread_2=0.0)
    assert matrices(at)[4] == [["1.00", "0.00"], ["0.00", "0.00"]]
    captions = " ".join(texts(at, "caption"))
    assert "covariance is the identity" not in captions
    assert "diag(1, 0)" in captions
    at = run("zh", prep_spread_2=0.0)
    assert "就是单位矩阵" not in " ".join(texts(at, "caption"))


def test_page_says_identity_when_it_is() -> None:
    at = run()
    assert matrices(at)[4] == [["1.00", "0.00"], ["0.00", "1.00"]]
    assert "covariance is the identity" in " ".join(texts(at, "caption"))


def test_claim_for_equal_points_is_hidden() -> None:
    story = L.story(np.ones((5, 2)))
    assert L.whitened_claim(story)[0] == "none"
