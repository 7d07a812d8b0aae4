"""Teacher presets: named scenarios per page, as plain data (no UI code here).

A preset sets some of a page's widgets (``params``: widget key -> value, exactly the values the
widget offers, e.g. option names rather than translated labels) and may name the only controls
a projected page should show (``only``: widget keys; a grid named in :data:`GRID_PARAMS` counts
too). ``?preset=<id>`` in a page's link applies it when the link is opened; ``?only=`` and
``?hide=`` (comma-separated keys) hide controls on any link.

Page ids are the page's URL path, ``home`` for the start page. A preset's title is in the
catalogue (``cnnviz/locales/<lang>/presets.json``) under :func:`title_key`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GRID_PARAMS", "PAGES", "PRESETS", "SPECIAL_PARAMS", "find", "for_page", "page_id",
           "title_key"]

#: Link parameters that are not widget values.
SPECIAL_PARAMS = ("lang", "preset", "only", "hide")

#: Parameters in our own grid encoding (cnnviz.classroom.links), per page: grids and kernels typed
#: into a data editor, which Streamlit cannot keep in the URL by itself.
GRID_PARAMS: dict[str, tuple[str, ...]] = {
    "convolution": ("conv_grid", "conv_kernel", "conv_img_k0", "conv_img_k1", "conv_img_k2",
                    "conv_img_k3"),
    "pooling": ("pool_grid",),
}

_ARTICLE_5X5 = "1,1,1,0,0;0,1,1,1,0;0,0,1,1,1;0,0,1,1,0;0,1,1,0,0"
_ARTICLE_KERNEL = "1,0,1;0,1,0;1,0,1"

PRESETS: dict[str, list[dict[str, Any]]] = {
    "home": [
        {"id": "photo_fc",
         "params": {"home_w": 224, "home_h": 224, "home_c": 3, "home_units": 1000,
                    "home_k": 64, "home_f": 3},
         "only": ["home_w", "home_h", "home_units"]},
        {"id": "shared_noise",
         "params": {"home_pattern": "turn", "home_copies": 5, "home_noise": 0.3},
         "only": ["home_copies", "home_noise"]},
    ],
    "preprocessing": [
        {"id": "whitening_noise",
         "params": {"prep_zca_source": "picture", "prep_eps": 1e-06},
         "only": ["prep_eps"]},
        {"id": "correlated",
         "params": {"prep_source": "cloud", "prep_shape": "corr", "prep_corr": 0.95,
                    "prep_spread_1": 1.5, "prep_spread_2": 1.5, "prep_norm": "std"},
         "only": ["prep_corr", "prep_norm"]},
        {"id": "far_from_zero",
         "params": {"prep_source": "cloud", "prep_mean_x": 5.0, "prep_mean_y": 5.0},
         "only": ["prep_mean_x", "prep_mean_y"]},
    ],
    "convolution": [
        {"id": "article_5x5",
         "params": {"conv_example": "article", "conv_stride": 1, "conv_padding": 0,
                    "conv_dilation": 1, "conv_grid": _ARTICLE_5X5,
                    "conv_kernel": _ARTICLE_KERNEL},
         "only": ["conv_stride", "conv_padding"]},
        {"id": "stride2",
         "params": {"conv_example": "article", "conv_stride": 2, "conv_padding": 0,
                    "conv_dilation": 1, "conv_grid": _ARTICLE_5X5,
                    "conv_kernel": _ARTICLE_KERNEL},
         "only": ["conv_stride"]},
        {"id": "padding_same",
         "params": {"conv_example": "article", "conv_stride": 1, "conv_padding": 1,
                    "conv_dilation": 1, "conv_grid": _ARTICLE_5X5,
                    "conv_kernel": _ARTICLE_KERNEL},
         "only": ["conv_padding"]},
    ],
    "activation": [
        {"id": "sigmoid_saturates",
         "params": {"act_fns": ["sigmoid", "relu"], "act_sat": "sigmoid",
                    "act_xrange": (-10.0, 10.0), "act_deriv": True},
         "only": ["act_sat", "act_xrange", "act_eps"]},
        {"id": "vanishing",
         "params": {"act_deep_fns": ["sigmoid", "relu"], "act_chain_n": 30},
         "only": ["act_chain_n", "act_chain_z"]},
        {"id": "relu_zeros",
         "params": {"act_map_fn": "relu", "act_kernel": "sobel_x", "act_bias": 0.0},
         "only": ["act_map_fn", "act_bias"]},
    ],
    "pooling": [
        {"id": "turn_keeps_3",
         "params": {"pool_example": "turn", "pool_window": 3, "pool_stride": 1,
                    "pool_padding": 0},
         "only": ["pool_window", "pool_stride"]},
        {"id": "article_2x2",
         "params": {"pool_example": "article", "pool_window": 2, "pool_stride": 2,
                    "pool_padding": 0},
         "only": ["pool_window", "pool_stride"]},
        {"id": "shift_tolerance",
         "params": {"pool_shift": 2, "pool_fm_mode": "max", "pool_fm_window": 4,
                    "pool_fm_stride": 4},
         "only": ["pool_shift", "pool_fm_window"]},
    ],
    "trainer": [
        {"id": "sigmoid_vs_relu",
         "params": {"tr_data": "shapes", "tr_epochs": 3, "tr_cmp_acts": ["relu", "sigmoid"],
                    "tr_opt": "momentum", "tr_lr": 0.05},
         "only": ["tr_cmp_acts", "tr_epochs"]},
        {"id": "lr_too_big",
         "params": {"tr_opt": "sgd", "tr_lr": 5.0, "tr_epochs": 3},
         "only": ["tr_lr", "tr_epochs"]},
    ],
}

#: Page ids that can carry presets (the URL path, "home" for the start page).
PAGES = tuple(PRESETS)


def page_id(url_path: str | None) -> str:
    """``""`` / ``None`` -> ``"home"``; other URL paths stay as they are."""
    return url_path or "home"


def for_page(page: str) -> list[dict[str, Any]]:
    """The presets of ``page`` (an empty list for a page without presets)."""
    return PRESETS.get(page, [])


def find(page: str, preset_id: Any) -> dict[str, Any] | None:
    """The preset ``preset_id`` of ``page``, or None."""
    return next((p for p in for_page(page) if p["id"] == preset_id), None)


def title_key(page: str, preset_id: str) -> str:
    """The catalogue key of a preset's title, e.g. ``presets.pooling_turn_keeps_3``."""
    return f"presets.{page}_{preset_id}"
