"""Not-covered questions that an entry of the corpus now answers.

``*.escalate.txt`` lists questions the FAQ did not answer when they were written. When an
editor adds an entry on refunds, "怎么申请退款" in that file turns from a near miss into the
new entry's own question, and as a not-covered example it would beat the entry. The build
reports each such line, leaves it out of training, and ``qa-service index --strict`` fails.

A line is stale for entry E when, in an index without the not-covered lines, E is its best
entry, the line sits close to E's own words, and E's answer gives every detail it asks for:

* E with few example questions (fewer than ``FEW_EXAMPLES``): the not-covered file predates
  it, so closeness to its title or answer text (at least ``STALE_SIMILARITY``) is enough;
* E with example questions: its editor wrote them beside the not-covered file, so only a line
  that repeats one of them (``DUPLICATE_SIMILARITY``) contradicts the corpus.

Both bars were measured with the default embedder: the default corpus's curated not-covered lines stay
below them, and the lines an editor's new entries answer reach them (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .corpus import Corpus, Negative
from .index import KIND_ALT, VectorCache, assemble_index, corpus_vector_texts
from .pipeline.retrieve import Retriever

FEW_EXAMPLES = 3
STALE_SIMILARITY = 0.7
DUPLICATE_SIMILARITY = 0.92


@dataclass(frozen=True)
class StaleLine:
    negative: Negative
    entry_id: str
    similarity: float
    what: str = "not-covered question"  # or "question labelled to escalate"

    def __str__(self) -> str:
        return (
            f"{self.negative.source}:{self.negative.line}: {self.what} now matches "
            f"entry {self.entry_id} (similarity {self.similarity:.2f}); delete the line, or "
            "word the entry so that it does not answer it"
        )


def find_stale(corpus: Corpus, cache: VectorCache) -> list[StaleLine]:
    if not corpus.negatives or not corpus.entries:
        return []
    bare = corpus.variant(negatives=[])
    cache.add(corpus_vector_texts(corpus))
    data = assemble_index(bare, cache, with_acts=False)
    retriever = Retriever(data)
    x = data.vectors
    assert x is not None
    n_alts = [len(e.alt_questions) for e in corpus.entries]
    out: list[StaleLine] = []
    for neg in corpus.negatives:
        norm = corpus.normalise(neg.text)
        vec = cache.get([norm])[0]
        result = retriever.search(norm, vec, 1)
        if not result.hits or result.signals.value("detail_missing"):
            continue
        top = result.hits[0].entry_index
        own = data.item_entry == top
        if n_alts[top] < FEW_EXAMPLES:
            sims, bar = x[own & (data.item_kind != KIND_ALT)] @ vec, STALE_SIMILARITY
        else:
            sims, bar = x[own & (data.item_kind != 0)] @ vec, DUPLICATE_SIMILARITY
        best = float(np.max(sims)) if sims.size else 0.0
        if best >= bar:
            out.append(StaleLine(neg, corpus.entries[top].id, best))
    return out


def without(corpus: Corpus, stale: list[StaleLine]) -> Corpus:
    """The corpus with its stale not-covered lines left out."""
    gone = {(s.negative.source, s.negative.line) for s in stale}
    keep = [n for n in corpus.negatives if (n.source, n.line) not in gone]
    return corpus.variant(negatives=keep)
