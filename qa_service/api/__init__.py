"""HTTP API (FastAPI). ``create_app`` is the factory used by ``qa-service serve`` and tests."""

from .main import create_app

__all__ = ["create_app"]
