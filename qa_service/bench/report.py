"""Targets and the Markdown report of a bench run."""

from __future__ import annotations

import statistics

TARGETS = {
    "http_p50_vs_encode": 2.0,  # HTTP p50 at concurrency 1, in raw single encodes
    "http_p50_vs_ask": 1.3,  # the same, in uncached in-process ask() calls
    "throughput_c32_rps": 600.0,
    "build_passages_per_s": 500.0,
    "scale_p50_ms": 10.0,  # 1M vectors, real encoder + search
    "scale_recall": 0.95,
}


def _http_run(results: dict, config: str, concurrency: int) -> dict | None:
    for r in results.get("http", []):
        if r["config"] == config and r["concurrency"] == concurrency:
            return r
    return None


def evaluate_targets(results: dict) -> list[dict]:
    """One row per target and configuration: the figure, the target and whether it is met."""
    rows = []
    encode = results["encoder"]["single"]["p50_ms"]
    for config in ("default", "no cache", "2 workers, no cache"):
        c1 = _http_run(results, config, 1)
        if c1:
            ratio = c1["p50_ms"] / encode
            rows.append(
                {
                    "measure": f"HTTP p50, c=1 ({config})",
                    "value": f"{c1['p50_ms']:.2f} ms = {ratio:.2f} x encode ({encode:.2f} ms)",
                    "target": f"<= {TARGETS['http_p50_vs_encode']:.0f} x encode",
                    "met": ratio <= TARGETS["http_p50_vs_encode"],
                }
            )
        c32 = _http_run(results, config, 32)
        if c32:
            rows.append(
                {
                    "measure": f"throughput, c=32 ({config})",
                    "value": f"{c32['rps']:.0f} req/s, {c32['errors']} errors",
                    "target": f">= {TARGETS['throughput_c32_rps']:.0f} req/s, 0 errors",
                    "met": c32["rps"] >= TARGETS["throughput_c32_rps"] and c32["errors"] == 0,
                }
            )
    rows += _round_targets(results.get("rounds"))
    cold = results.get("cold_start")
    if cold and cold.get("first_over_steady") is not None:
        rows.append(
            {
                "measure": "first query after /readyz, cache off",
                "value": f"{cold['first_query_ms']:.1f} ms = {cold['first_over_steady']:.2f} x "
                f"steady p50 ({cold['steady_p50_ms']:.1f} ms); ready in {cold['ready_s']:.1f} s",
                "target": "<= 3 x steady p50",
                "met": cold["first_over_steady"] <= 3.0,
            }
        )
    for b in results.get("build", []):
        rows.append(
            {
                "measure": f"index build ({b['passages']} passages, {b['shape']} shape)",
                "value": f"{b['passages_per_s']:.0f} passages/s (encoder alone: "
                f"{b['encoder_bound_passages_per_s']:.0f})",
                "target": f">= {TARGETS['build_passages_per_s']:.0f} passages/s",
                "met": b["passages_per_s"] >= TARGETS["build_passages_per_s"],
            }
        )
    full = results.get("full_build")
    if full:
        rows.append(
            {
                "measure": f"whole build, fit included ({full['entries']:,} entries, "
                f"{full['texts']:,} texts)",
                "value": f"{full['seconds']:.1f} s = {full['over_encode']:.2f} x the encoder "
                f"alone ({full['encode_seconds']:.1f} s)",
                "target": "<= 2 x the encoder alone",
                "met": full["over_encode"] <= 2.0,
            }
        )
        cold = full["cold_start"]
        if cold.get("first_over_steady") is not None:
            rows.append(
                {
                    "measure": f"first query after /readyz ({full['entries']:,} entries)",
                    "value": f"{cold['first_query_ms']:.1f} ms = {cold['first_over_steady']:.2f}"
                    f" x steady p50 ({cold['steady_p50_ms']:.1f} ms); ready in "
                    f"{cold['ready_s']:.1f} s",
                    "target": "<= 3 x steady p50",
                    "met": cold["first_over_steady"] <= 3.0,
                }
            )
    if "scale" in results and results["scale"]["sizes"]:
        big = max(results["scale"]["sizes"], key=lambda s: s["vectors"])
        auto = big["auto"]
        p50 = auto["end_to_end"]["p50_ms"]
        rows.append(
            {
                "measure": f"{big['vectors']:,} vectors, encode + search ({auto['type']})",
                "value": f"p50 {p50:.2f} ms, recall@{big['k']} {auto['recall_at_k']:.3f}",
                "target": f"p50 <= {TARGETS['scale_p50_ms']:.0f} ms, recall >= "
                f"{TARGETS['scale_recall']}",
                "met": p50 <= TARGETS["scale_p50_ms"]
                and auto["recall_at_k"] >= TARGETS["scale_recall"],
            }
        )
    return rows


