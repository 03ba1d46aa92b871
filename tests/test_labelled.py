import json
from pathlib import Path

import pytest

from qa_service.labelled import DatasetError, load_questions


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_null_expected_marks_a_question_to_escalate(tmp_path: Path) -> None:
    rows = [
        {"question": "退款多久到", "expected": None, "escalate": True},
        {"question": "忘记密码怎么办", "expected": ["password-reset"], "escalate": False},
    ]
    refund, reset = load_questions(_write(tmp_path / "q.jsonl", rows))
    assert refund.escalate and refund.expected == ()
    assert not reset.escalate and reset.is_correct("password-reset", "password-reset#1")


def test_every_bad_row_is_named_with_its_line(tmp_path: Path) -> None:
    rows = [
        {"question": "忘记密码怎么办", "expected": None, "escalate": False},
        {"question": "", "expected": ["password-reset"]},
        {"question": "fee?", "expected": ["withdrawal-fees"], "escalate": "maybe"},
    ]
    with pytest.raises(DatasetError) as err:
        load_questions(_write(tmp_path / "q.jsonl", rows))
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in err.value.problems] == ["1", "2", "3"]
    assert "needs at least one expected id" in err.value.problems[0]


def test_csv_rows_split_expected_ids(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "question,expected,escalate\n怎么联系客服,contact-channels|contact-phone,false\n", "utf-8"
    )
    (q,) = load_questions(path)
    assert q.expected == ("contact-channels", "contact-phone") and not q.escalate
