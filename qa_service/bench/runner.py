"""Runs a profile end to end and writes ``results.json`` and ``report.md``."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from ..config import Settings
from ..embedders import load_embedder
from ..index import resolve_build
from ..pipeline.normalise import normalise
from ..service import QAService
from .build import bench_build, bench_full_build
from .coldstart import bench_cold_start
from .inprocess import bench_ask, bench_encoder, raw_embedder
from .load import have_wrk, run_load
from .peer import ensure_venv, run_search_load, serve_peer
from .profiles import NO_CACHE, Profile
from .questions import load_questions
from .report import evaluate_targets, render_markdown
from .rounds import bench_rounds
from .scale import bench_scale
from .server import serve
from .stats import load_average, machine, self_peak_rss_mb
from .synthetic import sentences_of

Step = Callable[[str], None]


def _http(
    settings: Settings,
    profile: Profile,
    questions: list[str],
    workdir: Path,
    load_tool: str,
    step: Step,
    runs: list[dict],
    saved: Callable[[], None],
) -> None:
    for run in profile.http_runs:
        step(f"http: {run.name}")
        env = {"QA_EMBEDDER": settings.embedder} | run.env
        with serve(
            settings.index_dir, workdir / "server", env, run.workers, run.uvicorn_args
        ) as srv:
            for q in questions[:20]:
                srv.post(q)
            for c in run.concurrency:
                # Warm-up at the same concurrency (fills caches, wakes every worker).
                run_load(srv.url, questions, c, profile.warmup_seconds, workdir, load_tool)
                result = run_load(srv.url, questions, c, profile.http_seconds, workdir, load_tool)
                runs.append(
                    {"config": run.name, "env": run.env, "workers": run.workers, **result}
                    | {"memory": srv.memory()}
                )
                saved()


@contextmanager
def _peer_server(settings: Settings, workdir: Path, step: Step, enabled: bool) -> Iterator[dict]:
    """txtai's API over the same encoder and the same texts as the index: ``{"url": ...}``,
    or ``{"error": ...}`` when it cannot be installed, fails to start or wrk is missing."""
    if not enabled:
        yield {}
        return
    if not have_wrk():
        yield {"error": "wrk is not installed (apt-get install wrk)"}
        return
    try:
        python = ensure_venv(step=step)
    except RuntimeError as exc:
        step(f"peer: skipped: {exc}")
        yield {"error": str(exc)}
        return
    table = json.loads((resolve_build(settings.index_dir) / "table.json").read_text())
    texts = [p["text"] for p in table["passages"]]
    texts += [q for e in table["entries"] for q in (e["question"], *e["alt_questions"])]
    stack = ExitStack()
    try:
        url = stack.enter_context(serve_peer(python, texts, workdir / "peer"))
    except (RuntimeError, OSError) as exc:
        step(f"peer: failed: {exc}")
        yield {"error": str(exc)}
        return
    with stack:
        yield {"url": url, "texts": len(texts)}


def _peer(peer: dict, profile: Profile, questions: list[str], workdir: Path, step: Step) -> dict:
    """The peer at the same concurrencies as this service's runs."""
    if "url" not in peer:
        return {"error": peer.get("error", "not started")}
    runs = []
    try:
        for c in (1, 32):
            run_search_load(peer["url"], questions, c, profile.warmup_seconds, workdir)
            result = run_search_load(peer["url"], questions, c, profile.http_seconds, workdir)
            runs.append(result | {"load_avg_1m": load_average()})
    except (RuntimeError, OSError) as exc:
        step(f"peer: failed: {exc}")
        return {"error": str(exc), "runs": runs}
    return {"name": "txtai", "texts": peer["texts"], "query": "GET /search?limit=3", "runs": runs}


def _rounds(
    settings: Settings,
    profile: Profile,
    service: QAService,
    questions: list[str],
    workdir: Path,
    load_tool: str,
    peer_url: str | None,
    step: Step,
) -> dict:
    """The concurrency-1 ratios in interleaved rounds, against a server without the cache,
    the profile's variants of it and the peer when it runs (``rounds``)."""
    env = {"QA_EMBEDDER": settings.embedder} | NO_CACHE
    with ExitStack() as stack:
        servers = {}
        variants = {"http": {}, **profile.round_variants}
        for n, (name, extra) in enumerate(variants.items()):
            logs = workdir / f"rounds-{n}"  # a database each
            srv = stack.enter_context(serve(settings.index_dir, logs, env | extra))
            for q in questions[:20]:
                srv.post(q)
            servers[name] = partial(
                run_load, srv.url, questions, 1, workdir=workdir, tool=load_tool
            )
        if peer_url:
            servers["txtai"] = partial(run_search_load, peer_url, questions, 1, workdir=workdir)
        out = bench_rounds(
            raw_embedder(service),
            service,
            questions,
            servers,
            profile.rounds,
            profile.round_seconds,
            progress=lambda msg: step(f"rounds: {msg}"),
        )
    return out | {"config": "no cache", "workers": 1}