def _round_targets(rounds: dict | None) -> list[dict]:
    """The concurrency-1 targets from the interleaved rounds: each ratio within a round."""
    if not rounds or "http" not in rounds["median"]:
        return []
    med, ratio, n = rounds["median"], rounds["ratios"]["http"], len(rounds["rounds"])
    where = f"median of {n} interleaved rounds"
    rows = [
        {
            "measure": "HTTP p50, c=1, no cache, against the encoder",
            "value": f"{med['http']:.2f} ms = {ratio['over_encode']:.2f} x encode "
            f"({med['encode_p50_ms']:.2f} ms); {where}",
            "target": f"<= {TARGETS['http_p50_vs_encode']:.0f} x encode",
            "met": ratio["over_encode"] <= TARGETS["http_p50_vs_encode"],
        },
        {
            "measure": "HTTP p50, c=1, no cache, against ask()",
            "value": f"{ratio['over_ask']:.2f} x ask() ({med['ask_p50_ms']:.2f} ms); {where}",
            "target": f"<= {TARGETS['http_p50_vs_ask']} x ask()",
            "met": ratio["over_ask"] <= TARGETS["http_p50_vs_ask"],
        },
    ]
    if "txtai" in med:
        vs = statistics.median(r["http"] / r["txtai"] for r in rounds["rounds"])
        rows.append(
            {
                "measure": "HTTP p50, c=1, no cache, against txtai's API",
                "value": f"{med['http']:.2f} ms vs {med['txtai']:.2f} ms = {vs:.2f} x; {where}",
                "target": "< 1 x (faster than the peer)",
                "met": vs < 1.0,
            }
        )
    return rows


def round_lines(r: dict) -> list[str]:
    rounds = r.get("rounds")
    if not rounds:
        return []
    servers = rounds["servers"]
    lines = [
        "## Concurrency 1 in interleaved rounds",
        "",
        f"Each round times the raw encoder, ask() (cache cleared) and one request at a time "
        f"against each server ({', '.join(servers)}) for {rounds['seconds_per_block']} s each, "
        "one after the other; figures are p50 in ms.",
        "",
    ]
    rows = [
        [i + 1, x["encode_p50_ms"], x["ask_p50_ms"], *(x[s] for s in servers), x["load_avg_1m"]]
        for i, x in enumerate(rounds["rounds"])
    ]
    med = rounds["median"]
    rows.append(["median", med["encode_p50_ms"], med["ask_p50_ms"], *(med[s] for s in servers), ""])
    lines += _table(["round", "encode", "ask()", *servers, "load avg"], rows)
    for s in servers:
        ratio = rounds["ratios"][s]
        lines += [
            f"- {s}: {ratio['over_encode']:.2f} x encode, {ratio['over_ask']:.2f} x ask() "
            "(medians of the rounds' own ratios)"
        ]
    return lines + [""]


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out + [""]


def _params(p: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in p.items()) or "-"


def peer_lines(r: dict) -> list[str]:
    """The peer's rows, each beside this service's uncached runs at its concurrency, with
    the ratios measured in the same run."""
    lines: list[str] = []
    peer = r.get("peer")
    if peer:
        lines += ["## Peer: txtai, same encoder, same texts, same run", ""]
        if peer.get("error"):
            lines += [f"Not measured: {peer['error']}", ""]
        rows = []
        for run in peer.get("runs", []):
            c = run["concurrency"]
            ours = [
                h
                for h in r.get("http", [])
                if h["concurrency"] == c and h["config"] in ("no cache", "2 workers, no cache")
            ]
            for h in ours:
                rows.append(
                    [
                        f"qa-service {h['config']} ({h['workers']} worker(s))",
                        c,
                        f"{h['rps']:.0f}",
                        h["p50_ms"],
                        h["p99_ms"],
                        f"{h['rps'] / run['rps']:.2f}" if run["rps"] else "-",
                        f"{run['p50_ms'] / h['p50_ms']:.2f}" if h["p50_ms"] else "-",
                    ]
                )
            rows.append(
                [
                    "txtai API (1 process)",
                    c,
                    f"{run['rps']:.0f}",
                    run["p50_ms"],
                    run["p99_ms"],
                    "",
                    "",
                ]
            )
        if rows:
            lines += _table(
                ["server", "c", "req/s", "p50 ms", "p99 ms", "req/s vs txtai", "txtai p50 / ours"],
                rows,
            )
    return lines


