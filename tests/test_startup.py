"""A missing or broken index at start-up: the server comes up, /readyz says 503 and why, and
the CLI prints one line and exits non-zero. Never a bare traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from qa_service.index import resolve_build
from tests.api.live_server import ROOT, start_server


def _missing(index: Path) -> None:
    shutil.rmtree(index)


def _empty(index: Path) -> None:
    shutil.rmtree(index)
    index.mkdir()


def _garbage_manifest(index: Path) -> None:
    (resolve_build(index) / "manifest.json").write_bytes(b"\x00\xff not json")


def _truncated_faiss(index: Path) -> None:
    path = resolve_build(index) / "dense.faiss"
    path.write_bytes(path.read_bytes()[:100])


def _table_of_the_wrong_shape(index: Path) -> None:
    path = resolve_build(index) / "table.json"
    table = json.loads(path.read_text("utf-8"))
    table["passages"] = [{"unexpected": "field"}]
    path.write_text(json.dumps(table), "utf-8")


def _deleted_bm25(index: Path) -> None:
    shutil.rmtree(resolve_build(index) / "bm25")


def _foreign_embedder(index: Path) -> None:
    path = resolve_build(index) / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["embedder"] = "e5-small"
    path.write_text(json.dumps(manifest), "utf-8")


BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing": (_missing, "no index"),
    "empty": (_empty, "no index"),
    "garbage-manifest": (_garbage_manifest, "corrupt"),
    "truncated-faiss": (_truncated_faiss, "corrupt"),
    "wrong-table": (_table_of_the_wrong_shape, "corrupt"),
    "no-bm25": (_deleted_bm25, "corrupt"),
    "foreign-embedder": (_foreign_embedder, "embedder"),
}


@pytest.fixture
def broken_index(request: pytest.FixtureRequest, index_dir: Path, tmp_path: Path) -> Path:
    damage, _ = BROKEN[request.param]
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy, symlinks=True)
    damage(copy)
    return copy


@pytest.mark.parametrize("broken_index", list(BROKEN), indirect=True)
def test_server_with_a_broken_index_is_not_ready_and_says_why(
    broken_index: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    says = BROKEN[request.node.callspec.params["broken_index"]][1]
    srv = start_server(tmp_path, broken_index)
    try:
        with srv.client() as c:
            assert c.get("/healthz").status_code == 200
            r = c.get("/readyz")
            assert r.status_code == 503
            assert r.json()["status"] == "not_ready" and says in r.json()["reason"]
            # Queries still get a well-formed answer: escalate to a human.
            q = c.post("/v1/query", json={"question": "忘记密码了怎么办?"})
            assert q.status_code == 200
            assert q.json()["escalate"] and q.json()["escalation"]["reason"] == "no_index"
    finally:
        assert srv.stop() in (0, -15, 143)
    logs = srv.logs()
    assert "Traceback" not in logs
    warning = [json.loads(line) for line in logs.splitlines() if '"index not loaded' in line]
    assert len(warning) == 1 and says in warning[0]["msg"]


@pytest.mark.parametrize(
    "broken_index", ["missing", "truncated-faiss", "wrong-table"], indirect=True
)
def test_cli_with_a_broken_index_prints_one_line_and_fails(broken_index: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "qa_service.cli",
        "ask",
        "忘记密码",
        "--index-dir",
        str(broken_index),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("qa-service ask: "), proc.stderr


def test_ready_server_reports_its_manifest(index_dir: Path, tmp_path: Path) -> None:
    srv = start_server(tmp_path, index_dir, wait="/readyz")
    try:
        r = httpx.get(srv.url + "/readyz", timeout=10)
        assert r.status_code == 200 and r.json()["manifest"]["passage_count"] > 0
    finally:
        srv.stop()
