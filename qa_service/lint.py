"""Checks an editor runs before publishing a corpus (``qa-service check``).

Each finding names ``file:line`` and says how to fix it. Errors (a not-covered line an entry
answers) make the build leave data out; warnings point at entries that will be matched
poorly:

* an example question that sits closer to another entry than to its own;
* two entries that ask the same thing;
* an entry that loses its own title or answer sentences when they are asked as questions
  (the simulation in ``derived`` predicts it will be weakly matched).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from .corpus import Corpus
from .derived import ask_derived, variants
from .index import (
    KIND_ALT,
    KIND_PASSAGE,
    KIND_TITLE,
    VectorCache,
    assemble_index,
    corpus_vector_texts,
    index_items,
)
from .stale import find_stale

DUPLICATE_TITLES = 0.9  # cosine of two titles asking the same thing (default embedder)
WEAK_SHARE = 0.5  # an entry winning fewer of its own derived questions is weakly matched


@dataclass(frozen=True)
class Finding:
    where: str  # file:line
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"


def check_corpus(corpus: Corpus, cache: VectorCache) -> list[Finding]:
    cache.add(corpus_vector_texts(corpus))
    out = [
        Finding(f"{s.negative.source}:{s.negative.line}", "error", str(s).split(": ", 1)[1])
        for s in find_stale(corpus, cache)
    ]
    data = assemble_index(corpus, cache)
    where = {e.id: f"{e.source}:{e.line}" for e in corpus.entries}
    ids = [e.id for e in corpus.entries]
    x = data.vectors
    assert x is not None
    texts = index_items(corpus)[0]
    own, kind = data.item_entry, data.item_kind
    # Examples nearer another entry's questions than their own entry's other questions.
    questions = np.flatnonzero(kind != KIND_PASSAGE)
    sims = x[questions] @ x[questions].T
    np.fill_diagonal(sims, -1.0)
    q_entry = own[questions]
    for row, item in enumerate(questions):
        if kind[item] != KIND_ALT:
            continue
        e = q_entry[row]
        mine = sims[row, q_entry == e].max(initial=-1.0)
        others = np.where(q_entry != e, sims[row], -1.0)
        j = int(others.argmax())
        if others[j] > mine and others[j] > 0.8:
            text = texts[item]
            out.append(
                Finding(
                    where[ids[e]],
                    "warning",
                    f"example {text!r} of entry {ids[e]} sits closer to entry "
                    f"{ids[q_entry[j]]} ({others[j]:.2f} against {mine:.2f}); reword it or "
                    "move it to that entry",
                )
            )
    titles = np.flatnonzero(kind == KIND_TITLE)
    t_sims = x[titles] @ x[titles].T
    for a, b in zip(*np.nonzero(np.triu(t_sims >= DUPLICATE_TITLES, k=1)), strict=True):
        ea, eb = ids[own[titles[a]]], ids[own[titles[b]]]
        out.append(
            Finding(
                where[eb],
                "warning",
                f"entry {eb} asks what entry {ea} asks ({t_sims[a, b]:.2f}); merge "
                "them or make their titles say how they differ",
            )
        )
    out += _weak_entries(corpus, cache, where)
    return out


def _weak_entries(corpus: Corpus, cache: VectorCache, where: dict[str, str]) -> list[Finding]:
    """Entries that lose their own held-out questions and answer sentences."""
    won: dict[str, list[bool]] = defaultdict(list)
    matchers: dict = {}
    for variant, asked in variants(corpus):
        asked = [q for q in asked if q.expected is not None]
        if not variant.entries or not asked:
            continue
        cache.add(corpus_vector_texts(variant))
        cache.add([corpus.normalise(q.text) for q in asked])
        data = assemble_index(variant, cache, matchers=matchers, with_acts=False)
        for q, _, faq_id in ask_derived(data, None, cache, asked):
            won[q.expected].append(faq_id == q.expected)
    out = []
    for e in corpus.entries:
        share = float(np.mean(won[e.id])) if won[e.id] else 0.0
        if won[e.id] and share < WEAK_SHARE:
            out.append(
                Finding(
                    where[e.id],
                    "warning",
                    f"entry {e.id} wins only {share:.0%} of its own questions and answer "
                    "sentences when they are asked of the rest; add a few example questions "
                    "(alt_questions) in customers' words",
                )
            )
    return out
