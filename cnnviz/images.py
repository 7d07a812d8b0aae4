"""Decode, validate and resize uploaded images with Pillow.

Every upload is untrusted. :func:`load_image` reads the header first and rejects empty,
unrecognised, damaged, absurdly large (decompression bombs), absurdly shaped or tiny files with
an :class:`ImageError` whose ``code`` the UI translates. Accepted files become a float32 array in
``[0, 1]``: ``(H, W)`` for grayscale sources, ``(H, W, 3)`` for colour ones.

Limits (see the constants): at most :data:`MAX_PIXELS` = 40 megapixels declared in the header,
a long/short side ratio of at most :data:`MAX_ASPECT` = 20, and a short side of at least
:data:`MIN_SIDE` = 3 pixels, because a 3x3 kernel needs at least 3x3 pixels to slide over.
"""

from __future__ import annotations

import functools
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageFile, ImageOps

__all__ = [
    "ASSETS_DIR",
    "MAX_ASPECT",
    "MAX_PIXELS",
    "MIN_SIDE",
    "ImageError",
    "LoadedImage",
    "list_samples",
    "load_image",
    "load_sample",
    "resize_to_working",
    "to_chw",
    "to_gray",
    "to_png_bytes",
]

MAX_PIXELS = 40_000_000
"""Largest accepted width * height (40 megapixels, a modern phone photo is 12-48 MP)."""
MAX_ASPECT = 20.0
"""Largest accepted ratio long side / short side."""
MIN_SIDE = 3
"""Smallest accepted side in pixels: a 3x3 kernel must fit at least once."""
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

