"""The question mix every measurement sends: real customer-style questions, cycled."""

from __future__ import annotations

import json
from pathlib import Path

from ..index import resolve_build
from ..labelled import load_questions as load_labelled


def load_questions(path: Path | None, index_dir: Path) -> list[str]:
    """Questions from a JSONL/CSV file of labelled questions, else the FAQ's own questions."""
    if path is not None:
        questions = [q.question for q in load_labelled(path)]
    else:
        table = json.loads((resolve_build(index_dir) / "table.json").read_text("utf-8"))
        questions = [q for e in table["entries"] for q in (e["question"], *e["alt_questions"])]
    # Keep order (it fixes the mix) but drop exact repeats.
    questions = list(dict.fromkeys(q for q in questions if q.strip()))
    if not questions:
        raise ValueError(f"no questions to benchmark with (from {path or index_dir})")
    return questions
