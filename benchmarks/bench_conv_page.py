"""Server-side cost of the convolution page when a student edits one kernel cell on a
1024x1024 colour picture at working size 1024. Run by hand, not in CI:

    python benchmarks/bench_conv_page.py [--repeats 7]

(a) AppTest: the whole script (sidebar + all four sections) rerun after a data_editor edit, as
    the slowest possible path (in the browser the edit reruns only the picture's fragment);
(b) the picture fragment's own work, piece by piece: the convolution, the feature-map figure
    (colour map + PNG), the input figure, the explanation, and Plotly's JSON for the charts.
Prints medians and maxima in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnviz import functional as F  # noqa: E402
from cnnviz import images  # noqa: E402
from cnnviz.lessons import conv as conv_math  # noqa: E402
from cnnviz.viz import conv as conv_figs  # noqa: E402


def picture(size: int = 1024) -> np.ndarray:
    """A smooth colour picture with edges (a photo-like workload, not flat noise)."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(0)
    img = np.stack([np.sin(6 * xx) * 0.5 + 0.5, (xx + yy) / 2, (yy > 0.5) * 0.8 + 0.1], -1)
    img += rng.normal(0, 0.03, img.shape)
    return np.clip(img, 0, 1).astype(np.float32)


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1e3:7.1f} ms   max {max(samples) * 1e3:7.1f} ms"


def apptest_rerun(repeats: int) -> list[float]:
    import os

    os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")
    from streamlit.testing.v1 import AppTest

    img = picture()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["lang"] = "en"
    at.session_state["work_size"] = 1024
    at.session_state["image"] = {"array": img, "label": "bench.png", "orig_size": (1024, 1024),
                                 "notes": [], "serial": 1}
    at.run()
    at.switch_page("pages/convolution.py").run()
    assert not at.exception, [e.value for e in at.exception]
    fmap = next(c for c in at.get("plotly_chart") if c.proto.id.endswith("conv_fmap_0"))
    source = json.loads(fmap.proto.spec)["data"][0].get("source", "")
    assert source.startswith("data:image/jpeg"), "the 1024 map must travel as an image"
    times = []
    for r in range(repeats):
        # one edited cell, a new value each time so no memo can answer
        at.session_state["conv_img_k0_c0_v0"] = {
            "edited_rows": {1: {"2": float(3 + r)}}, "added_rows": [], "deleted_rows": []}
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, [e.value for e in at.exception]
    return times


def pieces(repeats: int) -> dict[str, list[float]]:
    import plotly.io as pio

    x = images.to_chw(picture())
    out: dict[str, list[float]] = {k: [] for k in
                                   ("conv", "map figure", "input figure", "explain", "json")}
    for r in range(repeats):
        ker = np.repeat(conv_math.kernel_preset("sobel_x")[None], 3, axis=0).astype(np.float32)
        ker[0, 1, 2] = 3 + r
        t0 = time.perf_counter()
        m = F.conv2d_image(x, ker[None], 0.0)[0]
        t1 = time.perf_counter()
        fig = conv_figs.feature_map_figure(conv_figs.map_layers(m), title="map", pick=(500, 500))
        t2 = time.perf_counter()
        # the page builds the input's layers once per picture; this is the uncached cost
        fin = conv_figs.input_figure(conv_figs.image_layers(np.moveaxis(x, 0, -1)), title="in",
                                     window=(500, 500, 3, 3))
        t3 = time.perf_counter()
        ex = F.conv2d_explain(x, ker, 0.0, 500, 500)
        conv_figs.explain_figure(ex, channels="RGB", titles={"window": "w", "kernel": "k",
                                                             "products": "p"})
        t4 = time.perf_counter()
        size = len(pio.to_json(fig, validate=False)) + len(pio.to_json(fin, validate=False))
        t5 = time.perf_counter()
        for k, v in zip(out, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            out[k].append(v)
    out["_bytes"] = [size]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print("Convolution page, 1024x1024 colour picture, working size 1024, 3x3 kernel x 3 "
          "channels, one kernel cell edited")
    parts = pieces(args.repeats)
    size = parts.pop("_bytes")[0]
    for name, samples in parts.items():
        print(f"  fragment piece  {name:13s} {ms(samples)}")
    print(f"  charts' JSON sent for the map and the input: {size / 1e6:.2f} MB")
    full = apptest_rerun(args.repeats)
    print(f"  AppTest whole-script rerun after the edit:  {ms(full)}")
    print(json.dumps({"apptest_median_ms": round(statistics.median(full) * 1e3, 1),
                      "apptest_max_ms": round(max(full) * 1e3, 1)}))


if __name__ == "__main__":
    main()
