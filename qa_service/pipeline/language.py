"""The customer's language: which one a message is written in, which one the conversation
speaks, and the passages rendered in it.

A message "tells" its language when it is long enough to: two Chinese characters, or three
Latin words. "ok", "VISA?" or "88" do not; they are answered in the conversation's language,
set by the last message that told (as Intercom keeps a conversation's language). A mixed
message ("你们的customer service怎么reach到") is in its main language: Chinese when it has
at least as many Chinese characters as Latin words. The widget's ``data-lang``, sent as the
request's ``lang``, overrides all of it.

An entry may carry its texts in other languages (``translations`` in the corpus): a passage
answered in English then shows the English rendering, with the original one tap away.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from ..corpus import sentence_spans

LANGUAGES = ("zh", "en")
_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def main_language(text: str) -> str:
    """'zh' or 'en': the language most of the message is written in."""
    cjk = len(_CJK_CHAR.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk >= len(_LATIN_WORD.findall(text)) else "en"


def tells(text: str) -> bool:
    """Long enough to set the conversation's language."""
    return len(_CJK_CHAR.findall(text)) >= 2 or len(_LATIN_WORD.findall(text)) >= 3


def reply_language(text: str, earlier: Iterable[str | None] = (), hint: str | None = None) -> str:
    """The language to answer ``text`` in: the widget's ``hint`` when it sets one; the
    message's own when it tells; else the conversation's (``earlier``: the languages of its
    turns, oldest first); else the message's own, however short."""
    if hint in LANGUAGES:
        return hint
    own = main_language(text)
    if tells(text):
        return own
    for lang in reversed(list(earlier)):
        if lang in LANGUAGES:
            return lang
    return own


@lru_cache(maxsize=4096)
def _spans(text: str) -> tuple[tuple[int, int], ...]:
    # The same few passages are rendered again and again: split each once.
    return tuple(sentence_spans(text))


def _mapped_highlights(original: str, rendered: str, highlights: list[dict]) -> list[dict]:
    """The highlighted sentences, by their place in the paragraph: a rendering keeps its
    original's sentences one for one, or it gets no highlight."""
    src, dst = _spans(original), _spans(rendered)
    if not highlights or len(src) != len(dst):
        return []
    starts = {s: k for k, (s, _) in enumerate(src)}
    out = []
    for h in highlights:
        k = starts.get(h["start"])
        if k is not None:
            out.append({"start": dst[k][0], "end": dst[k][1]})
    return out


def localise(
    passage: dict,
    lang: str,
    translations: Mapping[str, Mapping[str, Mapping[str, str]]],
    titles: Mapping[str, Mapping[str, str]] | None = None,
    own: str | None = None,
) -> dict:
    """``passage`` (a response item) in ``lang`` where the corpus renders it; its ``lang``
    says which language its text is in either way. A rendered passage keeps its original
    under ``original``; ``titles`` (entry id -> language -> title) renders its related
    entries' titles. ``own``: the passage's language, when known (else it is read)."""
    own = own or main_language(passage["text"])
    rendered = translations.get(passage["id"], {}).get(lang) if lang != own else None
    if not rendered:
        return {**passage, "lang": own}
    out = {
        **passage,
        "title": rendered["title"],
        "text": rendered["text"],
        "lang": lang,
        "highlights": _mapped_highlights(
            passage["text"], rendered["text"], passage.get("highlights") or []
        ),
        "original": {"lang": own, "title": passage["title"], "text": passage["text"]},
    }
    if titles and passage.get("related"):
        out["related"] = [
            {**r, "title": titles.get(r["faq_id"], {}).get(lang, r["title"])}
            for r in passage["related"]
        ]
    return out


def renderings(passages: Iterable) -> tuple[dict, dict, dict]:
    """From an index's passages (``corpus.Passage``): passage id -> language -> {title,
    text}, entry id -> language -> title, and passage id -> the language it is written in."""
    by_passage: dict[str, dict] = {}
    titles: dict[str, dict[str, str]] = {}
    written: dict[str, str] = {}
    for p in passages:
        written[p.id] = main_language(p.text)
        if p.translations:
            by_passage[p.id] = p.translations
            for lang, t in p.translations.items():
                titles.setdefault(p.faq_id, {})[lang] = t["title"]
    return by_passage, titles, written
