"""Upload decoding: every good format decodes right, every bad file gets the right code."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from cnnviz import images
from cnnviz.images import ImageError, load_image
from tests.helpers import raw_png

RNG = np.random.default_rng(0)


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def expect_code(data: bytes, code: str, **kw) -> ImageError:
    with pytest.raises(ImageError) as info:
        load_image(data, **kw)
    assert info.value.code == code, (info.value.code, str(info.value))
    assert isinstance(info.value, ValueError)
    assert str(info.value)  # an English message for logs and fallback
    return info.value


# --------------------------------------------------------------------------- good files

GRAY = RNG.integers(0, 256, (24, 32), dtype=np.uint8)
COLOR = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "WEBP", "JPEG", "GIF"])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_formats_decode(fmt: str, mode: str) -> None:
    src = GRAY if mode == "L" else COLOR
    kw = {"lossless": True} if fmt == "WEBP" else {}
    if fmt == "JPEG":
        kw = {"quality": 95, "subsampling": 0}  # noise would not survive 4:2:0 chroma
    li = load_image(encode(Image.fromarray(src), fmt, **kw))
    assert li.format == fmt
    assert li.original_size == (32, 24)
    assert li.array.dtype == np.float32
    assert li.array.min() >= 0.0 and li.array.max() <= 1.0
    if fmt == "GIF" and mode == "RGB":  # quantised to a 256-colour palette
        assert li.array.shape == (24, 32, 3)
        return
    # WebP stores gray as RGB: the three channels are then equal
    arr = li.array[..., 0] if (li.array.ndim == 3 and mode == "L") else li.array
    assert arr.shape == src.shape
    tol = 0.12 if fmt == "JPEG" else 0.5 / 255
    assert np.abs(arr * 255 - src).mean() / 255 < tol


def test_rgba_is_composited_on_white() -> None:
    px = np.zeros((4, 4, 4), np.uint8)
    px[..., 0] = 255  # red ...
    px[..., 3] = 128  # ... half transparent
    px[0, 0, 3] = 0  # fully transparent corner
    li = load_image(encode(Image.fromarray(px, "RGBA"), "PNG"))
    assert "alpha_composited" in li.notes
    a = 128 / 255
    np.testing.assert_allclose(li.array[1, 1], [1.0, 1 - a, 1 - a], atol=1.5 / 255)
    np.testing.assert_allclose(li.array[0, 0], [1.0, 1.0, 1.0], atol=1e-6)


def test_la_is_composited_on_white_and_stays_gray() -> None:
    la = Image.merge("LA", [Image.new("L", (5, 5), 0), Image.new("L", (5, 5), 0)])
    li = load_image(encode(la, "PNG"))
    assert li.array.shape == (5, 5)
    np.testing.assert_allclose(li.array, 1.0)


def test_palette_with_transparency() -> None:
    im = Image.new("P", (6, 6), 1)
    im.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # index 0 black, index 1 blue
    im.putpixel((0, 0), 0)
    li = load_image(encode(im, "PNG", transparency=0))
    assert "alpha_composited" in li.notes
    np.testing.assert_allclose(li.array[0, 0], [1, 1, 1])  # transparent -> white
    np.testing.assert_allclose(li.array[3, 3], [0, 0, 1])


def test_16bit_png_scaled_not_clipped() -> None:
    vals = np.array([[0, 1000, 32768, 65535]] * 4, dtype=np.uint16)
    data = encode(Image.fromarray(vals), "PNG")
    li = load_image(data)
    assert li.mode.startswith("I;16")
    assert "16bit_scaled" in li.notes
    np.testing.assert_allclose(li.array[0], vals[0] / 65535, rtol=1e-6)


def test_float_tiff_stretched() -> None:
    vals = np.linspace(-5, 20, 16, dtype=np.float32).reshape(4, 4)
    li = load_image(encode(Image.fromarray(vals, "F"), "TIFF"))
    assert "range_stretched" in li.notes
    assert li.array.min() == 0.0 and li.array.max() == 1.0
    assert np.all(np.diff(li.array.ravel()) > 0)  # order kept


def test_exif_rotated_jpeg() -> None:
    px = np.zeros((20, 40, 3), np.uint8)  # stored landscape 40 wide
    px[:5, :5] = (255, 0, 0)  # red mark top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    li = load_image(encode(Image.fromarray(px), "JPEG", exif=exif, quality=95))
    assert "exif_rotated" in li.notes
    assert li.array.shape == (40, 20, 3)
    assert li.original_size == (20, 40)
    assert li.array[1, -2, 0] > 0.8 and li.array[1, 1, 0] < 0.2  # mark moved to top-right


def test_animated_gif_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50)
    li = load_image(buf.getvalue())
    assert "first_frame" in li.notes
    np.testing.assert_allclose(li.array[4, 4], [1, 0, 0], atol=1 / 255)


@pytest.mark.parametrize("mode", ["1", "CMYK", "YCbCr", "I", "LAB"])
def test_other_modes(mode: str) -> None:
    im = Image.new(mode, (6, 5))
    li = load_image(encode(im, "TIFF"))
    assert li.array.shape[:2] == (5, 6)
    assert np.isfinite(li.array).all() and li.array.min() >= 0 and li.array.max() <= 1


def test_max_side_downscales_while_decoding() -> None:
    data = encode(Image.fromarray(np.tile(COLOR, (20, 20, 1))), "JPEG")
    li = load_image(data, max_side=100)
    assert max(li.array.shape[:2]) == 100 and li.original_size == (640, 480)
    assert "downscaled" in li.notes
    with pytest.raises(ValueError):
        load_image(data, max_side=10)  # would squeeze a 20:1 picture below MIN_SIDE
    li16 = load_image(
        encode(Image.fromarray(np.full((300, 200), 40000, np.uint16)), "PNG"), max_side=60
    )
    assert li16.array.shape == (60, 40)
    np.testing.assert_allclose(li16.array, 40000 / 65535, atol=1e-5)


# --------------------------------------------------------------------------- bad files


def test_empty() -> None:
    expect_code(b"", "empty")


def test_not_bytes() -> None:
    with pytest.raises(TypeError):
        load_image("picture.png")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(fmt: str) -> None:
    data = encode(Image.fromarray(COLOR), fmt)
    err = expect_code(data[: len(data) // 2], "truncated")
    assert err.params["format"] == fmt


def test_truncated_header_is_truncated_not_garbage() -> None:
    expect_code(encode(Image.fromarray(COLOR), "PNG")[:20], "truncated")


def test_truncated_even_if_pillow_told_to_pad() -> None:
    data = encode(Image.fromarray(COLOR), "PNG")
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        expect_code(data[: len(data) // 2], "truncated")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_random_bytes() -> None:
    expect_code(RNG.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "not_image")


def test_text_file() -> None:
    expect_code("Hello, 你好!\nThis is not a picture.\n".encode() * 20, "not_image")


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"%PDF-1.7\n%....", "PDF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC"),
    ],
)
def test_unsupported_formats(data: bytes, fmt: str) -> None:
    assert expect_code(data, "unsupported").params["format"] == fmt


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = raw_png(20000, 20000)  # 400 megapixels, tens of kB on disk
    assert len(data) < 200_000
    return data


def _forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self, *a, **k):  # noqa: ARG001
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", boom)
    monkeypatch.setattr(Image.Image, "load", boom)


def test_decompression_bomb_rejected_without_decoding(
    bomb: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_decoding(monkeypatch)
    t0 = time.perf_counter()
    err = expect_code(bomb, "too_many_pixels")
    assert time.perf_counter() - t0 < 1.0
    assert err.params["pixels"] == 20000 * 20000
    assert err.params["limit"] == images.MAX_PIXELS


def test_over_our_limit_but_under_pillows(monkeypatch: pytest.MonkeyPatch) -> None:
    data = raw_png(8000, 6000)  # 48 MP: under Pillow's 89 MP warning, over our 40 MP
    assert (Image.MAX_IMAGE_PIXELS or 0) > 8000 * 6000
    _forbid_decoding(monkeypatch)
    err = expect_code(data, "too_many_pixels")
    assert err.params["limit"] == images.MAX_PIXELS
    assert err.params["pixels"] == 48_000_000


def test_max_pixels_parameter() -> None:
    data = encode(Image.new("L", (100, 100)), "PNG")
    assert expect_code(data, "too_many_pixels", max_pixels=5000).params["limit"] == 5000
    assert load_image(data, max_pixels=10_000).array.shape == (100, 100)


def test_pillow_bomb_warning_becomes_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow warns above, errors above 2x
    err = expect_code(encode(Image.new("L", (40, 40)), "PNG"), "too_many_pixels")
    assert err.params["limit"] == 1000  # the stricter of the two limits is the one reported
    assert err.params["pixels"] == 1600


@pytest.mark.parametrize(
    "data",
    [raw_png(0, 10, rows=False), raw_png(10, 0, rows=False)],
    ids=["png-w0", "png-h0"],
)
def test_zero_size_png(data: bytes) -> None:
    expect_code(data, "zero_size")


def test_zero_size_gif() -> None:
    data = bytearray(encode(Image.new("P", (4, 4)), "GIF"))
    data[6:8] = b"\x00\x00"  # logical screen width 0
    data_bytes = bytes(data)
    try:
        li = load_image(data_bytes)
    except ImageError as err:
        assert err.code in ("zero_size", "truncated")
    else:  # Pillow takes the frame's own size: then it must at least be a valid image
        assert min(li.array.shape[:2]) >= images.MIN_SIDE


@pytest.mark.parametrize(
    ("size", "code"),
    [
        ((1, 1), "too_small"),
        ((2, 2), "too_small"),
        ((2, 30), "too_small"),
        ((2, 50), "aspect"),
        ((10000, 1), "aspect"),
        ((3, 61), "aspect"),
    ],
)
def test_bad_dimensions(size: tuple[int, int], code: str) -> None:
    err = expect_code(encode(Image.new("L", size), "PNG"), code)
    assert (err.params["width"], err.params["height"]) == size


@pytest.mark.parametrize("size", [(3, 3), (60, 3), (3, 60)])
def test_limits_inclusive(size: tuple[int, int]) -> None:
    assert load_image(encode(Image.new("L", size), "PNG")).original_size == size


def test_error_params_fill_message() -> None:
    err = expect_code(encode(Image.new("L", (1, 1)), "PNG"), "too_small")
    assert err.params["min_side"] == images.MIN_SIDE and "1x1" in str(err)


# --------------------------------------------------------------------------- helpers


def test_resize_to_working() -> None:
    a = RNG.random((100, 50, 3)).astype(np.float32)
    out = images.resize_to_working(a, 40)
    assert out.shape == (40, 20, 3) and out.dtype == np.float32
    assert out.min() >= a.min() and out.max() <= a.max()
    assert images.resize_to_working(a, 100) is a
    g = np.full((30, 90), 0.25, np.float32)
    np.testing.assert_allclose(images.resize_to_working(g, 9), 0.25, atol=1e-6)
    with pytest.raises(ValueError):
        images.resize_to_working(a, 0)


def test_to_gray_and_chw() -> None:
    rgb = np.zeros((2, 3, 3), np.float32)
    rgb[..., 1] = 1.0
    np.testing.assert_allclose(images.to_gray(rgb), 0.587, rtol=1e-6)
    g = np.ones((2, 3), np.float32)
    assert images.to_gray(g).shape == (2, 3)
    assert images.to_chw(rgb).shape == (3, 2, 3)
    assert images.to_chw(g).shape == (1, 2, 3)
    assert images.to_chw(rgb)[1, 0, 0] == 1.0


def test_png_bytes_roundtrip() -> None:
    a = RNG.random((7, 9, 3)).astype(np.float32)
    back = load_image(images.to_png_bytes(a)).array
    np.testing.assert_allclose(back, a, atol=0.5 / 255 + 1e-6)
    assert load_image(images.to_png_bytes(a[..., 0])).array.shape == (7, 9)


# --------------------------------------------------------------------------- samples


def test_samples_listed_and_licensed() -> None:
    samples = images.list_samples()
    assert len(samples) >= 3
    licences = (images.ASSETS_DIR / "LICENSES.md").read_text(encoding="utf-8")
    colours = set()
    for s in samples:
        assert s["title_en"] and s["title_zh"] and s["license"] in ("CC0-1.0", "Public domain")
        assert s["file"] in licences
        li = images.load_sample(s["name"])
        assert max(li.original_size) <= 512
        assert li.is_color == s["color"]
        colours.add(li.is_color)
    assert colours == {True, False}
    on_disk = json.loads((images.ASSETS_DIR / "samples.json").read_text(encoding="utf-8"))
    assert len(on_disk["samples"]) == len(samples)


def test_unknown_sample() -> None:
    with pytest.raises(KeyError, match="chelsea"):
        images.load_sample("nope")


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    w=st.integers(3, 60),
    h=st.integers(3, 60),
    mode=st.sampled_from(["L", "RGB", "RGBA", "P", "I;16"]),
    fmt=st.sampled_from(["PNG", "TIFF", "WEBP"]),
    seed=st.integers(0, 2**16),
)
def test_roundtrip_property(w: int, h: int, mode: str, fmt: str, seed: int) -> None:
    if max(w, h) / min(w, h) > images.MAX_ASPECT or (fmt == "WEBP" and mode == "I;16"):
        return
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        im = Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    elif mode == "P":
        im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).quantize(16)
    else:
        chans = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
        arr = rng.integers(0, 256, (h, w, chans), dtype=np.uint8)
        im = Image.fromarray(arr[..., 0] if chans == 1 else arr, mode)
    kw = {"lossless": True} if fmt == "WEBP" else {}
    li = load_image(encode(im, fmt, **kw))
    assert li.array.shape[:2] == (h, w)
    assert li.original_size == (w, h)
    assert np.isfinite(li.array).all() and li.array.min() >= 0 and li.array.max() <= 1
    if mode in ("L", "RGB") and fmt != "WEBP":
        ref = np.asarray(im, np.float32) / 255
        np.testing.assert_allclose(li.array, ref, atol=1e-6)
