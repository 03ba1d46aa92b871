"""qa-service calibrate: fit confidence, threshold and margin on labelled questions."""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

from . import add_common, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    from ..evaluation.calibration import DEFAULT_MAX_WRONG_RATE

    p = sub.add_parser("calibrate", help="fit the escalation threshold and confidence mapping")
    p.add_argument("--questions", type=Path, required=True, help="labelled JSONL or CSV")
    add_common(p)
    p.add_argument(
        "--target-precision",
        type=float,
        default=0.95,
        help="lowest acceptable precision of answered questions (default 0.95)",
    )
    p.add_argument(
        "--max-wrong-rate",
        type=float,
        default=DEFAULT_MAX_WRONG_RATE,
        help=f"highest acceptable share of all questions answered wrongly (default "
        f"{DEFAULT_MAX_WRONG_RATE}); "
        "a negative value lifts the cap",
    )
    p.add_argument("--folds", type=int, default=5)
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the calibration (default: QA_CALIBRATION_FILE, or the "
        "packaged default the service loads)",
    )
    p.set_defaults(func=run)


def _table(report: dict) -> str:
    keys = [
        "decision_accuracy",
        "answered_precision",
        "coverage",
        "wrong_answer_rate",
        "escalation_recall",
        "escalation_precision",
    ]
    lines = [
        "| figure | before | after (cross-validated) | after (in-sample) |",
        "|---|---|---|---|",
    ]
    for k in keys:
        lines.append(
            f"| {k} | {report['before'][k]:.3f} | {report['cross_validated'][k]:.3f} | "
            f"{report['fitted_in_sample'][k]:.3f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.calibration import calibrate
    from ..labelled import load_questions
    from ..service import QAService

    s = settings_from(args)
    questions = load_questions(args.questions)
    service = QAService(s)
    service.load()
    cap = args.max_wrong_rate if args.max_wrong_rate >= 0 else None
    cal, report = calibrate(
        service, questions, args.target_precision, args.folds, max_wrong_rate=cap
    )
    out = args.out or s.calibration_file
    if out is None:
        out = Path(str(resources.files("qa_service").joinpath("defaults/calibration.json")))
    cal.info["questions"] = str(args.questions)
    cal.save(Path(out))
    print(_table(report))
    print(
        f"\nthreshold {cal.answer_threshold:.4f}, ambiguity margin {cal.ambiguity_margin}, "
        f"out-of-scope below {cal.min_top:.3f} -> {out}"
    )
    print(json.dumps(report["cross_validated"]))
    return 0
