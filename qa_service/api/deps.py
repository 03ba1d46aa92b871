"""Shared FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..config import Settings
from ..service import QAService


def get_service(request: Request) -> QAService:
    return request.app.state.service


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


ServiceDep = Annotated[QAService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
