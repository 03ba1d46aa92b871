"""Labelled questions: JSONL (``{"question", "expected", "escalate", "lang"?, "tags"?}``) or
CSV with the columns ``question,expected,escalate`` (expected ids separated by ``|``)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from .pipeline.normalise import detect_language


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    expected: tuple[str, ...]
    escalate: bool
    lang: str
    tags: tuple[str, ...]
    line: int

    def is_correct(self, faq_id: str | None, passage_id: str | None = None) -> bool:
        """At the entry level: an expected id may name an entry (``password-reset``) or one of
        its passages (``password-reset#1``); either names the entry."""
        return any(e.split("#", 1)[0] == faq_id for e in self.expected)


class DatasetError(ValueError):
    def __init__(self, path: Path, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{path}: {len(problems)} bad row(s)\n" + "\n".join(f"  {p}" for p in problems[:50])
        )


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "y"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "n", ""):
        return False
    return None


def _row(obj: dict, where: str, n: int, problems: list[str]) -> LabelledQuestion | None:
    q = obj.get("question")
    if not isinstance(q, str) or not q.strip():
        problems.append(f"{where}: 'question' is missing or empty")
        return None
    expected = obj.get("expected")
    if expected is None:  # null is how many writers mark "no entry answers this"
        expected = []
    if isinstance(expected, str):
        expected = [e for e in expected.replace(",", "|").split("|") if e.strip()]
    if not isinstance(expected, list) or not all(isinstance(e, str) for e in expected):
        problems.append(f"{where}: 'expected' must be a list of ids")
        return None
    esc = _bool(obj.get("escalate", not expected))
    if esc is None:
        problems.append(f"{where}: 'escalate' must be true or false")
        return None
    if not esc and not expected:
        problems.append(f"{where}: an answerable question needs at least one expected id")
        return None
    tags = obj.get("tags") or []
    if isinstance(tags, str):
        tags = [t for t in tags.split("|") if t]
    lang = obj.get("lang") or detect_language(q)
    return LabelledQuestion(q, tuple(e.strip() for e in expected), esc, lang, tuple(tags), n)


def load_questions(path: str | Path) -> list[LabelledQuestion]:
    path = Path(path)
    if not path.is_file():
        raise DatasetError(path, [f"{path}: no such file"])
    problems: list[str] = []
    out: list[LabelledQuestion] = []
    try:
        text = path.read_text("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise DatasetError(path, [f"{path}: not valid UTF-8 ({exc.reason})"]) from exc
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = {"question", "expected", "escalate"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(path, [f"{path}:1: missing column(s) {', '.join(sorted(missing))}"])
        for n, row in enumerate(reader, start=2):
            item = _row(row, f"{path}:{n}", n, problems)
            if item:
                out.append(item)
    else:
        for n, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{n}: malformed JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"{path}:{n}: each line must be a JSON object")
                continue
            item = _row(obj, f"{path}:{n}", n, problems)
            if item:
                out.append(item)
    if problems:
        raise DatasetError(path, problems)
    if not out:
        raise DatasetError(path, [f"{path}: no questions"])
    return out
