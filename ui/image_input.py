"""The shared image (a sample photo, the student's upload or drawing), chosen in the sidebar.

Decoding and validation live in ``cnnviz.images``; this module only keeps the result in
``st.session_state`` (per user, never a shared cache) and shows messages. A bad upload leaves
the previous image in place.

Session keys: ``image`` (dict: array float32 in [0, 1] (H, W) or (H, W, 3), label, orig_size,
notes, serial), ``image_error`` ((code, params) or None), widgets ``img_choice``, ``img``
(the uploader), ``work_size``; ``_work_0`` / ``_work_1`` (the working copies, colour and gray)
and ``_thumb`` (the sidebar's JPEG), each rebuilt only when the picture or the size changes;
``_draw_mark`` (which drawing is stored) and the canvas's own keys (ui/drawing.py).

A drawing is stored as the trainer's network would get it: 16x16, bright strokes on black, in
place (cnnviz.lessons.drawing), so a 3x3 kernel sees whole strokes.

Memory per student, bounded: the stored picture is at most 1024 px on its long side (float32,
so the numbers the lessons print are exact to their 3 digits: float16 would change the third
digit of some sums; a 1024x1024 colour upload is 12 MB), plus the working copies at the chosen
size. The upload's bytes live only in Streamlit's uploader state of the same session; nothing
is written to disk, and ui/session_end.py releases all of it once the session is gone.
"""

from __future__ import annotations

import io

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import datasets, i18n, images
from ui import drawing, share
from ui.errors import message_for
from ui.lang import current, t

UPLOAD = "__upload__"
DRAW = "__draw__"
#: The two options' titles as links made before the picker became pills carry them (they ended
#: in "…", which pills would show as if the text were cut off).
OLD_TITLES = {"My own picture…": UPLOAD, "我自己的图片…": UPLOAD,
              "Draw the input…": DRAW, "自己画输入…": DRAW}
#: Session flag: the link that opened this session chose "my own picture" (a link cannot carry
#: the picture itself), so the sidebar says so until a picture is uploaded.
LINKED_UPLOAD = "_img_linked_upload"
WORK_SIZES = [64, 128, 256, 512, 1024]
DEFAULT_WORK_SIZE = 256
#: The largest side we keep in memory per user; every working size fits below it.
STORE_MAX_SIDE = max(WORK_SIZES)
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]
#: The sidebar shows the picture at most this many pixels wide (it is ~250 px on screen).
THUMB_SIDE = 400


def _samples() -> list[dict]:
    return images.list_samples()


def _sample_title(sample: dict) -> str:
    return sample.get(f"title_{current()}") or sample.get("title_en") or sample["name"]


def _store(loaded: images.LoadedImage, label: str) -> None:
    arr = images.resize_to_working(loaded.array, STORE_MAX_SIDE)
    serial = st.session_state.get("image", {}).get("serial", 0) + 1
    st.session_state["image"] = {
        "array": np.ascontiguousarray(arr, dtype=np.float32),
        "label": label,
        "orig_size": tuple(loaded.original_size),
        "notes": list(loaded.notes),
        "serial": serial,
    }
    for slot in ("_work_0", "_work_1", "_thumb"):
        st.session_state.pop(slot, None)


def _load_sample(name: str) -> None:
    try:
        _store(images.load_sample(name, max_side=STORE_MAX_SIDE), name)
        st.session_state["image_error"] = None
    except Exception as exc:  # noqa: BLE001 - a broken asset must not break the page
        st.session_state["image_error"] = exc


def _on_choice() -> None:
    choice = st.session_state.get("img_choice")
    if choice and choice not in (UPLOAD, DRAW):
        _load_sample(choice)


def _handle_upload(file) -> None:
    """Decode a newly uploaded file once (uploads are re-sent on every rerun)."""
    if file is None or st.session_state.get("_upload_id") == file.file_id:
        return
    st.session_state["_upload_id"] = file.file_id
    try:
        loaded = images.load_image(file.getvalue(), max_side=STORE_MAX_SIDE)
    except images.ImageError as exc:
        st.session_state["image_error"] = exc
        return
    except Exception:  # noqa: BLE001 - anything Pillow throws is a bad file to the student
        st.session_state["image_error"] = images.ImageError("not_image")
        return
    _store(loaded, file.name)
    st.session_state["image_error"] = None


def _handle_drawing(rgba) -> None:
    """The drawing, as the trainer's network would get it (16x16, bright on black, position
    kept), becomes the shared picture; an empty canvas is a black square and one sentence."""
    x, problem = drawing.prepare(rgba, "shapes")
    arr = np.zeros((datasets.SHAPES_SIZE,) * 2, np.float32) if x is None else x[0, 0]
    mark = drawing.fingerprint(arr)
    img = st.session_state.get("image") or {}
    if st.session_state.get("_draw_mark") != mark or img.get("label") != DRAW:
        st.session_state["_draw_mark"] = mark
        side = arr.shape[0]
        notes = ["draw_empty"] if x is None else []
        _store(images.LoadedImage(arr, (side, side), "L", "drawing", notes), DRAW)
        st.session_state["image_error"] = None
    if problem is not None:
        st.info(problem, icon=":material/draw:")
    else:
        st.caption(t("draw.source_note", w=arr.shape[1], h=arr.shape[0]))


