"""qa-service check: file:line findings, exit 1 on errors only."""

import json
from pathlib import Path

import pytest

from qa_service.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_check_passes_the_okpay_corpus(capsys) -> None:
    assert main(["check", "--corpus", str(ROOT / "corpus")]) == 0
    err = capsys.readouterr().err
    assert "0 error(s)" in err


def test_check_fails_on_a_stale_line_with_file_and_line(tmp_path: Path, capsys) -> None:
    src = tmp_path / "faq"
    src.mkdir()
    (src / "faq.jsonl").write_text(
        "\n".join(
            json.dumps(e, ensure_ascii=False)
            for e in [
                {
                    "id": "refunds",
                    "question": "如何申请退款?",
                    "answer": "请联系商户发起退款,款项三到五个工作日原路退回。",
                },
                {
                    "id": "shipping",
                    "question": "多久发货?",
                    "answer": "下单后四十八小时内发货,快递一般三天送达。",
                },
                {"id": "shipping-2", "question": "多久发货呢?", "answer": "付款后两天内发货。"},
            ]
        )
        + "\n",
        "utf-8",
    )
    (src / "no.escalate.txt").write_text("# not covered\n怎么申请退款\n能开发票吗\n", "utf-8")
    assert main(["check", "--corpus", str(src)]) == 1
    out = capsys.readouterr().out
    assert "faq/no.escalate.txt:2: error: not-covered question now matches entry refunds" in out
    assert "faq/faq.jsonl:3: warning: entry shipping-2 asks what entry shipping asks" in out
