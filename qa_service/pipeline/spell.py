"""Typo correction toward the corpus's own words, by sound.

Chinese customers mistype with the input method: a homophone (联细 for 联系, 东结 for 冻结) or
plain pinyin when they cannot be bothered to pick characters (``mima wang le``). Both keep the
sound of the intended word, so a query span that sounds like a word of the corpus, but is not
one, is rewritten to it before encoding: the encoder then sees the words the FAQ uses.

Targets are the words of two to four characters that the corpus's texts segment into and
that are real words (in jieba's dictionary: the corpus's own typo examples such as 密马 are
not targets). Precise segmentation, not BM25's search mode: that also yields 新密 (a place
name) out of 新密码, and as a target it turned the 信密 of 微信密码 into 新密. Where two targets
share a sound, the tones tell them apart (重置 and 充值 are both ``chongzhi``), else the one in
more documents wins (邮箱 over a stray 油箱), else neither is a target. Real words in the
query are never rewritten, so a correct word cannot be "corrected" into a corpus word that
sounds alike (体现 for 提现 is left to the slang list). Pinyin is read only when every Latin
word of the query is pinyin, so English stays English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

import jieba
from pypinyin import Style, lazy_pinyin

_CJK_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,4}")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[a-z]+")
MAX_WORD = 4  # characters
# At most this many neighbouring Latin words are joined to spell one word (``mi ma``).
_MAX_JOINED = 4


@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable, read off the CJK block once."""
    chars = "".join(chr(c) for c in range(0x4E00, 0x9FA6))
    return frozenset(s for s in lazy_pinyin(chars, errors="ignore") if s.isascii() and s.isalpha())


def _is_pinyin(word: str) -> bool:
    """Whether ``word`` splits into pinyin syllables (``mima``: mi + ma)."""
    syl, n = _syllables(), len(word)
    ok = [True] + [False] * n
    for end in range(1, n + 1):
        ok[end] = any(ok[s] and word[s:end] in syl for s in range(max(0, end - 6), end))
    return ok[n]


# Everyday words of payments and apps that jieba's dictionary predates. Unknown, their
# characters read as misheard neighbours: 微信密码 became 微新密码 (信密码 ~ 新密码).
NEWER_WORDS = frozenset(
    """微信 网银 余额宝 花呗 脸书 推特 抖音 快手 拼多多 币安 比特币 以太坊 泰达币 谷歌 安卓
    人工客服 闪退 微博 公众号 小程序 云闪付 扫码 到账 二维码 验证码 手机号 电子钱包""".split()
)


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
    jieba.dt.check_initialized()
    return jieba.dt.FREQ


def is_word(text: str) -> bool:
    """A word of jieba's dictionary (its prefix entries have frequency 0), or a newer one."""
    return _dictionary().get(text, 0) > 0 or text in NEWER_WORDS


def _toned(text: str) -> list[str]:
    """One pinyin a character, tone as a digit (5: neutral), read as a phrase."""
    out = lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    if len(out) != len(text):  # characters without a reading come back merged: go one by one
        out = [_char_toned(c) for c in text]
    return out


@lru_cache(maxsize=32768)
def _char_toned(char: str) -> str:
    # A misheard span is no phrase, so its characters are read one by one, from a cache: this
    # is the per-query part, and pypinyin's phrase matching would be most of its cost.
    return lazy_pinyin(char, style=Style.TONE3, neutral_tone_with_five=True)[0]


def _toneless(toned: list[str]) -> list[str]:
    return [p.rstrip("012345") for p in toned]


def _by_sound(sounds: Iterable[tuple[str, str]], counts: Mapping[str, int]) -> dict[str, str]:
    """Sound -> word; a shared sound goes to the word in most documents, if there is one."""
    seen: dict[str, list[str]] = {}
    for key, word in sounds:
        seen.setdefault(key, []).append(word)
    out = {}
    for key, words in seen.items():
        ranked = sorted(words, key=lambda w: -counts.get(w, 0))
        if len(ranked) == 1 or counts.get(ranked[0], 0) > counts.get(ranked[1], 0):
            out[key] = ranked[0]
    return out


