"""The index build, stage by stage: load the corpus, embed it once, leave out not-covered
lines an entry now answers, assemble, fit escalation to this corpus, publish.

``index.py`` owns the format (assemble, save, load); this module runs the build that
``qa-service index``, ``make index`` and the tests share.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .corpus import Corpus, CorpusError, load_corpus
from .corpus_fit import CorpusFit
from .derived import Labelled
from .embedders import Embedder
from .index import (
    BuildResult,
    VectorCache,
    assemble_index,
    corpus_vector_texts,
    fresh_build,
    write_build,
)
from .matcher import DEFAULT_REJECT_WEIGHT
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
    reject_weight: float = DEFAULT_REJECT_WEIGHT,
    fit: bool = True,
    questions: Sequence[Labelled] = (),
    questions_name: str | None = None,
    strict: bool = False,
    fit_progress: Callable[[int, int], None] | None = None,
) -> Build:
    """Build and publish an index of ``corpus_path`` (skipped when it is up to date).

    ``fit``: fit escalation to this corpus from questions derived from it, refined by
    ``questions`` when given; otherwise the service uses its packaged calibration.
    ``strict``: a stale not-covered line is an error (``CorpusError``) instead of a warning.
    """
    corpus = corpus or load_corpus(corpus_path)
    if not force and (live := fresh_build(index_dir, corpus, embedder.spec)) is not None:
        return Build(live.manifest, live.path, True)
    started = time.perf_counter()
    cache = VectorCache(embedder)
    cache.add(corpus_vector_texts(corpus), batch_size, progress)
    stale = find_stale(corpus, cache)
    if stale and strict:
        raise CorpusError([str(s) for s in stale])
    corpus = without(corpus, stale)
    data = assemble_index(corpus, cache, reject_weight=reject_weight)
    calibration, quality = None, None
    if fit:
        fitter = CorpusFit(questions, labelled_name=questions_name, progress=fit_progress)
        calibration, quality = fitter(corpus, cache, data)
    extra = {
        "calibration": quality,
        "stale_not_covered": [str(s) for s in stale],
    }
    result = write_build(
        index_dir, data, corpus, calibration=calibration, extra=extra, started=started
    )
    return Build(result.manifest, result.path, False, stale)
