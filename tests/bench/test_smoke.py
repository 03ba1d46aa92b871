"""The quick bench end to end, as CI runs it: real encoder, real server, fallback load
generator. Checks the outputs' shape and sanity, never the speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa_service.cli import main

from ..conftest import CORPUS, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("bench")
    argv = ["bench", "--quick", "--index-dir", str(index_dir), "--corpus", str(CORPUS)]
    argv += ["--out", str(out), "--load-tool", "loadgen", "--sizes", "800"]
    assert main(argv) == 0
    return out, json.loads((out / "results.json").read_text("utf-8"))


def _positive(summary: dict) -> None:
    assert summary["n"] > 0
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]
    assert summary["mean_ms"] > 0


def test_in_process_figures(run: tuple[Path, dict]) -> None:
    _, r = run
    assert r["profile"] == "quick" and r["machine"]["cores"] >= 1
    assert r["command"].startswith("qa-service bench --quick")
    _positive(r["encoder"]["single"])
    assert r["encoder"]["batch32_questions_per_s"] > 0
    _positive(r["ask"]["uncached"])
    _positive(r["ask"]["cached"])
    # Repeats are answered from the cache: far below a whole query, whatever the machine.
    assert r["ask"]["cached"]["p50_ms"] < r["ask"]["uncached"]["p50_ms"] / 5
    assert r["questions"]["count"] > 10 and r["index"]["passage_count"] > 0
    assert r["load_avg_1m_start"] >= 0 and r["peak_rss_mb"] > 0


def test_http_figures(run: tuple[Path, dict]) -> None:
    _, r = run
    runs = {h["concurrency"]: h for h in r["http"]}
    assert set(runs) == {1, 32}
    for h in runs.values():
        assert h["tool"] == "loadgen" and h["config"] == "default"
        assert h["requests"] > 0 and h["rps"] > 0
        assert h["errors"] == 0 and h["non_2xx"] == 0  # a failed request is a bug, not noise
        assert 0 < h["p50_ms"] <= h["p99_ms"]
        (worker,) = h["memory"]["workers"]
        assert worker["peak_rss_mb"] >= worker["rss_mb"] > 0 and worker["pss_mb"] > 0


def test_round_figures(run: tuple[Path, dict]) -> None:
    out, r = run
    rounds = r["rounds"]
    assert len(rounds["rounds"]) == 2 and rounds["servers"] == ["http"]
    for row in rounds["rounds"]:
        assert row["encode_p50_ms"] > 0 and row["ask_p50_ms"] > 0 and row["http"] > 0
    assert rounds["ratios"]["http"]["over_encode"] > 0
    assert "## Concurrency 1 in interleaved rounds" in (out / "report.md").read_text("utf-8")


def test_cold_start_figures(run: tuple[Path, dict]) -> None:
    _, r = run
    cold = r["cold_start"]
    assert cold["ready_s"] > 0 and cold["first_query_ms"] > 0 and cold["steady_p50_ms"] > 0
    assert any(t["measure"].startswith("first query after /readyz") for t in r["targets"])


def test_build_figures(run: tuple[Path, dict]) -> None:
    _, r = run
    faq, articles = r["build"]
    assert (faq["shape"], articles["shape"]) == ("faq", "articles")
    for b in (faq, articles):
        assert b["passages"] >= 20 and b["vectors"] > b["passages"]
        assert b["seconds"] > 0 and b["encode_seconds"] > 0
        assert b["passages_per_s"] == pytest.approx(b["passages"] / b["seconds"], rel=0.01)
    # Alt questions are what the FAQ shape adds: more vectors for the same passages.
    assert faq["vectors"] > articles["vectors"]


def test_whole_build_figures(run: tuple[Path, dict]) -> None:
    _, r = run
    full = r["full_build"]
    assert full["entries"] == 20 and full["passages"] == 40
    assert full["texts"] == 40 + 20 * 5  # passages, titles and four alt questions each
    assert full["over_encode"] == pytest.approx(full["seconds"] / full["encode_seconds"], rel=0.02)
    assert full["fit_entries"] == 20  # a corpus this small is fitted on all its entries
    assert full["cold_start"]["first_query_ms"] > 0
    assert any(t["measure"].startswith("whole build") for t in r["targets"])


def test_scale_figures(run: tuple[Path, dict]) -> None:
    _, r = run
    (size,) = r["scale"]["sizes"]
    assert size["vectors"] == 800 and size["dim"] == 512
    by_type = {x["type"]: x for x in size["indexes"]}
    assert set(by_type) == {"flat", "hnsw", "ivf"}
    assert by_type["flat"]["recall_at_k"] == 1.0
    for x in size["indexes"]:
        assert 0.0 < x["recall_at_k"] <= 1.0 and x["size_mb"] > 0 and x["build_s"] >= 0
        _positive(x["search_1thread"])
        _positive(x["search_service_k"])
    auto = size["auto"]
    assert auto["type"] == "flat"  # 800 vectors are well under the Flat limit
    _positive(auto["end_to_end"])
    mmap = r["scale"]["mmap"]
    assert mmap["workers"] == 2
    for mode in ("read", "mmap"):
        assert mmap[mode]["rss_mb_per_worker"] >= mmap[mode]["pss_mb_per_worker"] > 0


def test_targets_and_report(run: tuple[Path, dict]) -> None:
    out, r = run
    measures = [t["measure"] for t in r["targets"]]
    assert any(m.startswith("HTTP p50") for m in measures)
    assert any(m.startswith("throughput") for m in measures)
    assert any(m.startswith("index build") for m in measures)
    assert any("vectors, encode + search" in m for m in measures)
    assert all(isinstance(t["met"], bool) and t["value"] and t["target"] for t in r["targets"])
    report = (out / "report.md").read_text("utf-8")
    for heading in ("## Targets", "## In process", "## HTTP", "## Index build", "## Scale"):
        assert heading in report
    assert r["machine"]["cpu"] in report and "load average" in report


def test_bad_arguments_are_clear(index_dir: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--index-dir", str(index_dir), "--out", str(tmp_path), "--sizes", "1k"])
    assert exc.value.code == 2 and "expected sizes like" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--index-dir", str(index_dir), "--out", str(tmp_path), "--skip", "cpu"])
    assert "unknown section(s) cpu" in capsys.readouterr().err
    code = main(["bench", "--quick", "--index-dir", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert code == 2 and "no index in" in capsys.readouterr().err


def test_script_wrapper() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "--quick" in done.stdout and "--load-tool" in done.stdout
