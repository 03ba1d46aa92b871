"""Index build throughput on synthetic corpora made from the real one's sentences.

Two shapes: ``faq`` copies the real corpus (titles, alt questions, about 14 questions to embed
per passage); ``articles`` has titles and passages only, the shape of a knowledge base. Each
run also times the encoder alone over the same texts, with the same parallelism, as the
bound the build can approach. Those two time embedding and assembling; ``bench_full_build``
times the whole build a support team runs (``qa-service index``, the escalation fit
included) on a corpus of many short entries, and the first query after a fresh server
loads it.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..corpus import load_corpus
from ..embedders import Embedder
from ..index import encode_texts, encode_workers
from ..indexing import build_index
from .coldstart import bench_cold_start
from .stats import load_average
from .synthetic import sentences_of, write_text_corpus

# An entry as an editor writes one: two paragraphs and a few example questions.
FULL_BUILD_PARAGRAPHS = 2
FULL_BUILD_ALTS = 4

SHAPES = ("faq", "articles")


def bench_build(
    corpus_path: Path, workdir: Path, embedder: Embedder, n_passages: int
) -> list[dict]:
    """Wall time of a full ``build_index`` (embed, matcher, FAISS, BM25, table), per shape."""
    return [_build_one(corpus_path, workdir, embedder, n_passages, shape) for shape in SHAPES]


def _encoder_alone(corpus_dir: Path, embedder: Embedder) -> tuple[int, float]:
    """How many passages and questions the corpus has, and seconds to embed them alone."""
    corpus = load_corpus(corpus_dir)
    texts = [p.text for p in corpus.passages]
    texts += [q for e in corpus.entries for q in (e.question, *e.alt_questions)]
    started = time.perf_counter()
    encode_texts(embedder, texts)
    return len(texts), time.perf_counter() - started


def _build_one(
    corpus_path: Path, workdir: Path, embedder: Embedder, n_passages: int, shape: str
) -> dict:
    real = load_corpus(corpus_path)
    sentences = sentences_of([p.text for p in real.passages])
    shapes = [
        (e.question, len(e.paragraphs), e.alt_questions if shape == "faq" else ())
        for e in real.entries
    ]
    corpus_dir = workdir / f"build-corpus-{shape}"
    index_dir = workdir / f"build-index-{shape}"
    shutil.rmtree(corpus_dir, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    write_text_corpus(corpus_dir / "faq.jsonl", sentences, shapes, n_passages)
    encode_seconds = _encoder_alone(corpus_dir, embedder)[1]
    started = time.perf_counter()
    corpus = load_corpus(corpus_dir)
    # Embedding and assembling only; ``bench_full_build`` times the fit too.
    result = build_index(corpus_dir, index_dir, embedder, force=True, corpus=corpus, fit=False)
    seconds = time.perf_counter() - started
    m = result.manifest
    shutil.rmtree(index_dir, ignore_errors=True)
    return {
        "shape": shape,
        "passages": m["passage_count"],
        "entries": m["entry_count"],
        "vectors": m["vector_count"],
        "matcher": m["matcher"],
        "encode_threads": encode_workers(embedder),
        "mean_passage_chars": round(
            sum(len(p.text) for p in corpus.passages) / max(1, len(corpus.passages)), 1
        ),
        "seconds": round(seconds, 3),
        "encode_seconds": round(encode_seconds, 3),
        "passages_per_s": round(m["passage_count"] / seconds, 1),
        "encoder_bound_passages_per_s": round(m["passage_count"] / encode_seconds, 1),
        "vectors_per_s": round(m["vector_count"] / seconds, 1),
        "load_avg_1m": load_average(),
    }


def bench_full_build(
    corpus_path: Path, workdir: Path, embedder: Embedder, n_entries: int, questions: list[str]
) -> dict:
    """``qa-service index`` with every default on ``n_entries`` synthetic entries (two
    paragraphs, four alt questions each), against the encoder alone over its passages and
    questions; then a fresh server on it: time to ready, first query and steady p50."""
    real = load_corpus(corpus_path)
    sentences = sentences_of([p.text for p in real.passages])
    shapes = [
        (e.question, FULL_BUILD_PARAGRAPHS, e.alt_questions[:FULL_BUILD_ALTS]) for e in real.entries
    ]
    corpus_dir = workdir / "full-build-corpus"
    index_dir = workdir / "full-build-index"
    shutil.rmtree(corpus_dir, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    write_text_corpus(
        corpus_dir / "faq.jsonl", sentences, shapes, n_entries * FULL_BUILD_PARAGRAPHS
    )
    n_texts, encode_seconds = _encoder_alone(corpus_dir, embedder)
    started = time.perf_counter()
    result = build_index(corpus_dir, index_dir, embedder, force=True)
    seconds = time.perf_counter() - started
    cold = bench_cold_start(index_dir, workdir, questions)
    shutil.rmtree(index_dir, ignore_errors=True)
    m = result.manifest
    return {
        "entries": m["entry_count"],
        "passages": m["passage_count"],
        "texts": n_texts,
        "seconds": round(seconds, 2),
        "encode_seconds": round(encode_seconds, 2),
        "over_encode": round(seconds / encode_seconds, 2),
        "fit_entries": (m.get("calibration") or {}).get("derived_entries"),
        "cold_start": cold,
        "load_avg_1m": load_average(),
    }
