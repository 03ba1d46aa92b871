"""The pages: the demo help page (``/``), the embeddable widget and the agent console.

Files are plain HTML, CSS and JavaScript from ``qa_service/web`` (no build step, nothing from a
CDN). Scripts live in files only, so the pages work under a CSP without 'unsafe-inline'.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from ..responses import JSONResponse

router = APIRouter(tags=["web"], include_in_schema=False)

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@lru_cache(maxsize=64)
def _asset(name: str) -> bytes | None:
    """The file's bytes, or None; only plain names of shipped files are served."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in TYPES:
        return None
    node = resources.files("qa_service").joinpath("web", name)
    return node.read_bytes() if node.is_file() else None


def _serve(name: str) -> Response:
    body = _asset(name)
    if body is None:
        return JSONResponse({"error": f"no such file: {name}"}, status_code=404)
    media_type = TYPES[name[name.rfind(".") :]]
    # no-cache: browsers revalidate, so a deploy shows up at once.
    return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.api_route("/", methods=["GET", "HEAD"])
async def help_page() -> Response:
    return _serve("index.html")


@router.api_route("/agent", methods=["GET", "HEAD"])
async def agent_console() -> Response:
    # The page holds no data: everything it shows comes from token-checked endpoints.
    return _serve("agent.html")


@router.api_route("/widget.js", methods=["GET", "HEAD"])
async def widget() -> Response:
    resp = _serve("widget.js")
    # Other sites embed this script.
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static(name: str) -> Response:
    resp = _serve(name)
    if name == "widget.css":
        resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
