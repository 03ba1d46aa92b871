"""The retrieval stages' settings: fusion weights and which legs vote. Defaults are the best
measured on the dev questions (docs/quality.md); the ablation switches them one at a time."""

from __future__ import annotations

from dataclasses import dataclass

# How many dense neighbours to gather per query; small corpora are scanned whole.
DENSE_CANDIDATES = 256


@dataclass(frozen=True)
class RetrievalConfig:
    use_questions: bool = True  # match against titles and alt questions
    use_passages: bool = True  # match against answer text
    passage_weight: float = 0.9  # answer text is phrased unlike questions; discount it
    lexical_weight: float = 0.15  # BM25 vote, relative to the best-scoring entry
    within_entry_weight: float = 0.1  # how much passage similarity reorders inside an entry
    matcher_weight: float = 0.3  # learned matcher's probability, added to the fused score
    density_correction: bool = True  # each entry's similarity less its background's
