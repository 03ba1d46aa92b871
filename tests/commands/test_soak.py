"""The CI version of the soak: 20 s at concurrency 32 against a real server, real and hostile
requests mixed. Zero errors, and the server's RSS stays flat after warm-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa_service.bench.soak import find_listening_pid, read_rss_kb
from tests.api.live_server import ROOT, start_server

pytestmark = pytest.mark.slow


def test_soak_20s_has_no_errors_and_flat_rss(index_dir: Path, tmp_path: Path) -> None:
    srv = start_server(tmp_path, index_dir, wait="/readyz")
    try:
        assert find_listening_pid(srv.port) == srv.pid
        cmd = [sys.executable, "-m", "qa_service.cli", "soak", "--url", srv.url]
        cmd += ["--duration", "20", "--concurrency", "32", "--warmup", "10", "--json"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
        report = json.loads(proc.stdout)
        print(
            f"\nsoak: {report['sent']} sent, {report['errors']} errors, "
            f"p50 {report['p50_ms']:.1f} ms, p99 {report['p99_ms']:.1f} ms, RSS "
            f"{report['rss_before_kb']} -> {report['rss_after_kb']} KiB"
        )
        assert proc.returncode == 0, proc.stderr
        assert report["errors"] == 0, report["error_samples"]
        assert report["unexpected"] == 0, report["unexpected_samples"]
        assert report["sent"] > 500
        assert {"200", "400", "413", "422"} <= set(report["statuses"])  # the mix really ran
        assert report["feedback_acknowledged"] > 0
        assert report["server_pid"] == srv.pid
        before = report["rss_before_kb"]
        assert before and report["rss_after_kb"]
        assert report["rss_growth_kb"] < max(32 * 1024, before // 10), report["rss_series_kb"]
        assert srv.proc.poll() is None and read_rss_kb(srv.pid)
    finally:
        srv.stop()
    assert "Traceback" not in srv.logs()
