"""One script tag on another site's page mounts the widget, and the site's CSS cannot break it."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from .conftest import shot

pytestmark = pytest.mark.browser

SHOP_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>某某商城 - 结算</title>
<link rel="icon" href="data:,">
<style>
  * {{ color: red !important; font-size: 30px; font-family: serif; }}
  button {{ display: none; }}
  input {{ visibility: hidden; }}
</style></head>
<body><h1>订单结算</h1><p>商城自己的页面和样式。</p>
<script src="{api}/widget.js" defer></script>
</body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture()
def shop(tmp_path: Path, server, shop_origin: str):
    (tmp_path / "checkout.html").write_text(SHOP_PAGE.format(api=server.url), "utf-8")
    port = urlparse(shop_origin).port
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"{shop_origin}/checkout.html"
    httpd.shutdown()
    httpd.server_close()


def test_widget_on_another_site(shop: str, zh_page) -> None:
    page, watch = zh_page
    page.goto(shop)
    launcher = page.get_by_test_id("qa-launcher")
    expect(launcher).to_be_visible()  # the shop hides every button of its own, not ours
    launcher.click()
    page.get_by_test_id("qa-input").fill("OKPAY支持哪些支付方式")
    page.get_by_test_id("qa-send").click()
    expect(page.get_by_test_id("qa-answer")).to_contain_text("支付")
    color = page.get_by_test_id("qa-answer").evaluate("e => getComputedStyle(e).color")
    assert color != "rgb(255, 0, 0)"  # the shop's red does not reach inside the widget
    page.get_by_test_id("qa-helpful-yes").click()
    expect(page.get_by_test_id("qa-feedback-status")).to_contain_text("感谢")
    shot(page, "widget-embedded-zh")
    assert watch.errors == []
