"""POST /v1/feedback, the agent listings and their token, the pages; then a real server that
is restarted (feedback survives) and whose database and log are searched for raw PII."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api import create_app
from qa_service.config import Settings
from qa_service.service import QAService
from qa_service.storage import DB_FILENAME

from .live_server import start_server

TOKEN = "s3cret-agent-token"
ROOT = Path(__file__).resolve().parents[2]


def make_client(tmp_path: Path, index_dir: Path, embedder, **overrides) -> TestClient:
    settings = Settings(
        corpus=ROOT / "corpus",
        index_dir=index_dir,
        data_dir=tmp_path / "data",
        escalation_url="https://help.example.test/human",
        rate_limit_per_minute=0,
        **overrides,
    )
    service = QAService(settings, embedder=embedder)
    service.load()
    return TestClient(create_app(settings, service))


@pytest.fixture()
def client(tmp_path: Path, index_dir: Path, embedder) -> Iterator[TestClient]:
    with make_client(tmp_path, index_dir, embedder) as c:
        yield c


@pytest.fixture()
def secured(tmp_path: Path, index_dir: Path, embedder) -> Iterator[TestClient]:
    with make_client(tmp_path, index_dir, embedder, agent_token=TOKEN) as c:
        yield c


def ask(client: TestClient, question: str, channel: str = "widget") -> dict:
    r = client.post("/v1/query", json={"question": question, "channel": channel})
    assert r.status_code == 200
    return r.json()


def db_rows(client: TestClient, sql: str) -> list[tuple]:
    path = client.app.state.settings.data_dir / DB_FILENAME
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


# POST /v1/feedback ---------------------------------------------------------------------


def test_feedback_is_stored_and_returned_with_its_id(client: TestClient) -> None:
    q = ask(client, "忘记密码了怎么办?")
    r = client.post(
        "/v1/feedback",
        json={"query_id": q["query_id"], "passage_id": q["answer"]["id"], "verdict": "correct"},
    )
    assert r.status_code == 201
    body = r.json()
    assert isinstance(body["id"], int) and body["query_id"] == q["query_id"]
    assert body["verdict"] == "correct" and body["source"] == "customer"
    assert body["faq_id"] == "password-reset" and body["created_at"].endswith("Z")
    assert db_rows(client, "SELECT id, query_id, passage_id, verdict, source FROM feedback") == [
        (body["id"], q["query_id"], q["answer"]["id"], "correct", "customer")
    ]


def test_feedback_on_an_escalated_reply_needs_no_passage(client: TestClient) -> None:
    q = ask(client, "今天天气怎么样")
    assert q["escalate"] is True
    r = client.post("/v1/feedback", json={"query_id": q["query_id"], "verdict": "incorrect"})
    assert r.status_code == 201 and r.json()["passage_id"] is None


def test_unknown_query_id_is_404(client: TestClient) -> None:
    r = client.post(
        "/v1/feedback", json={"query_id": "q_01ABCDEFGHJKMNPQRSTVWXYZ01", "verdict": "correct"}
    )
    assert r.status_code == 404
    assert r.json()["error"] == "unknown query_id q_01ABCDEFGHJKMNPQRSTVWXYZ01"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"verdict": "great"}, "verdict"),
        ({"verdict": None}, "verdict"),
        ({"query_id": "42"}, "query_id"),
        ({"query_id": "q_" + "I" * 26}, "query_id"),  # I is not in the id alphabet
        ({"passage_id": "../etc/passwd"}, "passage_id"),
        ({"reason": "two words"}, "reason"),
        ({"comment": "x" * 2001}, "comment"),
        ({"source": "robot"}, "source"),
    ],
)
def test_bad_bodies_are_422(client: TestClient, patch: dict, field: str) -> None:
    q = ask(client, "提现手续费")
    body = {"query_id": q["query_id"], "verdict": "correct"} | patch
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 422
    assert field in r.json()["error"]
    assert db_rows(client, "SELECT COUNT(*) FROM feedback") == [(0,)]


def test_missing_verdict_and_broken_json(client: TestClient) -> None:
    q = ask(client, "提现手续费")
    r = client.post("/v1/feedback", json={"query_id": q["query_id"]})
    assert r.status_code == 422 and "verdict" in r.json()["error"]
    r = client.post(
        "/v1/feedback", content=b'{"query_id": ', headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500 and "error" in r.json()


def test_comment_pii_is_masked(client: TestClient) -> None:
    q = ask(client, "账户被冻结了")
    r = client.post(
        "/v1/feedback",
        json={
            "query_id": q["query_id"],
            "verdict": "incorrect",
            "comment": "客户电话 138-1234-5678,邮箱 li@163.com",
        },
    )
    assert r.status_code == 201
    assert r.json()["comment"] == "客户电话 [PHONE],邮箱 [EMAIL]"
    assert db_rows(client, "SELECT comment FROM feedback") == [("客户电话 [PHONE],邮箱 [EMAIL]",)]


def test_feedback_without_query_log(tmp_path: Path, index_dir: Path, embedder) -> None:
    """With QA_LOG_QUERIES=false nothing can be checked, so a well-formed id is accepted."""
    with make_client(tmp_path, index_dir, embedder, log_queries=False) as c:
        q = ask(c, "忘记密码了怎么办?")
        assert db_rows(c, "SELECT COUNT(*) FROM queries") == [(0,)]
        r = c.post("/v1/feedback", json={"query_id": q["query_id"], "verdict": "correct"})
        assert r.status_code == 201


# Agent token ---------------------------------------------------------------------------


def test_listings_are_open_without_a_token(client: TestClient) -> None:
    q = ask(client, "今天天气怎么样")
    client.post("/v1/feedback", json={"query_id": q["query_id"], "verdict": "incorrect"})
    review = client.get("/v1/review").json()["items"]
    assert [i["id"] for i in review] == [q["query_id"]]
    assert review[0]["question"] == "今天天气怎么样" and review[0]["escalate"] is True
    assert len(client.get("/v1/feedback").json()["items"]) == 1
    assert client.get("/v1/agent/session").json() == {
        "token_required": False,
        "authenticated": True,
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/review"), ("GET", "/v1/feedback")],
)
def test_listings_need_the_token(secured: TestClient, method: str, path: str) -> None:
    assert secured.request(method, path).status_code == 401
    wrong = secured.request(method, path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "agent token" in wrong.json()["error"]
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert secured.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"}).is_success
    assert secured.request(method, path, headers={"X-Agent-Token": TOKEN}).is_success


def test_agent_session_reports_the_token(secured: TestClient) -> None:
    anonymous = secured.get("/v1/agent/session")
    assert anonymous.status_code == 200
    assert anonymous.json() == {"token_required": True, "authenticated": False}
    wrong = secured.get("/v1/agent/session", headers={"Authorization": "Bearer nope"})
    assert wrong.json()["authenticated"] is False
    right = secured.get("/v1/agent/session", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.json() == {"token_required": True, "authenticated": True}


def test_agent_feedback_needs_the_token_customer_feedback_does_not(secured: TestClient) -> None:
    q = ask(secured, "今天天气怎么样")
    body = {"query_id": q["query_id"], "verdict": "unanswerable", "source": "agent"}
    assert secured.post("/v1/feedback", json=body).status_code == 401
    ok = secured.post("/v1/feedback", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 201 and ok.json()["source"] == "agent"
    customer = secured.post("/v1/feedback", json=body | {"source": "customer"})
    assert customer.status_code == 201
    assert db_rows(secured, "SELECT source FROM feedback ORDER BY id") == [
        ("agent",),
        ("customer",),
    ]


def test_review_queue_is_masked_and_empties_once_reviewed(secured: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    q = ask(secured, "明天北京下雨吗?我电话13912345678,卡 4111 1111 1111 1111")
    assert q["escalate"] is True
    items = secured.get("/v1/review", headers=auth).json()["items"]
    assert [i["question"] for i in items if i["id"] == q["query_id"]] == [
        "明天北京下雨吗?我电话[PHONE],卡 [CARD]"
    ]
    secured.post(
        "/v1/feedback",
        json={"query_id": q["query_id"], "verdict": "unanswerable", "source": "agent"},
        headers=auth,
    )
    left = secured.get("/v1/review", headers=auth).json()["items"]
    assert q["query_id"] not in {i["id"] for i in left}


# Pages ---------------------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)


@pytest.mark.parametrize(
    ("path", "kind", "marker"),
    [
        ("/", "text/html", '<script src="/widget.js"'),
        ("/agent", "text/html", 'data-testid="agent-input"'),
        ("/widget.js", "text/javascript", "OKPAYHelp"),
        ("/static/widget.css", "text/css", ".qa-panel"),
        ("/static/agent.js", "text/javascript", "/v1/feedback"),
        ("/static/site.css", "text/css", ".hero"),
        ("/static/favicon.svg", "image/svg+xml", "<svg"),
    ],
)
def test_pages_are_served(client: TestClient, path: str, kind: str, marker: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
    assert marker in r.text
    assert client.head(path).status_code == 200


@pytest.mark.parametrize("path", ["/", "/agent"])
def test_pages_have_no_inline_script(client: TestClient, path: str) -> None:
    """Scripts come from files only, so a CSP without 'unsafe-inline' can hold."""
    html = client.get(path).text
    scripts = _SCRIPT.findall(html)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html) and "javascript:" not in html
    assert " style=" not in html


@pytest.mark.parametrize(
    "path", ["/static/..%2Fpii.py", "/static/nothing.js", "/static/.hidden.css", "/static/x.py"]
)
def test_only_shipped_assets_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_scripts_never_parse_html() -> None:
    """Text reaches the page through textContent only."""
    web = ROOT / "qa_service" / "web"
    for js in web.glob("*.js"):
        code = js.read_text("utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in code, f"{js.name} uses {sink}"


# A real server ------------------------------------------------------------------------


@pytest.mark.slow
def test_feedback_survives_a_server_restart(tmp_path: Path, index_dir: Path) -> None:
    env = {"QA_AGENT_TOKEN": TOKEN}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = start_server(tmp_path, index_dir, env, wait="/readyz", timeout=240)
    try:
        with first.client(timeout=120) as c:
            q = c.post("/v1/query", json={"question": "提现手续费是多少?", "channel": "widget"})
            qid = q.json()["query_id"]
            fb = c.post(
                "/v1/feedback",
                json={
                    "query_id": qid,
                    "passage_id": q.json()["passages"][0]["id"],
                    "verdict": "correct",
                    "source": "agent",
                },
                headers=auth,
            )
            assert fb.status_code == 201
    finally:
        first.stop()
    second = start_server(tmp_path, index_dir, env, wait="/readyz", timeout=240)
    try:
        with second.client(timeout=120) as c:
            items = c.get("/v1/feedback", headers=auth).json()["items"]
            assert [(i["id"], i["query_id"], i["verdict"]) for i in items] == [
                (fb.json()["id"], qid, "correct")
            ]
            # The query it points at is still known: more feedback on it is accepted.
            again = c.post("/v1/feedback", json={"query_id": qid, "verdict": "incorrect"})
            assert again.status_code == 201 and again.json()["id"] > fb.json()["id"]
    finally:
        second.stop()


PII = {
    "phone": "13912345678",
    "intl": "+44 20 7946 0958",
    "email": "wang.wei@example.com",
    "id": "11010519491231002X",
}


@pytest.mark.slow
def test_no_raw_pii_reaches_the_database_or_the_log(tmp_path: Path, index_dir: Path) -> None:
    from qa_service.pii import luhn_ok

    card = "6212260200010958" + str(next(d for d in range(10) if luhn_ok(f"6212260200010958{d}")))
    secrets = [card, PII["phone"], PII["intl"], PII["email"], PII["id"]]
    server = start_server(
        tmp_path, index_dir, {"QA_AGENT_TOKEN": TOKEN}, wait="/readyz", timeout=240
    )
    try:
        with server.client(timeout=120) as c:
            questions = [
                f"我的卡号{card}被扣款两次",
                f"手机{PII['phone']}收不到验证码",
                f"call me on {PII['intl']} about my account",
                f"邮箱{PII['email']}收不到重置密码的邮件",
                f"身份证{PII['id']}实名认证失败",
            ]
            ids = []
            for question in questions:
                r = c.post("/v1/query", json={"question": question, "channel": "widget"})
                assert r.status_code == 200
                ids.append(r.json()["query_id"])
            for qid, secret in zip(ids, secrets, strict=True):
                r = c.post(
                    "/v1/feedback",
                    json={"query_id": qid, "verdict": "incorrect", "comment": f"联系 {secret}"},
                )
                assert r.status_code == 201 and secret not in r.text
            # Rejected requests must not leak what they carried either.
            c.post("/v1/feedback", json={"query_id": ids[0], "verdict": card})
            c.post("/v1/query", json={"question": f"{PII['email']} " + "长" * 1200})
            # PII in a URL reaches the access log line of the request.
            assert c.get(f"/static/{card}.js").status_code == 404
            assert c.get(f"/v1/feedback?query_id={PII['phone']}").status_code in (401, 422)
            review = c.get("/v1/review?include_reviewed=true", headers={"X-Agent-Token": TOKEN})
            assert review.status_code == 200
            shown = review.text
    finally:
        server.stop()
    data_files = list((tmp_path / "data").iterdir())
    assert any(p.name == DB_FILENAME for p in data_files)
    stored = b"".join(p.read_bytes() for p in data_files)  # main file, WAL and shm
    logged = server.logs()
    assert "/static/" in logged  # the request above was logged, masked
    for secret in secrets:
        digits = re.sub(r"\D", "", secret)
        for form in {secret, digits} - {""}:
            assert form.encode() not in stored, f"{form} in the database"
            assert form not in logged, f"{form} in the log"
            assert form not in shown, f"{form} in the review listing"
    with sqlite3.connect(tmp_path / "data" / DB_FILENAME) as conn:
        masked = [r[0] for r in conn.execute("SELECT question FROM queries ORDER BY created_at")]
    assert masked[:5] == [
        "我的卡号[CARD]被扣款两次",
        "手机[PHONE]收不到验证码",
        "call me on [PHONE] about my account",
        "邮箱[EMAIL]收不到重置密码的邮件",
        "身份证[ID]实名认证失败",
    ]


def test_without_a_token_the_console_is_shut_beyond_loopback(
    tmp_path: Path, index_dir: Path, embedder
) -> None:
    """No QA_AGENT_TOKEN on a public bind: the review queue and feedback listing answer 403
    with what to set, and customers can still vote."""
    with make_client(tmp_path / "public", index_dir, embedder, host="0.0.0.0") as c:
        r = c.get("/v1/review")
        assert r.status_code == 403 and "QA_AGENT_TOKEN" in r.json()["error"]
        assert c.get("/v1/feedback").status_code == 403
        assert c.get("/v1/agent/session").json()["token_required"] is True
        asked = c.post("/v1/query", json={"question": "忘记密码了怎么办?"}).json()
        vote = {"query_id": asked["query_id"], "verdict": "correct"}
        assert c.post("/v1/feedback", json=vote).status_code == 201
    with make_client(tmp_path / "local", index_dir, embedder, host="127.0.0.1") as c:
        assert c.get("/v1/review").status_code == 200


def test_docs_are_served_without_a_cdn(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "/docs/assets/swagger-ui-bundle.js" in page.text
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_a_not_helpful_vote_offers_a_person_next(client: TestClient) -> None:
    conv = {"conversation_id": "vote-1", "channel": "widget"}
    first = client.post("/v1/query", json={"question": "忘记密码了怎么办", **conv}).json()
    assert first["offer_human"] is None
    vote = {"query_id": first["query_id"], "verdict": "incorrect"}
    assert client.post("/v1/feedback", json=vote).status_code == 201
    after = client.post("/v1/query", json={"question": "提现手续费是多少", **conv}).json()
    assert after["escalate"] is False and after["offer_human"]["url"].startswith("https://")
    # Another conversation is not affected.
    other = client.post("/v1/query", json={"question": "提现手续费是多少"}).json()
    assert other["offer_human"] is None
