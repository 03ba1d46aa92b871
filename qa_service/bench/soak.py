"""The soak driver: a running server driven with real and hostile requests for a while.

It reports the requests sent, the errors (any 5xx or connection error), p50/p99 latency, and
the server's resident memory before and after (``VmRSS`` of its pid, found from the port
when the server is local). A leak shows as RSS that keeps growing; zero errors is the target.

Run it against a server without a rate limit (``QA_RATE_LIMIT_PER_MINUTE=0``), or most
requests are answered 429 (counted apart, not as errors).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

QUESTIONS = [
    "忘记密码了怎么办?",
    "密码忘了咋办",
    "提现要手续费吗",
    "提现多久到账",
    "账户被冻结了怎么解冻",
    "怎么联系人工客服",
    "帳戶安全怎麼設置",
    "支付失败怎么回事",
    "如何绑定银行卡",
    "账户安全吗",
    "How do I reset my password?",
    "withdrawal fee?",
    "my acct is frozen pls help",
    "How can I contact customer service?",
    "今天天气怎么样",
    "What's the weather like in Paris today?",
    "推荐一部电影",
    "我的卡号是 6222 0212 3456 7890 123,为什么付不了款",
]
JSON = {"Content-Type": "application/json"}


@dataclass
class Probe:
    """One kind of request and the statuses a healthy server may answer it with."""

    name: str
    method: str
    path: str
    body: bytes | None
    expected: frozenset[int]
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    chunked: bool = False


def _q(question: str, **extra: object) -> bytes:
    return json.dumps({"question": question, **extra}, ensure_ascii=False).encode()


def hostile_probes() -> list[Probe]:
    """Garbage a public endpoint gets; every one must be a clear 4xx (or 200 when the input
    can be normalised), never a 5xx."""
    bad = frozenset({400, 413, 422})
    return [
        Probe("truncated-json", "POST", "/v1/query", b'{"question": "pass', bad),
        Probe("not-json", "POST", "/v1/query", b"question=hi", bad),
        Probe("invalid-utf8", "POST", "/v1/query", b'{"question": "\xff\xfe\xc0\xaf"}', bad),
        Probe("lone-surrogate", "POST", "/v1/query", b'{"question": "\\ud800\\u5bc6\\u7801"}', frozenset({200, 422})),
        Probe("nul-and-controls", "POST", "/v1/query", _q("忘记\u0000密码\u0007\u001b"), frozenset({200})),
        Probe("only-controls", "POST", "/v1/query", _q("\u0000\u0001\u200b"), bad),
        Probe("deep-nesting", "POST", "/v1/query", b"[" * 5000 + b"]" * 5000, bad),
        Probe("wrong-types", "POST", "/v1/query", json.dumps({"question": ["a"], "top_k": "x"}).encode(), bad),
        Probe("huge-top-k", "POST", "/v1/query", _q("提现", top_k=10**30), bad),
        Probe("too-long-question", "POST", "/v1/query", _q("密" * 1500), bad),
        Probe("oversized-body", "POST", "/v1/query", _q("a" * 40_000), frozenset({413})),
        Probe("oversized-chunked", "POST", "/v1/query", _q("a" * 40_000), frozenset({413}), chunked=True),
        Probe("unknown-path", "GET", "/v1/../../etc/passwd", None, frozenset({404})),
        Probe("wrong-method", "GET", "/v1/query", None, frozenset({405})),
        Probe("feedback-unknown-query", "POST", "/v1/feedback",
              json.dumps({"query_id": "q_" + "0" * 26, "verdict": "correct"}).encode(),
              frozenset({404, 422})),
        Probe("feedback-garbage", "POST", "/v1/feedback", b'{"verdict": "maybe"}', bad),
        Probe("admin-without-token", "POST", "/admin/reload", None, frozenset({401, 403})),
        Probe("healthz", "GET", "/healthz", None, frozenset({200})),
        Probe("readyz", "GET", "/readyz", None, frozenset({200, 503})),
        Probe("metrics", "GET", "/metrics", None, frozenset({200})),
    ]  # fmt: skip


@dataclass
class Report:
    url: str
    duration_s: float
    concurrency: int
    sent: int = 0
    errors: int = 0
    unexpected: int = 0
    rate_limited: int = 0
    requests_per_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    unexpected_samples: list[str] = field(default_factory=list)
    feedback_acknowledged: int = 0
    server_pid: int | None = None
    rss_before_kb: int | None = None
    rss_after_kb: int | None = None
    rss_max_kb: int | None = None
    rss_growth_kb: int | None = None
    rss_series_kb: list[int] = field(default_factory=list)  # one sample every few seconds

    def lines(self) -> list[str]:
        out = [
            f"soak {self.url}: {self.duration_s:.0f}s at concurrency {self.concurrency}",
            f"  requests sent   {self.sent} ({self.requests_per_s:.0f}/s)",
            f"  errors          {self.errors} (5xx or connection errors)",
            f"  unexpected 4xx  {self.unexpected}; rate-limited (429) {self.rate_limited}",
            f"  latency         p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms",
            f"  feedback 201    {self.feedback_acknowledged}",
            f"  statuses        {dict(sorted(self.statuses.items()))}",
        ]
        if self.rss_before_kb is not None:
            out.append(
                f"  server RSS      {self.rss_before_kb / 1024:.1f} MiB before, "
                f"{(self.rss_after_kb or 0) / 1024:.1f} MiB after "
                f"(max {(self.rss_max_kb or 0) / 1024:.1f} MiB, pid {self.server_pid})"
            )
            series = " ".join(f"{kb / 1024:.0f}" for kb in self.rss_series_kb)
            out.append(f"  RSS over time   {series} MiB")
        else:
            out.append("  server RSS      unknown (pass --pid for a remote or foreign server)")
        out += [f"  error: {e}" for e in self.error_samples[:5]]
        out += [f"  unexpected: {e}" for e in self.unexpected_samples[:5]]
        return out


def read_rss_kb(pid: int) -> int | None:
    """VmRSS of a process, in KiB; None if it is gone or not readable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def find_listening_pid(port: int) -> int | None:
    """The local process listening on ``port`` (Linux /proc), so RSS needs no --pid."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    return int(proc.name)
        except OSError:
            continue
    return None


class Driver:
    def __init__(self, url: str, hostile_share: float, seed: int, questions: list[str]):
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.https = parts.scheme == "https"
        self.hostile_share = hostile_share
        self.seed = seed
        self.questions = questions
        self.hostile = hostile_probes()
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.unexpected: list[str] = []
        self.feedback_ok = 0
        self.stop = threading.Event()

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=30)

    def _pick(self, rng: random.Random, query_ids: list[str]) -> Probe:
        r = rng.random()
        if r < self.hostile_share:
            return rng.choice(self.hostile)
        if r < self.hostile_share + 0.05 and query_ids:
            body = {
                "query_id": rng.choice(query_ids),
                "verdict": rng.choice(["correct", "incorrect", "unanswerable"]),
                "comment": "soak",
            }
            return Probe(
                "feedback", "POST", "/v1/feedback", json.dumps(body).encode(), frozenset({201})
            )
        q = rng.choice(self.questions)
        body = _q(q, top_k=rng.randint(1, 5), channel=rng.choice(["widget", "api", "agent"]))
        return Probe("query", "POST", "/v1/query", body, frozenset({200}))

    def worker(self, n: int) -> None:
        rng = random.Random(self.seed * 1000 + n)
        conn = self._connect()
        query_ids: list[str] = []
        while not self.stop.is_set():
            probe = self._pick(rng, query_ids)
            started = time.perf_counter()
            try:
                headers = dict(probe.headers)
                if probe.chunked:
                    body = iter([probe.body[i : i + 4096] for i in range(0, len(probe.body), 4096)])
                    conn.request(
                        probe.method, probe.path, body=body, headers=headers, encode_chunked=True
                    )
                else:
                    conn.request(probe.method, probe.path, body=probe.body, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = self._connect()
                with self.lock:
                    self.errors.append(f"{probe.name}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            if probe.name == "query" and status == 200:
                try:
                    query_ids.append(json.loads(payload)["query_id"])
                    del query_ids[:-50]
                except (ValueError, KeyError):
                    pass
            with self.lock:
                self.statuses[status] += 1
                if probe.name == "query":
                    self.latencies.append(elapsed)
                if status >= 500:
                    self.errors.append(f"{probe.name}: HTTP {status} {payload[:200]!r}")
                elif status != 429 and status not in probe.expected:
                    self.unexpected.append(f"{probe.name}: HTTP {status} {payload[:200]!r}")
                if probe.name == "feedback" and status == 201:
                    self.feedback_ok += 1
        conn.close()


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run_soak(
    url: str,
    duration: float,
    concurrency: int,
    *,
    pid: int | None = None,
    hostile_share: float = 0.2,
    warmup: float | None = None,
    seed: int = 0,
    questions: list[str] | None = None,
    progress: bool | None = None,
) -> Report:
    from tqdm import tqdm

    driver = Driver(url, hostile_share, seed, questions or QUESTIONS)
    if pid is None and driver.host in ("127.0.0.1", "localhost", "::1"):
        pid = find_listening_pid(driver.port)
    warmup = min(10.0, duration * 0.1) if warmup is None else warmup
    threads = [
        threading.Thread(target=driver.worker, args=(n,), daemon=True) for n in range(concurrency)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    rss_before = rss_max = None
    series: list[int] = []
    every = max(1.0, duration / 20)
    bar = tqdm(
        total=int(duration),
        desc="soak",
        unit="s",
        disable=None if progress is None else not progress,
    )
    try:
        while (elapsed := time.monotonic() - started) < duration:
            time.sleep(min(1.0, duration - elapsed))
            bar.update(int(time.monotonic() - started) - bar.n)
            rss = read_rss_kb(pid) if pid else None
            if rss is not None:
                if rss_before is None and time.monotonic() - started >= warmup:
                    rss_before = rss  # after warm-up: caches and lazy imports are in by then
                rss_max = max(rss_max or 0, rss)
                if not series or time.monotonic() - started >= every * len(series):
                    series.append(rss)
    finally:
        driver.stop.set()
        for t in threads:
            t.join(60)
        bar.close()
    wall = time.monotonic() - started
    rss_after = read_rss_kb(pid) if pid else None
    lat = sorted(driver.latencies)
    sent = sum(driver.statuses.values()) + len(driver.errors)
    return Report(
        url=url,
        duration_s=wall,
        concurrency=concurrency,
        sent=sent,
        errors=len(driver.errors),
        unexpected=len(driver.unexpected),
        rate_limited=driver.statuses.get(429, 0),
        requests_per_s=sent / wall if wall else 0.0,
        p50_ms=_percentile(lat, 0.50) * 1000,
        p99_ms=_percentile(lat, 0.99) * 1000,
        statuses={str(k): v for k, v in driver.statuses.items()},
        error_samples=driver.errors[:20],
        unexpected_samples=driver.unexpected[:20],
        feedback_acknowledged=driver.feedback_ok,
        server_pid=pid,
        rss_before_kb=rss_before,
        rss_after_kb=rss_after,
        rss_max_kb=rss_max,
        rss_growth_kb=(rss_after - rss_before) if rss_after and rss_before else None,
        rss_series_kb=series + ([rss_after] if rss_after else []),
    )
