"""Query normalisation and language detection.

Customers type full-width characters, traditional Chinese, slang and shorthand; the corpus is
simplified Chinese. Normalising both sides the same way lets the encoder and BM25 meet.

The folding (width, script, case) is code; the words are data: the packaged
``qa_service/data/normalise.yaml`` for every corpus, and a corpus folder's own
``normalise.yaml`` for its domain's typos and names (``load_spec``). The merged spec travels
with the index build, so a served index normalises questions as its build normalised the
corpus (``normaliser``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import yaml
from opencc import OpenCC

from . import yaml_source

_T2S = OpenCC("t2s")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDISH = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")

_EN_WORD = re.compile(r"[a-z]+")


def detect_language(text: str) -> str:
    """'zh' when the text holds any Chinese character, else 'en'."""
    return "zh" if _CJK.search(text) else "en"


def clean(text: str) -> str:
    """Drop control and zero-width characters, collapse whitespace; keeps the wording."""
    text = _CONTROL.sub(" ", text.replace("\x00", ""))
    # Lone surrogates cannot be encoded; drop them rather than fail downstream.
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return _SPACES.sub(" ", text).strip()


FILE_NAME = "normalise.yaml"
_SECTIONS = ("replace", "words", "rewrite", "drop", "defines")


class NormaliseError(ValueError):
    """A normalise.yaml that cannot be used; ``problems`` are ``file:line: message`` lines."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Normaliser:
    """Canonical form used for matching: NFKC, simplified, lower case, then the spec's
    replacements, rewrites, words and dropped clauses, in that order."""

    def __init__(self, spec: dict):
        self.spec = spec
        self._replace = [(a, b) for a, b in spec.get("replace", {}).items() if a != b]
        self._rewrite = [(re.compile(p), to) for p, to in spec.get("rewrite", [])]
        words = dict(spec.get("words", {}))
        self._words: Callable[[re.Match[str]], str] = lambda m: words.get(m.group(0), m.group(0))
        drop = spec.get("drop", [])
        self._drop = re.compile("|".join(drop)) if drop else None
        # Large enough for a build: its texts are normalised by several stages.
        self._cached = lru_cache(maxsize=1 << 16)(self._normalise)

    def __call__(self, text: str) -> str:
        return self._cached(text)

    def _normalise(self, text: str) -> str:
        text = unicodedata.normalize("NFKC", clean(text))
        text = _T2S.convert(text).lower()
        for src, dst in self._replace:
            if src in text:
                text = text.replace(src, dst)
        for pattern, to in self._rewrite:
            text = pattern.sub(to, text)
        text = _EN_WORD.sub(self._words, text)
        if self._drop is not None:
            kept = self._drop.sub(" ", text)
            if kept != text and _WORDISH.search(kept):
                text = _SPACES.sub(" ", kept).strip(" ,，")
        return text


def load_spec(corpus_dir: Path | None = None) -> dict:
    """The packaged rules, extended by ``corpus_dir/normalise.yaml`` when there is one.

    Returns ``{"replace", "words", "rewrite", "drop"}`` with ``{{name}}`` expanded; raises
    ``NormaliseError`` with ``file:line`` for every problem."""
    layers = [
        _parse(text, name)
        for text, name in yaml_source.sources(FILE_NAME, corpus_dir, NormaliseError)
    ]
    replace: dict[str, str | None] = {}
    words: dict[str, str | None] = {}
    rewrite: list[tuple[str, str]] = []
    drop: list[str] = []
    for layer in layers:
        replace |= layer["replace"]
        words |= layer["words"]
        rewrite += layer["rewrite"]
        drop += layer["drop"]
    return {
        "replace": {k: v for k, v in replace.items() if v is not None},
        "words": {k: v for k, v in words.items() if v is not None},
        "rewrite": rewrite,
        "drop": drop,
    }


