"""Chinese-aware tokenisation (jieba) and BM25 scoring (bm25s)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba
import numpy as np
from pypinyin import lazy_pinyin

from .normalise import normalise

jieba.setLogLevel(logging.WARNING)

_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff]+")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# Function words and question frames carry no topic; every FAQ title has them.
STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 么 嘛 哦 我 我的 你 您 他 她 它 我们 你们 是 在 有 和 与 及 或 也 就 都 还
    要 会 能 可以 可 想 请问 请 一下 这 那 这个 那个 怎么 怎么办 怎样 如何 什么 为什么 哪 哪里 哪些 多少
    吗? 是不是 有没有 能不能 可不可以 一个 没 不 被 把 给 对 让 从 到 上 中 时 时候 等 呢? 么?
    a an the is are was were be been am i me my you your we our it its to of in on for at by
    with and or do does did can could would should how what why where when which who whom this that
    there here please hi hello any some just""".split()
)


def tokenize(norm_text: str) -> tuple[str, ...]:
    """Tokens for BM25 of normalised text: jieba search-mode words for Chinese, the words of
    the rest."""
    out: list[str] = []
    for chunk in _TOKEN.findall(norm_text):
        if _CJK_RUN.fullmatch(chunk):
            out.extend(w for w in jieba.lcut_for_search(chunk) if w.strip())
        else:
            out.append(chunk)
    return tuple(t for t in out if t not in STOPWORDS)


@lru_cache(maxsize=4096)
def query_terms(text: str) -> tuple[str, ...]:
    """Tokens of a query already normalised by its index's rules, plus joined neighbours of
    Latin tokens: customers type pinyin with or without spaces (``mima`` or ``mi ma`` for
    密码), and both must meet ``document_terms``."""
    toks = tokenize(text)
    latin = [t for t in toks if t.isascii()]
    joined = tuple(a + b for a, b in zip(latin, latin[1:], strict=False))
    return toks + joined


@lru_cache(maxsize=65536)
def _pinyin(word: str) -> str:
    # Words repeat across documents; pypinyin is the slow part of a lexical build.
    return "".join(lazy_pinyin(word))


def document_terms(text: str, norm: Callable[[str], str] = normalise) -> tuple[str, ...]:
    """Document tokens, plus the toneless pinyin of each Chinese word of two or more characters;
    ``norm`` is the corpus's normaliser (``Corpus.normalise``)."""
    toks = tokenize(norm(text))
    pinyin = tuple(_pinyin(t) for t in toks if len(t) > 1 and _CJK_RUN.fullmatch(t))
    return toks + pinyin


class LexicalIndex:
    """BM25 over one document per FAQ entry (title, alt questions and answer)."""

    def __init__(self, model: bm25s.BM25, n_docs: int):
        self._model = model
        self.n_docs = n_docs
        self._vocab = set(model.vocab_dict) if getattr(model, "vocab_dict", None) else set()

    @classmethod
    def build(cls, docs: Sequence[str]) -> LexicalIndex:
        return cls.from_terms([document_terms(d) for d in docs])

    @classmethod
    def from_terms(cls, terms: Sequence[Sequence[str]]) -> LexicalIndex:
        """BM25 over documents already split by ``document_terms``."""
        tokens = [list(t) or ["\u0000"] for t in terms]
        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index(tokens, show_progress=False)
        return cls(model, len(terms))

    def scores(self, query: str) -> np.ndarray:
        toks = [t for t in query_terms(query) if t in self._vocab]
        if not toks:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._model.get_scores(toks), dtype=np.float32)

    def save(self, path: Path) -> None:
        self._model.save(str(path))

    @classmethod
    def load(cls, path: Path, n_docs: int) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(path)), n_docs)
