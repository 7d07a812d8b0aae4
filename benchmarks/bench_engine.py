"""Speed of the cnnviz engine against PyTorch on one CPU thread. Run by hand, not in CI.

    pip install torch==2.13.0 threadpoolctl
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_engine.py

(a) training step (forward + backward + SGD step) of the ARCHITECTURE.md reference net,
    float32, batch 32, 1x16x16 input, in samples per second;
(b) one 1024x1024 image with 1 or 3 channels through one kernel of size 3, 5, 7:
    ``conv2d_image`` vs ``torch.nn.functional.conv2d``, plus each internal path of conv2d_image
    so the "auto" choice can be checked.

Both libraries run in one process on one thread, with repeats interleaved so that machine noise
hits both alike; the table reports medians. Prints a markdown table.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # must be set before NumPy loads its BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cnnviz import functional as F  # noqa: E402
from cnnviz import nn, optim  # noqa: E402


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    parts = []
    for pool in threadpool_info():
        parts.append(
            f"{pool.get('internal_api')} {pool.get('version')} "
            f"arch={pool.get('architecture')} threads={pool.get('num_threads')} "
            f"({Path(pool.get('filepath', '')).name})"
        )
    return "; ".join(parts)


def timed(fn, repeat_inner: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat_inner):
        fn()
    return (time.perf_counter() - start) / repeat_inner


def ours_net(seed: int = 0) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, seed=seed), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1, seed=seed + 1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 4, seed=seed + 2),
    )  # fmt: skip


def torch_net(torch, ours: nn.Sequential):
    tnn = torch.nn
    net = tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(256, 4),
    )  # fmt: skip
    net.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return net


def bench_train(torch, repeats: int, steps: int, batch: int = 32) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1, 16, 16)).astype(np.float32)
    y = rng.integers(0, 4, batch)
    model = ours_net()
    opt = optim.SGD(model, lr=0.01, momentum=0.9)

    def ours_step() -> None:
        opt.zero_grad()
        loss, d = F.softmax_cross_entropy(model.forward(x), y)
        model.backward(d, need_input_grad=False)
        opt.step()

    def ours_step_dx() -> None:  # same, but also computing the unused input gradient
        opt.zero_grad()
        loss, d = F.softmax_cross_entropy(model.forward(x), y)
        model.backward(d)
        opt.step()

    tmodel = torch_net(torch, model)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def torch_step() -> None:
        topt.zero_grad()
        loss = loss_fn(tmodel(tx), ty)
        loss.backward()
        topt.step()

    fns = {"ours": ours_step, "ours_dx": ours_step_dx, "torch": torch_step}
    for fn in fns.values():  # warm up caches, allocators, oneDNN primitives
        timed(fn, 20)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            times[key].append(timed(fn, steps))
    return {k: batch / statistics.median(v) for k, v in times.items()}


def bench_image(torch, repeats: int, size: int = 1024) -> list[dict]:
    rng = np.random.default_rng(1)

    def torch_no_onednn(timg, tker):
        # oneDNN is slow for a single output channel here; report torch's faster path too.
        with torch.backends.mkldnn.flags(enabled=False):
            return torch.nn.functional.conv2d(timg, tker)

    rows = []
    for c in (1, 3):
        img = rng.random((c, size, size), dtype=np.float32)
        timg = torch.from_numpy(img)[None]
        for k in (3, 5, 7):
            ker = rng.standard_normal((1, c, k, k)).astype(np.float32)
            tker = torch.from_numpy(ker)
            fns = {
                "auto": lambda img=img, ker=ker: F.conv2d_image(img, ker),
                "shift": lambda img=img, ker=ker: F.conv2d_image(img, ker, method="shift"),
                "fft": lambda img=img, ker=ker: F.conv2d_image(img, ker, method="fft"),
                "direct": lambda img=img, ker=ker: F.conv2d_image(img, ker, method="direct"),
                "torch": lambda timg=timg, tker=tker: torch.nn.functional.conv2d(timg, tker),
                "torch_nodnn": lambda timg=timg, tker=tker: torch_no_onednn(timg, tker),
            }
            ref = fns["torch"]()[0].numpy()
            got = fns["auto"]()
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            for fn in fns.values():
                fn()
            times: dict[str, list[float]] = {key: [] for key in fns}
            for _ in range(repeats):
                for key, fn in fns.items():
                    times[key].append(timed(fn, 1))
            med = {key: statistics.median(v) for key, v in times.items()}
            rows.append({"channels": c, "kernel": k, "err": err, **med})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20, help="train steps per timed repeat")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    print(f"numpy {np.__version__}, torch {torch.__version__}, python {sys.version.split()[0]}")
    print(f"BLAS: {blas_info()}")
    print(
        "OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
        f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}\n"
    )

    train = bench_train(torch, args.repeats, args.steps)
    print("| (a) train step, batch 32, 1x16x16, float32 | samples/s | ours / torch |")
    print("|---|---:|---:|")
    print(f"| torch 2 conv + 1 fc net | {train['torch']:,.0f} | 1.00 |")
    print(
        f"| cnnviz, `backward(need_input_grad=False)` | {train['ours']:,.0f} | "
        f"{train['ours'] / train['torch']:.2f} |"
    )
    print(
        f"| cnnviz, `backward()` (also computes unused dx) | {train['ours_dx']:,.0f} | "
        f"{train['ours_dx'] / train['torch']:.2f} |"
    )
    print()

    rows = bench_image(torch, args.repeats)
    print(
        "| (b) 1024x1024, 1 kernel | torch ms (oneDNN / off) | conv2d_image (auto) ms | "
        "ours / best torch speed | shift ms | fft ms | correlate2d ms | max rel err |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        best = min(r["torch"], r["torch_nodnn"])
        print(
            f"| C={r['channels']}, {r['kernel']}x{r['kernel']} | {r['torch'] * 1e3:.2f} / "
            f"{r['torch_nodnn'] * 1e3:.2f} | {r['auto'] * 1e3:.2f} | {best / r['auto']:.2f} | "
            f"{r['shift'] * 1e3:.2f} | {r['fft'] * 1e3:.2f} | {r['direct'] * 1e3:.2f} | "
            f"{r['err']:.1e} |"
        )


if __name__ == "__main__":
    main()
