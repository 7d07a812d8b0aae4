"""The shared picture as the preprocessing page computes on it: at most 256x256 pixels, in
colour and in gray, kept per session (a student's picture is theirs)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import images
from ui import cache, image_input

IMAGE_SIDE = 256  # the picture sections compute on at most 256x256 pixels


def small_image() -> np.ndarray:
    """The shared picture at <= 256 px as (H, W, 3), kept per session (it is personal)."""
    img = image_input.working_image(gray=False)

    def shrink() -> np.ndarray:
        small = images.resize_to_working(img, IMAGE_SIDE)
        small = np.repeat(small[..., None], 3, axis=2) if small.ndim == 2 else small
        return np.ascontiguousarray(small, dtype=np.float32)

    return cache.session("prep_small", _picture_key(img), shrink, size=1)


def _picture_key(img: np.ndarray) -> tuple:
    return st.session_state.get("image", {}).get("serial"), img.shape


def small_gray() -> np.ndarray:
    """:func:`small_image` in gray, kept per session too (the ZCA section's every rerun)."""
    key = _picture_key(image_input.working_image(gray=False))
    return cache.session("prep_gray", key, lambda: images.to_gray(small_image()), size=1)
