"""Headless Chromium (the Debian package) driven by Playwright against a real server.

Without /usr/bin/chromium the browser tests fail in CI (CI set) and are skipped elsewhere.
Screenshots go to ./artifacts/screenshots/ (gitignored), one per test and more where useful.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..api.live_server import LiveServer, free_port, start_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AGENT_TOKEN = "browser-agent-token"
ESCALATION_URL = "https://support.okpay.example/contact?src=widget"


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}; CI must run the browser tests (make browser-deps installs it)")
    pytest.skip(f"{what}; run 'make browser-deps'")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} is missing")
    fc_list = shutil.which("fc-list")
    fonts = (
        subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout
        if fc_list
        else ""
    )
    if "CJK" not in fonts:
        _missing("fonts-noto-cjk is missing, Chinese would render as empty boxes")
    return CHROMIUM


@pytest.fixture(scope="session")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's working area; its database is data/qa-service.sqlite3 in here."""
    return tmp_path_factory.mktemp("browser-server")


@pytest.fixture(scope="session")
def shop_origin() -> str:
    """Another site that embeds the widget; the server allows it through CORS."""
    return f"http://localhost:{free_port()}"


@pytest.fixture(scope="session")
def server(server_home: Path, index_dir: Path, shop_origin: str) -> Iterator[LiveServer]:
    env = {
        "QA_AGENT_TOKEN": AGENT_TOKEN,
        "QA_ESCALATION_URL": ESCALATION_URL,
        "QA_CORS_ORIGINS": shop_origin,
    }
    srv = start_server(server_home, index_dir, env, wait="/readyz", timeout=240)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions: the machine may be busy with other work.
    expect.set_options(timeout=60_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class PageWatch:
    """What the page did that a user would not see: console errors, dialogs."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def open_page(browser, request: pytest.FixtureRequest, locale: str, **context_args):
    context = browser.new_context(locale=locale, **context_args)
    context.set_default_timeout(60_000)
    page = context.new_page()
    watch = PageWatch()
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    page.on("pageerror", lambda e: watch.errors.append(str(e)))

    def on_dialog(d) -> None:
        watch.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    page.on("dialog", on_dialog)
    request.addfinalizer(context.close)
    return page, watch


@pytest.fixture()
def zh_page(browser, request: pytest.FixtureRequest):
    return open_page(browser, request, "zh-CN", viewport={"width": 1366, "height": 900})


@pytest.fixture()
def en_page(browser, request: pytest.FixtureRequest):
    return open_page(browser, request, "en-US", viewport={"width": 1366, "height": 900})


def shot(page, name: str, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
