"""Fusion and ranking: the legs' votes (dense, BM25, the learned matcher) summed per entry,
then the passages ranked within and across the best entries by how well each answers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..corpus import Passage
from ..index import IndexData
from .config import PipelineConfig

_QUESTION_MARKS = frozenset("?\uff1f")


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    matcher: np.ndarray | None,
    config: PipelineConfig,
    sparse: np.ndarray | None = None,
    blind: np.ndarray | None = None,
) -> np.ndarray:
    """One score per entry: the dense score, plus BM25 relative to its best entry, plus the
    matcher's probability, each weighted. ``sparse`` marks entries with too few examples for
    the matcher to know them: they take the best vote of the others instead of their own.
    ``blind`` marks entries written in another language than the question."""
    fused = dense.copy()
    lex_max = float(lexical.max()) if lexical.size else 0.0
    # A leg with no signal (e.g. English against Chinese text) gets no vote at all...
    votes = lexical / lex_max if lex_max > 0 else np.zeros_like(dense)
    if blind is not None and blind.any() and config.lexical_blind_scale > 0:
        # ...unless it is blind by language: then the dense leg stands in for it, so an
        # English question is not a lexical vote short of a Chinese one.
        d = dense[blind]
        votes = np.where(blind, 0.0, votes)
        votes[blind] = np.exp(-(d.max() - d) / config.lexical_blind_scale)
    if config.lexical_weight and votes.any():
        fused += config.lexical_weight * votes
    if matcher is not None and config.matcher_weight:
        votes = matcher[: len(dense)]
        if sparse is not None and sparse.any() and not sparse.all():
            lent = config.matcher_sparse_share * votes[~sparse].max()
            votes = np.where(sparse, np.maximum(votes, lent), votes)
        fused += config.matcher_weight * votes
    return fused


@dataclass
class Hit:
    passage: Passage
    entry_index: int
    score: float
    # (start, end) of the sentence that answers best, when the passage has several
    highlight: tuple[int, int] | None = None


class PassageRanker:
    """Passage score: its entry's fused score, nudged by how well the passage answers: the
    passage as a whole, or its best sentence ("支持Visa卡吗" names Visa in one sentence of the
    second payment paragraph). A context passage comes after its siblings."""

    def __init__(
        self, index: IndexData, passage_entry: np.ndarray, entry_passages: list[list[int]]
    ) -> None:
        self.index = index
        self.passage_entry = passage_entry
        self.entry_passages = entry_passages
        self._context = np.asarray(
            [
                p.context and len(entry_passages[e]) > 1
                for p, e in zip(index.passages, passage_entry.tolist(), strict=True)
            ],
            dtype=bool,
        )
        # Labelled questions naming passages: an entry whose passages (context ones aside)
        # all have some is ranked within by them, question against question, which tells
        # "账户被冻结了怎么解冻" (the remedy) from "为什么会被冻结" (the reasons) better
        # than either against the passages' text (docs/living-faq.md).
        self._examples: dict[int, np.ndarray] = {}
        if index.passage_examples is not None and index.passage_example_owner is not None:
            owners = index.passage_example_owner
            for members in entry_passages:
                shown = [p for p in members if not self._context[p]]
                if len(shown) > 1 and all((owners == p).any() for p in shown):
                    for p in shown:
                        self._examples[p] = index.passage_examples[owners == p]
        # A sentence that asks ("那么,如何联系客服呢?") frames the answer; it never is one.
        spans: list[list[int]] = []
        owners: list[int] = []
        if (
            index.sentence_vectors is not None
            and len(index.sentence_vectors)
            and index.sentence_spans is not None
            and index.sentence_passage is not None
        ):
            spans, owners = index.sentence_spans.tolist(), index.sentence_passage.tolist()
        asks = [
            index.passages[p].text[a:b].rstrip()[-1:] in _QUESTION_MARKS
            for p, (a, b) in zip(owners, spans, strict=True)
        ]
        # Per passage, its sentences' rows, spans and which of them ask: laid out once, so a
        # query only multiplies the rows of the passages it ranks.
        rows: dict[int, list[int]] = {}
        for row, p in enumerate(owners):
            rows.setdefault(p, []).append(row)
        self._sentences = {
            p: (np.asarray(r, dtype=np.int64), [spans[i] for i in r], [asks[i] for i in r])
            for p, r in rows.items()
        }

    def rank(
        self,
        query_vec: np.ndarray,
        fused: np.ndarray,
        order: np.ndarray,
        passage_sims: np.ndarray,
        top_k: int,
        config: PipelineConfig,
    ) -> list[Hit]:
        answers, highlights = self._answering(query_vec, order[:top_k], passage_sims)
        best_in_entry = np.full(len(fused), -1.0, dtype=np.float32)
        np.maximum.at(best_in_entry, self.passage_entry, answers)
        p_score = fused[self.passage_entry] - config.within_entry_weight * (
            best_in_entry[self.passage_entry] - answers
        )
        p_order = np.argsort(-p_score, kind="stable")[:top_k]
        return [
            Hit(
                self.index.passages[i],
                int(self.passage_entry[i]),
                float(p_score[i]),
                highlights.get(int(i)),
            )
            for i in p_order
        ]

    def _answering(
        self, query_vec: np.ndarray, entries: np.ndarray, p_sim: np.ndarray
    ) -> tuple[np.ndarray, dict[int, tuple[int, int]]]:
        """How well each passage answers (the best of its own and its best sentence's
        similarity; a context passage -1), and the best sentence's span, for the passages
        of ``entries``."""
        answers = p_sim.astype(np.float32).copy()
        highlights: dict[int, tuple[int, int]] = {}
        mine = [
            (p, found)
            for e in entries.tolist()
            for p in self.entry_passages[e]
            if (found := self._sentences.get(p)) is not None
        ]
        if mine:
            rows = np.concatenate([r for _, (r, _, _) in mine])
            sims = (self.index.sentence_vectors[rows] @ query_vec).tolist()
            at = 0
            for p, (r, spans, asks) in mine:
                # The best sentence that does not ask (the first on a tie), -1 when all ask.
                scored = [-1.0 if ask else sims[at + i] for i, ask in enumerate(asks)]
                at += len(r)
                best = max(range(len(scored)), key=scored.__getitem__)
                answers[p] = max(float(answers[p]), scored[best])
                if len(scored) > 1:
                    highlights[p] = (spans[best][0], spans[best][1])
        if self._examples:
            for p in (p for e in entries.tolist() for p in self.entry_passages[e]):
                examples = self._examples.get(p)
                if examples is not None:
                    answers[p] = float((examples @ query_vec).max())
        answers[self._context] = -1.0
        return answers, highlights
