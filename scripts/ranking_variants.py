#!/usr/bin/env python3
"""Top-1 of the ranking alone, for pipeline settings side by side, on the corpus variants a
living FAQ goes through (docs/living-faq.md): the full corpus, titles only, a quarter of the
entries cut to their titles among rich ones (4 folds), and the corpus with an editor's new
entries added (``--added``, asked its own questions).

Example (the figures in docs/living-faq.md, "BM25 reads titles and answers"):

    python scripts/ranking_variants.py --corpus corpus --questions tests/data/dev.jsonl \\
        --added tests/data/editor-dev/entries.jsonl tests/data/editor-dev/questions.jsonl \\
        --variant "alt questions in BM25" lexical_examples=true --variant default
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from qa_service.config import Settings
from qa_service.corpus import load_corpus
from qa_service.embedders import load_embedder
from qa_service.evaluation.simulation import strip_alts, strip_some
from qa_service.index import VectorCache, assemble_index, corpus_vector_texts
from qa_service.labelled import load_questions
from qa_service.pipeline.config import PipelineConfig
from qa_service.service import QAService
from qa_service.stale import find_stale, without


def _value(text: str) -> object:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return float(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--added", nargs=2, type=Path, metavar=("ENTRIES", "QUESTIONS"))
    p.add_argument("--variant", nargs="+", action="append", metavar=("NAME", "KEY=VALUE"))
    p.add_argument("--embedder", default=Settings().embedder)
    args = p.parse_args()

    emb = load_embedder(args.embedder, 2)
    corpus = load_corpus(args.corpus)
    answerable = [q for q in load_questions(args.questions) if not q.escalate]
    cache = VectorCache(emb)
    cache.add(corpus_vector_texts(corpus))
    ids = [e.id for e in corpus.entries]
    folds = np.random.default_rng(0).permutation(np.arange(len(ids)) % 4)
    scenarios = [("full", corpus, answerable), ("titles only", strip_alts(corpus, 0), answerable)]
    for k in range(4):
        fold = {i for i, f in zip(ids, folds, strict=True) if f == k}
        mine = [q for q in answerable if {e.split("#")[0] for e in q.expected} & fold]
        rest = [q for q in answerable if q not in mine]
        scenarios.append((f"new {k + 1}/4", strip_some(corpus, fold), mine))
        # The rich entries' own questions, with the cut entries beside them.
        scenarios.append((f"kept {k + 1}/4", strip_some(corpus, fold), rest))
    if args.added:
        tmp = Path(args.added[0]).parent
        added = load_corpus(args.added[0])
        both = corpus.variant(entries=[*corpus.entries, *added.entries])
        cache.add(corpus_vector_texts(both))
        asked = [q for q in load_questions(args.added[1]) if not q.escalate]
        scenarios.append((f"added ({tmp.name})", both, asked))
        scenarios.append((f"old beside ({tmp.name})", both, answerable))

    for spec in args.variant or [["default"]]:
        name, *pairs = spec
        changes = {k: _value(v) for k, v in (pair.split("=", 1) for pair in pairs)}
        config = dataclasses.replace(PipelineConfig(), **changes)
        cells = []
        for label, variant, asked in scenarios:
            variant = without(variant, find_stale(variant, cache))
            data = assemble_index(variant, cache, config=config, with_acts=False)
            svc = QAService(Settings(answer_cache_size=0), embedder=emb, retrieval=config)
            svc.use_index(data)
            right = 0
            for q in asked:
                a = svc.ask(q.question, top_k=1, channel="eval")
                right += bool(a.passages) and q.is_correct(a.passages[0]["faq_id"])
            cells.append(f"{label} {right / max(1, len(asked)):.3f}")
        print(
            json.dumps({"variant": name, "settings": changes}), "|", " | ".join(cells), flush=True
        )


if __name__ == "__main__":
    main()
