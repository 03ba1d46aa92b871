"""qa-service simulate: strip example questions or hold entries out, fit escalation as the
index build does, and score labelled questions (docs/living-faq.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import add_common, settings_from


def _alts(text: str) -> list[int | None]:
    return [None if a == "all" else int(a) for a in text.split(",") if a]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="how well entries with few or no example questions are matched and escalated",
    )
    add_common(p, corpus=True, index=False)
    p.add_argument(
        "--questions", type=Path, required=True, help="labelled questions to ask each variant"
    )
    p.add_argument(
        "--alts",
        type=_alts,
        default=[None, 3, 1, 0],
        help="alt questions kept per entry, comma-separated ('all' keeps them): all,3,1,0",
    )
    p.add_argument(
        "--folds",
        type=int,
        default=4,
        help="entry folds held out (their questions must escalate) and made new (title "
        "only among rich entries); 0 skips both",
    )
    p.add_argument(
        "--targets",
        type=lambda t: tuple(float(x) for x in t.split(",")),
        default=None,
        metavar="PRECISION,WRONG",
        help="the fit's answered-precision target and wrong-answer cap (default: the build's "
        "own: 0.85,0.08 on derived questions, 0.95,0.02 with labelled ones)",
    )
    p.add_argument("--out", type=Path, default=Path("out/simulate"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..corpus import load_corpus
    from ..corpus_fit import CorpusFit
    from ..embedders import load_embedder
    from ..evaluation.simulation import markdown, pooled, simulate
    from ..labelled import load_questions

    s = settings_from(args)
    rows = simulate(
        load_corpus(s.corpus),
        load_questions(args.questions),
        load_embedder(s.embedder, s.threads),
        alts=args.alts,
        held_out_folds=args.folds,
        settings=s,
        progress=lambda name: print(f"simulate: {name}", file=sys.stderr),
        fit=CorpusFit(target_precision=args.targets[0], max_wrong_rate=args.targets[1])
        if args.targets
        else None,
    )
    kinds = ("held-out", "new", "editor")
    rows += [r for r in (pooled(rows, kind) for kind in kinds) if r is not None]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "simulation.json").write_text(
        json.dumps([r.as_dict() for r in rows], indent=2), "utf-8"
    )
    table = markdown(rows)
    (args.out / "simulation.md").write_text(table + "\n", "utf-8")
    print(table)
    return 0
