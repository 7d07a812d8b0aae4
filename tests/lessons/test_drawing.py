"""Drawing -> network input: range, shape, dtype, the empty verdict, position kept (shapes) or
cropped (digits), and a trained default net reading strokes drawn like a student would."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import datasets, models, train
from cnnviz.lessons import drawing as D
from tests.helpers import STROKES, stroke_canvas

SIDE = D.CANVAS_SIDE
BRUSH = D.BRUSH["shapes"]


def canvas(strokes, width=BRUSH, **kw):
    return stroke_canvas(strokes, width=width, side=SIDE, **kw)


def test_input_shape_dtype_range():
    x = D.to_input(canvas([STROKES[0][0]]), "shapes")
    assert x.shape == (1, 1, 16, 16) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.5
    y = D.to_input(canvas([STROKES[1][0]]), "digits")
    assert y.shape == (1, 1, 8, 8) and y.dtype == np.float32 and 0 <= y.min() <= y.max() <= 1


@pytest.mark.parametrize("rgba", [
    None,
    np.zeros((SIDE, SIDE, 4), np.uint8),                       # transparent
    np.full((SIDE, SIDE, 4), 255, np.uint8),                   # all white, opaque
    np.dstack([np.zeros((SIDE, SIDE, 3), np.uint8), np.full((SIDE, SIDE), 255, np.uint8)]),  # black
    np.zeros((0, 0, 4), np.uint8),
])
def test_empty_canvas_is_a_verdict(rgba):
    with pytest.raises(D.DrawingError) as err:
        D.to_input(rgba, "shapes")
    assert err.value.code == "draw_empty"


def test_a_tap_is_not_a_stroke_but_a_short_stroke_is():
    one = np.zeros((SIDE, SIDE, 4), np.uint8)
    one[..., 3] = 255
    one[100, 100, :3] = 255
    with pytest.raises(D.DrawingError):
        D.ink(one)
    assert D.ink(canvas([[(100, 100), (110, 100)]])).max() == pytest.approx(1.0)


def test_dark_ink_on_light_paper_and_paint_on_transparent_read_the_same():
    pts = [STROKES[2][0]]
    bright = D.to_input(canvas(pts), "shapes")
    paper = D.to_input(canvas(pts, bg=(255, 255, 255, 255), ink=(0, 0, 0, 255)), "shapes")
    clear = D.to_input(canvas(pts, bg=(0, 0, 0, 0), ink=(0, 0, 0, 255)), "shapes")
    np.testing.assert_allclose(paper, bright, atol=1e-5)
    np.testing.assert_allclose(clear, bright, atol=1e-5)


def _centre(x):
    a = x[0, 0]
    r, c = np.indices(a.shape)
    return (r * a).sum() / a.sum(), (c * a).sum() / a.sum()


@given(dx=st.integers(-60, 60), dy=st.integers(-60, 60))
@settings(max_examples=25, deadline=None)
def test_shapes_keep_the_position_digits_crop_it(dx, dy):
    base = [(90, 110), (150, 110), (147, 150)]
    moved = [(x + dx, y + dy) for x, y in base]
    a, b = D.to_input(canvas([base]), "shapes"), D.to_input(canvas([moved]), "shapes")
    (ra, ca), (rb, cb) = _centre(a), _centre(b)
    # 15 canvas pixels per input pixel: the ink's centre moves by dx / 15 input pixels
    assert rb - ra == pytest.approx(dy / 15, abs=0.35)
    assert cb - ca == pytest.approx(dx / 15, abs=0.35)
    da, db = D.to_input(canvas([base]), "digits"), D.to_input(canvas([moved]), "digits")
    np.testing.assert_allclose(da, db, atol=0.06)


@given(side=st.integers(20, 300), seed=st.integers(0, 10_000))
@settings(max_examples=30, deadline=None)
def test_any_canvas_gives_a_valid_input_or_the_verdict(side, seed):
    rng = np.random.default_rng(seed)
    rgba = (rng.random((side, side, 4)) < rng.random()).astype(np.uint8) * 255
    for name in datasets.DATASETS:
        try:
            x = D.to_input(rgba, name)
        except D.DrawingError as exc:
            assert exc.code == "draw_empty"
            continue
        s = 16 if name == "shapes" else 8
        assert x.shape == (1, 1, s, s) and x.dtype == np.float32
        assert np.isfinite(x).all() and 0 <= x.min() <= x.max() <= 1


@pytest.fixture(scope="module")
def trained():
    """The trainer's default net, trained by the engine as the page's Start does (SGD with
    momentum 0.9, lr 0.05, batches of 32, seed 0), for 3 epochs on the fixed data set."""
    ds = models.dataset("shapes")
    model = models.build(models.DEFAULT_SPEC, 0)
    for _ in train.fit(model, ds, epochs=3, batch_size=32, optimizer="sgd", lr=0.05,
                       momentum=0.9, seed=0):
        pass
    acc, _, _ = train.evaluate(model, ds.x_test, ds.y_test)
    assert acc > 0.9  # the net really learned the data set, so a miss below is the drawing's
    return model


def test_trained_net_reads_drawn_strokes(trained):
    hits, total, report = 0, 0, []
    for label, variants in STROKES.items():
        for points in variants:
            x = D.to_input(canvas([points]), "shapes")
            probs, guess = D.classify(trained, x)
            assert probs.shape == (4,) and probs.sum() == pytest.approx(1.0)
            hits += guess == label
            total += 1
            report.append((label, guess, round(float(probs[guess]), 3)))
    print(f"\ndrawn strokes classified correctly: {hits}/{total}", report)
    assert hits == total, report


def test_block_maps_follow_the_stroke(trained):
    """Weight sharing: the same stroke drawn elsewhere lights the same channel elsewhere."""
    a = D.block_maps(trained, D.to_input(canvas([STROKES[0][0]]), "shapes"))
    b = D.block_maps(trained, D.to_input(canvas([STROKES[0][1]]), "shapes"))
    assert [n for n, _ in a] == ["relu1", "relu2"]
    assert a[0][1].shape == (8, 16, 16) and a[1][1].shape == (16, 8, 8)
    k = int(np.argmax(a[0][1].reshape(8, -1).max(axis=1)))
    ra = np.unravel_index(np.argmax(a[0][1][k]), (16, 16))[0]
    rb = np.unravel_index(np.argmax(b[0][1][k]), (16, 16))[0]
    assert rb - ra > 4  # the second horizontal is ~100 canvas px (about 6 inputs) lower


@pytest.mark.parametrize("name", D.STROKE_KERNELS)
@pytest.mark.parametrize("size", [1, 3, 5, 7])
def test_stroke_kernels_answer_one_to_their_stroke_and_zero_to_flat(name, size):
    k = D.stroke_kernel(name, size)
    n = max(size, 3)
    assert k.shape == (n, n) and k.sum() == pytest.approx(0.0)
    pattern = (k > 0).astype(float)
    assert (k * pattern).sum() == pytest.approx(1.0)  # the stroke itself, on black
    for other in D.STROKE_KERNELS:
        if other != name:  # another stroke answers less
            assert (k * (D.stroke_kernel(other, size) > 0)).sum() < 1.0 - 1e-9


def test_unknown_stroke_kernel_is_refused():
    with pytest.raises(ValueError, match="stroke"):
        D.stroke_kernel("stroke_dot")


def test_the_turn_kernel_lights_up_where_the_turn_was_drawn():
    """Weight sharing on the convolution page: one 3x3 横折 kernel, two drawings of a turn;
    the strongest answer sits at each drawing's corner (the kernel's top-right cell there)."""
    from cnnviz import functional as F

    k = D.stroke_kernel("stroke_turn", 3)
    for points in STROKES[2]:
        x = D.to_input(canvas([points]), "shapes")[0, 0]
        out = F.conv2d_image(x, k, padding=1)[0]
        r, c = np.unravel_index(np.argmax(out), out.shape)
        corner_r, corner_c = points[1][1] / 15 - 0.5, points[1][0] / 15 - 0.5
        # the window centred at (r, c) has its top-right cell at (r - 1, c + 1)
        assert abs((r - 1) - corner_r) <= 1.5 and abs((c + 1) - corner_c) <= 1.5, (r, c)
    flat = D.to_input(canvas([STROKES[0][0]]), "shapes")[0, 0]  # a plain horizontal
    turn = D.to_input(canvas([STROKES[2][0]]), "shapes")[0, 0]
    assert (F.conv2d_image(turn, k, padding=1)[0].max()
            > F.conv2d_image(flat, k, padding=1)[0].max() + 0.1)
