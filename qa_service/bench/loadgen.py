"""Fallback load generator, run as its own process so it never shares the server's GIL.

``python -m qa_service.bench.loadgen --url URL --questions FILE --concurrency N --duration S``
keeps N HTTP/1.1 keep-alive connections busy with POST /v1/query for S seconds and prints
one JSON object: requests, errors, latency percentiles. Used when ``wrk`` is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np


def _request(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _client(
    host: str, port: int, requests: list[bytes], offset: int, stop_at: float, out: dict
) -> None:
    i = offset
    reader = writer = None
    while time.perf_counter() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            payload = requests[i % len(requests)]
            i += 1
            start = time.perf_counter()
            writer.write(payload)
            await writer.drain()
            status = await _read_response(reader)
            out["latencies"].append(time.perf_counter() - start)
            if not 200 <= status < 300:
                out["non_2xx"] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            out["errors"] += 1
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run(url: str, questions: list[str], concurrency: int, duration: float) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [
        _request(f"{host}:{port}", parts.path or "/v1/query", json.dumps({"question": q}).encode())
        for q in questions
    ]
    out: dict = {"latencies": [], "errors": 0, "non_2xx": 0}
    started = time.perf_counter()
    stop_at = started + duration
    step = max(1, len(requests) // concurrency)
    await asyncio.gather(
        *(_client(host, port, requests, c * step, stop_at, out) for c in range(concurrency))
    )
    elapsed = time.perf_counter() - started
    lat = np.asarray(out["latencies"]) * 1000 if out["latencies"] else np.zeros(1)
    n = len(out["latencies"])
    return {
        "requests": n,
        "errors": out["errors"] + out["non_2xx"],
        "non_2xx": out["non_2xx"],
        "duration_s": round(elapsed, 3),
        "rps": round(n / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 3),
        "p99_ms": round(float(np.percentile(lat, 99)), 3),
        "mean_ms": round(float(lat.mean()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="full URL of POST /v1/query")
    p.add_argument("--questions", type=Path, required=True, help="JSON list of questions")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--duration", type=float, default=5.0)
    args = p.parse_args(argv)
    questions = json.loads(args.questions.read_text("utf-8"))
    result = asyncio.run(run(args.url, questions, args.concurrency, args.duration))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
