"""Write an evaluation to disk: metrics.json, records.jsonl and a readable report.md."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .metrics import MRR_K, EvalRecord

TABLE_COLUMNS = (
    ("n", "n"),
    ("top1", "top1"),
    ("recall@3", "recall@3"),
    (f"mrr@{MRR_K}", f"MRR@{MRR_K}"),
    ("decision_accuracy", "decision acc."),
    ("escalation_f1", "escalation F1"),
    ("answered_precision", "answered prec."),
    ("coverage", "coverage"),
)
OVERALL_ROWS = (
    ("top1", "hit@1 (top1)"),
    ("passage_top1", "hit@1, passage level"),
    ("recall@1", "recall@1"),
    ("recall@3", "recall@3"),
    ("recall@5", "recall@5"),
    (f"mrr@{MRR_K}", f"MRR@{MRR_K}"),
    ("decision_accuracy", "decision accuracy"),
    ("escalation_precision", "escalation precision"),
    ("escalation_recall", "escalation recall"),
    ("escalation_f1", "escalation F1"),
    ("answered_precision", "answered precision"),
    ("coverage", "coverage"),
    ("wrong_answer_rate", "wrong answers (share of all)"),
    ("ece", "calibration error (ECE)"),
    ("aurc", "area under risk-coverage"),
    ("latency_p50_ms", "latency p50 (ms)"),
    ("latency_p95_ms", "latency p95 (ms)"),
    ("latency_p99_ms", "latency p99 (ms)"),
)


def fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def cell(text: object) -> str:
    """Markdown-table-safe text: no pipes or line breaks."""
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _group_table(groups: dict[str, dict], label: str) -> list[str]:
    head = f"| {label} | " + " | ".join(name for _, name in TABLE_COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(TABLE_COLUMNS) + 1)]
    for group, m in groups.items():
        lines.append(
            f"| {cell(group)} | " + " | ".join(fmt(m.get(k)) for k, _ in TABLE_COLUMNS) + " |"
        )
    return lines


def _failures(records: Sequence[EvalRecord]) -> list[str]:
    bad = [r for r in records if not r.decision_correct]
    lines = [f"## Failures ({len(bad)} of {len(records)})", ""]
    if not bad:
        return lines + ["None.", ""]
    lines += [
        "| line | question | expected | got | score | confidence | decision | outcome |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in bad:
        expected = "escalate" if r.escalate_expected else ", ".join(r.expected)
        got = ", ".join(r.got[:3]) or "–"
        decision = f"escalate ({r.reason})" if r.escalated else "answer"
        lines.append(
            f"| {r.line} | {cell(r.question)} | {cell(expected)} | {cell(got)} | "
            f"{r.top_score:.3f} | {r.confidence:.3f} | {decision} | {r.outcome} |"
        )
    return lines + [""]


def render(metrics: dict, records: Sequence[EvalRecord], plots: Sequence[Path] = ()) -> str:
    meta = metrics.get("meta", {})
    overall = metrics["overall"]
    lines = [f"# Evaluation: {meta.get('name', 'questions')}", ""]
    for key in ("questions", "target", "embedder", "index", "calibration", "date"):
        if meta.get(key):
            lines.append(f"- {key}: `{meta[key]}`")
    thresholds = meta.get("thresholds") or {}
    if thresholds:
        lines.append(
            "- thresholds: "
            + ", ".join(f"{k} {fmt(v)}" for k, v in thresholds.items() if v is not None)
        )
    lines += [
        f"- {overall['n']} questions: {overall['n_answerable']} answerable, "
        f"{overall['n_should_escalate']} should be escalated",
        "",
        "## Overall",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {name} | {fmt(overall.get(k))} |" for k, name in OVERALL_ROWS]
    lines += ["", "## By language", ""] + _group_table(metrics["by_lang"], "language")
    lines += ["", "## By tag", ""] + _group_table(metrics["by_tag"], "tag")
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots]
    lines += ["", *_failures(records)]
    return "\n".join(lines)


def write_report(
    out: Path, metrics: dict, records: Sequence[EvalRecord], plots: Sequence[Path] = ()
) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "metrics": out / "metrics.json",
        "records": out / "records.jsonl",
        "report": out / "report.md",
    }
    paths["metrics"].write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", "utf-8")
    with paths["records"].open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    paths["report"].write_text(render(metrics, records, plots), "utf-8")
    return paths


def write_evaluation(
    out: Path,
    records: Sequence[EvalRecord],
    meta: dict,
    plots: bool = True,
) -> tuple[dict, dict[str, Path]]:
    """Metrics, plots and report of one evaluation run, all in ``out``."""
    from .metrics import compute

    metrics = {"meta": meta, **compute(records)}
    drawn: list[Path] = []
    if plots:
        from .plots import write_plots

        drawn = write_plots(
            records, meta.get("thresholds") or {}, out, meta.get("name", "evaluation")
        )
    paths = write_report(out, metrics, records, drawn)
    for p in drawn:
        paths[p.stem] = p
    return metrics, paths
