"""In-process figures: the raw encoder (the anchor of every ratio) and QAService.ask."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence

from ..embedders import Embedder
from ..pipeline.normalise import normalise
from ..service import QAService
from .stats import load_average, summarize


def timed(fn: Callable[[str], object], items: Sequence[str], n: int, warmup: int = 20) -> list:
    """Durations in seconds of ``n`` calls of ``fn``, cycling through ``items``."""
    cycle = itertools.cycle(items)
    for _ in range(min(warmup, n)):
        fn(next(cycle))
    out = []
    for _ in range(n):
        item = next(cycle)
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def raw_embedder(service: QAService) -> Embedder:
    """The encoder itself, under any micro-batching wrapper."""
    return getattr(service.embedder, "inner", service.embedder)


def bench_encoder(embedder: Embedder, questions: Sequence[str], n: int) -> dict:
    """One normalised question per call (what ask() encodes), and batches of 32."""
    norms = [normalise(q) for q in questions]
    single = summarize(timed(lambda q: embedder.encode_queries([q]), norms, n))
    batch = (norms * (64 // len(norms) + 1))[:32] if len(norms) < 32 else norms[:32]
    rounds = max(3, n // 32)
    embedder.encode_queries(batch)
    start = time.perf_counter()
    for _ in range(rounds):
        embedder.encode_queries(batch)
    per_s = rounds * len(batch) / (time.perf_counter() - start)
    return {
        "single": single,
        "batch32_questions_per_s": round(per_s, 1),
        "load_avg_1m": load_average(),
    }


def bench_ask(service: QAService, questions: Sequence[str], n: int) -> dict:
    """ask() with the retrieval cache cleared before every call (all work done) and warm."""
    cache = service.cache

    def cold(q: str) -> None:
        cache.clear()
        start = time.perf_counter()
        service.ask(q, channel="eval")
        durations.append(time.perf_counter() - start)

    durations: list[float] = []
    for q in questions[:20]:
        service.ask(q, channel="eval")
    for q in itertools.islice(itertools.cycle(questions), n):
        cold(q)
    uncached = summarize(durations)
    # Repeats of as many questions as the cache holds: a larger mix, cycled, would evict each
    # question before it came round again and time misses.
    repeated = list(questions[: max(1, service.cache.max_size)])
    for q in repeated:
        service.ask(q, channel="eval")
    cached = summarize(timed(lambda q: service.ask(q, channel="eval"), repeated, n))
    return {"uncached": uncached, "cached": cached, "load_avg_1m": load_average()}
