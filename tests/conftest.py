"""Shared fixtures: the real default embedder and an index of the shipped OKPAY corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_service.config import Settings
from qa_service.embedders import Embedder, load_embedder
from qa_service.indexing import build_index
from qa_service.labelled import load_questions
from qa_service.service import QAService

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DEV = ROOT / "tests" / "data" / "dev.jsonl"
SEED = ROOT.parent / "shared" / "seeds" / "okpay_faq_article.zh.txt"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder("use-multilingual", threads=1)  # the service default (QA_THREADS)


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    # As `make index` builds it: escalation fitted to the corpus and its dev questions.
    path = tmp_path_factory.mktemp("index")
    build_index(CORPUS, path, embedder, questions=load_questions(DEV), questions_name=str(DEV))
    return path


@pytest.fixture(scope="session")
def settings(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        corpus=CORPUS,
        index_dir=index_dir,
        data_dir=tmp_path_factory.mktemp("data"),
        escalation_url="https://help.example.test/human",
    )


@pytest.fixture(scope="session")
def service(settings: Settings, embedder: Embedder) -> QAService:
    svc = QAService(settings, embedder=embedder)
    svc.load()
    return svc


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL server for the session (see tests/postgres_server.py)."""
    from .postgres_server import PostgresServer

    try:
        server = PostgresServer()
    except FileNotFoundError as exc:
        if os.environ.get("CI") or os.environ.get("QA_TEST_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """One Redis server for the session (see tests/redis_server.py)."""
    from .redis_server import RedisServer

    try:
        server = RedisServer()
    except FileNotFoundError as exc:
        if os.environ.get("CI") or os.environ.get("QA_TEST_REQUIRE_REDIS"):
            raise
        pytest.skip(f"Redis tests skipped: {exc}")
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs the real model (the ``embedder`` fixture, however indirectly) is
    ``slow``: ``pytest -m "not slow"`` runs the unit tests alone, in seconds; ``make test``
    runs everything."""
    for item in items:
        if "embedder" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
