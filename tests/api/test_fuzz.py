"""Fuzzing, bounded in time: schemathesis drives a real server from its own /openapi.json, and
hypothesis throws arbitrary text (surrogates, controls, any script) at ``QAService.ask``."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from qa_service.service import QAService
from tests.api.live_server import LiveServer, start_server

ADMIN_TOKEN = "fuzz-admin-token"
MAX_EXAMPLES = 25
REASONS = {"low_confidence", "ambiguous", "out_of_scope", "no_index", "human_requested", "urgent"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> Iterator[LiveServer]:
    srv = start_server(tmp_path_factory.mktemp("fuzz"), index_dir, {"QA_ADMIN_TOKEN": ADMIN_TOKEN})
    yield srv
    srv.stop()


def fuzz_operation(
    op: schemathesis.APIOperation, mode: GenerationMode, base_url: str, headers: dict[str, str]
) -> int:
    """Run hypothesis over one operation; returns how many cases were sent."""
    calls = 0

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases every run: bounded and reproducible in CI
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        nonlocal calls
        calls += 1
        # positive_data_acceptance is left out: a question is judged after trimming and
        # dropping control characters, which JSON Schema cannot express, so a schema-valid
        # "  " or "\\u0000" is rightly a 422.
        case.call_and_validate(
            base_url=base_url, headers=headers, excluded_checks=[positive_data_acceptance]
        )

    try:
        run()
    except Unsatisfiable:  # negative mode on an operation that takes no input at all
        assert mode is GenerationMode.NEGATIVE and calls == 0
    return calls


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_and_never_answers_5xx(live: LiveServer, mode: GenerationMode) -> None:
    """Every operation of the published schema, with valid (positive) and schema-violating
    (negative) data. Driven through ``as_strategy`` rather than ``schema.parametrize``, whose
    lazy-fixture form does not run under the pytest this project uses."""
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/query", "/admin/reload", "/readyz"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    sent = {
        op.label: fuzz_operation(op, mode, live.url, admin if op.path.startswith("/admin") else {})
        for op in operations
    }
    assert sent["POST /v1/query"] > 0 and sum(sent.values()) > len(sent), sent


# Any code point, surrogates and control characters included, plus FAQ words and shorthand so
# that the retrieval path is exercised, not only the empty-input one.
ANY_CHAR = st.characters(codec=None, exclude_categories=())
FAQ_BITS = st.sampled_from(
    [
        "忘记密码",
        "提现",
        "手续费",
        "账户冻结",
        "pwd",
        "acct",
        "咋办",
        "帳戶",
        "客fu",
        "OKPAY",
        "?",
        "😀",
    ]
)
QUESTION = st.lists(st.one_of(st.text(ANY_CHAR, max_size=40), FAQ_BITS), max_size=12).map("".join)


@given(question=QUESTION, top_k=st.integers(1, 20))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ask_never_raises_on_arbitrary_text(service: QAService, question: str, top_k: int) -> None:
    a = service.ask(question, top_k=top_k, channel="eval")
    orjson.dumps(a.to_dict())  # serialisable as the API sends it: no lone surrogate survives
    assert 0.0 <= a.confidence <= 1.0
    assert len(a.passages) <= top_k
    assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in a.question)
    if a.reply is not None:  # small talk: a reply, neither an answer nor an escalation
        assert a.answer is None and not a.escalate and a.reply["text"]
    elif a.escalate:
        assert a.answer is None and a.escalation["reason"] in REASONS
    else:
        shown = {k: v for k, v in a.answer.items() if k != "other_passages"}
        assert shown == a.passages[0] and a.escalation is None