class Speller:
    def __init__(self, words: Mapping[str, int] | Iterable[str]):
        """``words``: the corpus's words, with how many documents hold each if known."""
        counts = words if isinstance(words, Mapping) else dict.fromkeys(words, 1)
        self.words = frozenset(w for w in counts if _CJK_WORD.fullmatch(w) and is_word(w))
        sounds = [(_toned(w), w) for w in self.words]
        self._toned = _by_sound((("".join(t), w) for t, w in sounds), counts)
        self._toneless = _by_sound((("".join(_toneless(t)), w) for t, w in sounds), counts)
        if self.words:
            _syllables()  # read once at load, not on the first pinyin query

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Speller:
        """Targets from the corpus's (normalised) texts: each word with how many texts hold it."""
        return cls(Counter(w for t in texts for w in set(jieba.lcut(t))))

    def __len__(self) -> int:
        return len(self.words)

    def _sounds_like(self, toned: list[str], start: int, end: int) -> str | None:
        key = "".join(toned[start:end])
        word = self._toned.get(key)
        return word or self._toneless.get("".join(_toneless(toned[start:end])))

    def correct(self, text: str) -> str:
        """``text`` (already normalised) with misheard spans replaced by corpus words."""
        if not self.words:
            return text
        if _CJK.search(text):
            text = self._correct_hanzi(text)
        return self._correct_pinyin(text)

    @staticmethod
    def _cuts_a_word(text: str, start: int, end: int, run_end: int) -> bool:
        """Whether a real word begins inside ``text[start:end]`` and runs on: rewriting the
        span would break it ("有实体卡": 有实 sounds like 有事, but 实体 is a word)."""
        for j in range(start + 1, end):
            if any(is_word(text[j:k]) for k in range(end + 1, min(j + MAX_WORD, run_end) + 1)):
                return True
        return False

    def _correct_hanzi(self, text: str) -> str:
        out: list[str] = []
        i, n = 0, len(text)
        run_start, run_end, toned = -1, -1, []
        while i < n:
            if not _CJK.match(text, i):
                out.append(text[i])
                i += 1
                continue
            if i >= run_end:  # a new run of Chinese characters: read its sounds once
                run_start = run_end = i
                while run_end < n and _CJK.match(text, run_end):
                    run_end += 1
                toned = [_char_toned(c) for c in text[run_start:run_end]]
            longest = min(MAX_WORD, run_end - i)
            # A real word is kept whole (forward maximum matching), so its characters are not
            # re-read as part of a misheard neighbour.
            known = next((size for size in range(longest, 1, -1) if is_word(text[i : i + size])), 0)
            if known:
                out.append(text[i : i + known])
                i += known
                continue
            for size in range(longest, 1, -1):
                if self._cuts_a_word(text, i, i + size, run_end):
                    continue
                word = self._sounds_like(toned, i - run_start, i - run_start + size)
                if word:
                    out.append(word)
                    i += size
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _correct_pinyin(self, text: str) -> str:
        matches = list(_LATIN.finditer(text))
        if not matches or not all(_is_pinyin(m.group(0)) for m in matches):
            return text
        pieces: list[str] = []
        last, k = 0, 0
        while k < len(matches):
            # Longest run of neighbouring words (only spaces between them) that spells a word.
            found = None
            for j in range(min(len(matches), k + _MAX_JOINED) - 1, k - 1, -1):
                between = (text[matches[t].end() : matches[t + 1].start()] for t in range(k, j))
                if any(gap.strip() for gap in between):
                    continue
                word = self._toneless.get("".join(m.group(0) for m in matches[k : j + 1]))
                if word:
                    found = (j, word)
                    break
            if found is None:
                k += 1
                continue
            j, word = found
            pieces += [text[last : matches[k].start()], word]
            last = matches[j].end()
            k = j + 1
        pieces.append(text[last:])
        return "".join(pieces)
