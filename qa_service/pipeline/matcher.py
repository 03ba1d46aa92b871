"""A learned matcher: logistic regression over frozen embeddings of each entry's example
questions (title, alt questions), with one extra class for questions the FAQ does not
answer (``*.escalate.txt``).

Nearest-neighbour matching only sees the single closest example; a linear model weighs all of
an entry's examples at once. Training happens at index time (sklearn); prediction is one
matrix-vector product in numpy, so the query path stays cheap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import DEFAULTS


class Matcher:
    def __init__(self, coef: np.ndarray, intercept: np.ndarray, n_entries: int):
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.n_entries = n_entries

    @property
    def has_reject(self) -> bool:
        return self.coef.shape[0] > self.n_entries

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        labels: np.ndarray,
        n_entries: int,
        c: float = DEFAULTS.matcher_c,
        reject_weight: float = DEFAULTS.matcher_reject_weight,
    ) -> Matcher:
        """``labels`` are entry indices; ``n_entries`` marks a question that must escalate."""
        from sklearn.linear_model import LogisticRegression

        classes, counts = np.unique(labels, return_counts=True)
        n_classes = n_entries + int((labels == n_entries).any())
        weights = {
            int(k): len(labels) / (len(classes) * n) * (reject_weight if k == n_entries else 1.0)
            for k, n in zip(classes, counts, strict=True)
        }
        model = LogisticRegression(C=c, max_iter=3000, class_weight=weights)
        model.fit(vectors, labels)
        coef = np.zeros((n_classes, vectors.shape[1]), dtype=np.float32)
        # Classes without an example keep a very low intercept: they can never win.
        intercept = np.full(n_classes, -30.0, dtype=np.float32)
        if len(classes) == 2:  # sklearn stores one row for a binary problem
            coef[classes[1]], intercept[classes[1]] = model.coef_[0], model.intercept_[0]
            coef[classes[0]], intercept[classes[0]] = 0.0, 0.0
        else:
            coef[classes] = model.coef_
            intercept[classes] = model.intercept_
        return cls(coef, intercept, n_entries)

    def proba(self, vec: np.ndarray) -> np.ndarray:
        z = self.coef @ vec + self.intercept
        z -= z.max()
        e = np.exp(z)
        return e / e.sum()

    def save(self, path: Path) -> None:
        np.savez(path, coef=self.coef, intercept=self.intercept, n_entries=self.n_entries)

    @classmethod
    def load(cls, path: Path) -> Matcher:
        with np.load(path) as z:
            return cls(z["coef"], z["intercept"], int(z["n_entries"]))
