"""Replicas follow the published build by themselves and report what they serve: two
services on one index directory and one database, as two replicas (or two workers) are."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api.main import create_app
from qa_service.config import Settings
from qa_service.embedders import Embedder
from qa_service.index import resolve_build
from qa_service.replica import Replica
from qa_service.service import QAService
from qa_service.storage import DB_FILENAME, SQLiteStorage
from tests.builds import publish_copy

TOKEN = "replica-admin-token"


@pytest.fixture
def live(tmp_path: Path, index_dir: Path) -> tuple[Path, Path]:
    """A published index directory, and the finished build to publish copies of."""
    source = resolve_build(index_dir)
    live = tmp_path / "index"
    (live / "builds").mkdir(parents=True)
    publish_copy(live, source)
    return live, source


def settings_for(live: Path, tmp_path: Path, name: str, poll: float = 0.2) -> Settings:
    return Settings(
        index_dir=live,
        data_dir=tmp_path / "data",
        replica_name=name,
        reload_poll_seconds=poll,
        admin_token=TOKEN,
        rate_limit_per_minute=0,
    )


@pytest.fixture
def pair(
    live: tuple[Path, Path], tmp_path: Path, embedder: Embedder
) -> Iterator[tuple[Replica, Replica]]:
    storage = SQLiteStorage(tmp_path / "data" / DB_FILENAME)
    replicas = []
    for name in ("a", "b"):
        settings = settings_for(live[0], tmp_path, name)
        service = QAService(settings, embedder=embedder)
        service.load()
        replicas.append(Replica(service, storage, settings))
    for r in replicas:
        r.report()
    yield replicas[0], replicas[1]
    for r in replicas:
        r.stop()
    storage.close()


def _corrupt(live: Path) -> None:
    (resolve_build(live) / "dense.faiss").write_bytes(b"not a faiss index")


def test_each_follows_a_published_build_and_reports_it(
    pair: tuple[Replica, Replica], live: tuple[Path, Path]
) -> None:
    a, b = pair
    first = a.serving()
    assert first == b.serving() == a.published()
    assert a.follow() is False  # nothing new: nothing loaded

    new = publish_copy(*live)
    assert a.follow() is True and a.serving() == new
    peers, all_serving = a.wait_for(new, timeout=0.3)
    assert not all_serving  # b has not looked yet
    assert {p.id: p.build_id for p in peers} == {"a": new, "b": first}
    assert b.follow() is True
    peers, all_serving = a.wait_for(new, timeout=5)
    assert all_serving and [p.id for p in peers] == ["a", "b"]
    assert all(p.published == new and p.error is None for p in peers)


def test_a_build_that_fails_to_load_is_refused_once_and_reported(
    pair: tuple[Replica, Replica], live: tuple[Path, Path]
) -> None:
    a, b = pair
    serving = a.serving()
    bad = publish_copy(*live)
    _corrupt(live[0])
    loads = []
    original = a.service.load
    a.service.load = lambda *args: loads.append(1) or original(*args)  # type: ignore[method-assign]
    for replica in (a, b, a, a):
        assert replica.follow() is False
    assert len(loads) == 1  # refused once, not retried on every check
    assert a.serving() == b.serving() == serving
    started = time.monotonic()
    peers, all_serving = a.wait_for(bad, timeout=10)
    assert time.monotonic() - started < 2  # settled: both have refused it
    assert not all_serving
    assert all(p.published == bad and p.build_id == serving and "corrupt" in p.error for p in peers)

    good = publish_copy(*live)  # the next good one loads, and the error is gone
    assert a.follow() and b.follow()
    peers, all_serving = a.wait_for(good, timeout=5)
    assert all_serving and all(p.error is None for p in peers)


def test_an_index_served_from_memory_is_not_swapped(
    pair: tuple[Replica, Replica], live: tuple[Path, Path]
) -> None:
    a, _ = pair
    variant = a.service.index
    a.service.use_index(variant)
    publish_copy(*live)
    assert a.follow() is False
    assert a.service.index is variant


def test_the_background_check_follows_within_a_second(
    pair: tuple[Replica, Replica], live: tuple[Path, Path]
) -> None:
    a, b = pair
    a.start()
    new = publish_copy(*live)
    deadline = time.monotonic() + 20
    while a.serving() != new and time.monotonic() < deadline:
        time.sleep(0.05)
    assert a.serving() == new
    a.stop()
    assert [p.id for p in b.peers()] == ["b"]  # a stopped: it left the list


def test_admin_reload_waits_for_every_replica(
    live: tuple[Path, Path], tmp_path: Path, embedder: Embedder
) -> None:
    settings = settings_for(live[0], tmp_path, "a", poll=0)  # a reloads only when told
    service = QAService(settings, embedder=embedder)
    service.load()
    other_settings = settings_for(live[0], tmp_path, "b", poll=0.2)
    other_service = QAService(other_settings, embedder=embedder)
    other_service.load()
    storage = SQLiteStorage(tmp_path / "data" / DB_FILENAME)
    other = Replica(other_service, storage, other_settings)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        other.start()
        with TestClient(create_app(settings, service)) as client:
            listed = client.get("/admin/replicas", headers=auth).json()
            assert [r["id"] for r in listed["replicas"]] == ["a", "b"]
            assert listed["all_serving"] is True

            new = publish_copy(*live)
            r = client.post("/admin/reload", params={"wait": 20}, headers=auth)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["build_id"] == new and body["changed"] and body["all_serving"]
            assert {x["id"]: x["build_id"] for x in body["replicas"]} == {"a": new, "b": new}
            assert other.serving() == new

            assert (
                client.post("/admin/reload", params={"wait": 121}, headers=auth).status_code == 422
            )
            assert client.get("/admin/replicas").status_code == 401
    finally:
        other.stop()
        storage.close()
