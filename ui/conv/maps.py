"""The convolution page's feature maps of the shared picture, kept per session (a student's
picture is theirs): the picture as (C, H, W), and one map per hand-edited kernel."""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import functional as F
from cnnviz import images
from cnnviz.lessons import conv as conv_math
from ui import cache, image_input
from ui.errors import guard
from ui.lang import t


def source(mode: str) -> tuple[np.ndarray, tuple]:
    """The shared picture as (C, H, W) for the chosen mode, and a cheap key for the memo."""
    img = image_input.working_image(gray=(mode == "gray"))
    meta = st.session_state.get("image", {})
    key = (meta.get("serial"), st.session_state.get("work_size"), mode, img.shape)
    return cache.session("src", key, lambda: images.to_chw(img).astype(np.float32), size=2), key


def with_bias(raw: np.ndarray, bias: float) -> np.ndarray:
    """A bias-free map plus the bias: the numbers ``F.conv2d_image`` gives with the bias."""
    return raw + np.asarray(bias, dtype=raw.dtype) if bias else raw.copy()


def feature_maps(x: np.ndarray, src_key: tuple, s: dict) -> list[dict]:
    """One feature map per kernel (memoised per session); a kernel that does not fit gets one
    sentence and keeps its last valid map (same picture and mode only)."""
    h, w = x.shape[1:]
    maps = []
    for k, (ker, bias) in enumerate(zip(s["kernels"], s["bias"], strict=True)):
        ker = np.asarray(ker, dtype=np.float32)
        reps = [conv_math.axis_report(size, ker.shape[-1], s["stride"],
                                      s["padding"]) for size in (h, w)]
        bad = next((r for r in reps if r["value"] is None), None)
        if bad is not None:
            st.warning(t("conv.kernel_n", n=k + 1) + ": " + t(f"conv.fit_{bad['status']}", **bad)
                       + " " + t("conv.kept_last"), icon="⚠️")
        else:
            geo = {"kernel": ker, "bias": bias, "stride": s["stride"], "padding": s["padding"],
                   "flip": s["flip"]}
            raw_key = (src_key, ker.tobytes(), ker.shape, s["stride"], s["padding"], s["flip"])
            key = (*raw_key, bias)
            with guard():
                # the sums without the bias, kept per kernel: a bias change only adds it again
                raw = cache.session(f"raw{k}", raw_key, lambda g=geo: F.conv2d_image(
                    x, g["kernel"][None], None, g["stride"], g["padding"],
                    flip=g["flip"])[0], size=2)
                fmap = cache.session(f"map{k}", key, lambda r=raw, b=bias: with_bias(r, b),
                                     size=2)
                st.session_state[f"_conv_last{k}"] = {"k": k, "src": src_key, "map": fmap,
                                                      "key": key, **geo}
        last = st.session_state.get(f"_conv_last{k}")
        if last is not None and last["src"] == src_key:
            maps.append(last)
    return maps