# Formats we decode. Others Pillow knows (EPS runs Ghostscript, PSD, ICNS, ...) stay closed.
_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")  # JPEG covers MPO
# Formats people try to upload that Pillow cannot (or must not) read: told apart from garbage.
_OTHER_MAGIC = (
    (b"%PDF", "PDF"),
    (b"%!PS", "PostScript"),
    (b"8BPS", "PSD"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG"),
)
_KNOWN_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8", "JPEG"),
    (b"BM", "BMP"),
    (b"GIF8", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)

_MESSAGES = {
    "empty": "The file is empty.",
    "not_image": "This file is not an image that can be read (PNG, JPEG, BMP, GIF, WebP, TIFF).",
    "unsupported": "This kind of file ({format}) is not supported; please upload PNG or JPEG.",
    "truncated": "The {format} file is damaged or incomplete (cut off while uploading?).",
    "too_many_pixels": "The image has too many pixels; the limit is {limit:,}.",
    "zero_size": "The image has no pixels (width or height is 0).",
    "aspect": "The image is too long and thin ({width}x{height}); the limit is {limit:g}:1.",
    "too_small": "The image is too small ({width}x{height}); each side needs {min_side} pixels.",
}


class ImageError(ValueError):
    """A rejected upload.

    Parameters
    ----------
    code : str
        Short stable identifier for the UI to translate: ``"empty"``, ``"not_image"``,
        ``"unsupported"``, ``"truncated"``, ``"too_many_pixels"``, ``"zero_size"``,
        ``"aspect"`` or ``"too_small"``.
    **params
        Numbers and names the message mentions (``limit``, ``width``, ``height``, ``format``...).
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        try:
            message = _MESSAGES[code].format(**params)
        except (KeyError, ValueError, IndexError):
            message = _MESSAGES.get(code, code)
        super().__init__(message)


@dataclass
class LoadedImage:
    """A decoded, validated image.

    Attributes
    ----------
    array : np.ndarray
        float32 in ``[0, 1]``, ``(H, W)`` for grayscale sources or ``(H, W, 3)`` for colour.
    original_size : tuple of int
        ``(width, height)`` of the full-size picture, after EXIF orientation, before any
        downscaling by ``max_side``.
    mode : str
        Pillow mode of the file (``"RGB"``, ``"P"``, ``"I;16"``, ...).
    format : str
        Pillow format name (``"PNG"``, ``"JPEG"``, ...).
    notes : list of str
        What was done on the way: ``"exif_rotated"``, ``"alpha_composited"`` (transparency
        put on white), ``"16bit_scaled"``, ``"range_stretched"`` (float or 32-bit data
        min-max scaled), ``"first_frame"`` (animation or multi-page file), ``"downscaled"``.
    """

    array: np.ndarray
    original_size: tuple[int, int]
    mode: str
    format: str
    notes: list[str] = field(default_factory=list)

    @property
    def is_color(self) -> bool:
        """True for ``(H, W, 3)`` arrays."""
        return self.array.ndim == 3


def _sniff(data: bytes, table: tuple[tuple[bytes, str], ...]) -> str | None:
    head = data[:64].lstrip()
    return next((name for magic, name in table if head.startswith(magic)), None)


def _declared_zero_size(data: bytes) -> bool:
    """True when a PNG/BMP/GIF header declares width or height 0 (Pillow refuses to open it)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big") == 0 or int.from_bytes(data[20:24], "big") == 0
    if data.startswith(b"BM") and len(data) >= 26:
        w = int.from_bytes(data[18:22], "little", signed=True)
        h = int.from_bytes(data[22:26], "little", signed=True)
        return w == 0 or h == 0
    if data.startswith(b"GIF8") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little") == 0 or int.from_bytes(data[8:10], "little") == 0
    return False


def _check_size(width: int, height: int, max_pixels: int) -> None:
    """Reject bad dimensions from the header, before any pixel is decoded."""
    if width <= 0 or height <= 0:
        raise ImageError("zero_size", width=width, height=height)
    if width * height > max_pixels:
        raise ImageError(
            "too_many_pixels", pixels=width * height, limit=max_pixels, width=width, height=height
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ImageError("aspect", width=width, height=height, limit=MAX_ASPECT)
    if min(width, height) < MIN_SIDE:
        raise ImageError("too_small", width=width, height=height, min_side=MIN_SIDE)


def _bomb(exc: Exception, max_pixels: int) -> ImageError:
    """Pillow's own decompression-bomb check fired (its limit may be below ours)."""
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return ImageError("too_many_pixels", limit=limit, pixels=int(found[1]) if found else None)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and validate the declared size."""
    try:
        im = Image.open(io.BytesIO(data), formats=_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, max_pixels) from exc
    except Exception as exc:  # Pillow raises many types on hostile input
        if _declared_zero_size(data):
            raise ImageError("zero_size", width=0, height=0) from exc
        other = _sniff(data, _OTHER_MAGIC) or _heif_brand(data)
        if other:
            raise ImageError("unsupported", format=other) from exc
        known = _sniff(data, _KNOWN_MAGIC)
        if known:
            raise ImageError("truncated", format=known) from exc
        raise ImageError("not_image") from exc
    _check_size(*im.size, max_pixels)
    return im


def _heif_brand(data: bytes) -> str | None:
    """HEIC/AVIF (iPhone photos) start with an ISO box ``ftyp`` at offset 4."""
    if data[4:8] == b"ftyp":
        brand = data[8:12].decode("ascii", "replace").strip().lower()
        return "AVIF" if brand.startswith("avi") else "HEIC"
    return None


def _decode(im: Image.Image, max_pixels: int) -> tuple[Image.Image, list[str], bool]:
    """Decode the first frame's pixels and apply the EXIF orientation.

    Returns the image, the notes so far, and whether width and height were swapped.
    """
    notes = []
    transposed = False
    fmt = im.format or "image"
    try:
        if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:
            notes.append("first_frame")
            im.seek(0)
        im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc, max_pixels) from exc
    except Exception as exc:
        raise ImageError("truncated", format=fmt) from exc
    try:
        orientation = im.getexif().get(0x0112, 1)
        if orientation in range(2, 9):
            im = ImageOps.exif_transpose(im)
            notes.append("exif_rotated")
            transposed = orientation >= 5  # orientations 5-8 turn by 90 degrees
    except Exception:  # a broken EXIF block must not sink a readable picture
        pass
    return im, notes, transposed


def _to_array(im: Image.Image, notes: list[str], max_side: int | None) -> np.ndarray:
    """Turn any supported Pillow mode into float32 ``(H, W)`` or ``(H, W, 3)`` in [0, 1]."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = _high_depth(np.asarray(im), mode, notes)
        return np.clip(resize_to_working(arr, max_side), 0.0, 1.0) if max_side else arr
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or (
        mode == "P" and "transparency" in im.info
    )
    gray = mode in ("1", "L", "LA", "La")
    if has_alpha:
        rgba = im.convert("LA" if gray else "RGBA")
        white = Image.new(rgba.mode, rgba.size, (255, 255) if gray else (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba) if not gray else _composite_la(rgba)
        notes.append("alpha_composited")
    try:
        im = im.convert("L" if gray else "RGB")
    except ValueError as exc:
        raise ImageError("unsupported", format=f"mode {mode}") from exc
    if max_side and max(im.size) > max_side:
        scale = max_side / max(im.size)
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        im = im.resize(size, Image.LANCZOS, reducing_gap=3.0)
        notes.append("downscaled")
    return np.asarray(im, dtype=np.float32) / np.float32(255.0)


def _composite_la(la: Image.Image) -> Image.Image:
    """Put a luminance+alpha image on white (alpha_composite wants RGBA)."""
    rgba = Image.alpha_composite(Image.new("RGBA", la.size, (255,) * 4), la.convert("RGBA"))
    return rgba.convert("L")


def _high_depth(a: np.ndarray, mode: str, notes: list[str]) -> np.ndarray:
    """Scale 16-bit, 32-bit and float pixels into [0, 1] without clipping."""
    a = a.astype(np.float64)
    if mode.startswith("I;16") or (mode == "I" and a.min() >= 0 and a.max() <= 65535):
        notes.append("16bit_scaled")  # the nominal 16-bit range, so dark stays dark
        return (a / 65535.0).astype(np.float32)
    finite = np.isfinite(a)
    a = np.where(finite, a, 0.0)
    if mode == "F" and finite.all() and a.min() >= 0.0 and a.max() <= 1.0:
        return a.astype(np.float32)
    lo, hi = (a[finite].min(), a[finite].max()) if finite.any() else (0.0, 0.0)
    notes.append("range_stretched")
    if hi <= lo:
        return np.zeros(a.shape, np.float32)
    return np.clip((a - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def load_image(
    data: bytes, *, max_pixels: int = MAX_PIXELS, max_side: int | None = None
) -> LoadedImage:
    """Decode and validate an uploaded image.

    The header is checked before any pixel is decoded, so a decompression bomb (a tiny file
    declaring 20000x20000 pixels) is refused without allocating it. Pillow's own
    ``Image.MAX_IMAGE_PIXELS`` check stays in force and its ``DecompressionBombWarning`` is
    turned into an error. Truncated files are never padded (``LOAD_TRUNCATED_IMAGES`` is
    forced off).

    Parameters
    ----------
    data : bytes
        The file's bytes (PNG, JPEG, BMP, GIF (first frame), WebP or TIFF).
    max_pixels : int, optional
        Largest accepted width * height, default :data:`MAX_PIXELS` (40 megapixels).
    max_side : int, optional
        If given, downscale (LANCZOS, keeping the aspect) so the long side is at most this,
        while still 8-bit: much cheaper in memory than decoding to float first. At least
        ``MIN_SIDE * MAX_ASPECT`` (60), so the short side still has ``MIN_SIDE`` pixels.

    Returns
    -------
    LoadedImage
        ``array`` float32 in [0, 1], ``(H, W)`` (sources in modes 1, L, LA, I;16, I, F) or
        ``(H, W, 3)`` (all others; transparency composited on white).

    Raises
    ------
    ImageError
        With ``code`` one of ``"empty"``, ``"not_image"``, ``"unsupported"``, ``"truncated"``,
        ``"too_many_pixels"``, ``"zero_size"``, ``"aspect"``, ``"too_small"``.
    TypeError
        If ``data`` is not bytes-like.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"load_image expects bytes, got {type(data).__name__}")
    if max_side is not None and max_side < MIN_SIDE * MAX_ASPECT:
        raise ValueError(f"max_side must be >= {MIN_SIDE * MAX_ASPECT:g}, got {max_side}")
    data = bytes(data)
    if not data:
        raise ImageError("empty")
    # Uploads must never be silently padded with grey; another library may have flipped this.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = _open(data, max_pixels)
        mode, fmt = im.mode, im.format or "unknown"
        width, height = im.size  # declared size, before draft() may shrink the decode
        if fmt in ("JPEG", "MPO") and max_side:
            # JPEG can decode at 1/2, 1/4, 1/8 scale directly: far less memory for big photos
            im.draft(im.mode, (max_side, max_side))
        im, notes, transposed = _decode(im, max_pixels)
    if transposed:
        width, height = height, width
    array = _to_array(im, notes, max_side)
    if max(array.shape[:2]) < max(width, height) and "downscaled" not in notes:
        notes.append("downscaled")
    return LoadedImage(array, (int(width), int(height)), mode, fmt, notes)


def resize_to_working(array: np.ndarray, max_side: int) -> np.ndarray:
    """Downscale so the long side is at most ``max_side`` (Pillow LANCZOS, aspect kept).

    Parameters
    ----------
    array : np.ndarray
        ``(H, W)`` or ``(H, W, C)`` float image.
    max_side : int
        Target long side in pixels (>= 1).

    Returns
    -------
    np.ndarray
        float32 ``(H', W')`` or ``(H', W', C)`` with ``max(H', W') == max_side``, clipped to the
        input's value range (LANCZOS rings). The input itself if it is already small enough.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    h, w = array.shape[:2]
    if max(h, w) <= max_side:
        return array
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    a = np.asarray(array, dtype=np.float32)
    lo, hi = float(a.min()), float(a.max())
    chans = [a] if a.ndim == 2 else [a[..., c] for c in range(a.shape[2])]
    out = [
        np.asarray(Image.fromarray(np.ascontiguousarray(c), "F").resize(size, Image.LANCZOS))
        for c in chans
    ]
    res = out[0] if a.ndim == 2 else np.stack(out, axis=-1)
    return np.clip(res, lo, hi).astype(np.float32)


def to_gray(array: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``.

    Parameters
    ----------
    array : np.ndarray
        ``(H, W, 3)`` colour or ``(H, W)`` gray (returned as float32 unchanged).

    Returns
    -------
    np.ndarray
        float32 ``(H, W)``.
    """
    a = np.asarray(array)
    if a.ndim == 2:
        return a.astype(np.float32, copy=False)
    if a.ndim != 3 or a.shape[2] < 3:
        raise ValueError(f"expected (H, W) or (H, W, 3), got shape {a.shape}")
    weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return (a[..., :3].astype(np.float32, copy=False) @ weights).astype(np.float32)


def to_chw(array: np.ndarray) -> np.ndarray:
    """Channel-first layout for the engine.

    Parameters
    ----------
    array : np.ndarray
        ``(H, W)`` or ``(H, W, C)``.

    Returns
    -------
    np.ndarray
        ``(1, H, W)`` or ``(C, H, W)`` (contiguous).
    """
    a = np.asarray(array)
    if a.ndim == 2:
        return a[None, :, :]
    if a.ndim == 3:
        return np.ascontiguousarray(np.moveaxis(a, -1, 0))
    raise ValueError(f"expected (H, W) or (H, W, C), got shape {a.shape}")


def to_png_bytes(array: np.ndarray) -> bytes:
    """Encode an image as 8-bit PNG bytes (for sending compressed pictures to the browser).

    Parameters
    ----------
    array : np.ndarray
        Float in ``[0, 1]`` (clipped; NaN becomes 0), ``(H, W)``, ``(H, W, 3)`` or
        ``(H, W, 4)``.

    Returns
    -------
    bytes
        A PNG file: mode L, RGB or RGBA.
    """
    a = np.asarray(array, dtype=np.float32)
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))):
        raise ValueError(f"expected (H, W) or (H, W, 3), got shape {a.shape}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    u8 = np.round(np.clip(np.nan_to_num(a), 0.0, 1.0) * 255.0).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(u8).save(buf, "PNG", compress_level=6)
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def _samples() -> tuple[dict[str, Any], ...]:
    with open(ASSETS_DIR / "samples.json", encoding="utf-8") as f:
        return tuple(json.load(f)["samples"])


def list_samples() -> list[dict[str, Any]]:
    """The bundled sample photographs.

    Returns
    -------
    list of dict
        One per sample, from ``assets/samples.json``: ``name``, ``file``, ``title_en``,
        ``title_zh``, ``color``, ``author``, ``license``, plus ``path`` (absolute, str).
    """
    return [{**s, "path": str(ASSETS_DIR / s["file"])} for s in _samples()]


def load_sample(name: str, *, max_side: int | None = None) -> LoadedImage:
    """Load a bundled sample photograph.

    Parameters
    ----------
    name : str
        A ``name`` from :func:`list_samples` (``"chelsea"``, ``"camera"``, ...).
    max_side : int, optional
        As in :func:`load_image`.

    Returns
    -------
    LoadedImage

    Raises
    ------
    KeyError
        For an unknown name (the message lists the known ones).
    """
    for s in _samples():
        if s["name"] == name:
            return load_image((ASSETS_DIR / s["file"]).read_bytes(), max_side=max_side)
    raise KeyError(f"unknown sample {name!r}; known: {[s['name'] for s in _samples()]}")
