"""Three replicas on one PostgreSQL and one index directory, behind a real HAProxy that
health-checks /readyz. Under a steady load of customers (each its own address), a replica
is restarted and a new index with a new entry is rolled out: not one request may fail, and
every acknowledged feedback record must be stored. Any replica serves any agent, a reload
on one reaches all, and one client's rate limit holds across replicas.

Figures print with ``pytest -s tests/api/test_replicas.py``."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from qa_service.bench.server import free_port
from qa_service.index import resolve_build
from tests.api.live_server import ROOT, LiveServer, start_server
from tests.builds import publish_copy

pytestmark = pytest.mark.slow

REPLICAS = 3
PER_MINUTE = 30
ADMIN = "replicas-admin-token"
AGENT = "replicas-agent-token"
NEW_ENTRY = {
    "id": "refunds",
    "question": "怎么申请退款?",
    "answer": "在订单详情页点击“申请退款”,退款会在3到5个工作日内原路退回。",
}
QUESTIONS = [
    "忘记密码了怎么办?",
    "提现要手续费吗",
    "How do I reset my password?",
    "账户被冻结了",
    "今天天气怎么样",
    "怎么联系人工客服",
]


@dataclass
class Cluster:
    root: Path
    live: Path
    env: dict[str, str]
    ports: list[int]
    servers: list[LiveServer]
    balancer: object
    database_url: str

    def start(self, i: int) -> LiveServer:
        env = self.env | {"QA_REPLICA_NAME": f"r{i + 1}"}
        (self.root / f"r{i + 1}").mkdir(exist_ok=True)
        srv = start_server(
            self.root / f"r{i + 1}", self.live, env, wait="/readyz", port=self.ports[i]
        )
        self.servers[i] = srv
        return srv

    def restart(self, i: int) -> float:
        """Stop replica i as an orchestrator does (SIGTERM) and start it again; seconds."""
        started = time.monotonic()
        self.servers[i].stop()
        self.start(i)
        return time.monotonic() - started

    def build_ids(self) -> list[str | None]:
        out = []
        for srv in self.servers:
            try:
                out.append(httpx.get(srv.url + "/readyz", timeout=5).json()["manifest"]["build_id"])
            except (httpx.HTTPError, KeyError, ValueError):
                out.append(None)
        return out


@pytest.fixture(scope="module")
def balancer_cls():
    import os

    from tests.balancer import Balancer

    if not shutil.which("haproxy") and not Path("/usr/sbin/haproxy").exists():
        if os.environ.get("CI") or os.environ.get("QA_TEST_REQUIRE_BALANCER"):
            raise FileNotFoundError("haproxy not found (apt-get install haproxy)")
        pytest.skip("multi-replica tests skipped: haproxy not found (apt-get install haproxy)")
    return Balancer


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, index_dir: Path, postgres, balancer_cls
) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("replicas")
    live = root / "index"
    (live / "builds").mkdir(parents=True)
    publish_copy(live, resolve_build(index_dir))
    url = postgres.new_database()
    env = {
        "QA_DATABASE_URL": url,
        "QA_ADMIN_TOKEN": ADMIN,
        "QA_AGENT_TOKEN": AGENT,
        "QA_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
        "QA_RELOAD_POLL_SECONDS": "1",
    }
    ports = [free_port() for _ in range(REPLICAS)]
    c = Cluster(root, live, env, ports, [None] * REPLICAS, None, url)  # type: ignore[list-item]
    threads = [threading.Thread(target=c.start, args=(i,)) for i in range(REPLICAS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert all(c.servers), "a replica did not start"
        c.balancer = balancer_cls(ports)
        _wait_until_balanced(c.balancer.url)
        yield c
    finally:
        if c.balancer is not None:
            c.balancer.stop()
        for srv in c.servers:
            if srv is not None:
                srv.stop()


def _wait_until_balanced(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the balancer found no ready replica")


@pytest.fixture(scope="module")
def new_entry_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus plus one entry an editor added (question and answer only), built."""
    root = tmp_path_factory.mktemp("new-entry")
    corpus = root / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    (corpus / "refunds.jsonl").write_text(json.dumps(NEW_ENTRY, ensure_ascii=False), "utf-8")
    cmd = [sys.executable, "-m", "qa_service.cli", "index", "--corpus", str(corpus)]
    cmd += ["--index-dir", str(root / "index"), "--no-fit"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=300)
    return resolve_build(root / "index")