def render_markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"# qa-service bench ({r['profile']})",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}",
        f"- command: `{r['command']}`",
        f"- started {r['started_at']}, {r['seconds']} s; 1-minute load average "
        f"{r['load_avg_1m_start']} at start, {r['load_avg_1m_end']} at end",
        f"- embedder {r['settings']['embedder']}, {r['questions']['count']} questions in the mix",
        "",
        "## Targets",
        "",
    ]
    lines += _table(
        ["measure", "value", "target", "met"],
        [
            [t["measure"], t["value"], t["target"], "yes" if t["met"] else "**no**"]
            for t in r["targets"]
        ],
    )
    enc, ask = r["encoder"], r["ask"]
    lines += ["## In process", ""]
    lines += _table(
        ["measure", "p50 ms", "p99 ms", "load avg"],
        [
            [
                "raw encoder, 1 question",
                enc["single"]["p50_ms"],
                enc["single"]["p99_ms"],
                enc["load_avg_1m"],
            ],
            [
                "ask(), cache cleared",
                ask["uncached"]["p50_ms"],
                ask["uncached"]["p99_ms"],
                ask["load_avg_1m"],
            ],
            ["ask(), cached", ask["cached"]["p50_ms"], ask["cached"]["p99_ms"], ask["load_avg_1m"]],
        ],
    )
    lines += [
        f"Raw encoder in batches of 32: {enc['batch32_questions_per_s']:.0f} questions/s.",
        "",
    ]
    if r.get("encoder_by_threads"):
        lines += _table(
            [
                "encoder threads",
                "1 question p50 ms",
                "p99 ms",
                "batches of 32, questions/s",
                "load avg",
            ],
            [
                [
                    t,
                    e["single"]["p50_ms"],
                    e["single"]["p99_ms"],
                    f"{e['batch32_questions_per_s']:.0f}",
                    e["load_avg_1m"],
                ]
                for t, e in r["encoder_by_threads"].items()
            ],
        )
    if r.get("http"):
        lines += ["## HTTP", ""]
        rows = []
        for h in r["http"]:
            mem = h["memory"]["workers"]
            rows.append(
                [
                    h["config"],
                    h["workers"],
                    h["concurrency"],
                    f"{h['rps']:.0f}",
                    h["p50_ms"],
                    h["p99_ms"],
                    h["errors"],
                    " / ".join(f"{w['peak_rss_mb']:.0f}" for w in mem),
                    " / ".join(f"{w['pss_mb']:.0f}" for w in mem),
                    h["tool"],
                    h["load_avg_1m"],
                ]
            )
        lines += _table(
            [
                "config",
                "workers",
                "c",
                "req/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "peak RSS MB",
                "PSS MB",
                "tool",
                "load avg",
            ],
            rows,
        )
    lines += round_lines(r)
    lines += peer_lines(r)
    if r.get("build"):
        lines += ["## Index build", ""]
        lines += _table(
            [
                "shape",
                "passages",
                "entries",
                "vectors",
                "chars a passage",
                "matcher",
                "seconds",
                "passages/s",
                "encoder alone, s",
                "encoder alone, passages/s",
                "load avg",
            ],
            [
                [
                    b["shape"],
                    b["passages"],
                    b["entries"],
                    b["vectors"],
                    b["mean_passage_chars"],
                    "yes" if b["matcher"] else "no",
                    b["seconds"],
                    f"**{b['passages_per_s']:.0f}**",
                    b["encode_seconds"],
                    f"{b['encoder_bound_passages_per_s']:.0f}",
                    b["load_avg_1m"],
                ]
                for b in r["build"]
            ],
        )
        lines += [
            "The encoder alone embeds the same texts (passages, titles and alt questions) with "
            f"the same {r['build'][0]['encode_threads']} thread(s): the bound a build can "
            "approach.",
            "",
        ]
    if "scale" in r:
        s = r["scale"]
        lines += ["## Scale", ""]
        for size in s["sizes"]:
            lines += [
                f"### {size['vectors']:,} vectors of {size['dim']} dimensions",
                "",
                f"{size['queries']} real questions; recall@{size['k']} against Flat; single "
                f"queries; load average {size['load_avg_1m']}; process peak RSS "
                f"{size['peak_rss_mb']:.0f} MB.",
                "",
            ]
            rows = [
                [
                    x["type"],
                    _params(x["params"]),
                    x["build_s"],
                    x["size_mb"],
                    f"{x['recall_at_k']:.3f}",
                    x["search_1thread"]["p50_ms"],
                    x["search_1thread"]["p99_ms"],
                    x["search_all_threads"]["p50_ms"],
                    x["search_service_k"]["p50_ms"],
                ]
                for x in size["indexes"]
            ]
            lines += _table(
                [
                    "index",
                    "params",
                    "build s",
                    "MB",
                    "recall",
                    "p50 ms (1 thread)",
                    "p99 ms",
                    "p50 ms (all threads)",
                    "p50 ms (k=256)",
                ],
                rows,
            )
            a = size["auto"]
            lines += [
                f"Chosen by qa_service.index: **{a['type']}** {_params(a['params'])}; real "
                f"encoder + search at the service's depth: p50 {a['end_to_end']['p50_ms']} ms, "
                f"p99 {a['end_to_end']['p99_ms']} ms.",
                "",
            ]
        if s.get("mmap"):
            mm = s["mmap"]
            lines += [
                f"### {mm['workers']} workers sharing one {mm['index_type']} index file "
                f"({mm['index_mb']} MB)",
                "",
            ]
            lines += _table(
                ["load", "load s", "RSS MB per worker", "PSS MB per worker"],
                [
                    [
                        mode,
                        mm[mode]["load_s"],
                        mm[mode]["rss_mb_per_worker"],
                        mm[mode]["pss_mb_per_worker"],
                    ]
                    for mode in ("read", "mmap")
                ],
            )
    lines += [f"Peak RSS of the bench process: {r['peak_rss_mb']:.0f} MB.", ""]
    return "\n".join(lines)
