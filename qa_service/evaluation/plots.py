"""PNG plots of an evaluation: score distributions, risk-coverage, reliability."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in CI

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from .metrics import EvalRecord, aurc, reliability, risk_coverage  # noqa: E402
from .metrics import ece as metric_ece  # noqa: E402

COLOURS = {"right": "#2a9d55", "wrong": "#d1495b", "escalate": "#3a6ea5"}
CJK_FONT = "Noto Sans CJK SC"


def _style() -> None:
    # Labels are ASCII; the CJK font only matters if a caller draws question text.
    fonts = ["DejaVu Sans"]
    if any(f.name == CJK_FONT for f in font_manager.fontManager.ttflist):
        fonts.append(CJK_FONT)
    plt.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": fonts,
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "savefig.dpi": 110,
        }
    )


def _groups(records: Sequence[EvalRecord], value) -> dict[str, list[float]]:
    return {
        f"right top answer (n={sum(r.top1 for r in records)})": [
            value(r) for r in records if r.top1
        ],
        f"wrong top answer (n={sum(r.answerable and not r.top1 for r in records)})": [
            value(r) for r in records if r.answerable and not r.top1
        ],
        f"should escalate (n={sum(r.escalate_expected for r in records)})": [
            value(r) for r in records if r.escalate_expected
        ],
    }


def _histogram(ax, groups: dict[str, list[float]], line: float | None, line_label: str) -> None:
    # Stacked: each bar shows how many questions of each kind got that score.
    kept = [
        (label, v, c) for (label, v), c in zip(groups.items(), COLOURS.values(), strict=True) if v
    ]
    values = [x for _, v, _ in kept for x in v] + ([line] if line is not None else [])
    # Zoom on where the scores are (they often bunch near 1), keeping the threshold in view.
    low = max(0.0, np.floor(min(values, default=0.0) * 20) / 20 - 0.05)
    bins = np.linspace(low, 1.0, 41)
    if kept:
        ax.hist(
            [v for _, v, _ in kept],
            bins=bins,
            stacked=True,
            color=[c for _, _, c in kept],
            label=[label for label, _, _ in kept],
            edgecolor="white",
            linewidth=0.5,
        )
    left_side = line is not None and line > low + 0.4 * (1.0 - low)
    if line is not None:
        ax.axvline(line, color="black", linestyle="--", linewidth=1.5)
        ax.annotate(
            f"{line_label} {line:.3f}",
            (line, 1.0),
            xycoords=("data", "axes fraction"),
            # Beside the line, on the side away from the legend.
            xytext=(-4 if left_side else 4, -4),
            textcoords="offset points",
            ha="right" if left_side else "left",
            va="top",
            fontsize=9,
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.6"},
        )
    ax.set_xlim(low, 1.0)
    ax.set_ylabel("questions")
    if kept:
        ax.legend(loc="upper left" if line is None or left_side else "upper right", fontsize=9)


def score_distributions(
    records: Sequence[EvalRecord], thresholds: dict, path: Path, title: str
) -> Path:
    fig, (top, conf) = plt.subplots(2, 1, figsize=(9, 8))
    _histogram(
        top,
        _groups(records, lambda r: r.top_score),
        thresholds.get("min_top"),
        "out-of-scope below",
    )
    top.set_xlabel("score of the top passage")
    top.set_title("Top score")
    _histogram(
        conf,
        _groups(records, lambda r: r.confidence),
        thresholds.get("answer_threshold"),
        "answer threshold",
    )
    conf.set_xlabel("confidence (escalate below the answer threshold)")
    conf.set_title("Confidence")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def risk_coverage_curve(records: Sequence[EvalRecord], path: Path, title: str) -> Path:
    points = risk_coverage(records)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    if points:
        cov = [0.0] + [p["coverage"] for p in points]
        risk = [points[0]["risk"]] + [p["risk"] for p in points]
        ax.step(
            cov,
            risk,
            where="post",
            color=COLOURS["escalate"],
            linewidth=2,
            label=f"answer the most confident first (area {aurc(points):.3f})",
        )
        n = len(records)
        answered = [r for r in records if not r.escalated]
        if answered:
            op_cov = len(answered) / n
            op_risk = sum(not r.top1 for r in answered) / len(answered)
            ax.plot(
                op_cov,
                op_risk,
                "o",
                color=COLOURS["wrong"],
                markersize=9,
                label=f"service decision: coverage {op_cov:.2f}, risk {op_risk:.2f}",
            )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, max(0.05, max((p["risk"] for p in points), default=0) * 1.1))
    ax.set_xlabel("coverage (share of questions answered)")
    ax.set_ylabel("risk (share of answers that are wrong)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def reliability_diagram(records: Sequence[EvalRecord], path: Path, title: str) -> Path:
    bins = reliability(records)
    fig, ax = plt.subplots(figsize=(7, 6.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    if bins:
        centres = [(b["lo"] + b["hi"]) / 2 for b in bins]
        ax.bar(
            centres,
            [b["accuracy"] for b in bins],
            width=0.09,
            color=COLOURS["escalate"],
            alpha=0.75,
            label="share right in the bin",
        )
        ax.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            "o",
            color=COLOURS["wrong"],
            label="at the bin's mean confidence",
        )
        for x, b in zip(centres, bins, strict=True):
            ax.annotate(f"{b['n']}", (x, 0.015), ha="center", fontsize=8, color="black")
    ece = metric_ece(records)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (numbers in the bars: questions per bin)")
    ax.set_ylabel("share of top answers that are right")
    ax.set_title(title + (f" (ECE {ece:.3f})" if ece is not None else ""))
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_plots(
    records: Sequence[EvalRecord], thresholds: dict, out: Path, name: str = "evaluation"
) -> list[Path]:
    _style()
    out.mkdir(parents=True, exist_ok=True)
    return [
        score_distributions(
            records, thresholds, out / "scores.png", f"{name}: score distributions"
        ),
        risk_coverage_curve(records, out / "risk_coverage.png", f"{name}: risk-coverage"),
        reliability_diagram(records, out / "reliability.png", f"{name}: reliability of confidence"),
    ]
