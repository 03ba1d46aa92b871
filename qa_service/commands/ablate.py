"""qa-service ablate: what each retrieval and escalation lever is worth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import add_common, settings_from


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ablate", help="calibrate on dev, score on test, one lever removed at a time"
    )
    add_common(p, corpus=True, index=False)
    p.add_argument("--dev", type=Path, required=True, help="labelled questions to fit on")
    p.add_argument("--test", type=Path, required=True, help="labelled questions to score")
    p.add_argument("--out", type=Path, default=Path("out/ablation"))
    p.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    p.add_argument("--target-precision", type=float, default=0.95)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.ablation import default_variants, markdown, run_ablation
    from ..labelled import load_questions

    s = settings_from(args)
    variants = default_variants()
    if args.only:
        variants = [v for v in variants if v.name in args.only]
    rows = run_ablation(
        s.corpus,
        load_questions(args.dev),
        load_questions(args.test),
        variants,
        args.target_precision,
        s,
        progress=lambda name: print(f"ablation: {name}", file=sys.stderr),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2), "utf-8")
    table = markdown(rows)
    (args.out / "ablation.md").write_text(table + "\n", "utf-8")
    print(table)
    return 0
