"""One catalogue of every user-visible string, in English and Simplified Chinese.

The catalogue lives in ``cnnviz/locales/<lang>/<namespace>.json``: one flat JSON object per
namespace (usually one namespace per page, plus ``common``, ``nav``, ``images`` ...). A key is
looked up as ``"<namespace>.<name>"``, e.g. ``t("conv.title", "zh")``. Splitting the catalogue by
namespace lets each lesson own its texts while one test checks that both languages have the same
keys (and the same ``{placeholders}``).

This module is UI-free: Streamlit code calls it through ``ui.lang.t`` which supplies the current
user's language.
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path

LANGS: tuple[str, ...] = ("en", "zh")
DEFAULT_LANG = "en"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


@cache
def catalog(lang: str) -> dict[str, str]:
    """Return the flat catalogue ``{"ns.key": text}`` for ``lang`` (read once, then cached)."""
    if lang not in LANGS:
        raise ValueError(f"Unknown language {lang!r}; expected one of {LANGS}.")
    out: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for name, text in data.items():
            if not isinstance(text, str):
                raise TypeError(f"{path}: value of {name!r} must be a string")
            out[f"{path.stem}.{name}"] = text
    return out


def normalize_lang(value: object) -> str | None:
    """Map ``"zh"``, ``"zh-CN"``, ``"zh_Hans"``, ``"en-GB"``... to a supported language or None."""
    if not isinstance(value, str) or not value:
        return None
    head = value.replace("_", "-").split("-")[0].lower()
    return head if head in LANGS else None


def t(key: str, lang: str = DEFAULT_LANG, /, **kwargs: object) -> str:
    """Translate ``key`` into ``lang`` and fill ``{placeholders}`` from ``kwargs``.

    A missing key falls back to English, then to the key itself, so a gap in the catalogue shows
    up as visible text rather than a crash (the catalogue test keeps such gaps out of main).
    """
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(DEFAULT_LANG).get(key, key)
    if kwargs:
        try:
            return text.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def has(key: str) -> bool:
    """True when ``key`` exists in the English catalogue."""
    return key in catalog(DEFAULT_LANG)


def placeholders(text: str) -> set[str]:
    """Names of the ``{placeholders}`` in a catalogue text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@cache
def glossary() -> tuple[dict, ...]:
    """The glossary: one English and one Chinese term per concept (``id``, ``en``, ``zh``,
    ``en_match`` (a regular expression for the concept in English text), ``avoid_zh`` (other
    Chinese translations the catalogue must not use)), read from ``locales/glossary.json``."""
    data = json.loads((LOCALES_DIR / "glossary.json").read_text(encoding="utf-8"))
    return tuple(data["terms"])


def terms_in(namespace: str) -> list[dict]:
    """The glossary terms the page whose catalogue namespace is ``namespace`` uses (its
    English texts name the concept), in glossary order."""
    import re

    en = " ".join(v for k, v in catalog("en").items() if k.startswith(namespace + "."))
    return [g for g in glossary() if re.search(g["en_match"], en, re.IGNORECASE)]

