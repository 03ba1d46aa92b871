"""The Content-Security-Policy in Chromium: the pages load without a single violation, and a
script injected inline is refused."""

from __future__ import annotations

import pytest

# Collect violations from the first byte on, before any page script runs.
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


@pytest.mark.parametrize("path", ["/", "/agent"])
def test_pages_work_under_the_csp_and_refuse_inline_script(server, zh_page, path: str) -> None:
    page, watch = zh_page
    page.add_init_script(WATCH)
    response = page.goto(server.url + path)
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__cspViolations") == []
    assert watch.errors == []

    # What an XSS would try: an inline script and an inline event handler.
    page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = 'window.__pwned = true';
            document.body.appendChild(s);
            const img = document.createElement('img');
            img.setAttribute('onerror', 'window.__pwned = true');
            img.src = 'data:,x';
            document.body.appendChild(img);
        }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned === undefined")
    violations = page.evaluate("window.__cspViolations")
    assert violations and all(v.startswith("script-src") for v in violations), violations
