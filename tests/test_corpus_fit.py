"""The escalation fit of a large corpus: derived questions from a sample of its entries, asked
of variants built as the served index is built."""

import json
from pathlib import Path

import pytest

from qa_service.corpus import load_corpus
from qa_service.corpus_fit import FIT_MAX_ENTRIES, fit_sample
from qa_service.embedders import Embedder
from qa_service.index import MATCHER_MAX_ENTRIES
from qa_service.indexing import build_index

ROOT = Path(__file__).resolve().parent
SHOP = ROOT / "data" / "shop" / "corpus"


def _big_corpus(path: Path, n: int) -> Path:
    """``n`` entries made from the shop's ten, each with a few example questions."""
    shop = [json.loads(line) for line in (SHOP / "shop_faq.jsonl").read_text("utf-8").splitlines()]
    with (path / "faq.jsonl").open("w", encoding="utf-8") as f:
        for i in range(n):
            e = shop[i % len(shop)]
            row = {
                "id": f"e{i}",
                "question": f"{e['question']}(第{i}条)",
                "alt_questions": [f"{e['question']} {k}-{i}" for k in range(3)],
                "answer": f"{e['answer']}(编号{i})",
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def test_a_small_corpus_is_fitted_on_all_its_entries() -> None:
    corpus = load_corpus(SHOP)
    assert fit_sample(corpus) is corpus


def test_a_large_corpus_is_fitted_on_a_fixed_random_sample(tmp_path: Path) -> None:
    corpus = load_corpus(_big_corpus(tmp_path, FIT_MAX_ENTRIES + 50))
    sample = fit_sample(corpus)
    ids = [e.id for e in sample.entries]
    assert len(ids) == FIT_MAX_ENTRIES and len(set(ids)) == len(ids)
    order = {e.id: i for i, e in enumerate(corpus.entries)}
    assert [order[i] for i in ids] == sorted(order[i] for i in ids)  # in corpus order
    assert [e.id for e in fit_sample(corpus).entries] == ids  # the same every build
    assert sample.negatives == corpus.negatives


@pytest.mark.slow
def test_a_corpus_too_large_for_the_matcher_is_fitted_without_one(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Above MATCHER_MAX_ENTRIES the served index has no matcher; the fit's sample must not
    learn odds from one either, and the build records how many entries it drew on."""
    (tmp_path / "corpus").mkdir()
    corpus_dir = _big_corpus(tmp_path / "corpus", MATCHER_MAX_ENTRIES + 1)
    build = build_index(corpus_dir, tmp_path / "index", embedder)
    m = build.manifest
    assert not m["matcher"]
    assert m["calibration"]["derived_entries"] == FIT_MAX_ENTRIES
    assert m["calibration"]["cross_validated"]["n"] > 0
