"""The deployment files name only settings and commands that exist (Docker cannot run here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from qa_service.cli import build_parser
from qa_service.config import Settings

ROOT = Path(__file__).resolve().parents[1]
FILES = ["Dockerfile", "compose.yaml", "deploy/haproxy.cfg", "docs/deploy.md"]
SETTINGS = {f"QA_{name.upper()}" for name in Settings.model_fields}


def _text(name: str) -> str:
    return (ROOT / name).read_text("utf-8")


def test_every_setting_named_exists() -> None:
    for name in FILES:
        named = set(re.findall(r"\bQA_[A-Z_]+\b", _text(name)))
        assert named <= SETTINGS, (name, sorted(named - SETTINGS))


def test_every_command_named_exists() -> None:
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001
    for name in FILES:
        text = _text(name)
        # as typed (`qa-service index --corpus ...`) and in exec form (["qa-service", "serve"])
        named = set(re.findall(r"qa-service\s+([a-z][a-z-]+)(?=\s+-|`|\s*$)", text, re.M))
        named |= set(re.findall(r'"qa-service",\s*"([a-z-]+)"', text))
        assert named or name in ("compose.yaml", "deploy/haproxy.cfg"), name
        assert named <= commands, (name, sorted(named - commands))


def test_the_image_runs_as_a_user_and_checks_readiness() -> None:
    dockerfile = _text("Dockerfile")
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", dockerfile, re.MULTILINE)


def test_compose_has_a_database_two_replicas_and_a_balancer() -> None:
    compose = yaml.safe_load(_text("compose.yaml"))
    services = compose["services"]
    replicas = [s for s in services.values() if s.get("build") == "."]
    assert len(replicas) >= 2
    for r in replicas:
        assert r["environment"]["QA_DATABASE_URL"].startswith("postgresql://")
        assert "QA_AGENT_TOKEN" in r["environment"]
    assert any("postgres" in s.get("image", "") for s in services.values())
    haproxy = _text("deploy/haproxy.cfg")
    assert "option httpchk GET /readyz" in haproxy
    names = {m for m in re.findall(r"^\s*server\s+\S+\s+(\w+):8000", haproxy, re.MULTILINE)}
    assert names == {n for n, s in services.items() if s.get("build") == "."}
