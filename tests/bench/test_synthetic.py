"""Synthetic corpora and vectors used by the scale runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_service.bench.synthetic import VectorModel, sentences_of, write_text_corpus
from qa_service.corpus import load_corpus
from qa_service.embedders import Embedder

from ..conftest import CORPUS


def test_text_corpus_has_the_requested_unique_passages(tmp_path: Path) -> None:
    real = load_corpus(CORPUS)
    sentences = sentences_of([p.text for p in real.passages])
    assert len(sentences) > len(real.passages)  # paragraphs split into sentences
    shapes = [(e.question, len(e.paragraphs), e.alt_questions) for e in real.entries]
    path = write_text_corpus(tmp_path / "c" / "faq.jsonl", sentences, shapes, 57, seed=3)
    corpus = load_corpus(path.parent)
    assert len(corpus.passages) == 57
    assert len({p.text for p in corpus.passages}) == 57
    assert sum(len(e.alt_questions) for e in corpus.entries) > len(corpus.entries)
    with pytest.raises(ValueError):
        write_text_corpus(tmp_path / "x.jsonl", [], shapes, 5)


def test_vectors_are_unit_length_and_near_real_ones(embedder: Embedder) -> None:
    real = load_corpus(CORPUS)
    anchors = embedder.encode_passages([p.text for p in real.passages])
    model = VectorModel(anchors)
    x = model.sample(500, seed=1)
    assert x.shape == (500, embedder.dim) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(x, model.sample(500, seed=1))
    nearest = (x @ anchors.T).max(axis=1)
    # Close to some real passage, yet not a copy of it: neighbourhoods with real spread.
    assert 0.3 < float(np.median(nearest)) < 0.99
    with pytest.raises(ValueError):
        VectorModel(anchors[:1])
