"""The decision fit on observed questions: weights, hard-rule switches, cross-validation."""

import numpy as np

from qa_service.fitting import Observed, decision_figures, fit_calibration
from qa_service.pipeline.decide import FEATURES, Calibration, Decider
from qa_service.pipeline.signals import Signals


def _observed(n: int = 400, seed: int = 0) -> Observed:
    """Right answers score high, wrong ones and questions to escalate low, with noise; a few
    escalations also carry a reject gap the hard rule can use."""
    rng = np.random.default_rng(seed)
    should = rng.random(n) < 0.35
    right = ~should & (rng.random(n) < 0.9)
    top = np.where(right, 0.8, 0.45) + rng.normal(0, 0.12, n)
    rows = [
        Signals(
            top=float(t),
            margin=float(abs(rng.normal(0.1, 0.05))),
            reject_gap=0.2 if s and rng.random() < 0.5 else -0.2,
        )
        for t, s in zip(top, should, strict=True)
    ]
    return Observed.from_rows(rows, list(right), list(should), [False] * n, Decider(Calibration()))


def test_weights_change_the_figures() -> None:
    obs = _observed()
    answered = ~obs.should_escalate
    plain = decision_figures(answered, obs)
    obs.weights = np.where(obs.should_escalate, 3.0, 1.0)
    weighted = decision_figures(answered, obs)
    assert plain["coverage"] > weighted["coverage"]
    assert abs(weighted["coverage"] - (~obs.should_escalate).sum() / obs.weights.sum()) < 1e-9


def test_fit_meets_its_targets_and_reports_cross_validated_figures() -> None:
    obs = _observed()
    cal, report = fit_calibration(
        obs, features=("top", "margin"), target_precision=0.9, max_wrong_rate=0.05
    )
    cv = report["cross_validated"]
    assert cv["n"] == len(obs)
    assert report["fitted_in_sample"]["answered_precision"] >= 0.9
    assert report["fitted_in_sample"]["wrong_answer_rate"] <= 0.05
    assert 0.0 < cal.answer_threshold < 1.0 and cal.features == ["top", "margin"]


def test_fit_rules_keeps_a_rule_only_where_it_pays() -> None:
    obs = _observed()
    # Make the reject rule fire on right answers: it can only cost accuracy now.
    obs.rejected = obs.correct.copy()
    cal, _ = fit_calibration(obs, fit_rules=True, features=("top", "margin"))
    assert cal.reject_wins is False
    assert set(FEATURES) >= set(cal.features)
