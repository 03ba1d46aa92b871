"""The concurrency-1 ratios, measured in interleaved rounds.

A shared host's speed drifts by a fifth or more within minutes, more than the differences the
ratios are about, so an encoder timed at the start and a server timed ten minutes later are
not comparable. Each round here times the raw encoder, ``ask()`` and one request at a time
against each server, a few seconds each, one after the other; a figure is the median over the
rounds and a ratio the median of the rounds' own ratios.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable, Sequence

from threadpoolctl import threadpool_limits

from ..embedders import Embedder
from ..pipeline.normalise import normalise
from ..service import QAService
from .stats import load_average

# A server's p50 over ``seconds`` of requests sent one at a time.
Load = Callable[[float], dict]


def _block(fn: Callable[[str], object], items: Sequence[str], seconds: float) -> float:
    """p50 in ms of ``fn`` over ``items``, cycled for ``seconds``."""
    cycle = itertools.cycle(items)
    durations = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        item = next(cycle)
        start = time.perf_counter()
        fn(item)
        durations.append(time.perf_counter() - start)
    return round(statistics.median(durations) * 1000, 4)


def bench_rounds(
    encoder: Embedder,
    service: QAService,
    questions: Sequence[str],
    servers: dict[str, Load],
    rounds: int,
    seconds: float,
    progress: Callable[[str], None] = lambda _m: None,
) -> dict:
    """``rounds`` rounds of: the raw encoder, ``ask()`` (its cache cleared before each call)
    and each of ``servers``, ``seconds`` each."""
    norms = [normalise(q) for q in questions]

    def ask(q: str) -> None:
        service.cache.clear()
        service.ask(q, channel="eval")

    table: list[dict] = []
    # ask() on the BLAS threads the server runs every product on (qa_service.api.main).
    with threadpool_limits(service.settings.threads, user_api="blas"):
        for q in questions[:20]:
            ask(q)
        for load in servers.values():  # warm-up
            load(1.0)
        for n in range(rounds):
            row = {
                "encode_p50_ms": _block(lambda q: encoder.encode_queries([q]), norms, seconds),
                "ask_p50_ms": _block(ask, questions, seconds),
            }
            for name, load in servers.items():
                row[name] = load(seconds)["p50_ms"]
            row["load_avg_1m"] = load_average()
            table.append(row)
            progress(f"round {n + 1}/{rounds}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    out: dict = {"rounds": table, "seconds_per_block": seconds, "servers": list(servers)}
    out["median"] = {
        key: round(statistics.median(r[key] for r in table), 4)
        for key in ("encode_p50_ms", "ask_p50_ms", *servers)
    }
    out["ratios"] = {
        name: {
            "over_encode": round(statistics.median(r[name] / r["encode_p50_ms"] for r in table), 3),
            "over_ask": round(statistics.median(r[name] / r["ask_p50_ms"] for r in table), 3),
        }
        for name in servers
    }
    return out
