"""qa-service eval: score the service on labelled questions, with a regression gate."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import add_common, progress_bar, settings_from

SUMMARY_KEYS = (
    "top1",
    "recall@3",
    "mrr@10",
    "decision_accuracy",
    "escalation_f1",
    "answered_precision",
    "coverage",
    "latency_p95_ms",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score the service on labelled questions (in-process or over HTTP)",
        description="Run labelled questions through the service and write metrics.json, "
        "report.md and plots. Exits 1 when --baseline is given and a key metric dropped "
        "by more than --max-drop.",
    )
    p.add_argument("--questions", type=Path, required=True, help="labelled JSONL or CSV")
    add_common(p)
    p.add_argument(
        "--url", help="evaluate a running service over HTTP instead, e.g. http://127.0.0.1:8000"
    )
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument(
        "--calibration-file",
        type=Path,
        help="calibration JSON (QA_CALIBRATION_FILE); with --url it only sets the plotted lines",
    )
    p.add_argument("--baseline", type=Path, help="metrics.json of an earlier run to compare with")
    p.add_argument(
        "--max-drop",
        type=float,
        default=0.01,
        help="largest allowed drop of a gated metric, as a fraction (default 0.01 = 1 point)",
    )
    p.add_argument(
        "--gate-metrics",
        help="comma-separated metrics the gate watches (default: "
        "top1,recall@3,mrr@10,decision_accuracy,escalation_f1,answered_precision)",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=run)


def load_baseline(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"baseline {path} does not exist")
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        raise ValueError(f"baseline {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("overall"), dict):
        raise ValueError(f"baseline {path} has no 'overall' metrics; is it a metrics.json?")
    return data


def run(args: argparse.Namespace) -> int:
    from ..evaluation.evaluator import (
        EvalError,
        HttpClient,
        InProcessClient,
        evaluate,
        thresholds_of,
    )
    from ..evaluation.metrics import GATE_METRICS, regressions, summary
    from ..evaluation.report import write_evaluation
    from ..labelled import load_questions
    from ..pipeline.decide import Calibration

    if args.url and args.index_dir:
        print("qa-service eval: give either --index-dir or --url, not both", file=sys.stderr)
        return 2
    gate_keys = GATE_METRICS
    if args.gate_metrics:
        gate_keys = tuple(k.strip() for k in args.gate_metrics.split(",") if k.strip())
    unknown = sorted(set(gate_keys) - set(summary([])))
    if unknown:
        print(f"qa-service eval: unknown gate metric(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    baseline = load_baseline(args.baseline) if args.baseline else None
    s = settings_from(args)
    questions = load_questions(args.questions)
    meta = {
        "name": args.questions.stem,
        "questions": str(args.questions),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    try:
        if args.url:
            client = HttpClient(args.url, timeout=args.timeout)
            manifest = client.readiness()
            if manifest is None:
                raise EvalError(f"{args.url} has no index loaded (GET /readyz is not 200)")
            cal = Calibration.load(s.calibration_file)
            meta.update(
                target=client.target,
                embedder=manifest.get("embedder"),
                calibration=str(s.calibration_file or "packaged default")
                + " (local copy, for the plotted lines)",
            )
        else:
            from ..service import QAService

            service = QAService(s)
            manifest = service.load()
            cal = service.calibration
            client = InProcessClient(service)
            meta.update(
                target="in-process",
                index=str(s.index_dir),
                embedder=service.embedder.spec,
                calibration=str(s.calibration_file or "packaged default"),
            )
        meta["thresholds"] = thresholds_of(cal)
        records = evaluate(client, questions, progress_bar("evaluating"))
    except EvalError as exc:
        print(f"qa-service eval: {exc}", file=sys.stderr)
        return 2
    metrics, paths = write_evaluation(args.out, records, meta, plots=not args.no_plots)
    overall = metrics["overall"]
    print(
        "  ".join(
            f"{k} {overall[k]:.3f}" if overall.get(k) is not None else f"{k} –"
            for k in SUMMARY_KEYS
        )
    )
    print(f"{len(records)} questions -> {paths['report']}")
    if baseline is None:
        return 0
    drops = regressions(metrics, baseline, args.max_drop, gate_keys)
    if drops:
        for d in drops:
            print(f"qa-service eval: regression: {d}", file=sys.stderr)
        print(
            f"qa-service eval: {len(drops)} metric(s) dropped by more than "
            f"{100 * args.max_drop:.1f} points against {args.baseline}",
            file=sys.stderr,
        )
        return 1
    print(
        f"no metric dropped by more than {100 * args.max_drop:.1f} points against {args.baseline}"
    )
    return 0
