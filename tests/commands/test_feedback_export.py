"""qa-service feedback export: agent verdicts -> evaluation JSONL + alt-question candidates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qa_service.cli import main
from qa_service.labelled import load_questions
from qa_service.service import QAService
from qa_service.storage import DB_FILENAME, SQLiteStorage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def data_dir(tmp_path: Path, service: QAService) -> Path:
    """A query log with every kind of agent verdict, from real answers."""
    store = SQLiteStorage(tmp_path / "data" / DB_FILENAME)

    def logged(question: str) -> str:
        answer = service.ask(question)
        store.log_query(answer, "widget")
        return answer.query_id

    def agent(qid: str, verdict: str, passage: str | None = None) -> None:
        store.add_feedback(qid, verdict, passage_id=passage, source="agent")

    agent(logged("密码忘了咋整"), "correct", "password-reset#1")
    agent(logged("密码忘了咋整"), "correct", "password-reset#2")  # same question again
    agent(logged("今天天气怎么样"), "unanswerable")
    agent(logged("提现要多久"), "incorrect", "withdrawal-fees#1")  # says what is wrong only
    agent(logged("账户被封了"), "correct", "no-such-entry#1")  # not in the corpus
    phone = logged("手机13812345678换了怎么改密码")
    agent(phone, "correct", "password-reset#1")
    agent(logged("OKPAY是干什么的"), "correct", "about-okpay#1")  # already an alt question
    changed = logged("怎么联系客服")
    agent(changed, "unanswerable")
    agent(changed, "correct", "contact-channels#1")  # a later mark overrides
    store.add_feedback(logged("提现手续费"), "correct", passage_id="withdrawal-fees#1")
    store.close()
    return tmp_path / "data"


def test_export(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "verified.jsonl"
    rc = main(
        [
            "feedback",
            "export",
            "--out",
            str(out),
            "--data-dir",
            str(data_dir),
            "--corpus",
            str(ROOT / "corpus"),
        ]
    )
    assert rc == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    by_q = {r["question"]: r for r in rows}
    assert set(by_q) == {
        "密码忘了咋整",
        "今天天气怎么样",
        "手机[PHONE]换了怎么改密码",
        "OKPAY是干什么的",
        "怎么联系客服",
    }
    assert by_q["密码忘了咋整"]["expected"] == ["password-reset"]
    assert len(by_q["密码忘了咋整"]["query_ids"]) == 2
    assert by_q["今天天气怎么样"] | {"query_ids": []} == {
        "question": "今天天气怎么样",
        "expected": [],
        "escalate": True,
        "lang": "zh",
        "tags": ["feedback", "agent-verified"],
        "query_ids": [],
        "verified_at": by_q["今天天气怎么样"]["verified_at"],
    }
    assert by_q["怎么联系客服"]["escalate"] is False
    assert by_q["怎么联系客服"]["expected"] == ["contact-channels"]

    # The evaluation reads the file as it is.
    loaded = load_questions(out)
    assert len(loaded) == 5 and sum(q.escalate for q in loaded) == 1

    alt = yaml.safe_load((tmp_path / "out" / "verified.alt_questions.yaml").read_text("utf-8"))
    assert alt["password-reset"]["candidates"] == [{"question": "密码忘了咋整", "verified": 2}]
    assert alt["password-reset"]["title"] == "忘记密码怎么办?"
    assert alt["contact-channels"]["candidates"] == [{"question": "怎么联系客服", "verified": 1}]
    assert "about-okpay" not in alt  # already listed in the corpus
    assert all("[PHONE]" not in c["question"] for e in alt.values() for c in e["candidates"])

    printed = capsys.readouterr().out
    assert "wrote 5 verified questions (4 answerable, 1 escalate)" in printed
    assert "left out: 1 marked only incorrect, 1 naming entries not in the corpus" in printed


def test_export_of_an_empty_database(tmp_path: Path) -> None:
    out = tmp_path / "v.jsonl"
    assert main(["feedback", "export", "--out", str(out), "--data-dir", str(tmp_path)]) == 0
    assert out.read_text("utf-8") == ""
    assert (tmp_path / "v.alt_questions.yaml").read_text("utf-8").endswith("{}\n")


def test_an_unreachable_postgres_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_DATABASE_URL", "postgresql://qa@127.0.0.1:1/qa")  # nothing listens
    assert main(["feedback", "export", "--out", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot use the PostgreSQL database" in err
