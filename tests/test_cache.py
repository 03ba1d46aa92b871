"""The LRU cache of retrieval results, alone and inside QAService with a real index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa_service.cache import RetrievalCache
from qa_service.config import Settings
from qa_service.embedders import Embedder
from qa_service.indexing import build_index
from qa_service.pipeline.signals import Signals
from qa_service.service import QAService

from .conftest import CORPUS


def _p(pid: str) -> dict:
    return {"id": pid, "faq_id": pid.split("#")[0], "title": "t", "text": "x", "score": 0.5}


def test_least_recently_used_goes_first() -> None:
    cache = RetrievalCache(max_size=2)
    cache.put("b1", "a", 3, ([_p("a#1")], Signals(top=0.1), None))
    cache.put("b1", "b", 3, ([_p("b#1")], Signals(top=0.2), None))
    assert cache.get("b1", "a", 3) is not None  # "a" is now the most recent
    cache.put("b1", "c", 3, ([_p("c#1")], Signals(top=0.3), None))
    assert cache.get("b1", "b", 3) is None and len(cache) == 2
    assert cache.get("b1", "a", 3)[0][0]["id"] == "a#1"
    assert cache.get("b1", "c", 3)[1] == Signals(top=0.3)
    assert (cache.hits, cache.misses) == (3, 1)


def test_keys_hold_build_and_top_k() -> None:
    cache = RetrievalCache()
    cache.put("b1", "q", 3, ([_p("a#1")], Signals(), None))
    assert cache.get("b2", "q", 3) is None and cache.get("b1", "q", 5) is None
    cache.clear()
    assert cache.get("b1", "q", 3) is None and len(cache) == 0


def test_callers_get_copies() -> None:
    cache = RetrievalCache()
    passages = [_p("a#1")]
    cache.put("b", "q", 3, (passages, Signals(top=0.9), None))
    passages[0]["text"] = "changed after put"
    got, _, _ = cache.get("b", "q", 3)
    got[0]["text"] = "masked by a caller"
    again, signals, _ = cache.get("b", "q", 3)
    assert again[0]["text"] == "x" and signals == Signals(top=0.9)  # Signals are frozen


def test_size_zero_turns_it_off() -> None:
    cache = RetrievalCache(max_size=0)
    cache.put("b", "q", 3, ([_p("a#1")], Signals(), None))
    assert cache.get("b", "q", 3) is None and len(cache) == 0
    with pytest.raises(ValueError):
        RetrievalCache(max_size=-1)


@pytest.fixture()
def fresh_service(tmp_path: Path, embedder: Embedder, index_dir: Path) -> QAService:
    own = tmp_path / "index"
    shutil.copytree(index_dir, own, symlinks=True)
    svc = QAService(Settings(index_dir=own, data_dir=tmp_path / "data"), embedder=embedder)
    svc.load()
    return svc


def test_repeated_questions_are_served_from_the_cache(fresh_service: QAService) -> None:
    svc = fresh_service
    first = svc.ask("忘记密码了怎么办?")
    # Same question after normalisation: traditional characters, full-width mark, spaces.
    again = svc.ask("  忘記密碼了怎麼辦? ")
    assert (svc.cache.hits, svc.cache.misses) == (1, 1)
    assert again.query_id != first.query_id  # every request is its own query
    assert again.passages == first.passages and again.confidence == first.confidence
    assert again.escalate == first.escalate and again.question == "忘記密碼了怎麼辦?"
    svc.ask("忘记密码了怎么办?", top_k=5)  # another top_k is another result
    assert svc.cache.misses == 2


def test_a_reload_clears_the_cache(fresh_service: QAService, embedder: Embedder) -> None:
    svc = fresh_service
    before = svc.ask("提现手续费")
    assert len(svc.cache) == 1
    build_index(CORPUS, svc.settings.index_dir, embedder, force=True)
    svc.load()
    assert len(svc.cache) == 0
    after = svc.ask("提现手续费")
    assert svc.cache.misses == 2 and after.passages[0]["id"] == before.passages[0]["id"]


def test_the_cache_can_be_turned_off(tmp_path: Path, embedder: Embedder, index_dir: Path) -> None:
    svc = QAService(Settings(index_dir=index_dir, answer_cache_size=0), embedder=embedder)
    svc.load()
    a, b = svc.ask("账户被冻结了"), svc.ask("账户被冻结了")
    assert a.passages == b.passages and len(svc.cache) == 0 and svc.cache.hits == 0
