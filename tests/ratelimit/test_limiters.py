"""The rate limit on every backend: memory, SQLite, a real PostgreSQL and a real Redis.

Each holds ``per_minute`` with bursts up to the same, tells the wait, and, where shared,
holds across separate clients of the same store, as the workers and replicas are."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from qa_service.config import Settings
from qa_service.ratelimit import Limit, MemoryLimiter, RateLimiter, open_limiter
from qa_service.ratelimit.redis import RedisLimiter
from qa_service.ratelimit.store import StoreLimiter
from qa_service.storage import DB_FILENAME, SQLiteStorage

BACKENDS = ["memory", "sqlite", "postgres", "redis"]
SHARED = ["sqlite", "postgres", "redis"]


@pytest.fixture
def make_limiter(request, tmp_path: Path) -> Iterator[Callable[[int], RateLimiter]]:
    """Limiters of one backend; every call is a new client of the same store."""
    backend = request.param
    opened: list = []
    url = None
    if backend == "postgres":
        url = request.getfixturevalue("postgres").new_database()
    if backend == "redis":
        url = request.getfixturevalue("redis_server").url
    shared_memory: list[MemoryLimiter] = []

    def make(per_minute: int) -> RateLimiter:
        limit = Limit(per_minute)
        if backend == "memory":
            if not shared_memory:
                shared_memory.append(MemoryLimiter(limit))
            return shared_memory[0]
        if backend == "redis":
            limiter = RedisLimiter(limit, url)
            opened.append(limiter)
            return limiter
        if backend == "sqlite":
            storage = SQLiteStorage(tmp_path / DB_FILENAME)
        else:
            from qa_service.storage.postgres import PostgresStorage

            storage = PostgresStorage(url)
        opened.append(storage)
        return StoreLimiter(limit, storage)

    yield make
    for thing in opened:
        thing.close()


@pytest.mark.parametrize("make_limiter", BACKENDS, indirect=True)
def test_burst_then_wait(make_limiter: Callable[[int], RateLimiter]) -> None:
    limiter = make_limiter(6)  # one request every 10 s, six back to back
    key = f"client-{time.time_ns()}"
    assert [limiter.acquire(key) for _ in range(6)] == [0.0] * 6
    wait = limiter.acquire(key)
    assert 9.0 < wait <= 10.0
    assert limiter.acquire(key) == pytest.approx(wait, abs=0.5)  # a refused one costs nothing
    assert limiter.acquire(f"other-{key}") == 0.0  # clients are counted apart
    assert limiter.errors == 0


@pytest.mark.parametrize("make_limiter", SHARED, indirect=True)
def test_clients_of_one_store_share_the_limit(make_limiter: Callable[[int], RateLimiter]) -> None:
    a, b = make_limiter(30), make_limiter(30)
    key = f"client-{time.time_ns()}"
    passed = sum(limiter.acquire(key) == 0.0 for _ in range(40) for limiter in (a, b))
    # 80 requests within a second or two: the 30 of the burst, and at most one refilled.
    assert 30 <= passed <= 31


@pytest.mark.parametrize("make_limiter", SHARED, indirect=True)
def test_concurrent_requests_cannot_take_the_same_token(
    make_limiter: Callable[[int], RateLimiter],
) -> None:
    limiters = [make_limiter(20) for _ in range(4)]
    key = f"client-{time.time_ns()}"
    passed: list[bool] = []
    lock = threading.Lock()

    def hammer(limiter: RateLimiter) -> None:
        for _ in range(15):
            ok = limiter.acquire(key) == 0.0
            with lock:
                passed.append(ok)

    threads = [threading.Thread(target=hammer, args=(lim,)) for lim in limiters for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(passed) == 120
    assert 20 <= sum(passed) <= 21


def test_memory_limiter_refills_and_stays_bounded() -> None:
    now = [0.0]
    limiter = MemoryLimiter(Limit(6), clock=lambda: now[0], max_keys=100)
    assert [limiter.acquire("a") for _ in range(6)] == [0.0] * 6
    assert limiter.acquire("a") == pytest.approx(10.0)  # one token every 10 s
    now[0] += 5
    assert limiter.acquire("a") == pytest.approx(5.0)
    now[0] += 5
    assert limiter.acquire("a") == 0.0
    for i in range(1000):  # a flood of addresses cannot grow memory without bound
        now[0] += 0.01
        limiter.acquire(f"10.1.{i // 256}.{i % 256}")
    assert len(limiter._tat) <= 100


def test_a_broken_store_lets_requests_through_and_counts_it(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / DB_FILENAME)
    limiter = StoreLimiter(Limit(1), storage)
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    storage.close()
    assert [limiter.acquire("a") for _ in range(3)] == [0.0] * 3
    assert limiter.errors == 3


def test_an_unreachable_redis_lets_requests_through() -> None:
    from qa_service.bench.server import free_port

    limiter = RedisLimiter(Limit(1), f"redis://127.0.0.1:{free_port()}/0")
    assert [limiter.acquire("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.errors == 2


def test_settings_choose_the_store(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / DB_FILENAME)
    try:
        assert open_limiter(Settings(rate_limit_per_minute=0), storage) is None
        auto = open_limiter(Settings(), storage)
        assert isinstance(auto, StoreLimiter) and not auto.blocking  # SQLite: a local file
        assert auto.limit.per_minute == Settings().rate_limit_per_minute
        assert isinstance(open_limiter(Settings(), None), MemoryLimiter)
        memory = open_limiter(Settings(rate_limit_store="memory"), storage)
        assert isinstance(memory, MemoryLimiter)
        redis = open_limiter(Settings(redis_url="redis://127.0.0.1:1/0"), storage)
        assert isinstance(redis, RedisLimiter) and redis.blocking
        with pytest.raises(ValueError, match="QA_REDIS_URL"):
            open_limiter(Settings(rate_limit_store="redis"), storage)
    finally:
        storage.close()
