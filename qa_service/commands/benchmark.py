"""qa-service benchmark banking77: the external English FAQ-matching benchmark."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import progress_bar, settings_from
from .tune_args import add_tune_args, tune_config


def shots_arg(value: str) -> int | None:
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError("shots must be 0 or more")
    return n


def register(sub: argparse._SubParsersAction) -> None:
    from ..evaluation.banking77 import DEFAULT_DATA, OFF_TOPIC, SPLITS

    p = sub.add_parser(
        "benchmark",
        help="run an external benchmark end to end (banking77)",
        description="Build an FAQ corpus from BANKING77 (one entry per intent, k train "
        "questions each), index it, calibrate on other train questions and evaluate the test "
        "questions. Writes corpus, index, calibration, metrics.json, report.md and plots.",
    )
    p.add_argument("name", choices=["banking77"], help="benchmark to run")
    p.add_argument(
        "--shots", type=shots_arg, default=10, help="train questions per intent, or 'all'"
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"default {DEFAULT_DATA}")
    p.add_argument(
        "--holdout-every",
        type=int,
        default=0,
        metavar="N",
        help="leave every N-th intent out of the index; its questions must be escalated",
    )
    p.add_argument(
        "--off-topic",
        type=Path,
        nargs="?",
        const=OFF_TOPIC,
        metavar="FILE",
        help="also score off-topic messages that must be escalated, one a line; without FILE "
        "the 200 packaged ones",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for choosing the shots")
    p.add_argument("--intents", type=int, help="only the first N intents (quick runs)")
    p.add_argument("--test-per-intent", type=int, help="only the first N test questions each")
    p.add_argument(
        "--calibrate-per-intent",
        type=int,
        default=10,
        help="train questions (not shots) per intent to calibrate on; 0 keeps the default "
        "calibration",
    )
    p.add_argument("--target-precision", type=float, default=0.95)
    p.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="questions to score: test.csv, or 'validation' (train questions that are neither "
        "shots nor calibration ones) to choose settings on",
    )
    p.add_argument(
        "--validate-per-intent", type=int, default=30, help="validation questions per intent"
    )
    p.add_argument("--embedder", help="embedder spec (QA_EMBEDDER), e.g. use-multilingual")
    p.add_argument(
        "--url",
        help="evaluate over HTTP a service that serves OUT/index (see --prepare-only)",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="start qa-service serve on a free local port and evaluate over HTTP through it",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="first fine-tune a model on the shots (qa-service tune); 'tuned' in --embedder "
        "names it (default --embedder: tuned)",
    )
    add_tune_args(p, prefix="tune-")
    p.add_argument(
        "--prepare-only",
        action="store_true",
        help="build corpus, index and calibration, then print how to serve them",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.banking77 import BenchmarkConfig
    from ..evaluation.banking77 import run as run_banking77
    from ..evaluation.evaluator import EvalError

    if args.holdout_every < 0 or args.holdout_every == 1:
        print(
            "qa-service benchmark: --holdout-every must be 0 (none) or 2 or more", file=sys.stderr
        )
        return 2
    if args.serve and (args.url or args.prepare_only):
        print("qa-service benchmark: --serve excludes --url and --prepare-only", file=sys.stderr)
        return 2
    tune = None
    if args.tune:
        from ..embedders.ensemble import split_spec
        from ..tuning import TUNED

        args.embedder = args.embedder or TUNED
        if TUNED not in [name for name, _ in split_spec(args.embedder)]:
            print(
                f"qa-service benchmark: with --tune, --embedder must name '{TUNED}', "
                f"e.g. {TUNED}+use-multilingual",
                file=sys.stderr,
            )
            return 2
        try:
            tune = tune_config(args, prefix="tune-")
        except ValueError as exc:
            print(f"qa-service benchmark: {exc}", file=sys.stderr)
            return 2
    config = BenchmarkConfig(
        data=args.data,
        shots=args.shots,
        holdout_every=args.holdout_every,
        seed=args.seed,
        intents=args.intents,
        test_per_intent=args.test_per_intent,
        calibrate_per_intent=args.calibrate_per_intent,
        target_precision=args.target_precision,
        split=args.split,
        validate_per_intent=args.validate_per_intent,
        off_topic=args.off_topic,
    )
    try:
        summary = run_banking77(
            config,
            args.out,
            settings_from(args),
            url=args.url,
            prepare_only=args.prepare_only,
            progress=progress_bar,
            tune=tune,
            serve=args.serve,
        )
    except EvalError as exc:
        print(f"qa-service benchmark: {exc}", file=sys.stderr)
        return 2
    if args.prepare_only:
        cal = summary["calibration"].get("file")
        env = f"QA_CALIBRATION_FILE={cal} " if cal else ""
        print(f"prepared {summary['label']} in {args.out}; serve it with:")
        print(f"  {env}qa-service serve --index-dir {summary['index']}")
        print(f"then: qa-service benchmark banking77 ... --out {args.out} --url http://HOST:PORT")
        return 0
    m = summary["metrics"]
    parts = [f"{summary['label']}: {summary['test_questions']} questions"]
    for key in ("top1", "decision_accuracy", "answered_precision", "coverage"):
        parts.append(f"{key} {m[key]:.3f}" if m.get(key) is not None else f"{key} –")
    if summary["intents_held_out"] or args.off_topic:
        for key in ("escalation_precision", "escalation_recall", "escalation_f1"):
            parts.append(f"{key} {m[key]:.3f}" if m.get(key) is not None else f"{key} –")
    print("  ".join(parts))
    for group, gm in summary["by_group"].items():
        if group != "indexed" and gm.get("escalation_recall") is not None:
            print(f"  {group}: {gm['escalation_recall']:.1%} escalated")
    print(f"-> {args.out / 'report.md'}")
    return 0
