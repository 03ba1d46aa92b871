"""Fit the answer-or-escalate decision on observed questions.

1. Each question's retrieval signals and whether the top entry is right are observed (by
   ``evaluation.calibration.observe`` through the service, or by ``derived`` at index time).
2. A logistic model from the signals to "the top answer is right" is ``confidence``.
3. The confidence threshold and ambiguity margin are those that maximise decision accuracy
   while answered precision stays at or above the target and wrong answers stay at or below a
   share of all questions (a wrong answer about money costs more than an escalation).

Questions may carry weights, so that a corpus's rich entries, or one source of derived
questions, do not drown the rest. Figures are cross-validated (k folds: fit on k-1, score the
held-out fold), so a report never scores a question the fit has seen; the calibration itself
is fitted on all of them.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from .pipeline.decide import FEATURES, Calibration, Decider
from .pipeline.signals import Signals

MARGINS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05)
# Wrong answers allowed, as a share of all questions (dev, 5-fold CV: it also raised decision
# accuracy, 0.928 -> 0.935).
DEFAULT_MAX_WRONG_RATE = 0.02
DEFAULT_TARGET_PRECISION = 0.95
# Signals the confidence model reads, and its regularisation (chosen by cross-validation on
# the dev questions; docs/quality.md, ablations).
DEFAULT_FEATURES: tuple[str, ...] = (
    "top",
    "margin",
    "clf_top",
    "clf_reject",
    "reject_gap",
    "missing_terms",
)
DEFAULT_C = 0.3


@dataclass
class Observed:
    feats: np.ndarray  # (n, len(FEATURES))
    correct: np.ndarray  # top-1 right and the question is answerable
    should_escalate: np.ndarray
    forced: np.ndarray  # escalated whatever the threshold: no content, or a hard rule
    rejected: np.ndarray  # a "not covered" example beat every entry
    detailed: np.ndarray  # asks for a detail the best entry's answer does not give
    weights: np.ndarray = field(default=None)  # type: ignore[assignment]
    groups: np.ndarray = field(default=None)  # type: ignore[assignment]  # where each came from
    no_content: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        n = len(self.correct)
        if self.no_content is None:
            self.no_content = self.forced & ~self.rejected & ~self.detailed
        if self.weights is None:
            self.weights = np.ones(n)
        if self.groups is None:
            self.groups = np.full(n, "labelled", dtype=object)

    @property
    def margin(self) -> np.ndarray:
        return self.feats[:, FEATURES.index("margin")]

    @property
    def top(self) -> np.ndarray:
        return self.feats[:, FEATURES.index("top")]

    def __len__(self) -> int:
        return len(self.correct)

    @classmethod
    def from_rows(
        cls,
        rows: list[Signals],
        correct: list[bool],
        should_escalate: list[bool],
        no_content: list[bool],
        decider: Decider,
        weights: list[float] | None = None,
        groups: list[str] | None = None,
    ) -> Observed:
        feats = np.asarray([r.vector(FEATURES) for r in rows], dtype=np.float64).reshape(
            len(rows), len(FEATURES)
        )
        rules = [decider.hard_rule(r) for r in rows]
        rejected = np.asarray([r == "reject" for r in rules], dtype=bool)
        detailed = np.asarray([r == "detail" for r in rules], dtype=bool)
        return cls(
            feats,
            np.asarray(correct, dtype=bool),
            np.asarray(should_escalate, dtype=bool),
            np.asarray(no_content, dtype=bool) | rejected | detailed,
            rejected,
            detailed,
            None if weights is None else np.asarray(weights, dtype=np.float64),
            None if groups is None else np.asarray(groups, dtype=object),
            np.asarray(no_content, dtype=bool),
        )

    def with_rules(self, reject: bool, detail: bool) -> Observed:
        """The same questions with the hard rules switched on or off."""
        forced = self.no_content | (self.rejected & reject) | (self.detailed & detail)
        return dataclasses.replace(self, forced=forced)

    @classmethod
    def concat(cls, parts: list[Observed]) -> Observed:
        return cls(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(cls))
        )


def decision_figures(answered: np.ndarray, obs: Observed, idx: np.ndarray | None = None) -> dict:
    """Weighted decision figures of ``answered`` (one flag a question) over ``idx``."""
    correct, should, w = obs.correct, obs.should_escalate, obs.weights
    if idx is not None:
        answered, correct, should, w = answered[idx], correct[idx], should[idx], w[idx]
    total = float(w.sum())
    right = (answered & correct) | (~answered & should)
    n_answered = float(w[answered].sum())
    esc = ~answered
    tp = float(w[esc & should].sum())
    return {
        "n": int(len(answered)),
        "decision_accuracy": float(w[right].sum() / total) if total else 0.0,
        "answered_precision": float(w[answered & correct].sum() / n_answered)
        if n_answered
        else 1.0,
        "coverage": n_answered / total if total else 0.0,
        "wrong_answer_rate": float(w[answered & ~correct].sum() / total) if total else 0.0,
        "escalation_recall": tp / float(w[should].sum()) if should.any() else 1.0,
        "escalation_precision": tp / float(w[esc].sum()) if esc.any() else 1.0,
    }


def _fit_model(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, max_iter=2000)
    if len(set(y.tolist())) < 2:  # degenerate fold: nothing to separate
        y = y.copy()
        y[0] = not y[0]
    model.fit(x, y, sample_weight=w)
    return model


def _pick(
    conf: np.ndarray,
    obs: Observed,
    idx: np.ndarray,
    target: float,
    max_wrong: float | None = None,
) -> tuple[float, float]:
    """The threshold and margin of best decision accuracy (then coverage) over ``idx`` that
    meet the targets. Every candidate is scored at once from cumulative sums."""
    candidates = np.unique(np.round(np.concatenate([conf[idx], [0.5]]), 4))
    w, correct, should = obs.weights[idx], obs.correct[idx], obs.should_escalate[idx]
    total = float(w.sum())
    if not total:
        return 1.0, 0.0
    total_should = float(w[should].sum())
    found: list[tuple[float, float, float, float]] = []  # accuracy, coverage, -t, -m
    c = conf[idx]
    for m in MARGINS:
        open_ = (obs.margin[idx] >= m) & ~obs.forced[idx]
        order = np.argsort(-c[open_], kind="stable")
        cs = c[open_][order]

        def running(values: np.ndarray, order=order, open_=open_) -> np.ndarray:
            return np.concatenate([[0.0], np.cumsum(values[open_][order])])

        # answered at threshold t: the first k of the descending order, k = #(conf >= t)
        k = np.searchsorted(-cs, -candidates, side="right")
        right = running(w * correct)[k]
        wrong = running(w * ~correct)[k]
        ans_should = running(w * should)[k]
        answered = right + wrong
        precision = np.where(answered > 0, right / np.maximum(answered, 1e-12), 1.0)
        accuracy = (right + total_should - ans_should) / total
        ok = precision >= target
        if max_wrong is not None:
            ok &= wrong / total <= max_wrong
        found += [
            (float(accuracy[i]), float(answered[i] / total), -float(candidates[i]), -m)
            for i in np.flatnonzero(ok)
        ]
    if not found:  # the target cannot be met: answer nothing rather than answer wrongly
        return 1.0, 0.0
    # Ties go to the lowest threshold, then the smallest margin.
    _, _, t, m = max(found)
    return -t, -m


def _share_right(obs: Observed, rule: np.ndarray) -> float:
    """A rule's confidence: the share of its escalations whose top answer was right anyway."""
    hit = rule & (obs.top > 0)
    return round(float((obs.correct[hit].sum() + 1) / (hit.sum() + 2)), 4)


