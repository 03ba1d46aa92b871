"""Measuring the signals (``Signals``) for one question from the stages' scores: how sure the
ranking is, and whether its best entry, however close, answers this question at all: the
reject gap to the "not covered" examples, the key terms the entry lacks, the detail its
answer does not give."""

from __future__ import annotations

import numpy as np

from ..index import IndexData
from . import details
from .config import PipelineConfig
from .dense import DenseScores
from .lexical import query_terms
from .signals import Signals


class SignalMeter:
    """Measures the signals for one question from the stages' scores: how sure the ranking
    is, and whether its best entry, however close, answers this question at all."""

    def __init__(
        self, index: IndexData, config: PipelineConfig, entry_passages: list[list[int]]
    ) -> None:
        self.index = index
        self.config = config
        self.entry_passages = entry_passages
        # IDF over entries, for the "key terms missing from the answer" signal.
        terms = index.entry_terms or []
        df: dict[str, int] = {}
        for t_set in terms:
            for t in t_set:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(terms))
        self._idf = {t: float(np.log((n + 1) / (c + 0.5))) for t, c in df.items()}
        self._idf_unknown = float(np.log((n + 1) / 0.5))
        # Per entry, filled when it first comes top: its answer and what its examples ask for.
        self._details: dict[int, tuple[str, frozenset[str]]] = {}
        self._rules = details.rules(index.details_spec)

    def measure(
        self,
        norm_query: str,
        query_vec: np.ndarray,
        fused: np.ndarray,
        order: np.ndarray,
        dense: DenseScores,
        lexical: np.ndarray,
        matcher: np.ndarray | None,
    ) -> Signals:
        n_e = len(fused)
        lex_max = float(lexical.max()) if lexical.size else 0.0
        top = float(fused[order[0]]) if n_e else 0.0
        second = float(fused[order[1]]) if n_e > 1 else 0.0
        out: dict[str, float] = {
            "top": top,
            "margin": top - second,
            "dense_top": float(dense.entries[order[0]]) if n_e else 0.0,
            "dense_max": float(dense.entries.max()) if n_e else 0.0,
            "lex_max": float(np.log1p(lex_max)),
            "lex_agree": float(lex_max > 0 and int(np.argmax(lexical)) == int(order[0])),
        }
        if n_e:
            best = int(order[0])
            sparse = 1.0 / (1.0 + len(self.index.entries[best].get("alt_questions", ())))
            out.update(
                sparse=sparse, sparse_top=sparse * top, sparse_margin=sparse * (top - second)
            )
            out.update(self._answerability(norm_query, query_vec, best, dense, matcher))
        return Signals(**out)

    def _entry_details(self, entry: int) -> tuple[str, frozenset[str]]:
        """The entry's answer as the customer reads it and the details its examples ask for
        (``details.missing``'s arguments). Computed lazily: a large corpus loads no slower."""
        found = self._details.get(entry)
        if found is None:
            idx = self.index
            answer = "\n".join(idx.passages[i].text for i in self.entry_passages[entry])
            e = idx.entries[entry]
            examples = (idx.normalise(q) for q in (e["question"], *e.get("alt_questions", ())))
            found = idx.normalise(answer), self._rules.asked_by(examples)
            self._details[entry] = found  # one assignment: concurrent queries are safe
        return found

    def _answerability(
        self,
        norm_query: str,
        query_vec: np.ndarray,
        top: int,
        dense: DenseScores,
        probs: np.ndarray | None,
    ) -> dict[str, float]:
        """Signals that the best entry, however close, does not answer this question."""
        idx, n_e = self.index, self.index.n_entries
        out: dict[str, float] = {}
        if probs is not None:
            out["clf_top"] = float(probs[top])
            out["clf_reject"] = float(probs[n_e]) if idx.matcher.has_reject else 0.0
            out["clf_agree"] = float(int(np.argmax(probs[:n_e])) == top)
        if idx.negatives is not None and len(idx.negatives):
            # The "not covered" examples compete like one more entry, on the same legs (nearest
            # example question + matcher probability). When they win, a human should answer.
            neg_sim = float((idx.negatives @ query_vec).max())
            if self.config.density_correction:
                neg_sim -= idx.negative_offset
            out["neg_gap"] = neg_sim - float(dense.entries[top])
            reject = neg_sim + self.config.matcher_weight * out.get("clf_reject", 0.0)
            entry = float(dense.questions[top]) + self.config.matcher_weight * out.get(
                "clf_top", 0.0
            )
            out["reject_gap"] = reject - entry
        if idx.entry_terms:
            toks = set(query_terms(norm_query))
            if toks:
                weights = {t: self._idf.get(t, self._idf_unknown) for t in toks}
                missing = sum(w for t, w in weights.items() if t not in idx.entry_terms[top])
                out["missing_terms"] = missing / sum(weights.values())
        # A duration, a rate, a named platform... that the best entry's answer does not give.
        gap = self._rules.missing(norm_query, *self._entry_details(top))
        out["detail_missing"] = float(bool(gap))
        return out
