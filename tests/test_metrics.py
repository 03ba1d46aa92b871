"""/metrics over real HTTP, parsed as Prometheus text: requests and latency by route and
status, escalations by reason, and the live index."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.live_server import start_server


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def _value(samples, name: str, **labels: str) -> float:
    return sum(
        v for n, lab, v in samples if n == name and all(lab.get(k) == x for k, x in labels.items())
    )


def test_metrics_report_requests_escalations_and_the_index(index_dir: Path, tmp_path: Path) -> None:
    srv = start_server(tmp_path, index_dir, wait="/readyz")
    questions = ["忘记密码了怎么办?", "提现手续费", "What's the weather in Paris?", "推荐一部电影"]
    try:
        with srv.client() as c:
            answers = [c.post("/v1/query", json={"question": q}).json() for q in questions * 2]
            for i in range(5):  # unknown paths must not become label values
                assert c.get(f"/no/such/page/{i}").status_code == 404
            assert (
                c.post(
                    "/v1/query", content=b"{", headers={"content-type": "application/json"}
                ).status_code
                == 400
            )
            manifest = c.get("/readyz").json()["manifest"]
            r = c.get("/metrics")
    finally:
        srv.stop()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)

    n = len(answers)
    assert _value(samples, "qa_http_requests_total", route="/v1/query", status="200") == n
    assert (
        _value(samples, "qa_http_request_duration_seconds_count", route="/v1/query", status="200")
        == n
    )
    inf = _value(
        samples,
        "qa_http_request_duration_seconds_bucket",
        route="/v1/query",
        status="200",
        le="+Inf",
    )
    assert inf == n
    assert _value(samples, "qa_http_requests_total", route="/v1/query", status="400") == 1
    assert _value(samples, "qa_http_requests_total", route="unmatched", status="404") == 5
    routes = {lab["route"] for name, lab, _ in samples if name == "qa_http_requests_total"}
    assert not any(r.startswith("/no/") for r in routes)

    escalated = [a["escalation"]["reason"] for a in answers if a["escalate"]]
    assert escalated, "the off-topic questions must escalate"
    assert _value(samples, "qa_queries_total", outcome="escalated") == len(escalated)
    assert _value(samples, "qa_queries_total", outcome="answered") == n - len(escalated)
    for reason in set(escalated):
        assert _value(samples, "qa_escalations_total", reason=reason) == escalated.count(reason)

    info = [lab for name, lab, v in samples if name == "qa_index_info" and v == 1]
    assert len(info) == 1
    assert info[0]["build_id"] == manifest["build_id"] and info[0]["embedder"] == "use-multilingual"
    assert _value(samples, "qa_index_passages") == manifest["passage_count"]
    assert _value(samples, "qa_index_ready") == 1


def test_metrics_without_an_index_say_not_ready(tmp_path: Path) -> None:
    srv = start_server(tmp_path, tmp_path / "no-index")
    try:
        text = httpx.get(srv.url + "/metrics", timeout=10).text
    finally:
        srv.stop()
    samples = _samples(text)
    assert _value(samples, "qa_index_ready") == 0
    assert not any(name == "qa_index_info" for name, _, _ in samples)
