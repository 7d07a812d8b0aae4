"""Rebuild the offline sample data in ``assets/`` (run by hand, not in CI).

The photographs come from the scikit-image wheel (``skimage/data/``) and the digits from the
scikit-learn wheel (``sklearn/datasets/data/digits.csv.gz``). Neither library becomes a
dependency: we only unzip files from their wheels::

    pip download --no-deps -d /tmp/skw scikit-image
    pip download --no-deps -d /tmp/skl scikit-learn
    python assets/make_assets.py --skimage-wheel /tmp/skw/*.whl --sklearn-wheel /tmp/skl/*.whl

Licences of every file are recorded in ``assets/LICENSES.md``; ``assets/samples.json`` is the
machine-readable list that ``cnnviz.images.list_samples`` reads. Both are written by hand and
checked by the tests, this script only produces the pixel files (and the tab's icon,
``icon.png``, drawn by :func:`make_icon`).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
MAX_SIDE = 512  # long side of every sample photograph
JPEG_QUALITY = 90

# (file in the wheel, file written here); colour photographs become JPEG, grayscale stays PNG
PHOTOS = [
    ("skimage/data/chelsea.png", "chelsea.jpg"),
    ("skimage/data/coffee.png", "coffee.jpg"),
    ("skimage/data/astronaut.png", "astronaut.jpg"),
    ("skimage/data/rocket.jpg", "rocket.jpg"),
    ("skimage/data/camera.png", "camera.png"),
]
DIGITS_MEMBER = "sklearn/datasets/data/digits.csv.gz"
DIGIT_CLASSES = (0, 1, 2, 3)


def _shrink(im: Image.Image) -> Image.Image:
    """Downscale so the long side is at most MAX_SIDE (LANCZOS), keeping the aspect ratio."""
    w, h = im.size
    scale = MAX_SIDE / max(w, h)
    if scale >= 1:
        return im
    return im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)


def make_photos(wheel: Path) -> None:
    """Copy, downscale and re-encode the sample photographs from the scikit-image wheel."""
    with zipfile.ZipFile(wheel) as zf:
        for member, out_name in PHOTOS:
            im = Image.open(io.BytesIO(zf.read(member)))
            im = _shrink(im.convert("L" if im.mode in ("L", "1") else "RGB"))
            out = HERE / out_name
            if out.suffix == ".jpg":
                im.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
            else:
                im.save(out, "PNG", optimize=True)
            print(f"{out_name}: {im.size[0]}x{im.size[1]} {im.mode}, {out.stat().st_size} bytes")


def make_digits(wheel: Path) -> None:
    """Extract classes 0-3 of the UCI digits into ``digits_0-3.npz`` (uint8 0..16, labels)."""
    with zipfile.ZipFile(wheel) as zf:
        text = gzip.decompress(zf.read(DIGITS_MEMBER)).decode("ascii")
    rows = np.array([[int(v) for v in r] for r in csv.reader(io.StringIO(text)) if r])
    pixels, labels = rows[:, :64], rows[:, 64]
    keep = np.isin(labels, DIGIT_CLASSES)
    images = pixels[keep].reshape(-1, 8, 8).astype(np.uint8)
    np.savez_compressed(
        HERE / "digits_0-3.npz", images=images, labels=labels[keep].astype(np.uint8)
    )
    print(f"digits_0-3.npz: {images.shape}, counts {np.bincount(labels[keep])}")


def make_icon() -> None:
    """``icon.png``, the tab's icon: a 3x3 kernel (Sobel's vertical edge detector, rows
    -1 0 1 / -2 0 2 / -1 0 1) in the diverging colours of the kernel charts. Drawn here, so
    the app serves it itself; a Material icon would be fetched from fonts.gstatic.com, which
    a classroom without internet cannot reach."""
    side, cell, gap = 64, 20, 2
    colours = {-2: (33, 102, 172), -1: (146, 197, 222), 0: (247, 247, 247),  # RdBu
               1: (244, 165, 130), 2: (178, 24, 43)}
    sobel = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    im = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    px = im.load()
    for row in range(3):
        for col in range(3):
            x0, y0 = col * (cell + gap), row * (cell + gap)
            for y in range(y0, y0 + cell):
                for x in range(x0, x0 + cell):
                    edge = x in (x0, x0 + cell - 1) or y in (y0, y0 + cell - 1)
                    px[x, y] = (60, 60, 60, 255) if edge else (*colours[sobel[row][col]], 255)
    im.save(HERE / "icon.png", optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skimage-wheel", type=Path, required=True)
    parser.add_argument("--sklearn-wheel", type=Path, required=True)
    args = parser.parse_args()
    make_photos(args.skimage_wheel)
    make_digits(args.sklearn_wheel)
    make_icon()


if __name__ == "__main__":
    main()
