"""What one student keeps in server memory: the bytes held by their session state after they
upload a large photo and visit every lesson (and, optionally, train), at each working size.

bench_load.py measures the server's RSS with many students on a sample picture; this adds what
an upload costs on top, by counting the NumPy arrays and upload bytes a session holds (the
state ``ui/session_end.py`` releases when the tab is gone). Run by hand, not in CI:

    python benchmarks/bench_session_memory.py [--side 4000] [--train]

Prints one row per working size: MiB of arrays in session state (by key), upload bytes, total.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import registered_pages, run_page  # noqa: E402 - AppTest as the server


def big_photo(side: int) -> bytes:
    """A smooth, noisy 4:3 colour JPEG of ``side`` pixels on its long side (a phone photo)."""
    h, w = side * 3 // 4, side
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(0)
    img = np.stack([np.sin(xx / 97) * 0.5 + 0.5, (xx + yy) / (w + h), (yy > h / 2) * 0.8], -1)
    img = np.clip(img + rng.normal(0, 0.04, img.shape), 0, 1)
    buf = io.BytesIO()
    Image.fromarray((img * 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def array_bytes(value, seen: set[int] | None = None) -> int:
    """Bytes of every distinct NumPy array reachable through dicts, lists, tuples and objects."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        base = value if value.base is None else value.base
        if isinstance(base, np.ndarray) and base is not value:
            return array_bytes(base, seen)
        return value.nbytes
    if isinstance(value, dict):
        return sum(array_bytes(v, seen) for v in value.values())
    if isinstance(value, list | tuple | set):
        return sum(array_bytes(v, seen) for v in value)
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return array_bytes(vars(value), seen)
    return 0


def measure(work_size: int, data: bytes, train: bool) -> dict[str, int]:
    at = run_page(state={"work_size": work_size})
    at.selectbox(key="img_choice").set_value("__upload__").run()
    at.file_uploader(key="img").set_value(("photo.jpg", data, "image/jpeg")).run()
    assert at.session_state["image"]["label"] == "photo.jpg", "upload failed"
    for page, _ in registered_pages():
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    if train:
        at.switch_page("pages/trainer.py").run()
        at.button(key="tr_start_single").click().run()
        job = at.session_state["_tr_job"]
        job.thread.join(120)  # a default run: 3 epochs
        at.run()  # the tick after the end: the run joins the history, inspection is drawn
    seen: set[int] = set()
    state = at._session_state.filtered_state  # noqa: SLF001 - every key the session holds
    by_key = {k: array_bytes(v, seen) for k, v in state.items()}
    by_key = {k: v for k, v in by_key.items() if v}
    by_key["(upload bytes)"] = len(data)
    return by_key


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--side", type=int, default=4000, help="long side of the uploaded photo")
    ap.add_argument("--train", action="store_true", help="also start a training run")
    ap.add_argument("--sizes", nargs="*", type=int, default=[256, 1024])
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    data = big_photo(args.side)
    print(f"upload: {args.side}x{args.side * 3 // 4} JPEG, {len(data) / 2**20:.1f} MiB; "
          f"every lesson visited{', one training run' if args.train else ''}")
    print("| working size | largest parts (MiB) | session total MiB |\n|---|---|---|")
    for size in args.sizes:
        parts = measure(size, data, args.train)
        top = sorted(parts.items(), key=lambda kv: -kv[1])[:5]
        text = ", ".join(f"{k} {v / 2**20:.1f}" for k, v in top)
        print(f"| {size} | {text} | {sum(parts.values()) / 2**20:.1f} |", flush=True)


if __name__ == "__main__":
    main()