def _parse(text: str, name: str) -> dict:
    problems: list[str] = []
    out: dict = {"replace": {}, "words": {}, "rewrite": [], "drop": []}
    root = yaml_source.compose(text, name, NormaliseError)
    if root is None:
        return out

    def at(node: yaml.Node) -> str:
        return yaml_source.where(name, node)

    def scalar(node: yaml.Node) -> str | None:
        if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
            return node.value
        return None

    if not isinstance(root, yaml.MappingNode):
        raise NormaliseError([f"{at(root)}: expected sections {', '.join(_SECTIONS)}"])
    sections = {k.value: (k, v) for k, v in root.value}
    for key, _ in sections.values():
        if key.value not in _SECTIONS:
            problems.append(
                f"{at(key)}: unknown section {key.value!r} (use {', '.join(_SECTIONS)})"
            )
    defines: dict[str, str] = {}
    if "defines" in sections:
        node = sections["defines"][1]
        pairs = node.value if isinstance(node, yaml.MappingNode) else []
        if not isinstance(node, yaml.MappingNode):
            problems.append(f"{at(node)}: 'defines' maps names to patterns")
        for k, v in pairs:
            if scalar(v) is None:
                problems.append(f"{at(v)}: define {k.value!r} must be a pattern")
            else:
                defines[k.value] = v.value

    def pattern(node: yaml.Node) -> str | None:
        raw = scalar(node)
        if raw is None:
            problems.append(f"{at(node)}: expected a pattern")
            return None

        return yaml_source.expand(raw, defines, at(node), problems)

    for section in ("replace", "words"):
        if section not in sections:
            continue
        node = sections[section][1]
        if not isinstance(node, yaml.MappingNode):
            problems.append(f"{at(node)}: '{section}' maps what is typed to what is meant")
            continue
        for k, v in node.value:
            typed = unicodedata.normalize("NFKC", k.value).lower()
            if section == "words" and not _EN_WORD.fullmatch(typed):
                problems.append(f"{at(k)}: {k.value!r} is not one Latin word (use 'replace')")
                continue
            out[section][typed] = scalar(v)
    if "rewrite" in sections:
        node = sections["rewrite"][1]
        for item in node.value if isinstance(node, yaml.SequenceNode) else [node]:
            fields = (
                {f.value: fv for f, fv in item.value} if isinstance(item, yaml.MappingNode) else {}
            )
            if set(fields) != {"pattern", "to"} or scalar(fields["to"]) is None:
                problems.append(f"{at(item)}: a rewrite is {{pattern: ..., to: ...}}")
                continue
            p = pattern(fields["pattern"])
            if p is not None:
                out["rewrite"].append((p, fields["to"].value))
    if "drop" in sections:
        node = sections["drop"][1]
        if not isinstance(node, yaml.SequenceNode):
            problems.append(f"{at(node)}: 'drop' is a list of patterns")
        else:
            out["drop"] += [p for n in node.value if (p := pattern(n)) is not None]
    if problems:
        raise NormaliseError(problems)
    return out


def normaliser(spec: dict | None = None) -> Normaliser:
    """The normaliser of ``spec``; the packaged rules alone when it is empty (an index built
    before the rules were data, or a corpus given as one file)."""
    return _compiled(json.dumps(spec or _generic_spec(), sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=1)
def _generic_spec() -> dict:
    return load_spec(None)


@lru_cache(maxsize=16)
def _compiled(spec_json: str) -> Normaliser:
    # Keyed by the spec's text: one normaliser (and one cache) for every index of a corpus.
    return Normaliser(json.loads(spec_json))


def normalise(text: str) -> str:
    """``text`` under the packaged rules only: for keys and texts that belong to no corpus.
    Anything matched against an index goes through that index's ``normalise``."""
    return _generic()(text)


@lru_cache(maxsize=1)
def _generic() -> Normaliser:
    return normaliser(None)


def has_content(text: str) -> bool:
    """False for input with nothing to match: emoji, punctuation, symbols only."""
    return bool(_WORDISH.search(text))
