"""Not-covered lines an entry now answers are reported, left out, and fail --strict."""

import json
from pathlib import Path

import pytest

from qa_service.corpus import CorpusError, load_corpus
from qa_service.embedders import Embedder
from qa_service.index import VectorCache
from qa_service.indexing import build_index
from qa_service.stale import find_stale

ROOT = Path(__file__).resolve().parent.parent


def _corpus(tmp_path: Path) -> Path:
    src = tmp_path / "corpus"
    src.mkdir()
    for f in (ROOT / "corpus").iterdir():
        (src / f.name).write_bytes(f.read_bytes())
    entry = {
        "id": "refund-request",
        "question": "如何申请退款?",
        "answer": "向商户付款后需要退款,请先联系该商户,由商户发起退款,款项原路退回。",
    }
    (src / "new.jsonl").write_text(json.dumps(entry, ensure_ascii=False) + "\n", "utf-8")
    return src


def test_okpay_not_covered_file_has_no_stale_line(embedder: Embedder) -> None:
    assert find_stale(load_corpus(ROOT / "corpus"), VectorCache(embedder)) == []


def test_a_new_entry_makes_its_not_covered_line_stale(tmp_path: Path, embedder: Embedder) -> None:
    corpus = load_corpus(_corpus(tmp_path))
    stale = find_stale(corpus, VectorCache(embedder))
    texts = {s.negative.text: s for s in stale}
    assert "怎么申请退款" in texts
    line = texts["怎么申请退款"]
    assert line.entry_id == "refund-request"
    assert str(line).startswith(f"corpus/not_covered.escalate.txt:{line.negative.line}: ")
    assert "not-covered question now matches entry refund-request" in str(line)
    # Lines about other topics stay.
    assert "每天最多能转多少钱" not in texts


def test_build_leaves_stale_lines_out_and_strict_fails(tmp_path: Path, embedder: Embedder) -> None:
    src = _corpus(tmp_path)
    built = build_index(src, tmp_path / "index", embedder, fit=False)
    assert any("refund-request" in s for s in built.manifest["stale_not_covered"])
    n_lines = len(load_corpus(src).negatives)
    assert built.manifest["negative_count"] == n_lines - len(built.stale)
    with pytest.raises(CorpusError, match="not-covered question now matches entry"):
        build_index(src, tmp_path / "strict", embedder, fit=False, strict=True)
