"""JSON response rendered with orjson: faster than the stdlib and numpy-aware.

It subclasses Starlette's JSONResponse so that FastAPI documents the response models in
/openapi.json (for any other response class it documents a plain string).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse


class JSONResponse(StarletteJSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
