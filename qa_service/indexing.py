"""The index build, stage by stage: load the corpus, embed it once, leave out not-covered
lines an entry now answers, assemble, fit escalation to this corpus, publish.

``index.py`` owns the format (assemble, save, load); this module runs the build that
``qa-service index``, ``make index`` and the tests share.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .corpus import Corpus, CorpusError, Negative, load_corpus
from .corpus_fit import CorpusFit
from .derived import Labelled
from .embedders import Embedder
from .index import (
    BuildResult,
    VectorCache,
    assemble_index,
    corpus_vector_texts,
    fresh_build,
    passage_examples,
    write_build,
)
from .pipeline.config import DEFAULTS, PipelineConfig
from .stale import StaleLine, find_stale, without


@dataclass
class Build(BuildResult):
    stale: list[StaleLine] = field(default_factory=list)


def build_index(
    corpus_path: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    corpus: Corpus | None = None,
    batch_size: int = 64,
    config: PipelineConfig = DEFAULTS,
    fit: bool = True,
    questions: Sequence[Labelled] = (),
    questions_name: str | None = None,
    passage_questions: Sequence[Labelled] = (),
    strict: bool = False,
    fit_progress: Callable[[int, int], None] | None = None,
) -> Build:
    """Build and publish an index of ``corpus_path`` (skipped when it is up to date).

    ``fit``: fit escalation to this corpus from questions derived from it, refined by
    ``questions`` when given; otherwise the service uses its packaged calibration.
    ``passage_questions``: labelled questions that name passages; within an entry whose
    passages all have some, the passage whose questions sit nearest is shown first.
    ``strict``: a stale not-covered line is an error (``CorpusError``) instead of a warning.
    """
    corpus = corpus or load_corpus(corpus_path)
    # The fit is part of the build: other labelled questions, or none, make it stale too.
    labels_key = _labels_key([*questions, *passage_questions]) if fit or passage_questions else None
    live = None if force else fresh_build(index_dir, corpus, embedder.spec)
    # Built with other settings (the matcher's, the Flat/IVF cut), it is stale too.
    same_config = (
        PipelineConfig.from_dict(live.manifest.get("pipeline")) == config if live else False
    )
    if live is not None and same_config and live.manifest.get("labels_sha256") == labels_key:
        return Build(live.manifest, live.path, True)
    started = time.perf_counter()
    cache = VectorCache(embedder)
    cache.add(corpus_vector_texts(corpus), batch_size, progress)
    stale = find_stale(corpus, cache)
    if stale and strict:
        raise CorpusError([str(s) for s in stale])
    corpus = without(corpus, stale)
    data = assemble_index(corpus, cache, config=config)
    if passage_questions:
        texts, owners = passage_examples(
            corpus.passages, ((corpus.normalise(q.question), q.expected) for q in passage_questions)
        )
        cache.add(texts, batch_size)
        data.passage_examples = cache.get(texts)
        data.passage_example_owner = np.asarray(owners, dtype=np.int32)
    calibration, quality = None, None
    stale_labels: list[StaleLine] = []
    if fit:
        # A question labelled "escalate" before an entry answered it is stale the same way.
        questions, stale_labels = _fresh_labels(corpus, cache, questions, questions_name)
        fitter = CorpusFit(questions, labelled_name=questions_name, progress=fit_progress)
        calibration, quality = fitter(corpus, cache, data)
    extra = {
        "labels_sha256": labels_key,
        "calibration": quality,
        "stale_not_covered": [str(s) for s in stale],
        "stale_labels": [str(s) for s in stale_labels],
    }
    result = write_build(
        index_dir, data, corpus, calibration=calibration, extra=extra, started=started
    )
    return Build(result.manifest, result.path, False, stale + stale_labels)


def _labels_key(questions: Sequence[Labelled]) -> str:
    h = hashlib.sha256()
    for q in questions:
        h.update(f"{q.question}\0{q.escalate}\0{getattr(q, 'expected', ())}\n".encode())
    return h.hexdigest()


def _fresh_labels(
    corpus: Corpus, cache: VectorCache, questions: Sequence[Labelled], name: str | None
) -> tuple[list[Labelled], list[StaleLine]]:
    """The labelled questions, less those labelled to escalate that an entry now answers."""
    asked = [q for q in questions if q.escalate]
    if not asked:
        return list(questions), []
    where = name or "questions"
    negs = [Negative(q.question, where, q.line) for q in asked]
    probe = corpus.variant(negatives=negs)
    stale = [
        dataclasses.replace(s, what="question labelled to escalate")
        for s in find_stale(probe, cache)
    ]
    gone = {s.negative.line for s in stale}
    keep = [q for q in questions if not (q.escalate and q.line in gone)]
    return keep, stale
