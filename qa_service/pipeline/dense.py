"""The dense leg: the question's nearest titles, alt questions and passages in the FAISS
index, as one score per entry and one per passage."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index import KIND_PASSAGE, IndexData
from .config import PipelineConfig


@dataclass(frozen=True)
class DenseScores:
    questions: np.ndarray  # per entry: its nearest title or alt question (density-corrected)
    passages: np.ndarray  # per passage: its similarity
    entries: np.ndarray  # per entry: the legs combined (questions, discounted passages)


def dense_scores(
    index: IndexData,
    query_vec: np.ndarray,
    passage_entry: np.ndarray,
    config: PipelineConfig,
) -> DenseScores:
    k = min(index.dense.ntotal, config.dense_candidates)
    sims, ids = index.dense.search(query_vec.reshape(1, -1), k)
    sims, ids = sims[0], ids[0]
    valid = ids >= 0
    sims, ids = sims[valid], ids[valid]

    n_e, n_p = index.n_entries, len(index.passages)
    q_sim = np.zeros(n_e, dtype=np.float32)
    p_sim = np.zeros(n_p, dtype=np.float32)
    kinds = index.item_kind[ids]
    ents = index.item_entry[ids]
    is_p = kinds == KIND_PASSAGE
    # Neighbours come best-first, so maximum.at keeps the best match per entry / passage.
    np.maximum.at(q_sim, ents[~is_p], sims[~is_p])
    if index.question_offsets is not None and config.density_correction:
        # Each entry against its own background: many wordings are not more evidence.
        q_sim = np.where(q_sim > 0, q_sim - index.question_offsets, 0.0).astype(np.float32)
    np.maximum.at(p_sim, index.item_passage[ids[is_p]], sims[is_p])
    pe_sim = np.zeros(n_e, dtype=np.float32)
    np.maximum.at(pe_sim, passage_entry, p_sim)

    legs = []
    if config.use_questions:
        legs.append(q_sim)
    if config.use_passages:
        legs.append(pe_sim * config.passage_weight)
    entries = np.maximum.reduce(legs) if legs else np.zeros(n_e, dtype=np.float32)
    return DenseScores(q_sim, p_sim, entries)
