"""Time to 95 % test accuracy on "shapes": cnnviz vs PyTorch CPU, one thread. Run by hand.

    pip install torch==2.13.0 threadpoolctl
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py

Both train the ARCHITECTURE.md reference net (conv3x3(8) relu maxpool2 conv3x3(16) relu
maxpool2 fc(256->4)) with SGD lr 0.05 momentum 0.9, batch 32, float32, from the *same* initial
weights (copied into torch) on the *same* batches in the same order. Every ``--check`` steps the
clock pauses and the whole test set (500 images) is evaluated; the table reports the training
time (evaluation excluded) and steps until test accuracy first reaches 95 %, and the time per
epoch, as medians over seeds. A last column times ``cnnviz.train.fit`` itself (the app's loop,
with its own evaluation every ``--check`` steps included) to the same target.
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
from cnnviz import datasets, optim, train  # noqa: E402
from cnnviz import functional as F  # noqa: E402

TARGET = 0.95


def torch_copy(model):
    """The same net in PyTorch, with our initial weights."""
    import torch
    from torch import nn as tnn

    net = tnn.Sequential(
        tnn.Conv2d(1, 8, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(8, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(), tnn.Linear(256, 4),
    )  # fmt: skip
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items()})
    return net


def run_ours(model, ds, orders, batch, check):
    opt = optim.SGD(model, lr=0.05, momentum=0.9)
    return _loop(ds, orders, batch, check, lambda xb, yb: _step_ours(model, opt, xb, yb),
                 lambda: train.evaluate(model, ds.x_test, ds.y_test)[0])  # fmt: skip


def _step_ours(model, opt, xb, yb):
    opt.zero_grad()
    _, d = F.softmax_cross_entropy(model.forward(xb), yb)
    model.backward(d, need_input_grad=False)
    opt.step()


def run_torch(net, ds, orders, batch, check):
    import torch

    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_tr, y_tr = torch.from_numpy(ds.x_train), torch.from_numpy(ds.y_train)
    x_te, y_te = torch.from_numpy(ds.x_test), torch.from_numpy(ds.y_test)

    def step(idx, _):
        opt.zero_grad()
        loss_fn(net(x_tr[idx]), y_tr[idx]).backward()
        opt.step()

    def acc():
        with torch.no_grad():
            return float((net(x_te).argmax(1) == y_te).float().mean())

    return _loop(ds, orders, batch, check, step, acc, torch_index=True)


def _loop(ds, orders, batch, check, step, acc, torch_index=False):
    """Train over the given epoch orders; returns (seconds to target, steps, seconds/epoch)."""
    import torch

    train_time, steps, hit = 0.0, 0, None
    for order in orders:
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            args = (
                (torch.from_numpy(idx), None) if torch_index else (ds.x_train[idx], ds.y_train[idx])
            )
            t0 = time.perf_counter()
            step(*args)
            train_time += time.perf_counter() - t0
            steps += 1
            if hit is None and steps % check == 0 and acc() >= TARGET:
                hit = (train_time, steps)
    per_epoch = train_time / len(orders)
    return (*(hit or (float("nan"), -1)), per_epoch)


def time_fit(ds, seed, check, epochs):
    model = train.make_model("shapes", seed=seed)
    for rec in train.fit(model, ds, epochs=epochs, lr=0.05, momentum=0.9, seed=seed,
                         eval_every=check, eval_size=len(ds.x_test)):  # fmt: skip
        if rec.test_acc is not None and rec.test_acc >= TARGET:
            return rec.elapsed, rec.step
    return float("nan"), -1


def main() -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--check", type=int, default=10, help="evaluate every this many steps")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    rows = {"ours": [], "torch": [], "fit": []}
    for seed in range(args.seeds):
        ds = datasets.load("shapes", seed=seed)
        rng = np.random.default_rng(seed)
        orders = [rng.permutation(len(ds.x_train)) for _ in range(args.epochs)]
        model = train.make_model("shapes", seed=seed)
        net = torch_copy(model)
        rows["torch"].append(run_torch(net, ds, orders, 32, args.check))
        rows["ours"].append(run_ours(model, ds, orders, 32, args.check))
        rows["fit"].append(time_fit(ds, seed, args.check, args.epochs))
        print(f"seed {seed}: ours {rows['ours'][-1]}, torch {rows['torch'][-1]}, "
              f"fit {rows['fit'][-1]}", file=sys.stderr)  # fmt: skip

    def med(key, i):
        return statistics.median(r[i] for r in rows[key])

    print(f"\nnumpy {np.__version__}, torch {torch.__version__}, 1 thread, "
          f"{args.seeds} seeds, {len(ds.x_train)} train / {len(ds.x_test)} test, "
          f"test accuracy checked every {args.check} steps\n")  # fmt: skip
    print("| implementation | steps to 95 % | train time to 95 % (s) | time per epoch (s) |")
    print("| --- | --- | --- | --- |")
    for key, name in (("ours", "cnnviz (NumPy)"), ("torch", "PyTorch CPU")):
        print(f"| {name} | {med(key, 1):.0f} | {med(key, 0):.3f} | {med(key, 2):.3f} |")
    print(f"| cnnviz `train.fit` (incl. its evaluations) | {med('fit', 1):.0f} "
          f"| {med('fit', 0):.3f} | - |")  # fmt: skip
    print("\nper seed (seconds to 95 %, steps): ")
    for key in rows:
        print(f"- {key}: " + ", ".join(f"{t:.3f} s / {s}" for t, s, *_ in rows[key]))


if __name__ == "__main__":
    main()