@dataclass
class Load:
    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    feedback_ids: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def customers(url: str, workers: int = 6) -> Iterator[Load]:
    """Customers asking through the balancer without pause, each from its own address, and
    an agent confirming every eighth answer."""
    load = Load()
    stop = threading.Event()
    addresses = itertools.count()

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as c:
            for i in itertools.count(n):
                if stop.is_set():
                    return
                n_addr = next(addresses)
                headers = {
                    "X-Forwarded-For": f"10.{n_addr // 65536 % 256}.{n_addr // 256 % 256}.{n_addr % 256}"
                }
                q = QUESTIONS[i % len(QUESTIONS)]
                t0 = time.perf_counter()
                try:
                    r = c.post("/v1/query", json={"question": q}, headers=headers)
                    detail = f"query {r.status_code} {r.text[:200]}"
                    ok = r.status_code == 200
                    fb_id = None
                    if ok and i % 8 == 0:
                        fb = c.post(
                            "/v1/feedback",
                            json={
                                "query_id": r.json()["query_id"],
                                "verdict": "correct",
                                "source": "agent",
                            },
                            headers=headers | {"Authorization": f"Bearer {AGENT}"},
                        )
                        ok = fb.status_code == 201
                        detail = f"feedback {fb.status_code} {fb.text[:200]}"
                        fb_id = fb.json()["id"] if ok else None
                except httpx.HTTPError as exc:
                    ok, detail, fb_id = False, repr(exc), None
                with load.lock:
                    load.sent += 1
                    load.latencies.append(time.perf_counter() - t0)
                    if not ok:
                        load.failures.append(detail)
                    if fb_id is not None:
                        load.feedback_ids.append(fb_id)

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(workers)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        yield load
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(30)


def _stored_feedback_ids(database_url: str) -> set[int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM feedback")}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def test_restart_and_rollout_under_load_fail_no_request(
    cluster: Cluster, new_entry_build: Path
) -> None:
    before = cluster.build_ids()
    assert len(set(before)) == 1 and before[0]
    with customers(cluster.balancer.url) as load:
        restart_s = cluster.restart(1)
        time.sleep(1.0)
        new = publish_copy(cluster.live, new_entry_build)
        published = time.monotonic()
        while cluster.build_ids() != [new] * REPLICAS and time.monotonic() - published < 30:
            time.sleep(0.1)
        rollout_s = time.monotonic() - published
        assert cluster.build_ids() == [new] * REPLICAS
        time.sleep(1.0)
    stored = _stored_feedback_ids(cluster.database_url)
    print(
        f"\n{REPLICAS} replicas behind haproxy: {load.sent} requests, {len(load.failures)} failed;"
        f" p50 {_p(load.latencies, 0.5):.1f} ms, p99 {_p(load.latencies, 0.99):.1f} ms;"
        f" replica restarted in {restart_s:.1f} s; new build served by all {rollout_s:.1f} s"
        f" after publishing; feedback acknowledged {len(load.feedback_ids)},"
        f" stored {len(set(load.feedback_ids) & stored)}"
    )
    assert load.failures == []
    assert load.sent > 100 and len(load.feedback_ids) > 10
    assert set(load.feedback_ids) <= stored  # every 201 is in the database
    assert rollout_s < 30
    # The editor's new entry is served through the balancer.
    r = httpx.post(cluster.balancer.url + "/v1/query", json={"question": "我想退款 怎么弄"})
    assert r.json()["passages"][0]["faq_id"] == NEW_ENTRY["id"]


def test_any_replica_serves_any_agent(cluster: Cluster) -> None:
    a, b, c = cluster.servers
    agent = {"Authorization": f"Bearer {AGENT}"}
    asked = httpx.post(a.url + "/v1/query", json={"question": "我的包裹什么时候到"}).json()
    assert asked["escalation"] is not None
    fb = httpx.post(
        b.url + "/v1/feedback",
        json={"query_id": asked["query_id"], "verdict": "unanswerable", "source": "agent"},
        headers=agent,
    )
    assert fb.status_code == 201, fb.text
    queue = httpx.get(c.url + "/v1/review", params={"include_reviewed": True}, headers=agent)
    assert asked["query_id"] in [item["id"] for item in queue.json()["items"]]
    # The next turn of the same conversation goes to another replica, which reads it in
    # the context kept in the shared store.
    first = httpx.post(a.url + "/v1/query", json={"question": "账户被冻结了怎么办"}).json()
    follow = httpx.post(
        c.url + "/v1/query",
        json={"question": "一般是什么原因导致的?", "conversation_id": first["conversation_id"]},
    ).json()
    assert follow["conversation_id"] == first["conversation_id"]
    assert follow["understood_as"] == "账户被冻结了怎么办 一般是什么原因导致的?", follow


def test_a_reload_on_one_replica_reaches_all(cluster: Cluster, new_entry_build: Path) -> None:
    new = publish_copy(cluster.live, new_entry_build)
    r = httpx.post(
        cluster.servers[0].url + "/admin/reload",
        params={"wait": 30},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["build_id"] == new and body["all_serving"] is True
    assert sorted(x["id"] for x in body["replicas"]) == ["r1", "r2", "r3"]
    assert all(x["build_id"] == new for x in body["replicas"])
    assert cluster.build_ids() == [new] * REPLICAS


def test_one_clients_limit_holds_across_replicas(cluster: Cluster) -> None:
    a, b = cluster.servers[:2]
    headers = {"X-Forwarded-For": "203.0.113.7"}
    accepted = 0
    for i in range(80):
        srv = (a, b)[i % 2]
        r = httpx.post(srv.url + "/v1/query", json={"question": "提现手续费"}, headers=headers)
        assert r.status_code in (200, 429), r.text
        accepted += r.status_code == 200
    print(f"\nrate limit {PER_MINUTE}/min, one client alternating: {accepted} of 80 accepted")
    assert PER_MINUTE <= accepted <= PER_MINUTE * 1.2
