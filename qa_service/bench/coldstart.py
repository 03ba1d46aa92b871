"""Cold start: how long a fresh server takes to say it is ready, and whether the first
question after that is as fast as the ones that follow (``/readyz`` warms the index)."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from pathlib import Path

from .server import serve


def _ask(url: str, question: str) -> float:
    body = json.dumps({"question": question, "channel": "eval"}).encode("utf-8")
    req = urllib.request.Request(
        url + "/v1/query", body, {"Content-Type": "application/json"}, method="POST"
    )
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
    return (time.perf_counter() - started) * 1000


def bench_cold_start(index_dir: Path, work: Path, questions: list[str], steady: int = 100) -> dict:
    """Start a server (cache off), time it to ready, ask one question, then ``steady``
    distinct others."""
    started = time.perf_counter()
    with serve(index_dir, work / "cold", env={"QA_ANSWER_CACHE_SIZE": "0"}) as server:
        ready_s = time.perf_counter() - started
        first = _ask(server.url, questions[0])
        rest = [_ask(server.url, q) for q in questions[1 : steady + 1]]
    p50 = statistics.median(rest) if rest else 0.0
    return {
        "ready_s": round(ready_s, 2),
        "first_query_ms": round(first, 2),
        "steady_p50_ms": round(p50, 2),
        "first_over_steady": round(first / p50, 2) if p50 else None,
    }
