#!/usr/bin/env python3
"""Concurrency 1 against servers already running, in interleaved rounds (the bench's
``rounds``): the raw encoder, ``ask()`` in this process and one request at a time against each
server, a few seconds each, in turn. For comparing two commits or two settings side by side:

    QA_ANSWER_CACHE_SIZE=0 QA_RATE_LIMIT_PER_MINUTE=0 qa-service serve --port 8101 &
    # ... a second server on 8102, from another checkout or with other QA_* settings
    scripts/c1_rounds.py --server before=http://127.0.0.1:8101 --server after=http://127.0.0.1:8102

Needs wrk. Prints each round's p50s (ms) and each server's ratios to the encoder and to
``ask()``, each the median of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from functools import partial
from pathlib import Path

from qa_service.bench.inprocess import raw_embedder
from qa_service.bench.load import have_wrk, run_load
from qa_service.bench.questions import load_questions
from qa_service.bench.rounds import bench_rounds
from qa_service.config import Settings
from qa_service.service import QAService


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", action="append", required=True, metavar="NAME=URL")
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--questions", type=Path, default=Path("tests/data/dev.jsonl"))
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    if not have_wrk():
        parser.error("wrk is not installed (apt-get install wrk)")
    servers = {}
    for spec in args.server:
        name, sep, url = spec.partition("=")
        if not sep or not url.startswith("http"):
            parser.error(f"--server {spec!r}: expected NAME=http://host:port")
        servers[name] = url.rstrip("/")
    questions = load_questions(args.questions, args.index_dir)
    service = QAService(Settings(index_dir=args.index_dir))
    service.load(args.index_dir)
    with tempfile.TemporaryDirectory(prefix="qa-rounds-") as tmp:
        loads = {
            name: partial(run_load, url, questions, 1, workdir=Path(tmp), tool="wrk")
            for name, url in servers.items()
        }
        out = bench_rounds(
            raw_embedder(service),
            service,
            questions,
            loads,
            args.rounds,
            args.seconds,
            progress=lambda msg: print(msg, file=sys.stderr),
        )
    print(json.dumps({"median": out["median"], "ratios": out["ratios"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
