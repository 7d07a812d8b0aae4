"""The drawing canvas (streamlit-drawable-canvas, Fabric.js): freehand strokes with a mouse or
a finger, white on black like the training data, and the preview of what the network gets.

Undo and redo are the canvas's own toolbar (it appears over the canvas's top-right corner when
the pointer or a finger is on the canvas); the Clear button under the canvas starts a fresh one.

The drawing lives only in this session: the component's value in ``st.session_state``,
``_draw_ver_<key>`` (a counter that Clear bumps, so the canvas is created anew and empty) and
the prepared inputs in ui.cache.session. Nothing is cached across sessions. The drawing is
not part of a shared link.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from cnnviz.lessons import drawing as D
from cnnviz.viz import figures
from ui import cache
from ui.lang import t

INK, PAPER = "#ffffff", "#000000"


def _component():
    """The canvas component. Imported on first use: it registers itself with the running
    Streamlit server, which reads the component manifests when it starts."""
    from streamlit_drawable_canvas import st_canvas

    return st_canvas


def _version_key(key: str) -> str:
    return f"_draw_ver_{key}"


def _clear(key: str) -> None:
    st.session_state[_version_key(key)] = st.session_state.get(_version_key(key), 0) + 1


def canvas(key: str, dataset: str = "shapes", side: int = D.CANVAS_SIDE) -> np.ndarray | None:
    """Draw the canvas and its Clear button; the drawing as RGBA ``(side, side, 4)`` uint8, or
    None before the first stroke (and right after Clear).

    ``dataset`` sets the brush width (:data:`cnnviz.lessons.drawing.BRUSH`).
    """
    ver = st.session_state.get(_version_key(key), 0)
    result = _component()(
        stroke_width=D.BRUSH.get(dataset, D.BRUSH["shapes"]), stroke_color=INK,
        background_color=PAPER, width=side, height=side, drawing_mode="freedraw",
        update_streamlit=True, return_image_data=True, key=f"{key}_{ver}",
    )
    st.button(t("draw.clear"), key=f"{key}_clear", on_click=_clear, args=(key,),
              help=t("draw.clear_help"), icon=":material/delete:")
    try:
        image = result.image_data
    except (ValueError, OSError):  # a broken PNG from the browser is an empty canvas
        return None
    return None if image is None else np.asarray(image)


def prepare(rgba: np.ndarray | None, dataset: str) -> tuple[np.ndarray | None, str | None]:
    """``(x, None)`` with the network's input ``(1, 1, S, S)``, or ``(None, sentence)`` when the
    canvas is empty. Kept per session, keyed by the drawing's bytes."""
    if rgba is None:
        return None, t("errors.draw_empty")
    digest = hashlib.blake2b(np.ascontiguousarray(rgba).tobytes(), digest_size=16).hexdigest()

    def build() -> np.ndarray | None:
        try:
            return D.to_input(rgba, dataset)
        except D.DrawingError:
            return None

    x = cache.session("drawing", (digest, dataset), build)
    return (None, t("errors.draw_empty")) if x is None else (x, None)


def preview_figure(x: np.ndarray, height: int = 260):
    """The input exactly as the network gets it: S x S values in [0, 1], bright on dark."""
    side = x.shape[-1]
    return figures.map_figure(x[0, 0], title=t("draw.preview_title", s=side), signed=False,
                              limit=1.0, hover_label=t("common.value"), height=height)


def fingerprint(x: np.ndarray) -> str:
    """A short key for figure memos that depend on the drawing."""
    return hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=8).hexdigest()
