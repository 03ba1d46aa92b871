"""Hybrid retrieval: dense search over passages, titles and alt questions, plus BM25, fused
per FAQ entry, then passages ranked within and across entries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..corpus import Passage
from ..index import KIND_PASSAGE, IndexData
from . import details
from .lexical import query_terms
from .normalise import normalise
from .signals import Signals

_QUESTION_MARKS = frozenset("?\uff1f")
# How many dense neighbours to gather per query; small corpora are scanned whole.
DENSE_CANDIDATES = 256


@dataclass(frozen=True)
class RetrievalConfig:
    """Fusion weights. Defaults are the best measured on the dev questions (docs/quality.md)."""

    use_questions: bool = True  # match against titles and alt questions
    use_passages: bool = True  # match against answer text
    passage_weight: float = 0.9  # answer text is phrased unlike questions; discount it
    lexical_weight: float = 0.15  # BM25 vote, relative to the best-scoring entry
    within_entry_weight: float = 0.1  # how much passage similarity reorders inside an entry
    matcher_weight: float = 0.3  # learned matcher's probability, added to the fused score
    density_correction: bool = True  # each entry's similarity less its background's


@dataclass
class Hit:
    passage: Passage
    entry_index: int
    score: float
    # (start, end) of the sentence that answers best, when the passage has several
    highlight: tuple[int, int] | None = None


@dataclass
class Retrieval:
    hits: list[Hit]
    entry_order: np.ndarray  # entry indices, best first
    entry_scores: np.ndarray  # fused score per entry (index order)
    dense_scores: np.ndarray
    lexical_scores: np.ndarray
    signals: Signals


class Retriever:
    def __init__(self, index: IndexData, config: RetrievalConfig | None = None):
        self.index = index
        self.config = config or RetrievalConfig()
        n_entries = index.n_entries
        self._passage_entry = np.asarray([0] * len(index.passages), dtype=np.int32)
        pos = {e["id"]: i for i, e in enumerate(index.entries)}
        for i, p in enumerate(index.passages):
            self._passage_entry[i] = pos[p.faq_id]
        self._n_entries = n_entries
        # IDF over entries, for the "key terms missing from the answer" signal.
        terms = index.entry_terms or []
        df: dict[str, int] = {}
        for t_set in terms:
            for t in t_set:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(terms))
        self._idf = {t: float(np.log((n + 1) / (c + 0.5))) for t, c in df.items()}
        self._idf_unknown = float(np.log((n + 1) / 0.5))
        self._entry_passages: list[list[int]] = [[] for _ in range(n_entries)]
        for i, e in enumerate(self._passage_entry.tolist()):
            self._entry_passages[e].append(i)
        self._context = np.asarray(
            [
                p.context and len(self._entry_passages[e]) > 1
                for p, e in zip(index.passages, self._passage_entry.tolist(), strict=True)
            ],
            dtype=bool,
        )
        # A sentence that asks ("那么,如何联系客服呢?") frames the answer; it never is one.
        spans = [] if index.sentence_spans is None else index.sentence_spans.tolist()
        owners = [] if index.sentence_passage is None else index.sentence_passage.tolist()
        self._asks = np.asarray(
            [
                index.passages[p].text[a:b].rstrip()[-1:] in _QUESTION_MARKS
                for p, (a, b) in zip(owners, spans, strict=True)
            ],
            dtype=bool,
        )
        # Per entry, filled when it first comes top: its answer and what its examples ask for.
        self._details: dict[int, tuple[str, frozenset[str]]] = {}
        self._rules = details.rules(index.details_spec)

    def search(self, norm_query: str, query_vec: np.ndarray, top_k: int = 3) -> Retrieval:
        cfg, idx = self.config, self.index
        k = min(idx.dense.ntotal, DENSE_CANDIDATES)
        sims, ids = idx.dense.search(query_vec.reshape(1, -1), k)
        sims, ids = sims[0], ids[0]
        valid = ids >= 0
        sims, ids = sims[valid], ids[valid]

        n_e, n_p = self._n_entries, len(idx.passages)
        q_sim = np.zeros(n_e, dtype=np.float32)
        p_sim = np.zeros(n_p, dtype=np.float32)
        kinds = idx.item_kind[ids]
        ents = idx.item_entry[ids]
        is_p = kinds == KIND_PASSAGE
        # Neighbours come best-first, so maximum.at keeps the best match per entry / passage.
        np.maximum.at(q_sim, ents[~is_p], sims[~is_p])
        if idx.question_offsets is not None and cfg.density_correction:
            # Each entry against its own background: many wordings are not more evidence.
            q_sim = np.where(q_sim > 0, q_sim - idx.question_offsets, 0.0).astype(np.float32)
        np.maximum.at(p_sim, idx.item_passage[ids[is_p]], sims[is_p])
        pe_sim = np.zeros(n_e, dtype=np.float32)
        np.maximum.at(pe_sim, self._passage_entry, p_sim)

        legs = []
        if cfg.use_questions:
            legs.append(q_sim)
        if cfg.use_passages:
            legs.append(pe_sim * cfg.passage_weight)
        dense = np.maximum.reduce(legs) if legs else np.zeros(n_e, dtype=np.float32)

        lex = idx.lexical.scores(norm_query)
        lex_max = float(lex.max()) if lex.size else 0.0
        fused = dense.copy()
        # A leg with no signal (e.g. English against Chinese text) gets no vote at all.
        if cfg.lexical_weight and lex_max > 0:
            fused += cfg.lexical_weight * (lex / lex_max)

        probs = None
        if idx.matcher is not None and cfg.matcher_weight:
            probs = idx.matcher.proba(query_vec)
            fused += cfg.matcher_weight * probs[:n_e]

        order = np.argsort(-fused, kind="stable")
        # Passage score: its entry's score, nudged by how well the passage answers: the
        # passage as a whole, or its best sentence ("支持Visa卡吗" names Visa in one sentence of
        # the second payment paragraph). A context passage comes after its siblings.
        answers, highlights = self._answering(query_vec, order[:top_k], p_sim)
        best_in_entry = np.full(n_e, -1.0, dtype=np.float32)
        np.maximum.at(best_in_entry, self._passage_entry, answers)
        p_score = fused[self._passage_entry] - cfg.within_entry_weight * (
            best_in_entry[self._passage_entry] - answers
        )
        p_order = np.argsort(-p_score, kind="stable")[:top_k]
        hits = [
            Hit(
                idx.passages[i],
                int(self._passage_entry[i]),
                float(p_score[i]),
                highlights.get(int(i)),
            )
            for i in p_order
        ]

        top = float(fused[order[0]]) if n_e else 0.0
        second = float(fused[order[1]]) if n_e > 1 else 0.0
        features = {
            "top": top,
            "margin": top - second,
            "dense_top": float(dense[order[0]]) if n_e else 0.0,
            "dense_max": float(dense.max()) if n_e else 0.0,
            "lex_max": float(np.log1p(lex_max)),
            "lex_agree": float(lex_max > 0 and int(np.argmax(lex)) == int(order[0])),
        }
        if n_e:
            sparse = 1.0 / (1.0 + len(idx.entries[int(order[0])].get("alt_questions", ())))
            features.update(
                sparse=sparse, sparse_top=sparse * top, sparse_margin=sparse * (top - second)
            )
            features.update(
                self._answerability(norm_query, query_vec, int(order[0]), dense, q_sim, probs)
            )
        return Retrieval(hits, order, fused, dense, lex, Signals(**features))

    def _answering(
        self, query_vec: np.ndarray, entries: np.ndarray, p_sim: np.ndarray
    ) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
        """How well each passage answers (the best of its own and its best sentence's
        similarity; a context passage -1), and the best sentence's span, for the passages
        of ``entries``."""
        idx = self.index
        answers = p_sim.astype(np.float32).copy()
        highlights: dict[int, tuple[int, int]] = {}
        if idx.sentence_vectors is not None and len(idx.sentence_vectors):
            wanted = [p for e in entries.tolist() for p in self._entry_passages[e]]
            rows = np.flatnonzero(np.isin(idx.sentence_passage, wanted))
            if rows.size:
                sims = idx.sentence_vectors[rows] @ query_vec
                owners = idx.sentence_passage[rows]
                sims = np.where(self._asks[rows], -1.0, sims)
                for p in np.unique(owners).tolist():
                    mine = owners == p
                    best = int(np.argmax(np.where(mine, sims, -2.0)))
                    answers[p] = max(float(answers[p]), float(sims[best]))
                    if mine.sum() > 1:
                        start, end = idx.sentence_spans[rows[best]].tolist()
                        highlights[p] = (start, end)
        answers[self._context] = -1.0
        return answers, highlights

    def _entry_details(self, entry: int) -> tuple[str, frozenset[str]]:
        """The entry's answer as the customer reads it and the details its examples ask for
        (``details.missing``'s arguments). Computed lazily: a large corpus loads no slower."""
        found = self._details.get(entry)
        if found is None:
            idx = self.index
            answer = "\n".join(idx.passages[i].text for i in self._entry_passages[entry])
            e = idx.entries[entry]
            examples = (normalise(q) for q in (e["question"], *e.get("alt_questions", ())))
            found = normalise(answer), self._rules.asked_by(examples)
            self._details[entry] = found  # one assignment: concurrent queries are safe
        return found

    def _answerability(
        self,
        norm_query: str,
        query_vec: np.ndarray,
        top: int,
        dense: np.ndarray,
        q_sim: np.ndarray,
        probs: np.ndarray | None,
    ) -> dict[str, float]:
        """Signals that the best entry, however close, does not answer this question."""
        idx, n_e = self.index, self._n_entries
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
            out["neg_gap"] = neg_sim - float(dense[top])
            reject = neg_sim + self.config.matcher_weight * out.get("clf_reject", 0.0)
            entry = float(q_sim[top]) + self.config.matcher_weight * out.get("clf_top", 0.0)
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
