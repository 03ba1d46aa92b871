"""qa-service soak: drive a running server with real and hostile requests for a while
(``qa_service.bench.soak``)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from ..bench import soak as driver


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "soak",
        help="drive a running server with real and hostile requests; report errors and RSS",
        description=driver.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--url", required=True, help="base URL of the running server")
    p.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    p.add_argument("--concurrency", type=int, default=32, help="parallel clients (default 32)")
    p.add_argument("--pid", type=int, help="server pid for RSS (default: found from the port)")
    p.add_argument(
        "--warmup", type=float, help="seconds before the 'before' RSS sample (default 10%%, <=10)"
    )
    p.add_argument("--hostile-share", type=float, default=0.2, help="share of garbage requests")
    p.add_argument("--questions", type=Path, help="JSONL with a 'question' field per line")
    p.add_argument("--max-rss-growth-mb", type=float, help="fail if RSS grows by more")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    questions = None
    if args.questions:
        lines = args.questions.read_text("utf-8").splitlines()
        questions = [json.loads(line)["question"] for line in lines if line.strip()]
    report = driver.run_soak(
        args.url,
        args.duration,
        args.concurrency,
        pid=args.pid,
        hostile_share=args.hostile_share,
        warmup=args.warmup,
        seed=args.seed,
        questions=questions,
    )
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.lines()))
    failed = report.errors > 0 or report.sent == 0
    if args.max_rss_growth_mb is not None and report.rss_growth_kb is not None:
        if report.rss_growth_kb > args.max_rss_growth_mb * 1024:
            print(f"RSS grew by {report.rss_growth_kb / 1024:.1f} MiB", file=sys.stderr)
            failed = True
    return 1 if failed else 0
