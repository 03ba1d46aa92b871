"""qa-service bench: measure latency, throughput, build speed, memory and scale."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from . import add_common, settings_from

SECTIONS = ("http", "rounds", "peer", "cold", "build", "scale")


def _sizes(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v.replace("_", "")) for v in value.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sizes like 1000,100000; got {value!r}"
        ) from None
    if not sizes or min(sizes) < 100:
        raise argparse.ArgumentTypeError("each size must be at least 100 vectors")
    return sizes


def _skip(value: str) -> frozenset[str]:
    parts = frozenset(v.strip() for v in value.split(",") if v.strip())
    unknown = parts - set(SECTIONS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}"
        )
    return parts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure latency, throughput, index build speed, memory and scale",
        description="Writes results.json and report.md to --out. The full run takes about "
        "20 minutes on 2 cores (1M-vector HNSW build included); --quick takes seconds.",
    )
    add_common(p, corpus=True)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--quick", action="store_true", help="tiny sizes and short runs (CI smoke)")
    p.add_argument(
        "--questions",
        type=Path,
        help="question mix: labelled questions (default: the FAQ's own questions)",
    )
    p.add_argument("--sizes", type=_sizes, help="scale sizes, e.g. 1000,100000,1000000")
    p.add_argument(
        "--load-tool",
        choices=["auto", "wrk", "loadgen"],
        default="auto",
        help="HTTP load generator; auto uses wrk when installed",
    )
    p.add_argument("--skip", type=_skip, default=frozenset(), help="e.g. scale,build")
    p.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, for the report."""
    parts = ["qa-service", "bench"] + (["--quick"] if args.quick else [])
    for flag in ("index_dir", "corpus", "embedder", "questions", "out"):
        value = getattr(args, flag, None)
        if value is not None:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    if args.sizes:
        parts += ["--sizes", ",".join(map(str, args.sizes))]
    if args.load_tool != "auto":
        parts += ["--load-tool", args.load_tool]
    if args.skip:
        parts += ["--skip", ",".join(sorted(args.skip))]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..bench import FULL, QUICK, run_bench

    settings = settings_from(args)
    profile = QUICK if args.quick else FULL
    bar = tqdm(desc="bench", bar_format="{desc} [{elapsed}]", disable=None, leave=False)

    def step(msg: str) -> None:
        bar.set_description_str(f"bench: {msg}")
        bar.update()

    try:
        results = run_bench(
            settings,
            args.out,
            profile,
            questions_path=args.questions,
            load_tool=args.load_tool,
            sizes=args.sizes,
            skip=args.skip,
            command=command_line(args),
            step=step,
        )
    finally:
        bar.close()
    for t in results["targets"]:
        print(
            f"{'ok  ' if t['met'] else 'MISS'} {t['measure']}: {t['value']} (target {t['target']})"
        )
    print(f"report: {args.out / 'report.md'}", file=sys.stderr)
    return 0
