"""Calibrate on labelled questions: observe each through the service exactly as users are
served, then fit the decision (``qa_service.fitting``)."""

from __future__ import annotations

from ..derived import observe_labelled
from ..fitting import (
    DEFAULT_C,
    DEFAULT_FEATURES,
    DEFAULT_MAX_WRONG_RATE,
    Observed,
    decision_figures,
    fit_calibration,
)
from ..labelled import LabelledQuestion
from ..pipeline.decide import Decider
from ..service import QAService

__all__ = [
    "DEFAULT_C",
    "DEFAULT_FEATURES",
    "DEFAULT_MAX_WRONG_RATE",
    "Observed",
    "calibrate",
    "decision_figures",
    "observe",
]


def observe(service: QAService, questions: list[LabelledQuestion]) -> Observed:
    """Each question asked through the service, as users are served."""
    return observe_labelled(
        questions,
        lambda q: service.ask(q, top_k=1, channel="eval"),
        Decider(service.calibration),
    )


def calibrate(
    service: QAService,
    questions: list[LabelledQuestion],
    target_precision: float = 0.95,
    folds: int = 5,
    seed: int = 0,
    features: tuple[str, ...] = DEFAULT_FEATURES,
    c: float = DEFAULT_C,
    max_wrong_rate: float | None = None,
):
    """Fit on ``questions``; ``features`` are the retrieval signals the confidence model uses.

    ``max_wrong_rate`` caps wrongly answered questions as a share of all of them."""
    obs = observe(service, questions)
    cal, report = fit_calibration(
        obs,
        base=service.calibration,
        target_precision=target_precision,
        max_wrong_rate=max_wrong_rate,
        folds=folds,
        seed=seed,
        features=features,
        c=c,
    )
    cal.info["embedder"] = service.embedder.spec
    return cal, report