def _save(path: Path, results: dict) -> None:
    """Written after each section too, so a run stopped midway still leaves its figures."""
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False), "utf-8")


def _vectors(service: QAService, questions: list[str]) -> tuple:
    """Anchor embeddings (real FAQ text) and query embeddings (real questions)."""
    table = json.loads((resolve_build(service.settings.index_dir) / "table.json").read_text())
    passages = [p["text"] for p in table["passages"]]
    texts = passages + sentences_of(passages)
    texts += [q for e in table["entries"] for q in (e["question"], *e["alt_questions"])]
    raw = raw_embedder(service)
    query_texts = [normalise(q) for q in questions]
    return raw.encode_passages(texts), raw.encode_queries(query_texts), query_texts


def run_bench(
    settings: Settings,
    out: Path,
    profile: Profile,
    *,
    questions_path: Path | None = None,
    load_tool: str = "auto",
    sizes: tuple[int, ...] | None = None,
    skip: frozenset[str] = frozenset(),
    command: str = "",
    step: Step = lambda _msg: None,
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    # Scratch space (synthetic corpora, multi-GB index files, server logs), removed after.
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        results = _run(
            settings, out, Path(tmp), profile, questions_path, load_tool, sizes, skip, command, step
        )
    return results


def _run(
    settings: Settings,
    out: Path,
    work: Path,
    profile: Profile,
    questions_path: Path | None,
    load_tool: str,
    sizes: tuple[int, ...] | None,
    skip: frozenset[str],
    command: str,
    step: Step,
) -> dict:
    if sizes:
        profile = replace(profile, scale=replace(profile.scale, sizes=sizes))
    started = time.time()
    results: dict = {
        "command": command,
        "profile": profile.name,
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "load_avg_1m_start": load_average(),
        "settings": {
            "embedder": settings.embedder,
            "threads": settings.threads,
            "answer_cache_size": settings.answer_cache_size,
            "micro_batching": settings.micro_batching,
            "batch_max_wait_ms": settings.batch_max_wait_ms,
        },
    }
    questions = load_questions(questions_path, settings.index_dir)
    results["questions"] = {"count": len(questions), "source": str(questions_path or "default")}

    step("in-process: encoder and ask()")
    service = QAService(settings)
    results["index"] = service.load(settings.index_dir)
    results["encoder"] = bench_encoder(raw_embedder(service), questions, profile.ask_calls)
    results["ask"] = bench_ask(service, questions, profile.ask_calls)
    results["encoder_by_threads"] = {
        str(t): bench_encoder(load_embedder(settings.embedder, t), questions, profile.ask_calls)
        for t in profile.encoder_threads
    }
    partial_path = out / "results.partial.json"
    _save(partial_path, results)

    if "http" not in skip:
        results["http"] = []
        _http(
            settings,
            profile,
            questions,
            work,
            load_tool,
            step,
            results["http"],
            lambda: _save(partial_path, results),
        )
    peer_wanted = profile.peer and "peer" not in skip
    rounds_wanted = profile.rounds > 0 and "rounds" not in skip
    if peer_wanted or rounds_wanted:
        if peer_wanted:
            step("peer: txtai")
        with _peer_server(settings, work, step, peer_wanted) as peer:
            if rounds_wanted:
                step(f"rounds: encode, ask() and HTTP at c=1, {profile.rounds} rounds")
                results["rounds"] = _rounds(
                    settings, profile, service, questions, work, load_tool, peer.get("url"), step
                )
                _save(partial_path, results)
            if peer_wanted:
                results["peer"] = _peer(peer, profile, questions, work, step)
                _save(partial_path, results)
    if "cold" not in skip:
        step("cold start")
        results["cold_start"] = bench_cold_start(settings.index_dir, work, questions)
        _save(partial_path, results)
    if "build" not in skip:
        step(f"build: {profile.build_passages} passages")
        results["build"] = bench_build(
            settings.corpus, work, raw_embedder(service), profile.build_passages
        )
        _save(partial_path, results)
        if profile.full_build_entries:
            step(f"build: the whole build on {profile.full_build_entries} entries")
            results["full_build"] = bench_full_build(
                settings.corpus, work, raw_embedder(service), profile.full_build_entries, questions
            )
            _save(partial_path, results)
    if "scale" not in skip:
        anchors, queries, query_texts = _vectors(service, questions)
        results["scale"] = bench_scale(
            anchors,
            queries,
            query_texts,
            raw_embedder(service),
            profile.scale,
            work / "scale",
            progress=lambda msg: step(f"scale: {msg}"),
            on_size=lambda scale: _save(partial_path, results | {"scale": scale}),
        )
        results["scale"]["plan"] = asdict(profile.scale)

    results["peak_rss_mb"] = self_peak_rss_mb()
    results["seconds"] = round(time.time() - started, 1)
    results["load_avg_1m_end"] = load_average()
    results["targets"] = evaluate_targets(results)
    _save(out / "results.json", results)
    (out / "report.md").write_text(render_markdown(results), "utf-8")
    partial_path.unlink(missing_ok=True)
    return results
