"""The catalogue: both languages have the same keys and placeholders, and every key used exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnviz import i18n

ROOT = Path(__file__).resolve().parent.parent


def test_same_files_in_both_languages():
    en = sorted(p.name for p in (i18n.LOCALES_DIR / "en").glob("*.json"))
    zh = sorted(p.name for p in (i18n.LOCALES_DIR / "zh").glob("*.json"))
    assert en == zh and en


def test_same_keys_in_both_languages():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    assert sorted(set(en) - set(zh)) == [], "keys missing in Chinese"
    assert sorted(set(zh) - set(en)) == [], "keys missing in English"


def test_same_placeholders_and_no_empty_text():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    for key, text in en.items():
        assert text.strip(), key
        assert zh[key].strip(), key
        assert i18n.placeholders(text) == i18n.placeholders(zh[key]), key


def test_chinese_is_actually_chinese():
    # A copied English string in the Chinese catalogue is a missing translation.
    zh = i18n.catalog("zh")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    latin_only = [k for k, v in zh.items() if len(v) > 12 and not cjk.search(v)]
    allowed = {"common.app_name"}
    assert [k for k in latin_only if k not in allowed] == []


def _keys_used_in_code() -> set[str]:
    pattern = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-zA-Z0-9_]+)["']""")
    used = set()
    for folder in ("pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    for path in [ROOT / "app.py"]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return used


def test_every_literal_key_in_code_exists():
    en = i18n.catalog("en")
    missing = sorted(k for k in _keys_used_in_code() if k not in en)
    assert missing == []


def test_lookup_fills_placeholders_and_falls_back():
    assert "307,300" in i18n.t("home.calc_fc_formula", "en", h=32, w=32, c=3, n=100,
                               weights="307,200", total="307,300")
    assert i18n.t("no.such_key", "zh") == "no.such_key"
    assert i18n.normalize_lang("zh-CN") == "zh"
    assert i18n.normalize_lang("en_GB") == "en"
    assert i18n.normalize_lang("fr") is None
    with pytest.raises(ValueError):
        i18n.catalog("fr")


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_no_characters_that_need_an_emoji_font(lang):
    """Pictographs beyond the Basic Multilingual Plane (📤 and the like) need a colour-emoji font,
    which school Linux machines and our test Chromium lack: they showed as an empty box."""
    astral = {key: text for key, text in i18n.catalog(lang).items()
              if any(ord(ch) > 0xFFFF for ch in text)}
    assert astral == {}
