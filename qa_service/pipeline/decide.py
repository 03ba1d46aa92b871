"""Answer-or-escalate decision and the confidence attached to it.

Rasa's FallbackClassifier, with data behind it: a calibrated ``confidence`` (the estimated
probability that the top answer is right), an absolute threshold on it, and an ambiguity
margin on the gap between the two best entries. The numbers come from a calibration file
written by ``qa-service calibrate``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from .signals import FEATURES, Signals, check_names

__all__ = ["FEATURES", "REASONS", "Calibration", "Decider", "Decision", "Signals"]

REASONS = ("low_confidence", "ambiguous", "out_of_scope", "no_index")


@dataclass
class Calibration:
    answer_threshold: float = 0.5
    ambiguity_margin: float = 0.0
    min_top: float = 0.0  # below this raw score an escalation is labelled out_of_scope
    reject_wins: bool = True  # escalate when the "not covered" examples beat every entry
    reject_confidence: float = 0.05  # share of such escalations whose top answer was right
    # escalate when the question asks for a detail (a duration, a rate, a named platform...)
    # that the best entry's answer does not give
    detail_rule: bool = True
    detail_confidence: float = 0.05  # share of such escalations whose top answer was right
    # Without a fit: the best entry's fused score and its lead over the next one.
    features: list[str] = field(default_factory=lambda: ["top", "margin"])
    coef: list[float] = field(default_factory=lambda: [12.0, 6.0])
    intercept: float = -7.0
    info: dict = field(default_factory=dict)
    # For questions whose best entry has fewer than ``sparse_below`` example questions: the
    # calibration fitted on what the corpus says about itself alone. Labelled questions speak
    # of the entries they were written for; an editor's new entry, with a title only, is
    # judged as a corpus of such entries is (docs/living-faq.md).
    sparse: Calibration | None = None
    sparse_below: int = 3

    def __post_init__(self) -> None:
        if len(self.features) != len(self.coef):
            raise ValueError(
                f"calibration pairs {len(self.features)} features with {len(self.coef)} "
                "coefficients"
            )
        check_names(self.features)
        if isinstance(self.sparse, dict):
            self.sparse = Calibration.from_dict(self.sparse)

    def for_signals(self, signals: Signals) -> Calibration:
        """The calibration that judges this question: ``sparse`` when its best entry has
        few examples (``Signals.sparse`` is 1 / (1 + its alt questions))."""
        if self.sparse is not None and signals.value("sparse") * (1 + self.sparse_below) > 1:
            return self.sparse
        return self

    @classmethod
    def from_dict(cls, data: dict) -> Calibration:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def confidence(self, signals: Signals) -> float:
        z = self.intercept + sum(
            c * signals.value(f) for f, c in zip(self.features, self.coef, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        if path is None:
            text = (
                resources.files("qa_service")
                .joinpath("defaults/calibration.json")
                .read_text("utf-8")
            )
        else:
            text = Path(path).read_text("utf-8")
        return cls.from_dict(json.loads(text))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", "utf-8")


@dataclass(frozen=True)
class Decision:
    escalate: bool
    reason: str | None
    confidence: float
    rule: str | None = None  # the hard rule that escalated ("reject", "detail"), if any


class Decider:
    def __init__(self, calibration: Calibration):
        self.calibration = calibration

    def hard_rule(self, signals: Signals) -> str | None:
        """Which rule escalates whatever the confidence: "reject", "detail" or none."""
        cal = self.calibration.for_signals(signals)
        if cal.reject_wins and signals.value("reject_gap") > 0:
            # Closer to a question the FAQ is known not to answer than to any entry.
            return "reject"
        if cal.detail_rule and signals.value("detail_missing") > 0:
            # The answer is on topic but cannot say what was asked; a person can.
            return "detail"
        return None

    def decide(self, signals: Signals, has_content: bool = True) -> Decision:
        cal = self.calibration.for_signals(signals)
        if not has_content:
            return Decision(True, "out_of_scope", 0.0)
        conf = cal.confidence(signals)
        rule = self.hard_rule(signals)
        if rule is not None:
            ceiling = cal.reject_confidence if rule == "reject" else cal.detail_confidence
            return Decision(True, "out_of_scope", min(conf, ceiling), rule)
        if conf < cal.answer_threshold:
            # Far from every entry reads as "not in the FAQ" rather than "unsure".
            far = signals.value("top") < cal.min_top
            return Decision(True, "out_of_scope" if far else "low_confidence", conf)
        if signals.margin is not None and signals.margin < cal.ambiguity_margin:
            return Decision(True, "ambiguous", conf)
        return Decision(False, None, conf)