def answered_by(cal: Calibration, obs: Observed) -> np.ndarray:
    decider = Decider(cal)
    out = []
    for row, forced in zip(obs.feats, obs.forced, strict=True):
        signals = Signals.from_vector(row.tolist(), FEATURES)
        out.append(not forced and not decider.decide(signals).escalate)
    return np.asarray(out, dtype=bool)


def _fit_once(
    obs: Observed,
    *,
    base: Calibration | None = None,
    target_precision: float = DEFAULT_TARGET_PRECISION,
    max_wrong_rate: float | None = DEFAULT_MAX_WRONG_RATE,
    folds: int = 5,
    seed: int = 0,
    features: tuple[str, ...] = DEFAULT_FEATURES,
    c: float = DEFAULT_C,
) -> tuple[Calibration, dict]:
    """The calibration fitted on ``obs``, and its figures (before, cross-validated, in sample).

    ``base`` gives the hard rules' switches and the "before" figures."""
    base = base or Calibration()
    x = obs.feats[:, [FEATURES.index(f) for f in features]]
    before = decision_figures(answered_by(base, obs), obs)
    labels = obs.correct.astype(int)  # stratify on what the confidence model learns
    k = max(2, min(folds, int(np.bincount(labels, minlength=2).min()) or 2))
    cv_answered = np.zeros(len(obs), dtype=bool)
    for train, test in StratifiedKFold(k, shuffle=True, random_state=seed).split(x, labels):
        free = train[~obs.forced[train]]
        model = _fit_model(x[free], obs.correct[free], obs.weights[free], c)
        conf = model.predict_proba(x)[:, 1]
        t, m = _pick(conf, obs, train, target_precision, max_wrong_rate)
        cv_answered[test] = ((conf >= t) & (obs.margin >= m) & ~obs.forced)[test]
    cv = decision_figures(cv_answered, obs)
    everything = np.arange(len(obs))
    # The confidence model learns only from questions the hard rules leave open; a rule's own
    # confidence is the share of its escalations whose top answer was right anyway.
    free = everything[~obs.forced]
    model = _fit_model(x[free], obs.correct[free], obs.weights[free], c)
    conf = model.predict_proba(x)[:, 1]
    t, m = _pick(conf, obs, everything, target_precision, max_wrong_rate)
    correct_top = obs.top[obs.correct]
    cal = Calibration(
        answer_threshold=t,
        ambiguity_margin=m,
        min_top=round(float(np.percentile(correct_top, 2)), 4) if correct_top.size else 0.0,
        reject_wins=base.reject_wins,
        detail_rule=base.detail_rule,
        reject_confidence=_share_right(obs, obs.rejected),
        detail_confidence=_share_right(obs, obs.detailed),
        features=list(features),
        coef=[float(v) for v in model.coef_[0]],
        intercept=float(model.intercept_[0]),
    )
    fitted = decision_figures(answered_by(cal, obs), obs)
    cal.info = {
        "fitted_on": len(obs),
        "target_precision": target_precision,
        "max_wrong_rate": max_wrong_rate,
        "folds": k,
        "date": time.strftime("%Y-%m-%d"),
        "cross_validated": {key: round(v, 4) for key, v in cv.items()},
    }
    return cal, {"before": before, "cross_validated": cv, "fitted_in_sample": fitted}


def fit_calibration(
    obs: Observed,
    *,
    base: Calibration | None = None,
    fit_rules: bool = False,
    **kw,
) -> tuple[Calibration, dict]:
    """``_fit_once``; with ``fit_rules``, the hard rules too: each is kept only where it
    raises cross-validated decision accuracy on these questions (a corpus whose entries have
    few examples loses every question to hundreds of not-covered ones otherwise)."""
    base = base or Calibration()
    if not fit_rules:
        return _fit_once(obs.with_rules(base.reject_wins, base.detail_rule), base=base, **kw)
    best: tuple[float, Calibration, dict] | None = None
    for reject in (True, False):
        for detail in (True, False):
            b = dataclasses.replace(base, reject_wins=reject, detail_rule=detail, info={})
            cal, report = _fit_once(obs.with_rules(reject, detail), base=b, **kw)
            score = report["cross_validated"]["decision_accuracy"]
            if best is None or score > best[0] + 1e-9:
                best = (score, cal, report)
    assert best is not None
    return best[1], best[2]
