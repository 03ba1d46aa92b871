"""One home for the model settings of the pipeline: fusion weights, which legs vote, how
many dense neighbours to gather, the Flat/IVF cut and the learned matcher's regularisation.
Defaults are the best measured (docs/quality.md, docs/performance.md); the ablation switches
them one at a time. A build records the settings it was made with in its manifest
(``pipeline``), and the service serves the build with them. Deployment values (paths, HTTP,
tokens, storage) are ``Settings``; the decision's numbers are the calibration's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class PipelineConfig:
    # Fusion (fuse.py) and the dense leg (dense.py)
    use_questions: bool = True  # match against titles and alt questions
    use_passages: bool = True  # match against answer text
    passage_weight: float = 0.9  # answer text is phrased unlike questions; discount it
    lexical_weight: float = 0.15  # BM25 vote, relative to the best-scoring entry
    # BM25 documents with the alt questions too; without them a title-only entry is not
    # outvoted on its own topic (new entries' top-1 +5 to 8 points, docs/living-faq.md)
    lexical_examples: bool = False
    # BM25 cannot see an entry written in another language than the question ("refund?"
    # against Chinese text): such entries get a stand-in vote from the dense leg, the full
    # vote for the nearest and less by exp(-gap / scale), as BM25 gives its best entry (0: off)
    lexical_blind_scale: float = 0.0
    within_entry_weight: float = 0.1  # how much passage similarity reorders inside an entry
    matcher_weight: float = 0.3  # learned matcher's probability, added to the fused score
    # An entry with fewer alt questions than this gets, in place of its own matcher vote, the
    # best vote of an entry with more: the matcher cannot know an entry from a title, so one
    # is compared with the rich entries on the dense and BM25 legs alone (0: off).
    matcher_sparse_below: int = 0
    matcher_sparse_share: float = 0.5  # the share of that best vote such an entry takes
    density_correction: bool = True  # each entry's similarity less its background's
    dense_candidates: int = 256  # dense neighbours gathered a query; small corpora: all
    # The index (index.py). Flat is exact but linear: p50 10.8 ms at 100k vectors, 82 ms at
    # 1M, so it stops at 20k (about 2 ms, near one encode); above, IVF (docs/performance.md).
    flat_max_vectors: int = 20_000
    # The learned matcher (matcher.py): inverse regularisation, measured on dev questions;
    # and the not-covered class's extra weight: classes count alike ("balanced"), and half as
    # much again for it took dev wrong answers from 2.0% to 1.4% (docs/quality.md).
    matcher_c: float = 10.0
    matcher_reject_weight: float = 1.5

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> PipelineConfig:
        """The settings a build recorded; names this version does not know are ignored, and
        ones it lacks take their defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


DEFAULTS = PipelineConfig()
