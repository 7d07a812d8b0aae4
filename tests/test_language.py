"""Language (issue 16, items 13 and 14, and the one glossary): one Chinese term per concept
across the catalogue, Markdown emphasis that renders (no literal asterisks), Chinese characters
in English text only with their English gloss, and the overview's tiles in the page's language."""

from __future__ import annotations

import re
import unicodedata

import pytest

from cnnviz import i18n

CJK = re.compile(r"[\u3400-\u9fff]+")


@pytest.mark.parametrize("term", i18n.glossary(), ids=lambda g: g["id"])
def test_one_chinese_term_per_concept(term: dict) -> None:
    zh = i18n.catalog("zh")
    used = [(k, w) for k, v in zh.items() for w in term["avoid_zh"] if w in v]
    assert used == [], f"use {term['zh']} for {term['en']}: {used}"


@pytest.mark.parametrize("term", i18n.glossary(), ids=lambda g: g["id"])
def test_glossary_terms_are_the_ones_the_catalogue_uses(term: dict) -> None:
    zh = " ".join(i18n.catalog("zh").values())
    en = " ".join(i18n.catalog("en").values())
    assert term["zh"] in zh
    assert re.search(term["en_match"], en, re.IGNORECASE)


def test_mean_centring_is_the_articles_word() -> None:
    article = "去均值"  # /work/shared/reference/lecture-article.zh.md: "...就是去均值"
    assert next(g for g in i18n.glossary() if g["id"] == "mean_centring")["zh"] == article


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def unbalanced_emphasis(text: str) -> list[str]:
    """``*`` runs CommonMark would print literally: a run that can neither open (left-flanking)
    nor close (right-flanking) a pending one, or openers left at the end."""
    problems, stack = [], []
    for m in re.finditer(r"(?<!\\)\*+", text):
        before = text[m.start() - 1] if m.start() else " "
        after = text[m.end()] if m.end() < len(text) else " "
        left = not after.isspace() and (not _is_punct(after) or before.isspace()
                                         or _is_punct(before))
        right = not before.isspace() and (not _is_punct(before) or after.isspace()
                                          or _is_punct(after))
        run = m.group()
        if right and stack and stack[-1] == run:
            stack.pop()
        elif left:
            stack.append(run)
        elif before.isascii() and before.isalnum() and (after.isspace() or after in ",.)"):
            continue  # "w*", the optimum: a literal on purpose
        elif not (before.isspace() and after.isspace()):  # " * " is a literal on purpose
            problems.append(text[max(0, m.start() - 12):m.end() + 12])
    return problems + [f"unclosed {s}" for s in stack]


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_markdown_emphasis_renders(lang: str) -> None:
    bad = {k: p for k, v in i18n.catalog(lang).items() if (p := unbalanced_emphasis(v))}
    assert bad == {}


def test_the_checker_sees_the_chinese_case() -> None:
    assert unbalanced_emphasis("问的是*“这个窗口里出现过这个图案吗？”*，并")
    assert not unbalanced_emphasis("A **turn (横折)** is *small* and **bold**.")


def test_chinese_in_english_text_comes_with_its_gloss() -> None:
    """横折 etc. in English text only as "turn (横折)": an English word, then the characters in
    parentheses (every English text, the teacher presets' titles included)."""
    bad = []
    for k, v in i18n.catalog("en").items():
        for m in CJK.finditer(v):
            ok = re.search(r"[A-Za-z]+ \($", v[:m.start()]) and v[m.end():].startswith((")", ":"))
            if not ok:
                bad.append((k, v[max(0, m.start() - 20):m.end() + 5]))
    assert bad == []


def test_overview_tiles_are_translated() -> None:
    for stage in ("input", "conv", "relu", "pool", "fc"):
        zh = i18n.t(f"home.tile_{stage}", "zh")
        assert CJK.search(zh), zh


def test_stiff_chinese_phrases_are_gone() -> None:
    zh = " ".join(i18n.catalog("zh").values())
    for phrase in ("修正一张", "进来 ", "出去 ", "预设放在"):
        assert phrase not in zh, phrase
