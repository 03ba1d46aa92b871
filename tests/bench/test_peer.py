"""The peer row: its wrk script and its place in the report (the txtai install itself is
exercised by the full bench, not here)."""

from __future__ import annotations

import shutil
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa_service.bench.peer import run_search_load, search_script
from qa_service.bench.report import peer_lines


def test_the_script_asks_each_question_url_encoded() -> None:
    lua = search_script(["忘记密码怎么办?", 'a "quoted" one'])
    assert "/search?query=%E5%BF%98" in lua and "limit=3" in lua
    assert lua.isascii()  # LuaJIT reads no \\u escapes


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_the_load_reaches_a_real_server_with_every_question(tmp_path: Path) -> None:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            seen.append(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["query"][0])
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_search_load(url, ["退款多久到账", "refund?"], 2, 1, tmp_path)
    finally:
        server.shutdown()
    assert result["requests"] > 0 and result["errors"] == 0
    assert {"退款多久到账", "refund?"} <= set(seen)


def test_the_report_sets_the_peer_beside_the_same_concurrency() -> None:
    run = {"rps": 300.0, "p50_ms": 3.0, "p99_ms": 9.0, "concurrency": 1}
    ours = {
        "config": "no cache",
        "workers": 1,
        "concurrency": 1,
        "rps": 450.0,
        "p50_ms": 2.0,
        "p99_ms": 5.0,
        "errors": 0,
        "memory": {"workers": [{"peak_rss_mb": 400.0, "pss_mb": 380.0}]},
        "tool": "wrk",
        "load_avg_1m": 0.5,
    }
    text = "\n".join(peer_lines({"http": [ours], "peer": {"name": "txtai", "runs": [run]}}))
    assert "| qa-service no cache (1 worker(s)) | 1 | 450 | 2.0 | 5.0 | 1.50 | 1.50 |" in text
    assert "| txtai API (1 process) | 1 | 300 | 3.0 | 9.0 |" in text
    failed = "\n".join(peer_lines({"peer": {"error": "pip install txtai[api] failed: no network"}}))
    assert "Not measured: pip install txtai[api] failed" in failed
