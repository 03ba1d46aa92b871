"""qa-service gaps: escalated questions clustered with the real embedder."""

from __future__ import annotations

import json
from pathlib import Path

from qa_service.cli import main
from qa_service.service import QAService
from qa_service.storage import DB_FILENAME, SQLiteStorage

REFUNDS = ["我要退款", "怎么申请退款", "退款多久能到", "refund my payment"]
WEATHER = ["今天天气怎么样", "明天会下雨吗", "北京天气如何"]
MOVIES = ["推荐一部好看的电影", "最近有什么好电影"]


def test_gaps_groups_escalated_questions(tmp_path: Path, service: QAService) -> None:
    store = SQLiteStorage(tmp_path / "data" / DB_FILENAME)
    for question in REFUNDS + WEATHER + MOVIES + ["我要退款"]:
        answer = service.ask(question)
        assert answer.escalate, f"{question!r} is expected to escalate"
        store.log_query(answer, "widget")
    store.log_query(service.ask("今天天气怎么样"), "agent")  # an agent's search: not counted
    store.log_query(service.ask("明天会下雨吗"), "eval")  # an evaluation run: not counted
    answered = service.ask("密码忘了咋整")
    assert not answered.escalate
    store.log_query(answered, "widget")
    store.add_feedback(answered.query_id, "unanswerable", source="agent")
    store.close()

    out = tmp_path / "gaps"
    assert main(["gaps", "--out", str(out), "--data-dir", str(tmp_path / "data")]) == 0
    report = json.loads((out / "gaps.json").read_text("utf-8"))
    assert report["total_questions"] == len(REFUNDS + WEATHER + MOVIES) + 2
    clusters = report["clusters"]
    groups = [set(c["examples"]) for c in clusters]
    assert set(REFUNDS) in groups and set(WEATHER) in groups and set(MOVIES) in groups
    assert {"密码忘了咋整"} in groups
    refunds = clusters[0]
    assert refunds["rank"] == 1 and refunds["count"] == 5  # "我要退款" was asked twice
    assert refunds["examples"][0] == "我要退款"  # the most asked wording comes first
    assert sum(refunds["reasons"].values()) == 5
    assert set(refunds["reasons"]) <= {"low_confidence", "ambiguous", "out_of_scope"}
    assert [c["count"] for c in clusters] == sorted((c["count"] for c in clusters), reverse=True)
    unanswerable = next(c for c in clusters if c["examples"] == ["密码忘了咋整"])
    assert unanswerable["reasons"] == {"agent_unanswerable": 1}

    md = (out / "gaps.md").read_text("utf-8")
    assert md.startswith("# FAQ gaps") and "## 1. 我要退款  (5×)" in md


def test_gaps_of_an_empty_log(tmp_path: Path) -> None:
    assert main(["gaps", "--out", str(tmp_path / "g"), "--data-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "g" / "gaps.json").read_text("utf-8"))
    assert report["total_questions"] == 0 and report["clusters"] == []
