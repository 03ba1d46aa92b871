"""Zero-downtime reindex: the live index directory is rebuilt with ``qa-service index --force``
while a real server answers a steady load, then swapped in by POST /admin/reload or SIGHUP.
Not one request may fail; a corrupt or foreign index is refused and the old one keeps serving."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from qa_service.index import read_manifest, resolve_build
from tests.api.live_server import LiveServer, build_index_cli, start_server
from tests.builds import publish_copy

TOKEN = "reload-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTIONS = ["忘记密码了怎么办?", "提现要手续费吗", "How do I reset my password?", "账户被冻结了"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reload") / "index"
    build_index_cli(path)
    return path


@pytest.fixture(scope="module")
def pristine(live_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A good build kept outside the live directory, to publish copies of."""
    copy = tmp_path_factory.mktemp("pristine") / "build"
    shutil.copytree(resolve_build(live_dir), copy)
    return copy


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, live_dir: Path) -> Iterator[LiveServer]:
    # Not following the published build by itself: these tests reload by hand.
    env = {"QA_ADMIN_TOKEN": TOKEN, "QA_RELOAD_POLL_SECONDS": "0"}
    srv = start_server(tmp_path_factory.mktemp("reload-server"), live_dir, env)
    yield srv
    srv.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@dataclass
class Load:
    sent: int = 0
    failures: list[str] = field(default_factory=list)
    top: dict[str, Counter] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def under_load(url: str, workers: int = 6) -> Iterator[Load]:
    """Threads asking questions without pause until the block ends."""
    load = Load(top={q: Counter() for q in QUESTIONS})
    stop = threading.Event()

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            i = n
            while not stop.is_set():
                q = QUESTIONS[i % len(QUESTIONS)]
                i += 1
                try:
                    r = c.post("/v1/query", json={"question": q})
                    ok = r.status_code == 200
                    detail = f"{r.status_code} {r.text[:200]}"
                    top = r.json()["passages"][0]["id"] if ok else None
                except httpx.HTTPError as exc:
                    ok, detail, top = False, repr(exc), None
                with load.lock:
                    load.sent += 1
                    if not ok:
                        load.failures.append(detail)
                    else:
                        load.top[q][top] += 1

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        yield load
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)


def build_id(client: httpx.Client) -> str:
    return client.get("/readyz").json()["manifest"]["build_id"]


def test_reload_needs_the_admin_token(client: httpx.Client) -> None:
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]:
        r = client.post("/admin/reload", headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert "admin token" in r.json()["error"]
    assert client.post("/admin/reload", headers=AUTH).status_code == 200


def test_reload_is_403_when_no_token_is_configured(tmp_path: Path, live_dir: Path) -> None:
    srv = start_server(tmp_path, live_dir)
    try:
        with srv.client() as c:
            r = c.post("/admin/reload", headers=AUTH)
        assert r.status_code == 403 and "QA_ADMIN_TOKEN" in r.json()["error"]
    finally:
        srv.stop()


def test_rebuild_and_reload_under_load_fails_no_request(
    server: LiveServer, client: httpx.Client, live_dir: Path, pristine: Path
) -> None:
    seen = [build_id(client)]
    with under_load(server.url) as load:
        for rebuild in (True, False):
            if rebuild:  # the operator's way: rebuild the directory the server reads
                build_index_cli(live_dir, "--force")
            else:
                publish_copy(live_dir, pristine)
            new = read_manifest(live_dir)["build_id"]
            assert new != seen[-1]
            r = client.post("/admin/reload", headers=AUTH)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["changed"] and body["previous_build_id"] == seen[-1]
            assert body["build_id"] == new == build_id(client)
            seen.append(new)
    print(f"\nreload under load: {load.sent} requests, {len(load.failures)} failed")
    assert load.failures == []
    assert load.sent > 50
    # Same corpus, same answers: no request saw a half-loaded or mixed index.
    for q, tops in load.top.items():
        assert len(tops) == 1, (q, tops)
    metrics = client.get("/metrics").text
    assert f'build_id="{seen[-1]}"' in metrics
    assert 'qa_index_reloads_total{result="ok"}' in metrics


def _corrupt_dense(live_dir: Path) -> None:
    (resolve_build(live_dir) / "dense.faiss").write_bytes(b"not a faiss index")


def _corrupt_manifest(live_dir: Path) -> None:
    (resolve_build(live_dir) / "manifest.json").write_text("{ half a manifest", "utf-8")


def _dangling_current(live_dir: Path) -> None:
    link = live_dir / "current"
    link.unlink()
    link.symlink_to(Path("builds") / "gone")


@pytest.mark.parametrize(
    ("damage", "says"),
    [(_corrupt_dense, "corrupt"), (_corrupt_manifest, "corrupt"), (_dangling_current, "no index")],
)
def test_corrupt_index_is_409_and_the_old_one_keeps_serving(
    server: LiveServer, client: httpx.Client, live_dir: Path, pristine: Path, damage, says: str
) -> None:
    serving = build_id(client)
    publish_copy(live_dir, pristine)
    damage(live_dir)
    with under_load(server.url, workers=3) as load:
        r = client.post("/admin/reload", headers=AUTH)
    assert r.status_code == 409, r.text
    assert says in r.json()["error"]
    assert r.json()["serving"]["build_id"] == serving == build_id(client)
    assert load.failures == [] and load.sent > 0
    assert client.get("/readyz").status_code == 200
    # Repaired, it loads.
    repaired = publish_copy(live_dir, pristine)
    assert client.post("/admin/reload", headers=AUTH).status_code == 200
    assert build_id(client) == repaired


def test_index_from_another_embedder_is_409(
    server: LiveServer, client: httpx.Client, live_dir: Path, pristine: Path, tmp_path: Path
) -> None:
    serving = build_id(client)
    build_index_cli(tmp_path / "e5", "--embedder", "e5-small")
    publish_copy(live_dir, resolve_build(tmp_path / "e5"))
    r = client.post("/admin/reload", headers=AUTH)
    assert r.status_code == 409
    assert "e5-small" in r.json()["error"] and "use-multilingual" in r.json()["error"]
    assert build_id(client) == serving
    body = client.post("/v1/query", json={"question": QUESTIONS[0]}).json()
    assert body["passages"] and body["escalation"] is None
    publish_copy(live_dir, pristine)
    assert client.post("/admin/reload", headers=AUTH).status_code == 200


def _wait_for_build(client: httpx.Client, wanted: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    current = build_id(client)
    while current != wanted and time.monotonic() < deadline:
        time.sleep(0.1)
        current = build_id(client)
    return current


def test_sighup_reloads_under_load(
    server: LiveServer, client: httpx.Client, live_dir: Path, pristine: Path
) -> None:
    with under_load(server.url) as load:
        new = publish_copy(live_dir, pristine)
        os.kill(server.pid, signal.SIGHUP)
        assert _wait_for_build(client, new) == new
    assert load.failures == [] and load.sent > 0

    # A refused SIGHUP reload is logged and changes nothing.
    publish_copy(live_dir, pristine)
    _corrupt_dense(live_dir)
    os.kill(server.pid, signal.SIGHUP)
    deadline = time.monotonic() + 30
    while "reload refused" not in server.logs() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "reload refused" in server.logs()
    assert build_id(client) == new
    assert server.proc.poll() is None