def drawing_note() -> str | None:
    """For a lesson showing the drawn picture: the empty-canvas sentence, or the lesson's hint
    (``draw.hint_<page>``) passed by the caller; None when the picture is not a drawing."""
    img = st.session_state.get("image") or {}
    if img.get("label") != DRAW:
        return None
    return t("errors.draw_empty") if "draw_empty" in img.get("notes", ()) else ""


def ensure_image() -> None:
    """Make sure a default image exists for this session (the first sample)."""
    if "image" not in st.session_state:
        samples = _samples()
        if samples:
            _load_sample(samples[0]["name"])


def sidebar() -> None:
    """The image picker: sample photos or an upload, plus the working size."""
    ensure_image()
    samples = _samples()
    names = [s["name"] for s in samples] + [UPLOAD, DRAW]
    titles = {s["name"]: _sample_title(s) for s in samples} | {
        UPLOAD: t("images.upload_option"), DRAW: t("draw.source_option")}
    old = st.query_params.get("img_choice")
    if old in OLD_TITLES and "img_choice" not in st.session_state:
        st.session_state["img_choice"] = OLD_TITLES[old]  # an older link: the same choice
    # Pills and a segmented control, not a select box and a slider: every choice in sight (the
    # upload and the drawing too), and the one widget kind the language switch above already
    # loads; a select box and a slider each bring their own JavaScript to every page's opening
    # (README, "Opening a lesson"). A link names the picture by its title, as before.
    choice = st.pills(t("images.source"), names, format_func=titles.get, key="img_choice",
                      required=True, default=names[0], on_change=_on_choice,
                      bind="query-params", help=t("images.source_help"))
    if share.linked_once("img_choice"):
        if choice == UPLOAD:
            st.session_state[LINKED_UPLOAD] = True  # the link's owner used their own picture
        elif choice != DRAW:
            _load_sample(choice)  # a sample named in the link (on_change does not fire for it)
    if st.session_state.get("img_choice") == UPLOAD:
        if st.session_state.get(LINKED_UPLOAD) and st.session_state.get("_upload_id") is None:
            img = st.session_state.get("image") or {}
            shown = {s["name"]: _sample_title(s) for s in samples}.get(img.get("label"), "")
            st.info(t("images.linked_upload", sample=shown), icon=":material/upload:")
        file = st.file_uploader(t("images.upload"), type=UPLOAD_TYPES, key="img",
                                help=t("images.upload_help", mb=10))
        _handle_upload(file)
    if st.session_state.get("img_choice") == DRAW:
        _handle_drawing(drawing.canvas("img_draw", "shapes"))
    err = st.session_state.get("image_error")
    if err is not None:
        st.warning(message_for(err), icon="⚠️")
    st.segmented_control(t("images.work_size"), WORK_SIZES, default=DEFAULT_WORK_SIZE,
                         required=True, key="work_size", bind="query-params",
                         help=t("images.work_size_help"))
    img = st.session_state.get("image")
    if img is not None:
        work = working_image()
        ow, oh = img["orig_size"]
        st.image(_thumbnail(work, img["serial"]),
                 caption=titles.get(img["label"], img["label"]), width="stretch")
        if (work.shape[1], work.shape[0]) != (ow, oh):
            st.caption(t("common.working_note", w=work.shape[1], h=work.shape[0], ow=ow, oh=oh))
        for note in img["notes"]:
            if i18n.has(f"images.note_{note}"):
                st.caption(t(f"images.note_{note}"))


def _thumbnail(work: np.ndarray, serial: int) -> bytes:
    """The sidebar's picture as a small JPEG, encoded once per picture and size (st.image of
    the float array itself re-encodes it on every rerun: ~30 ms as PNG at 1024 px)."""
    key = (serial, work.shape)
    slot = st.session_state.get("_thumb")
    if slot is None or slot[0] != key:
        small = images.resize_to_working(work, THUMB_SIDE)
        u8 = (np.clip(small, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        thumb = Image.fromarray(u8)
        if max(u8.shape[:2]) < 64:  # a tiny picture (a drawing): big, sharp pixels, not a blur
            f = THUMB_SIDE // max(u8.shape[:2])
            thumb = thumb.resize((u8.shape[1] * f, u8.shape[0] * f), Image.NEAREST)
        buf = io.BytesIO()
        thumb.save(buf, format="PNG" if max(u8.shape[:2]) < 64 else "JPEG", quality=90)
        slot = (key, buf.getvalue())
        st.session_state["_thumb"] = slot
    return slot[1]


def working_image(gray: bool = False) -> np.ndarray:
    """The current image at the chosen working size: float32 (H, W, 3) or (H, W) in [0, 1].

    Recomputed only when the image or the size changes (kept per session, not in a shared cache).
    """
    ensure_image()
    img = st.session_state.get("image")
    if img is None:  # no samples shipped: a plain gradient keeps every page usable
        return np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    size = int(st.session_state.get("work_size", DEFAULT_WORK_SIZE))
    key = (img["serial"], size, gray)
    slot = f"_work_{int(gray)}"
    cached = st.session_state.get(slot)
    if cached is None or cached[0] != key:
        arr = images.resize_to_working(img["array"], size)
        if gray and arr.ndim == 3:
            arr = images.to_gray(arr)
        cached = (key, np.ascontiguousarray(arr, dtype=np.float32))
        st.session_state[slot] = cached
    return cached[1]
