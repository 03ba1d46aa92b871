"""Index build throughput on a synthetic FAQ corpus made from the real one's sentences."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..corpus import load_corpus
from ..embedders import Embedder
from ..index import build_index
from .stats import load_average
from .synthetic import sentences_of, write_text_corpus


def bench_build(corpus_path: Path, workdir: Path, embedder: Embedder, n_passages: int) -> dict:
    """Wall time of a full ``build_index`` (embed, FAISS, BM25, table) of ``n_passages``."""
    real = load_corpus(corpus_path)
    sentences = sentences_of([p.text for p in real.passages])
    shapes = [(e.question, len(e.paragraphs), e.alt_questions) for e in real.entries]
    corpus_dir = workdir / "build-corpus"
    index_dir = workdir / "build-index"
    shutil.rmtree(corpus_dir, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    write_text_corpus(corpus_dir / "faq.jsonl", sentences, shapes, n_passages)
    corpus = load_corpus(corpus_dir)
    # The encoder alone over the same texts, to tell embedding from the rest of a build.
    texts = [p.text for p in corpus.passages]
    texts += [q for e in corpus.entries for q in (e.question, *e.alt_questions)]
    enc_started = time.perf_counter()
    for start in range(0, len(texts), 256):
        embedder.encode_passages(texts[start : start + 256])
    encode_seconds = time.perf_counter() - enc_started
    started = time.perf_counter()
    corpus = load_corpus(corpus_dir)
    result = build_index(corpus_dir, index_dir, embedder, force=True, corpus=corpus)
    seconds = time.perf_counter() - started
    m = result.manifest
    shutil.rmtree(index_dir, ignore_errors=True)
    return {
        "passages": m["passage_count"],
        "entries": m["entry_count"],
        "vectors": m["vector_count"],
        "mean_passage_chars": round(
            sum(len(p.text) for p in corpus.passages) / max(1, len(corpus.passages)), 1
        ),
        "seconds": round(seconds, 3),
        "encode_seconds": round(encode_seconds, 3),
        "passages_per_s": round(m["passage_count"] / seconds, 1),
        "vectors_per_s": round(m["vector_count"] / seconds, 1),
        "load_avg_1m": load_average(),
    }
