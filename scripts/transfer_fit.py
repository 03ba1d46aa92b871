"""Does a reference corpus's real customer questions help fit escalation for another corpus?

A corpus with titles and answers only is fitted on questions derived from itself (a held-out
title against an answer alone, an answer's own sentence), which are harder than customers'
and hold English only among the off-topic messages. This experiment adds, with a share of the
fit, what the packaged OKPAY FAQ cut to its titles does with its labelled dev questions (real
customer wording, zh and en): confidence signals of questions a title-only entry answered
right, answered wrongly, or should have escalated. It then scores each target corpus's
labelled questions through ``QAService.ask``.

    python scripts/transfer_fit.py --shares 0,0.3,0.5 \
        tests/data/shop tests/data/food tests/data/telecom

Each target folder holds ``corpus/`` and ``questions.jsonl``. Figures: answered right (of the
answerable), wrong (of all), uncovered escalated.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from qa_service.corpus import load_corpus
from qa_service.corpus_fit import DERIVED_TARGETS, FEATURES, _asker
from qa_service.derived import observe_derived, observe_labelled
from qa_service.embedders import load_embedder
from qa_service.fitting import Observed, fit_calibration
from qa_service.index import VectorCache, assemble_index, corpus_vector_texts
from qa_service.indexing import build_index
from qa_service.labelled import load_questions
from qa_service.pipeline.decide import Calibration, Decider
from qa_service.service import QAService

ROOT = Path(__file__).resolve().parents[1]


def reference_rows(embedder, questions: Path) -> Observed:
    corpus = load_corpus(ROOT / "corpus")
    bare = corpus.variant(
        entries=[dataclasses.replace(e, alt_questions=()) for e in corpus.entries], negatives=[]
    )
    cache = VectorCache(embedder)
    cache.add(corpus_vector_texts(bare))
    data = assemble_index(bare, cache)
    labelled = load_questions(questions)
    return observe_labelled(labelled, _asker(embedder, data), Decider(Calibration()))


def fit_with(
    corpus, cache, ref: Observed | None, share: float, targets=DERIVED_TARGETS
) -> Calibration:
    base = Calibration()
    obs = observe_derived(corpus, cache, base=base)
    if ref is not None and share > 0:
        n = len(obs) + len(ref)
        obs.weights *= (1 - share) * n / obs.weights.sum()
        ref = dataclasses.replace(ref, weights=ref.weights * share * n / ref.weights.sum())
        obs = Observed.concat([obs, ref])
    cal, _ = fit_calibration(
        obs,
        base=base,
        fit_rules=True,
        features=FEATURES,
        target_precision=targets[0],
        max_wrong_rate=targets[1],
    )
    return cal


def score(embedder, index_dir: Path, cal: Calibration, questions: Path) -> str:
    svc = QAService(embedder=embedder, calibration=cal)
    from qa_service.index import load_index

    svc.use_index(load_index(index_dir))
    qs = load_questions(questions)
    right = wrong = esc = n_ans = n_unc = 0
    en_right = en_n = 0
    for q in qs:
        a = svc.ask(q.question, top_k=1, channel="eval")
        answered = not a.escalate and a.answer is not None
        if q.escalate:
            n_unc += 1
            esc += not answered
            wrong += answered
        else:
            n_ans += 1
            ok = answered and q.is_correct(a.answer["faq_id"])
            right += ok
            wrong += answered and not ok
            if getattr(q, "lang", None) == "en":
                en_n += 1
                en_right += ok
    return (
        f"right {right / n_ans:.1%} (en {en_right}/{en_n}), wrong {wrong / len(qs):.1%}, "
        f"escalated {esc}/{n_unc}, threshold {cal.answer_threshold:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("targets", nargs="+", type=Path)
    ap.add_argument("--shares", default="0,0.3")
    ap.add_argument("--fit-targets", default="0.85,0.08", help="precision,wrong[;...]")
    ap.add_argument("--reference-questions", type=Path, default=ROOT / "tests/data/dev.jsonl")
    args = ap.parse_args()
    embedder = load_embedder("use-multilingual", threads=1)
    ref = reference_rows(embedder, args.reference_questions)
    print(f"reference rows: {len(ref)}")
    for target in args.targets:
        corpus = load_corpus(target / "corpus")
        with tempfile.TemporaryDirectory() as tmp:
            build_index(target / "corpus", Path(tmp), embedder, fit=False)
            cache = VectorCache(embedder)
            cache.add(corpus_vector_texts(corpus))
            for targets in args.fit_targets.split(";"):
                t = tuple(float(x) for x in targets.split(","))
                for share in (float(s) for s in args.shares.split(",")):
                    cal = fit_with(corpus, cache, ref, share, t)
                    figures = score(embedder, Path(tmp), cal, target / "questions.jsonl")
                    print(f"{target.name} targets {t} share {share}: {figures}", flush=True)


if __name__ == "__main__":
    main()
