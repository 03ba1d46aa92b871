"""What a run measures: the full profile for the figures in docs/performance.md, a quick one for CI."""

from __future__ import annotations

from dataclasses import dataclass, field

from .scale import ScalePlan


@dataclass(frozen=True)
class HttpRun:
    """One server configuration, measured at each concurrency."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    concurrency: tuple[int, ...] = (32,)
    # Extra uvicorn options; when set, the server runs under plain uvicorn with them.
    uvicorn_args: tuple[str, ...] = ()


NO_CACHE = {"QA_ANSWER_CACHE_SIZE": "0"}
NO_BATCHING = {"QA_MICRO_BATCHING": "false"}
NO_INLINE = {"QA_INLINE_LONE_QUERIES": "false"}  # every question on a query thread
PURE_PYTHON_HTTP = ("--loop", "asyncio", "--http", "h11")  # without uvloop and httptools


@dataclass(frozen=True)
class Profile:
    name: str
    ask_calls: int
    http_seconds: float
    warmup_seconds: float
    build_passages: int
    scale: ScalePlan
    http_runs: tuple[HttpRun, ...]
    full_build_entries: int = 0  # the whole build (fit included) on this many entries
    encoder_threads: tuple[int, ...] = ()  # also time the raw encoder with these BLAS threads
    peer: bool = False  # txtai's API over the same encoder and texts, in the same run
    # The concurrency-1 ratios in interleaved rounds (qa_service.bench.rounds), each block this long.
    rounds: int = 0
    round_seconds: float = 2.0
    # More servers in the same rounds, by name: their QA_* settings beside the default's.
    round_variants: dict[str, dict[str, str]] = field(default_factory=dict)


QUICK = Profile(
    name="quick",
    ask_calls=40,
    http_seconds=1,
    warmup_seconds=1,
    build_passages=20,
    full_build_entries=20,
    rounds=2,
    round_seconds=1.0,
    scale=ScalePlan(sizes=(1_000,), ef_search=(32,), nprobe=(8,), mmap_workers=2),
    http_runs=(HttpRun("default", concurrency=(1, 32)),),
)

FULL = Profile(
    name="full",
    ask_calls=1000,
    http_seconds=15,
    warmup_seconds=3,
    build_passages=1000,
    full_build_entries=2000,
    scale=ScalePlan(),
    encoder_threads=(1, 2),
    peer=True,
    rounds=8,
    round_seconds=3.0,
    round_variants={"http, threads only": NO_INLINE},
    http_runs=(
        HttpRun("default", concurrency=(1, 32)),
        HttpRun("no cache", NO_CACHE, concurrency=(1, 32)),
        HttpRun("no cache, no batching", NO_CACHE | NO_BATCHING, concurrency=(1, 32)),
        HttpRun("no cache, threads only", NO_CACHE | NO_INLINE, concurrency=(1, 32)),
        HttpRun("no cache, batch wait 1 ms", NO_CACHE | {"QA_BATCH_MAX_WAIT_MS": "1"}),
        HttpRun("no cache, h11 + asyncio", NO_CACHE, uvicorn_args=PURE_PYTHON_HTTP),
        HttpRun("no cache, 2 encoder threads", NO_CACHE | {"QA_THREADS": "2"}, concurrency=(1, 32)),
        HttpRun("2 workers", workers=2),
        HttpRun("2 workers, no cache", NO_CACHE, workers=2, concurrency=(1, 32)),
        HttpRun(
            "2 workers, no cache, no query log",
            NO_CACHE | {"QA_LOG_QUERIES": "false"},
            workers=2,
        ),
    ),
)
