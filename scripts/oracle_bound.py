#!/usr/bin/env python3
"""The most the confidence signals can do on a corpus variant: a calibration fitted on the
labelled questions themselves, in sample, answers this share of them right at the wrong-answer
cap (docs/living-faq.md, "What limits it"). Variants: the corpus with its entries cut to
``--alts`` alt questions each.

Example: python scripts/oracle_bound.py --corpus corpus --questions tests/data/dev.jsonl --alts 0,3
"""

from __future__ import annotations

import argparse
from pathlib import Path

from qa_service.config import Settings
from qa_service.corpus import load_corpus
from qa_service.corpus_fit import FEATURES
from qa_service.derived import observe_labelled
from qa_service.embedders import load_embedder
from qa_service.evaluation.simulation import strip_alts
from qa_service.fitting import answered_by, fit_calibration
from qa_service.index import VectorCache, assemble_index, corpus_vector_texts
from qa_service.labelled import load_questions
from qa_service.pipeline.decide import Calibration, Decider
from qa_service.service import QAService
from qa_service.stale import find_stale, without


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--corpus", type=Path, default=Path("corpus"))
    p.add_argument("--questions", type=Path, required=True)
    p.add_argument("--alts", default="0,3")
    p.add_argument("--precision", type=float, default=0.95)
    p.add_argument("--max-wrong", type=float, default=0.03)
    args = p.parse_args()

    emb = load_embedder(Settings().embedder, 2)
    corpus = load_corpus(args.corpus)
    questions = load_questions(args.questions)
    n_answerable = sum(not q.escalate for q in questions)
    cache = VectorCache(emb)
    cache.add(corpus_vector_texts(corpus))
    for k in (int(a) for a in args.alts.split(",")):
        variant = strip_alts(corpus, k)
        variant = without(variant, find_stale(variant, cache))
        svc = QAService(embedder=emb, calibration=Calibration())
        svc.use_index(assemble_index(variant, cache, with_acts=False))
        obs = observe_labelled(
            questions, lambda q, s=svc: s.ask(q, top_k=1, channel="eval"), Decider(Calibration())
        )
        cal, _ = fit_calibration(
            obs,
            base=Calibration(),
            fit_rules=True,
            features=FEATURES,
            target_precision=args.precision,
            max_wrong_rate=args.max_wrong,
        )
        obs = obs.with_rules(cal.reject_wins, cal.detail_rule)
        answered = answered_by(cal, obs)
        right = int((answered & obs.correct).sum())
        wrong = int((answered & ~obs.correct).sum())
        print(
            f"alts={k}: in sample, {right / n_answerable:.1%} of the answerable questions "
            f"answered right, {wrong / len(questions):.1%} of all answered wrongly"
        )


if __name__ == "__main__":
    main()
