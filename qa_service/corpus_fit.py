"""The escalation model fitted to one corpus, at index time.

``qa-service index`` derives labelled questions from the corpus itself (``derived``) and, when
given, adds labelled questions (``--questions``); the fit (``fitting``) picks the confidence
model and thresholds for this corpus. The calibration is saved with the build and its
cross-validated quality is recorded in the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .corpus import Corpus
from .derived import Labelled, observe_derived, observe_labelled
from .embedders import Embedder
from .fitting import (
    DEFAULT_FEATURES,
    DEFAULT_MAX_WRONG_RATE,
    DEFAULT_TARGET_PRECISION,
    Observed,
    answered_by,
    fit_calibration,
)
from .index import IndexData, VectorCache
from .pipeline.decide import Calibration, Decider
from .service import QAService

# Labelled questions, when given, carry this share of the fit; derived ones the rest. On the
# default corpus's check sets an even share escalated 4 to 6 points more questions needlessly than 0.9
# (docs/quality.md): customers' own questions are the better guide where there are some.
LABELLED_SHARE = 0.9
# The confidence model's signals: those of a labelled calibration, and how few examples the
# best entry has, so that entries with a title only get odds of their own.
FEATURES = (*DEFAULT_FEATURES, "sparse", "sparse_top", "sparse_margin")
# Derived questions are harder than customers' (a held-out title against an answer alone, an
# answer's own sentence), so they get looser targets. Measured with `qa-service simulate` on
# the default corpus's dev questions (docs/living-faq.md): at 85% and 8% every variant
# answered its dev questions with at most 3.0% wrong and held-out entries escalated 90.5%;
# 90% and 5% answered 3 to 10 points fewer right (titles only: 32.7% against 43.1%); 80% and
# 10% passed 3% wrong in two variants. Labelled questions are customers' own, and keep the
# stricter targets of a labelled calibration.
DERIVED_TARGETS = (0.85, 0.08)
# The derived questions come from this many entries at most, drawn at random. Their cost
# grows with the entries times the 20 corpus variants the fit assembles: 4.6 minutes for a
# 2,000-entry corpus whose texts embed in 13 s. A sample of this size already gives the fit
# a few thousand questions (docs/living-faq.md).
FIT_MAX_ENTRIES = 200


def fit_sample(corpus: Corpus, limit: int = FIT_MAX_ENTRIES, seed: int = 0) -> Corpus:
    """``corpus``, or a random ``limit`` of its entries (in corpus order) when it has more."""
    if len(corpus.entries) <= limit:
        return corpus
    keep = np.sort(np.random.default_rng(seed).choice(len(corpus.entries), limit, replace=False))
    return corpus.variant(entries=[corpus.entries[i] for i in keep.tolist()])


@dataclass
class CorpusFit:
    """``build_index``'s ``fit``: a callable that returns (calibration, quality)."""

    labelled: Sequence[Labelled] = ()
    target_precision: float | None = None  # None: by the kind of questions (see above)
    max_wrong_rate: float | None = None
    labelled_share: float = LABELLED_SHARE
    labelled_name: str | None = None
    features: tuple[str, ...] = FEATURES
    progress: Callable[[int, int], None] | None = None

    def __call__(
        self, corpus: Corpus, cache: VectorCache, data: IndexData
    ) -> tuple[Calibration, dict]:
        base = Calibration()
        sample = fit_sample(corpus)
        obs = observe_derived(
            sample, cache, base=base, progress=self.progress, matcher=data.matcher is not None
        )
        derived = obs
        sources = {"derived": len(obs)}

        left_out = 0
        if self.labelled:
            named = {e.split("#", 1)[0] for q in self.labelled for e in q.expected}
            lab = observe_labelled(
                self.labelled, _asker(cache.embedder, data), Decider(base), known=named
            )
            left_out = len(self.labelled) - len(lab)
            share, n = self.labelled_share, len(obs) + len(lab)
            obs.weights *= (1 - share) * n / obs.weights.sum()  # mean weight stays 1
            lab.weights *= share * n / lab.weights.sum()
            obs = Observed.concat([obs, lab])
            sources["labelled"] = len(lab)
        precision, wrong = (
            (DEFAULT_TARGET_PRECISION, DEFAULT_MAX_WRONG_RATE) if self.labelled else DERIVED_TARGETS
        )
        cal, report = fit_calibration(
            obs,
            base=base,
            fit_rules=True,
            features=self.features,
            target_precision=precision if self.target_precision is None else self.target_precision,
            max_wrong_rate=wrong if self.max_wrong_rate is None else self.max_wrong_rate,
        )
        sparse_entries = sum(1 for e in corpus.entries if len(e.alt_questions) < cal.sparse_below)
        if self.labelled and sparse_entries:
            # The labels know nothing of entries with (nearly) no examples: those are judged
            # by the corpus's own questions, as a corpus with no labelled questions is.
            cal.sparse, _ = fit_calibration(
                derived,
                base=base,
                fit_rules=True,
                features=self.features,
                target_precision=DERIVED_TARGETS[0],
                max_wrong_rate=DERIVED_TARGETS[1],
            )
        cal.info.update(embedder=cache.embedder.spec, sources=sources)
        if left_out:
            cal.info["labelled_left_out"] = left_out
        if self.labelled_name:
            cal.info["questions"] = self.labelled_name
        quality = {
            "sources": sources,
            # Entries the derived questions came from (``FIT_MAX_ENTRIES`` of a large corpus).
            "derived_entries": len(sample.entries),
            "threshold": round(cal.answer_threshold, 4),
            "reject_rule": cal.reject_wins,
            "sparse_threshold": round(cal.sparse.answer_threshold, 4) if cal.sparse else None,
            "labelled_left_out": left_out,
            "detail_rule": cal.detail_rule,
            "cross_validated": {k: round(v, 4) for k, v in report["cross_validated"].items()},
            "by_group": _by_group(obs, cal),
        }
        return cal, quality


def _asker(embedder: Embedder, data: IndexData):
    svc = QAService(embedder=embedder, calibration=Calibration())
    svc.use_index(data)
    return lambda q: svc.ask(q, top_k=1, channel="eval")


def _by_group(obs: Observed, cal: Calibration) -> dict[str, dict[str, float]]:
    """In-sample figures per source: what share of each is answered, and answered right."""
    obs = obs.with_rules(cal.reject_wins, cal.detail_rule)
    answered = answered_by(cal, obs)
    out: dict[str, dict[str, float]] = {}
    for g in sorted(set(obs.groups.tolist())):
        m = obs.groups == g
        out[g] = {
            "n": int(m.sum()),
            "answered": round(float(answered[m].mean()), 4),
            "answered_right": round(float((answered & obs.correct)[m].mean()), 4),
        }
    return out
