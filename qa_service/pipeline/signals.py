"""Signals: what retrieval measured about a question and its best entry, handed to the
decision and to the calibration fit as one typed record rather than a dict of strings
(``measure.SignalMeter`` measures them).

A field is None when the index cannot measure it (no matcher, no "not covered" examples, no
content at all); the confidence model reads it as 0. A calibration naming a signal that does
not exist is refused when it loads, not when the first question arrives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Signals:
    # The fused ranking: the best entry's score and its lead over the next.
    top: float | None = None
    margin: float | None = None
    dense_top: float | None = None  # the dense legs alone, for the best entry
    dense_max: float | None = None  # and for whichever entry they liked best
    lex_max: float | None = None  # log(1 + the best BM25 score)
    lex_agree: float | None = None  # 1 when BM25's best entry is the fused best
    # The learned matcher: its probability for the best entry and for "not covered".
    clf_top: float | None = None
    clf_reject: float | None = None
    clf_agree: float | None = None
    # The "not covered" examples competing like one more entry (> 0: they win).
    neg_gap: float | None = None
    reject_gap: float | None = None
    missing_terms: float | None = None  # IDF share of the question's terms the entry lacks
    detail_missing: float | None = None  # 1 when it asks a detail the answer does not give
    # How few examples the best entry has (1 for a title alone), alone and with the two
    # signals it changes the meaning of: a lone title is matched less closely than the
    # nearest of 300 wordings, at the same odds of being right.
    sparse: float | None = None
    sparse_top: float | None = None
    sparse_margin: float | None = None

    def value(self, name: str) -> float:
        """The signal as the confidence model reads it: 0 when not measured."""
        v = getattr(self, name)
        return 0.0 if v is None else float(v)

    def vector(self, names: Iterable[str] | None = None) -> list[float]:
        return [self.value(n) for n in (names or FEATURES)]

    def as_dict(self) -> dict[str, float]:
        """The measured signals by name (the API's debug output, reports)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_vector(cls, values: Sequence[float], names: Sequence[str] | None = None) -> Signals:
        return cls(**dict(zip(names or FEATURES, (float(v) for v in values), strict=True)))


# Every signal, in a fixed order: the columns of a fit's design matrix.
FEATURES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Signals))


def check_names(names: Iterable[str], where: str = "calibration") -> None:
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ValueError(
            f"{where} names unknown signal(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}"
        )
