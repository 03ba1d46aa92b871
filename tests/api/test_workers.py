"""One host, ``--workers 2``, SQLite: the workers share one rate limit, and both follow a
newly published build by themselves."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa_service.index import resolve_build
from tests.api.live_server import LiveServer, start_server
from tests.builds import publish_copy

pytestmark = pytest.mark.slow

PER_MINUTE = 30
ADMIN = "workers-admin-token"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> tuple[Path, Path]:
    source = resolve_build(index_dir)
    live = tmp_path_factory.mktemp("workers") / "index"
    (live / "builds").mkdir(parents=True)
    publish_copy(live, source)
    return live, source


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, live: tuple[Path, Path]
) -> Iterator[LiveServer]:
    env = {
        "QA_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
        "QA_RELOAD_POLL_SECONDS": "0.5",
        "QA_ADMIN_TOKEN": ADMIN,
    }
    srv = start_server(
        tmp_path_factory.mktemp("workers-server"),
        live[0],
        env,
        wait="/readyz",
        args=("--workers", "2"),
    )
    yield srv
    srv.stop()


def _workers(server: LiveServer) -> list[dict]:
    r = httpx.get(server.url + "/admin/replicas", headers={"Authorization": f"Bearer {ADMIN}"})
    return r.json()["replicas"]


def _wait_for_workers(server: LiveServer, n: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(workers := _workers(server)) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    return workers


def test_workers_share_one_rate_limit(server: LiveServer) -> None:
    assert len(_wait_for_workers(server, 2)) == 2
    headers = {"X-Forwarded-For": "198.51.100.9"}
    # A new connection each time, so the requests spread over both workers.
    statuses = [
        httpx.post(server.url + "/v1/query", json={"question": "提现"}, headers=headers)
        for _ in range(45)
    ]
    accepted = sum(r.status_code == 200 for r in statuses)
    print(f"\ntwo workers, {PER_MINUTE}/min in SQLite: {accepted} of 45 accepted")
    assert {r.status_code for r in statuses} <= {200, 429}
    assert PER_MINUTE <= accepted <= PER_MINUTE + 1, accepted


def test_counted_per_process_the_limit_would_not_hold(
    tmp_path: Path, live: tuple[Path, Path]
) -> None:
    """The contrast, which also shows that the requests above did spread over both workers."""
    env = {"QA_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE), "QA_RATE_LIMIT_STORE": "memory"}
    srv = start_server(tmp_path, live[0], env, wait="/readyz", args=("--workers", "2"))
    try:
        time.sleep(2)  # both workers up
        headers = {"X-Forwarded-For": "198.51.100.10"}
        accepted = sum(
            httpx.post(
                srv.url + "/v1/query", json={"question": "提现"}, headers=headers
            ).status_code
            == 200
            for _ in range(80)
        )
    finally:
        srv.stop()
    print(f"\ntwo workers, {PER_MINUTE}/min counted per process: {accepted} of 80 accepted")
    assert accepted > PER_MINUTE + 1


def test_every_worker_follows_a_published_build(
    server: LiveServer, live: tuple[Path, Path]
) -> None:
    assert len(_wait_for_workers(server, 2)) == 2
    new = publish_copy(*live)
    deadline = time.monotonic() + 30
    workers = _workers(server)
    while time.monotonic() < deadline and not all(w["build_id"] == new for w in workers):
        time.sleep(0.2)
        workers = _workers(server)
    assert len(workers) == 2 and all(w["build_id"] == new for w in workers), workers
    served = {httpx.get(server.url + "/readyz").json()["manifest"]["build_id"] for _ in range(20)}
    assert served == {new}
