"""The preprocessing lesson's maths (cnnviz.lessons.preprocessing) and its figure helpers.

The story must do what the page claims: centring gives mean 0, PCA only rotates (distances kept)
and gives a diagonal covariance, whitening gives the identity; degenerate data stay finite.
ZCA must emphasise edges, and a tiny epsilon must amplify noise.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz import preprocess
from cnnviz.lessons import preprocessing as prep_math
from cnnviz.viz import preprocessing as prep_figs


def cloud(n=400, mean=(2.0, 1.0), spreads=(1.5, 0.5), corr=0.8, seed=0):
    return preprocess.make_gaussian_cloud(n, mean, spreads, correlation=corr, seed=seed)


def all_finite(story: prep_math.Story) -> bool:
    arrays = [*story.points.values(), *story.covs.values(), *story.means.values()]
    return all(np.isfinite(a).all() for a in arrays)


# ---- the story -------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(20, 400),
    mean=st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
    spreads=st.tuples(st.floats(0.2, 3), st.floats(0.2, 3)),
    angle=st.floats(-90, 90),
    seed=st.integers(0, 1000),
    method=st.sampled_from(["minmax", "std"]),
)
def test_story_stages_do_what_the_panels_say(n, mean, spreads, angle, seed, method):
    X = preprocess.make_gaussian_cloud(n, mean, spreads, angle_deg=angle, seed=seed)
    s = prep_math.story(X, method)
    assert s.rank == 2 and all_finite(s)
    np.testing.assert_allclose(s.points["original"], X)
    np.testing.assert_allclose(s.means["centered"], 0, atol=1e-9)
    if method == "minmax":
        assert np.abs(s.points["normalized"]).max() <= 1 + 1e-12
        np.testing.assert_allclose(np.ptp(s.points["normalized"], axis=0), 2)
    else:
        np.testing.assert_allclose(np.diag(s.covs["normalized"]), 1)
    # PCA: a pure rotation of the centred normalized data -> distances to the mean are kept
    nrm = s.points["normalized"] - s.means["normalized"]
    np.testing.assert_allclose(np.linalg.norm(s.points["pca"], axis=1),
                               np.linalg.norm(nrm, axis=1), atol=1e-9)
    cov = s.covs["pca"]
    assert abs(cov[0, 1]) <= 1e-9 * max(1.0, cov[0, 0]) and cov[0, 0] >= cov[1, 1]
    # whitened: the identity, to far better than the two decimals the page prints
    np.testing.assert_allclose(s.covs["whitened"], np.eye(2), atol=1e-4)


def test_story_reports_explained_share():
    s = prep_math.story(cloud(corr=0.95, spreads=(1, 1)), "std")
    # standardized, correlation 0.95: the first axis carries (1 + 0.95) / 2 of the variance
    assert s.explained_ratio[0] == pytest.approx(0.975, abs=0.01)


@pytest.mark.parametrize(
    ("X", "rank"),
    [
        (np.full((50, 2), 3.0), 0),  # all points equal
        (np.array([[1.0, 2.0]]), 0),  # one point
        (np.array([[0.0, 0.0], [1.0, 3.0]]), 1),  # two points: always a line
        (cloud(corr=1.0), 1),  # correlation 1
        (cloud(corr=-1.0), 1),
        (cloud(spreads=(1.0, 0.0), corr=0.0), 1),  # y constant
    ],
)
@pytest.mark.parametrize("method", ["minmax", "std"])
def test_degenerate_data_stay_finite(X, rank, method):
    s = prep_math.story(X, method)
    assert s.rank == rank and all_finite(s)
    assert s.degenerate == (rank == 0)
    w = s.covs["whitened"]
    # live directions whitened to 1, dead ones left at 0 (never divided by 0)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(w))[::-1],
                               [1.0] * rank + [0.0] * (2 - rank), atol=1e-6)


def test_constant_feature_is_flagged():
    s = prep_math.story(cloud(spreads=(1.0, 0.0), corr=0.0), "minmax")
    np.testing.assert_array_equal(s.constant, [False, True])
    np.testing.assert_array_equal(s.points["normalized"][:, 1], 0.0)


def test_story_in_three_dimensions():
    rgb = np.random.default_rng(1).random((300, 3)) @ np.array([[1, .5, .2], [0, 1, .4],
                                                                  [0, 0, 1]])
    s = prep_math.story(rgb, "std")
    assert s.dims == 3 and s.rank == 3
    np.testing.assert_allclose(s.covs["whitened"], np.eye(3), atol=1e-4)


def test_axes_segments_match_the_engine_in_2d_and_have_4_sigma_length():
    X = cloud()
    seg = prep_math.axes_segments(X)
    cov, mean = preprocess.covariance(X), X.mean(axis=0)
    np.testing.assert_allclose(seg, preprocess.principal_axes(cov, tuple(mean)), atol=1e-9)
    lengths = np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1)
    np.testing.assert_allclose(lengths, 4 * np.sqrt(np.linalg.eigvalsh(cov)[::-1]), rtol=1e-9)
    flat = prep_math.axes_segments(np.ones((5, 3)))
    assert flat.shape == (3, 2, 3) and np.isfinite(flat).all()


# ---- the picture -----------------------------------------------------------------------------
def test_image_stages_centre_and_normalize_each_channel():
    rng = np.random.default_rng(0)
    img = rng.random((20, 30, 3)) * [0.5, 1.0, 0.2] + [0.3, 0.0, 0.6]
    st_ = prep_math.image_stages(img, "minmax")
    np.testing.assert_allclose(st_.mean, img.reshape(-1, 3).mean(axis=0))
    np.testing.assert_allclose(st_.centered.reshape(-1, 3).mean(axis=0), 0, atol=1e-12)
    norm = st_.normalized.reshape(-1, 3)
    np.testing.assert_allclose(norm.min(axis=0), -1)
    np.testing.assert_allclose(norm.max(axis=0), 1)
    assert st_.ranges["original"] == (img.min(), img.max())
    assert st_.ranges["normalized"] == (-1.0, 1.0)
    sd = prep_math.image_stages(img, "std")
    np.testing.assert_allclose(sd.normalized.reshape(-1, 3).std(axis=0), 1)


def test_single_colour_and_gray_pictures():
    flat = prep_math.image_stages(np.full((8, 8, 3), 0.5), "minmax")
    assert flat.ranges["centered"] == (0.0, 0.0) and flat.constant.all()
    assert np.isfinite(flat.normalized).all() and not flat.normalized.any()
    gray = prep_math.image_stages(np.linspace(0, 1, 64).reshape(8, 8), "std")
    assert gray.normalized.shape == (8, 8, 1)


def test_display_signed_puts_zero_at_mid_gray():
    v = np.array([-2.0, 0.0, 1.0, 2.0])
    np.testing.assert_allclose(prep_math.display_signed(v), [0.0, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(prep_math.display_signed(np.zeros(3)), 0.5)


def test_channel_histograms_match_numpy_and_sum_to_one():
    img = np.random.default_rng(2).random((16, 16, 3))
    centers, shares = prep_math.channel_histograms(img, bins=10)
    assert shares.shape == (3, 10)
    np.testing.assert_allclose(shares.sum(axis=1), 1)
    expected, edges = np.histogram(img[..., 1], bins=10, range=(img.min(), img.max()))
    np.testing.assert_allclose(shares[1], expected / 256)
    np.testing.assert_allclose(centers, (edges[:-1] + edges[1:]) / 2)
    c, s = prep_math.channel_histograms(np.full((4, 4, 3), 0.3), bins=5)
    assert np.isfinite(c).all() and s.max() == 1.0


# ---- ZCA -------------------------------------------------------------------------------------
def edge_picture(seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:96, 0:96]
    img = 0.3 + 0.3 * np.sin(xx / 15) * np.cos(yy / 20) + 0.02 * rng.standard_normal((96, 96))
    img[:, 48:] += 0.4  # one vertical edge between columns 47 and 48
    return img


def test_whole_picture_is_exactly_whitening_of_every_patch():
    img = edge_picture()
    z = prep_math.zca_picture(img, eps=1e-2, n=800)
    s = z.patches.shape[1]
    c = (s // 2) * s + s // 2
    for r, q in [(0, 0), (10, 40), (88, 88), (37, 5)]:
        patch = img[r : r + s, q : q + s]
        expected = z.W[c] @ (patch - z.mean_patch).ravel()
        assert z.picture[r, q] == pytest.approx(expected, abs=1e-9)
    assert z.picture.shape == (96 - s + 1, 96 - s + 1)
    np.testing.assert_allclose(z.filter.ravel(), z.W[c])


def test_zca_emphasises_edges():
    img = edge_picture()
    z = prep_math.zca_picture(img, eps=1e-2)
    p = np.abs(z.picture)  # column q holds patches whose centre pixel is column q + 4
    at_edge = p[:, 42:46].mean()
    smooth = np.concatenate([p[:, :30], p[:, 60:]], axis=1).mean()
    raw = np.abs(img - img.mean())
    raw_ratio = raw[:, 46:50].mean() / np.concatenate([raw[:, :34], raw[:, 64:]], axis=1).mean()
    assert raw_ratio < 1.5  # before whitening the edge does not stand out in value...
    assert at_edge > 3 * smooth  # ...after whitening it dominates


def test_tiny_epsilon_amplifies_noise():
    img = edge_picture()
    results = [prep_math.zca_picture(img, eps=e) for e in (1e-6, 1e-2, 1.0)]
    gains = [r.gain.max() for r in results]
    noise = [r.picture[:, :30].std() for r in results]  # smooth region: what remains is noise
    assert gains[0] > gains[1] > gains[2]
    assert noise[0] > 2 * noise[1] > 2 * noise[2]
    for r in results:
        live = r.gain > 0
        np.testing.assert_allclose(r.gain[live], 1 / np.sqrt(r.eigenvalues[live] + r.eps))


def test_zca_whitened_patches_have_shrunk_identity_covariance():
    z = prep_math.zca_picture(edge_picture(), eps=1e-3, n=1500)
    flat = z.whitened.reshape(len(z.whitened), -1)
    cov = preprocess.covariance(flat)
    pc = preprocess.pca(z.patches.reshape(len(z.patches), -1))
    U, lam = pc.components.T, pc.explained_variance
    np.testing.assert_allclose(cov, U @ np.diag(lam / (lam + 1e-3)) @ U.T, atol=1e-8)


def test_zca_on_a_flat_picture_and_on_digits():
    z = prep_math.zca_picture(np.full((40, 40), 0.7), eps=1e-2)
    assert z.no_variance and not z.whitened.any() and not z.picture.any()
    assert np.isfinite(z.filter).all()
    d = prep_math.zca_digits(eps=1e-2)
    assert d.patches.shape == (720, 8, 8) and d.picture is None
    dead = d.gain == 0
    assert dead.any() and not dead.all()  # blank corners: no variance, left at 0
    np.testing.assert_allclose(d.eigenvalues[dead], 0, atol=1e-9)


# ---- gradient descent ------------------------------------------------------------------------
def test_descent_is_one_step_on_whitened_data_and_slow_on_raw_data():
    s = prep_math.story(cloud(), "minmax")
    raw, nrm, white = (prep_math.descent(s.points[k]) for k in ("original", "normalized",
                                                                "whitened"))
    assert white.condition == pytest.approx(1, abs=1e-3) and white.steps_to_tol == 1
    np.testing.assert_allclose(white.path[1], white.w_star, atol=1e-3)
    assert raw.condition > nrm.condition > white.condition
    assert raw.steps_to_tol > nrm.steps_to_tol > white.steps_to_tol


def test_descent_step_count_agrees_with_running_gradient_descent():
    X = cloud(mean=(3.0, -1.0))
    d = prep_math.descent(X, steps=0)
    H, ws = d.H, d.w_star
    w, k = np.zeros(2), 0
    loss0 = 0.5 * ws @ H @ ws
    while 0.5 * (w - ws) @ H @ (w - ws) > 0.01 * loss0:
        w = w - d.lr * H @ (w - ws)
        k += 1
    assert k == d.steps_to_tol


@settings(max_examples=20, deadline=None)
@given(k1=st.floats(1, 200), k2=st.floats(1, 200))
def test_more_elongated_bowls_take_more_steps(k1, k2):
    lo, hi = sorted((k1, k2))
    steps = []
    for kappa in (lo, hi):
        X = np.array([[np.sqrt(kappa), 0.0], [-np.sqrt(kappa), 0.0], [0.0, 1.0], [0.0, -1.0]])
        steps.append(prep_math.descent(X, w_star=(1.0, 1.0)).steps_to_tol)
    assert steps[0] <= steps[1]


def test_descent_on_degenerate_points_is_finite():
    for X in (np.zeros((5, 2)), np.ones((5, 2)), np.array([[1.0, 2.0], [2.0, 4.0]])):
        d = prep_math.descent(X)
        assert np.isfinite(d.path).all() and np.isfinite(d.lr)
    assert prep_math.descent(np.zeros((5, 2))).lr == 0
    assert prep_math.descent(np.ones((5, 2))).condition == float("inf")
    with pytest.raises(ValueError):
        prep_math.descent(np.ones((5, 3)))


def test_loss_grid_is_the_quadratic():
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    xs, ys, Z = prep_math.loss_grid(H, np.array([1.0, -1.0]), 2.0, n=5)
    assert Z[2, 2] == 0 and xs[2] == 1 and ys[2] == -1
    d = np.array([xs[4] - 1, ys[0] + 1])
    assert Z[0, 4] == pytest.approx(0.5 * d @ H @ d)


# ---- figure helpers --------------------------------------------------------------------------
def test_fmt_matrix_reads_the_identity_and_keeps_three_digits():
    noisy = np.eye(2) + np.array([[1e-9, -3e-17], [-3e-17, -1e-9]])
    assert prep_figs.fmt_matrix(noisy) == (0, [["1.00", "0.00"], ["0.00", "1.00"]])
    assert prep_figs.fmt_matrix(np.diag([0.99999, 1e-5])) == (0, [["1.00", "0.00"], ["0.00",
                                                                                     "0.00"]])
    assert prep_figs.fmt_matrix([[0.174, 0.0], [0.0, 0.0194]]) == (0, [["0.174", "0.000"],
                                                                       ["0.000", "0.019"]])
    # small numbers: a power of ten factored out, three significant digits kept
    assert prep_figs.fmt_matrix([[0.0215, -0.0123], [-0.0123, 0.01]]) == (-2, [["2.15", "-1.23"],
                                                                               ["-1.23", "1.00"]])
    assert prep_figs.fmt_matrix(np.zeros((2, 2))) == (0, [["0.00", "0.00"], ["0.00", "0.00"]])
    assert prep_figs.fmt_matrix([[12.34, 0.5], [0.5, 3.0]]) == (0, [["12.3", "0.5"], ["0.5",
                                                                                      "3.0"]])
    assert "-0.00" not in prep_figs.cov_latex(np.array([[1, -1e-4], [-1e-4, 1]]))
    assert prep_figs.cov_latex(np.diag([0.015, 0.002])).startswith(r"\Sigma = 10^{-2} \, ")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=20))
def test_square_range_is_finite_square_and_holds_everything(pts):
    a = np.array(pts)
    xr, yr = prep_figs.square_range([a])
    assert np.isfinite(xr + yr).all() and xr[0] < xr[1] and yr[0] < yr[1]
    assert xr[1] - xr[0] == pytest.approx(yr[1] - yr[0])
    assert xr[0] <= min(a[:, 0].min(), 0) and xr[1] >= max(a[:, 0].max(), 0)
    assert yr[0] <= min(a[:, 1].min(), 0) and yr[1] >= max(a[:, 1].max(), 0)


def test_stage_figure_of_all_equal_points_has_real_axes():
    s = prep_math.story(np.full((10, 2), 0.0), "minmax")
    ranges = prep_figs.story_ranges(s.points, s.covs, s.means, [("original", "centered"), ("pca",)])
    assert ranges["original"] == ranges["centered"]
    xr, yr = ranges["pca"]
    fig = prep_figs.stage_scatter(s.points["pca"], s.covs["pca"], s.means["pca"], title="t",
                                  axis_labels=("a", "b"),
                                  colors=prep_figs.angle_colors(s.points["pca"]),
                                  x_range=xr, y_range=yr)
    spec = json.loads(fig.to_json())
    assert spec["layout"]["xaxis"]["range"] == [-1.0, 1.0]
    assert spec["data"][0]["type"] == "scattergl"
    assert len(spec["layout"]["shapes"]) == 3  # ellipse + two principal axes


@given(st.integers(2, 7), st.integers(0, 10_000), st.booleans())
@settings(max_examples=25, deadline=None)
def test_story_figure_is_the_stage_figures_side_by_side(n_stages, seed, box):
    """Each panel of the one story figure draws what that stage's own figure draws (points,
    colours, ellipse, axes, ranges, titles), on its own square axes; a shorter last row is
    centred."""
    rng = np.random.default_rng(seed)
    stages, singles = [], []
    for i in range(n_stages):
        pts = rng.normal(size=(int(rng.integers(3, 60)), 2)) * rng.uniform(0.1, 3, 2)
        xr, yr = prep_figs.square_range([pts])
        stage = {"points": pts, "cov": np.cov(pts.T), "mean": pts.mean(0), "title": f"s{i}",
                 "axis_labels": (f"a{i}", f"b{i}"), "x_range": xr, "y_range": yr,
                 "box": box and i == 2}
        stages.append(stage)
        singles.append(json.loads(prep_figs.stage_scatter(
            colors=prep_figs.angle_colors(pts), hover_point="p", **stage).to_json()))
    colors = prep_figs.angle_colors(stages[0]["points"])
    spec = json.loads(prep_figs.story_figure(stages, colors=colors, hover_point="p").to_json())
    assert len(spec["data"]) == n_stages
    for i, one in enumerate(singles):
        sx = "" if i == 0 else str(i + 1)
        trace = dict(spec["data"][i])
        assert (trace.pop("xaxis"), trace.pop("yaxis")) == (f"x{sx}", f"y{sx}")
        want = dict(one["data"][0], marker=spec["data"][i]["marker"])  # colours: shared arg
        assert trace == want
        mine = [dict(sh) for sh in spec["layout"]["shapes"] if sh["xref"] == f"x{sx}"]
        assert all(sh.pop("yref") == f"y{sx}" and sh.pop("xref") for sh in mine)
        assert mine == one["layout"]["shapes"]
        x, y = spec["layout"][f"xaxis{sx}"], spec["layout"][f"yaxis{sx}"]
        for axis, ref in ((x, one["layout"]["xaxis"]), (y, one["layout"]["yaxis"])):
            assert axis["range"] == ref["range"] and axis["title"] == ref["title"]
        assert y["scaleanchor"] == f"x{sx}" and x["anchor"] == f"y{sx}"
        assert f"s{i}" in spec["layout"]["annotations"][i]["text"]
    last = n_stages - 1 - (n_stages - 1) % prep_figs.STORY_COLS  # first panel of the last row
    lo = spec["layout"][f"xaxis{last + 1 if last else ''}"]["domain"][0]
    hi = spec["layout"][f"xaxis{n_stages if n_stages > 1 else ''}"]["domain"][1]
    assert lo + hi == pytest.approx(1.0)  # the last row is centred
    assert all(0 <= v <= 1 for k, a in spec["layout"].items() if k[1:5] == "axis"
               for v in a["domain"])
    # each stage's numbers under its own panel, in room added for them
    notes = [[f"c{i}", f"m{i}"] for i in range(n_stages)]
    noted = json.loads(prep_figs.story_figure(stages, colors=colors, hover_point="p",
                                              notes=notes).to_json())
    below = noted["layout"]["annotations"][n_stages:]
    assert [a["text"] for a in below] == [f"c{i}<br>m{i}" for i in range(n_stages)]
    for i, a in enumerate(below):
        sx = "" if i == 0 else str(i + 1)
        assert (a["xref"], a["yref"], a["y"], a["yanchor"]) == (
            f"x{sx} domain", f"y{sx} domain", 0, "top")
    assert noted["data"] == spec["data"] and noted["layout"]["height"] > spec["layout"]["height"]

    def cell_px(fig):
        lay = fig["layout"]
        lo, hi = lay["yaxis"]["domain"]
        return (hi - lo) * (lay["height"] - lay["margin"]["t"] - lay["margin"]["b"])

    assert cell_px(noted) == pytest.approx(cell_px(spec)) == pytest.approx(prep_figs.STORY_CELL)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3), seed=st.integers(0, 10_000), scale=st.sampled_from([1e-4, 0.02, 1, 80]))
def test_cov_text_prints_the_numbers_of_cov_latex_in_aligned_columns(n, seed, scale):
    a = np.random.default_rng(seed).normal(size=(n, n)) * scale
    cov = a @ a.T
    lines = prep_figs.cov_text(cov)
    exponent, entries = prep_figs.fmt_matrix(cov)
    assert len(lines) == n and len({len(line) for line in lines}) == 1  # a monospaced block
    assert all(" " not in line for line in lines)  # non-breaking spaces: nothing collapses
    plain = [line.replace("\u00a0", " ") for line in lines]
    assert plain[0].startswith("Σ = ") and not any(ln.startswith("Σ") for ln in plain[1:])
    assert ("× " in plain[0]) == bool(exponent)
    for line, row in zip(plain, entries, strict=True):
        body = line.split("⎛" if "⎛" in line else "⎜" if "⎜" in line else "⎝" if "⎝" in line
                          else "(")[1][:-1]
        assert body.split() == row
    # the same numbers as the KaTeX version of the narrow layout and the 3-D view
    latex = prep_figs.cov_latex(cov)
    assert all(e in latex for row in entries for e in row)


def test_cov_text_factors_out_a_power_of_ten():
    lines = [ln.replace("\u00a0", " ") for ln in prep_figs.cov_text(np.diag([0.015, 0.002]))]
    assert lines == ["Σ = 10⁻² × ⎛ 1.50  0.00 ⎞", "           ⎝ 0.00  0.20 ⎠"]


def test_mosaic_and_patch_figure_on_flat_patches():
    m = prep_figs.mosaic(np.zeros((3, 4, 4)))
    assert m.shape == (4, 14) and np.isnan(m[:, 4]).all() and not np.isnan(m[:, :4]).any()
    fig = prep_figs.patches_figure(np.zeros((3, 4, 4)), np.zeros((3, 4, 4)), titles=("a", "b"))
    spec = json.loads(fig.to_json())
    assert spec["data"][1]["zmax"] > spec["data"][1]["zmin"]
