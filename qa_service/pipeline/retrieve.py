"""Retrieval, composed of its stages: the dense leg (``dense``), BM25 (``lexical``) and the
learned matcher (``matcher``) vote per FAQ entry; ``fuse`` sums the votes and ranks the
passages; ``measure`` turns the scores into the decision's ``Signals``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index import IndexData
from .config import PipelineConfig
from .dense import dense_scores
from .fuse import Hit, PassageRanker, fuse
from .language import main_language
from .measure import SignalMeter
from .signals import Signals

__all__ = ["Hit", "Retrieval", "Retriever"]


@dataclass
class Retrieval:
    hits: list[Hit]
    entry_order: np.ndarray  # entry indices, best first
    entry_scores: np.ndarray  # fused score per entry (index order)
    dense_scores: np.ndarray
    lexical_scores: np.ndarray
    signals: Signals


class Retriever:
    def __init__(self, index: IndexData, config: PipelineConfig | None = None):
        self.index = index
        self.config = config or PipelineConfig()
        pos = {e["id"]: i for i, e in enumerate(index.entries)}
        # Which entry each passage belongs to (passage order).
        self.passage_entry = np.asarray([pos[p.faq_id] for p in index.passages], dtype=np.int32)
        entry_passages: list[list[int]] = [[] for _ in range(index.n_entries)]
        for i, e in enumerate(self.passage_entry.tolist()):
            entry_passages[e].append(i)
        self._ranker = PassageRanker(index, self.passage_entry, entry_passages)
        self._meter = SignalMeter(index, self.config, entry_passages)
        # Each entry's language, for the lexical leg's blindness across languages.
        self._languages = np.asarray([main_language(e["question"]) for e in index.entries])
        self._sparse = np.asarray(
            [
                len(e.get("alt_questions", ())) < self.config.matcher_sparse_below
                for e in index.entries
            ],
            dtype=bool,
        )

    def search(self, norm_query: str, query_vec: np.ndarray, top_k: int = 3) -> Retrieval:
        cfg, idx = self.config, self.index
        dense = dense_scores(idx, query_vec, self.passage_entry, cfg)
        lexical = idx.lexical.scores(norm_query)
        matcher = None
        if idx.matcher is not None and cfg.matcher_weight:
            matcher = idx.matcher.proba(query_vec)
        blind = None
        if cfg.lexical_blind_scale > 0:
            blind = self._languages != main_language(norm_query)
        fused = fuse(dense.entries, lexical, matcher, cfg, self._sparse, blind)
        order = np.argsort(-fused, kind="stable")
        hits = self._ranker.rank(query_vec, fused, order, dense.passages, top_k, cfg)
        signals = self._meter.measure(norm_query, query_vec, fused, order, dense, lexical, matcher)
        return Retrieval(hits, order, fused, dense.entries, lexical, signals)
